#!/bin/sh
# netdeck as a kiosk on a bare X server, with no window manager and no desktop: xinit starts
# the X server and netdeck on it, and ends the server when netdeck ends.
#
#   deploy/kiosk-x11.sh [X SERVER ARGUMENTS...]      e.g.  vt1 -nolisten tcp -nocursor
#
# NETDECK   the netdeck binary (default /usr/local/bin/netdeck)
# XSERVER   the X server (default /usr/bin/X)
# XDISPLAY  the display to start it on (default :0)
set -eu
exec xinit "${NETDECK:-/usr/local/bin/netdeck}" --kiosk -- \
  "${XSERVER:-/usr/bin/X}" "${XDISPLAY:-:0}" "$@"
