#!/usr/bin/env bash
# Every test: installs the Debian packages the tests use as peers and displays (when run as
# root and any is missing), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # Fonts for the window's text; fontconfig is loaded at run time.
  fontconfig fonts-dejavu-core
  # A real X server and the client libraries winit loads, for the real-window tests.
  xvfb xauth libxkbcommon-x11-0 libxcursor1 libxi6 libxrandr2
  # xinit, for the bare-X kiosk recipe in deploy/; xrandr to describe monitors; xwininfo.
  xinit x11-xserver-utils x11-utils
  # openbox, a window manager that frames the window, for the fits-its-screen test.
  openbox
  # cage, the Wayland kiosk compositor, and Xwayland, which the X11 build draws through.
  cage xwayland
  # A session bus, the accessibility bus and pyatspi, to read the window as a screen reader.
  dbus-daemon at-spi2-core python3-pyatspi
  # Servers netdeck did not write, for the HTTP tests: a web server and a forward proxy.
  nginx-light tinyproxy
  # ncat and socat: the TCP tools netdeck's raw streams and TLS server are tried against.
  ncat socat
  # microsocks, a SOCKS5 server for connect --proxy; nss_wrapper gives one process its own
  # hosts file (a name with both an IPv4 and an IPv6 address, a name only a proxy knows).
  microsocks libnss-wrapper
  # brotli compresses a file for the decoding test; GNU time measures a process's peak memory.
  brotli time
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "The tests need these Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

cargo test --locked "$@"
