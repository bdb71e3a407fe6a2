#!/usr/bin/env bash
# Measures the footprint of netdeck's window against Packet Sender's, on the same Xvfb display:
#   1. time from exec until the window is mapped (median of RUNS);
#   2. resident memory (VmRSS) SETTLE seconds after the window was mapped;
#   3. CPU time used, and wake-ups, in the IDLE seconds that follow, with nothing happening;
#   4. the size of the binary, as shipped and stripped.
# Beside them, in the same run: an empty Slint window built as netdeck's is (the floor of any
# Slint window, examples/empty_window.rs), and netdeck with a screen reader announced (a
# session bus, at-spi2-core's accessibility bus, and the status a screen reader sets).
# Prints Markdown tables and writes them to bench/results-footprint.md.
#
# Usage (from the repository root, as root for the packages): bash bench/footprint.sh
# Knobs: RUNS (starts per app, default 5), SETTLE (seconds from the map to the memory
#        reading, default 2), IDLE (seconds of idle CPU measured, default 10).
set -euo pipefail

RUNS=${RUNS:-5}
SETTLE=${SETTLE:-2}
IDLE=${IDLE:-10}

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-footprint.md
PACKETSENDER=/usr/bin/packetsender

# Targets for netdeck.
RSS_TARGET_MIB=16
START_TARGET_RATIO=0.5 # of Packet Sender's time
CPU_TARGET_S=0.01
SIZE_TARGET_MB=12 # 10^6 bytes
ABOVE_EMPTY_TARGET_MIB=3 # resident memory above the empty Slint window's

# --- Tools -------------------------------------------------------------------------------

# Packet Sender opens its window only when xrandr (x11-xserver-utils) is installed;
# libxdamage1 lets the window watcher see when the window is drawn.
ensure_packages xvfb packetsender x11-xserver-utils xdotool x11-utils libxkbcommon-x11-0 \
    libxcursor1 libxi6 libxrandr2 libxdamage1 fontconfig fonts-dejavu-core binutils \
    dbus-daemon dbus-bin at-spi2-core
require Xvfb xdotool xprop strip python3 getconf dbus-daemon dbus-send
build_netdeck
EMPTY_WINDOW=target/release/examples/empty_window
cargo build --release --locked --example empty_window
CLK_TCK=$(getconf CLK_TCK)

# Watches the display for the first top-level window to be mapped, and for drawing after it.
# Prints "ready" once it listens (so that no map is missed), then, SETTLE seconds after the
# map: "mapped NS WINDOW" and "drawn NS", NS being wall-clock nanoseconds of the map and of
# the last change to the screen's contents in those SETTLE seconds. Exits 1 if no window is
# mapped within 60 s. Event-driven (X11 MapNotify and DAMAGE), so it costs no CPU while the
# apps start and is not limited to a polling interval.
cat >"$tmp/watch_window.py" <<'EOF'
import ctypes
import select
import sys
import time

settle_ns = int(float(sys.argv[1]) * 1e9)
x11 = ctypes.CDLL("libX11.so.6")
xdamage = ctypes.CDLL("libXdamage.so.1")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
x11.XPending.argtypes = [ctypes.c_void_p]
x11.XConnectionNumber.argtypes = [ctypes.c_void_p]
x11.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
xdamage.XDamageQueryExtension.argtypes = [ctypes.c_void_p] + 2 * [ctypes.POINTER(ctypes.c_int)]
xdamage.XDamageCreate.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int]
xdamage.XDamageCreate.restype = ctypes.c_ulong


class XMapEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("event", ctypes.c_ulong),
                ("window", ctypes.c_ulong), ("override_redirect", ctypes.c_int)]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xmap", XMapEvent), ("pad", ctypes.c_long * 24)]


MAP_NOTIFY = 19
SUBSTRUCTURE_NOTIFY_MASK = 1 << 19
DAMAGE_REPORT_RAW_RECTANGLES = 0

dpy = x11.XOpenDisplay(None)
if not dpy:
    sys.exit("cannot open the display")
root = x11.XDefaultRootWindow(dpy)
damage_event, damage_error = ctypes.c_int(), ctypes.c_int()
if not xdamage.XDamageQueryExtension(dpy, ctypes.byref(damage_event), ctypes.byref(damage_error)):
    sys.exit("the display has no DAMAGE extension")
# Top-level windows are the root's children: their maps are the root's substructure events.
x11.XSelectInput(dpy, root, SUBSTRUCTURE_NOTIFY_MASK)
# Drawing into any window shows as damage to the root.
xdamage.XDamageCreate(dpy, root, DAMAGE_REPORT_RAW_RECTANGLES)
x11.XSync(dpy, 0)
print("ready", flush=True)

fd = x11.XConnectionNumber(dpy)
event = XEvent()
deadline = time.time_ns() + 60 * 10**9
mapped = window = drawn = None
while True:
    while x11.XPending(dpy):
        x11.XNextEvent(dpy, ctypes.byref(event))
        now = time.time_ns()
        if mapped is None:
            # Menus and tooltips are override-redirect; the main window is not.
            if event.type == MAP_NOTIFY and not event.xmap.override_redirect:
                mapped, window, drawn = now, event.xmap.window, now
                deadline = now + settle_ns
        elif event.type == damage_event.value:
            drawn = now
    left = deadline - time.time_ns()
    if left <= 0:
        break
    select.select([fd], [], [], left / 1e9)
if mapped is None:
    sys.exit(1)
print("mapped", mapped, window)
print("drawn", drawn)
EOF

# --- Display -----------------------------------------------------------------------------

# A display of our own: Xvfb picks a free number and writes it to fd 3, so a display someone
# else already runs is left alone. It is stopped with the other processes at exit.
# -noreset keeps the accessibility bus announced on the root window between the apps' runs.
Xvfb -displayfd 3 -noreset -screen 0 800x480x24 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
pids+=("$!")
wait_for 10 '[[ -s $tmp/display ]]' || die "Xvfb did not start: $(cat "$tmp/xvfb.log")"
export DISPLAY=":$(cat "$tmp/display")"
log "started Xvfb on $DISPLAY"

# A screen reader's surroundings, for netdeck's "reader" runs only: a session bus, the
# accessibility bus (started at once, and announced on the root window), and the status
# Orca sets when it runs. The other runs get no session bus.
dbus-daemon --session --nofork --print-address=1 >"$tmp/session-bus" 2>"$tmp/session-bus.log" &
pids+=("$!")
wait_for 10 '[[ -s $tmp/session-bus ]]' || die "dbus-daemon did not start: $(cat "$tmp/session-bus.log")"
SESSION_BUS=$(head -n 1 "$tmp/session-bus")
mkdir -p "$tmp/a11y-run" && chmod 700 "$tmp/a11y-run"
env -u WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS=$SESSION_BUS XDG_RUNTIME_DIR=$tmp/a11y-run \
    /usr/libexec/at-spi-bus-launcher --launch-immediately >"$tmp/a11y.log" 2>&1 &
pids+=("$!")
a11y() { DBUS_SESSION_BUS_ADDRESS=$SESSION_BUS dbus-send --session --print-reply --dest=org.a11y.Bus /org/a11y/bus "$@" >/dev/null; }
wait_for 10 'a11y org.a11y.Bus.GetAddress 2>/dev/null' || die "the accessibility bus did not start: $(cat "$tmp/a11y.log")"
for status in IsEnabled ScreenReaderEnabled; do
    a11y org.freedesktop.DBus.Properties.Set string:org.a11y.Status string:$status variant:boolean:true
done
# The launcher announced the bus on the root window; only the "reader" runs see it.
A11Y_BUS=$(DBUS_SESSION_BUS_ADDRESS=$SESSION_BUS dbus-send --session --print-reply \
    --dest=org.a11y.Bus /org/a11y/bus org.a11y.Bus.GetAddress | sed -n 's/^ *string "\(.*\)"$/\1/p')
[[ -n $A11Y_BUS ]] || die "the accessibility bus has no address"
announce() { xprop -root -f AT_SPI_BUS 8s -set AT_SPI_BUS "$A11Y_BUS"; }
withdraw() { xprop -root -remove AT_SPI_BUS; }
withdraw
log "started a session bus and the accessibility bus"

# --- Measurements ------------------------------------------------------------------------

# utime + stime of process $1, in clock ticks (the fields after the command name, which is
# in parentheses and may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# Nanoseconds on a CPU and context switches (wake-ups), summed over the threads of process $1.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches:/ { s += $2 } END { print s }'; }

# "TID<tab>name<tab>context switches" for each thread of process $1.
thread_switches() {
    local task
    for task in /proc/"$1"/task/*; do
        printf '%s\t%s\t%s\n' "${task##*/}" "$(cat "$task/comm")" \
            "$(awk '/ctxt_switches:/ { s += $2 } END { print s }' "$task/status")"
    done 2>/dev/null
}

# The threads that woke up between thread_switches snapshots $1 and $2, busiest first, as
# "name: wake-ups; ..." (threads of the same name added up), or "none".
woken_threads() {
    awk -F '\t' 'NR == FNR { before[$1] = $3; next }
        { d = $3 - before[$1]; if (d > 0) woken[$2] += d }
        END { for (name in woken) print woken[name] "\t" name }' "$1" "$2" |
        sort -rn | awk -F '\t' '{ printf "%s%s: %d", (NR > 1) ? "; " : "", $2, $1 } END { if (NR == 0) printf "none" }'
}

# Field $2 (e.g. VmRSS) of /proc/$1/status, in KiB.
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# Resident KiB of process $1 by kind of mapping, as "own binary, libraries, fonts,
# shared memory, heap and other anonymous, other files", from /proc/$1/smaps.
rss_by_kind() {
    awk -v exe="$(readlink "/proc/$1/exe")" '
        /^[0-9a-f]+-[0-9a-f]+ / {
            path = (NF >= 6) ? $6 : ""
            if (path == exe) kind = 1
            else if (path ~ /\.so(\.[0-9]+)*$/) kind = 2
            else if (path ~ /\/fonts\/|\.(ttf|otf|ttc|pcf(\.gz)?)$|fontconfig/) kind = 3
            else if (path ~ /^\/dev\/shm\/|^\/SYSV|^\/memfd:/) kind = 4
            else if (path == "" || path ~ /^\[/) kind = 5
            else kind = 6
        }
        /^Rss:/ { kib[kind] += $2 }
        END { printf "%d %d %d %d %d %d\n", kib[1], kib[2], kib[3], kib[4], kib[5], kib[6] }
    ' "/proc/$1/smaps"
}

# Shared libraries mapped by process $1: "count bytes-on-disk".
libraries() {
    awk '$6 ~ /\.so(\.[0-9]+)*$/ { print $6 }' "/proc/$1/maps" | sort -u |
        xargs -r stat -L -c %s | awk '{ n++; s += $1 } END { print n + 0, s + 0 }'
}

# Starts app $1 (netdeck or packetsender: the rest of the arguments are its command and
# environment) once and appends its figures to the arrays named after it ($1_start, ...).
run_app() {
    local app=$1 home=$tmp/home-$1-$i watcher pid t0_us map_ns window drawn_ns rss
    local ticks0 ticks1 ns0 ns1 sw0 sw1
    shift
    # A fresh home and XDG folders for every start: no saved state is read, and nothing is
    # written outside $tmp.
    mkdir -p "$home/.config" "$home/.local/share" "$home/.cache" "$home/run"
    chmod 700 "$home/run"

    python3 "$tmp/watch_window.py" "$SETTLE" >"$tmp/watch.out" 2>"$tmp/watch.err" &
    watcher=$!
    pids+=("$watcher")
    wait_for 10 'grep -q ^ready "$tmp/watch.out"' || die "the window watcher did not start: $(cat "$tmp/watch.err")"

    # Only what the apps need, so that nothing from the caller's environment (a session bus,
    # Qt or Slint settings) changes what they do.
    t0_us=${EPOCHREALTIME/./}
    env -i PATH=/usr/bin:/bin DISPLAY="$DISPLAY" LANG=C.UTF-8 HOME="$home" \
        XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
        XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$home/run" "$@" >"$tmp/$app.log" 2>&1 &
    pid=$!
    pids+=("$pid")

    # The watcher returns SETTLE seconds after the map.
    reap "$watcher" || die "no window of $app was mapped within 60 s: $(tail -n 5 "$tmp/$app.log")"
    kill -0 "$pid" 2>/dev/null || die "$app exited: $(tail -n 5 "$tmp/$app.log")"
    read -r _ map_ns window < <(grep ^mapped "$tmp/watch.out")
    read -r _ drawn_ns < <(grep ^drawn "$tmp/watch.out")
    # The display is ours, but make sure the window is this process's (by _NET_WM_PID).
    xdotool search --onlyvisible --pid "$pid" 2>/dev/null | grep -qx "$window" ||
        die "the window mapped is not $app's"

    rss=$(status_kib "$pid" VmRSS)
    breakdown=$(rss_by_kind "$pid")
    libs=$(libraries "$pid")
    threads=$(status_kib "$pid" Threads)
    window_size=$(xdotool getwindowgeometry "$window" | sed -n 's/^ *Geometry: //p')

    if ((i == 0)); then
        # The warm-up start only brings the files into the page cache.
        kill "$pid"
        reap "$pid" || true
        log "warm-up: $app"
        return
    fi

    ticks0=$(cpu_ticks "$pid") ns0=$(cpu_ns "$pid") sw0=$(switches "$pid")
    thread_switches "$pid" >"$tmp/threads-before"
    sleep "$IDLE"
    ticks1=$(cpu_ticks "$pid") ns1=$(cpu_ns "$pid") sw1=$(switches "$pid")
    thread_switches "$pid" >"$tmp/threads-after"
    woken=$(woken_threads "$tmp/threads-before" "$tmp/threads-after")

    kill "$pid"
    reap "$pid" || true

    local -n start=${app}_start drawn=${app}_drawn mem=${app}_rss cpu=${app}_cpu \
        cpu_ms=${app}_cpu_ms wakeups=${app}_wakeups
    start+=("$(awk -v m="$map_ns" -v t="$t0_us" 'BEGIN { printf "%.0f", (m / 1000 - t) / 1000 }')")
    drawn+=("$(awk -v d="$drawn_ns" -v t="$t0_us" 'BEGIN { printf "%.0f", (d / 1000 - t) / 1000 }')")
    mem+=("$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')")
    cpu+=("$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')")
    cpu_ms+=("$(awk -v n=$((ns1 - ns0)) 'BEGIN { printf "%.1f", n / 1e6 }')")
    wakeups+=($((sw1 - sw0)))
    log "run $i/$RUNS: $app: mapped after ${start[-1]} ms, drawn after ${drawn[-1]} ms," \
        "RSS ${mem[-1]} MiB, idle CPU ${cpu[-1]} s (${cpu_ms[-1]} ms, ${wakeups[-1]} wake-ups)"
}

APPS=(netdeck reader empty packetsender)
for app in "${APPS[@]}"; do
    for metric in start drawn rss cpu cpu_ms wakeups; do
        declare -a "${app}_$metric=()"
    done
done
# Start 0 warms up: every start measured finds both apps' files in the page cache.
for ((i = 0; i <= RUNS; i++)); do
    # Alternating spreads the machine's background noise over both apps.
    run_app netdeck SLINT_BACKEND=winit-software "$NETDECK"
    netdeck_breakdown=$breakdown netdeck_libs=$libs netdeck_threads=$threads
    netdeck_window=$window_size netdeck_woken=${woken:-}
    announce
    run_app reader SLINT_BACKEND=winit-software DBUS_SESSION_BUS_ADDRESS="$SESSION_BUS" "$NETDECK"
    withdraw
    reader_threads=$threads reader_woken=${woken:-}
    run_app empty SLINT_BACKEND=winit-software "$EMPTY_WINDOW"
    empty_threads=$threads empty_woken=${woken:-}
    run_app packetsender "$PACKETSENDER"
    packetsender_breakdown=$breakdown packetsender_libs=$libs packetsender_threads=$threads
    packetsender_window=$window_size packetsender_woken=${woken:-}
done

# --- Binary size -------------------------------------------------------------------------

# Bytes of the binary $1 as shipped, then of a stripped copy.
sizes() {
    local copy
    copy=$tmp/stripped-${1##*/}
    strip -o "$copy" "$1"
    echo "$(stat -L -c %s "$1") $(stat -c %s "$copy")"
}
read -r netdeck_shipped netdeck_stripped < <(sizes "$NETDECK")
read -r empty_shipped empty_stripped < <(sizes "$EMPTY_WINDOW")
read -r packetsender_shipped packetsender_stripped < <(sizes "$PACKETSENDER")

# --- Report ------------------------------------------------------------------------------

mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e6 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# "pass" or "fail": whether $1 is at most $2.
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "pass" : "fail" }'; }
# $1 / $2 with two decimals, or n/a when $2 is 0.
ratio_or_na() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

for app in "${APPS[@]}"; do
    for metric in start drawn rss cpu cpu_ms wakeups; do
        declare -n values=${app}_$metric
        declare "${app}_${metric}_median=$(median "${values[@]}")"
        unset -n values
    done
done

start_limit=$(awk -v p="$packetsender_start_median" -v r="$START_TARGET_RATIO" 'BEGIN { printf "%.0f", p * r }')
rss_verdict=$(verdict "$netdeck_rss_median" "$RSS_TARGET_MIB")
start_verdict=$(verdict "$netdeck_start_median" "$start_limit")
cpu_verdict=$(verdict "$netdeck_cpu_median" "$CPU_TARGET_S")
size_verdict=$(verdict "$(mb "$netdeck_stripped")" "$SIZE_TARGET_MB")
wakeup_verdict=$(verdict "$netdeck_wakeups_median" 0)
# MiB of $1 above $2, with one decimal.
above() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", a - b }'; }
above_empty=$(above "$netdeck_rss_median" "$empty_rss_median")
reader_above_empty=$(above "$reader_rss_median" "$empty_rss_median")
above_empty_verdict=$(verdict "$above_empty" "$ABOVE_EMPTY_TARGET_MIB")
reader_above_empty_verdict=$(verdict "$reader_above_empty" "$ABOVE_EMPTY_TARGET_MIB")

read -r nd_exe nd_lib nd_font nd_shm nd_anon nd_other <<<"$netdeck_breakdown"
read -r ps_exe ps_lib ps_font ps_shm ps_anon ps_other <<<"$packetsender_breakdown"
read -r nd_lib_count nd_lib_bytes <<<"$netdeck_libs"
read -r ps_lib_count ps_lib_bytes <<<"$packetsender_libs"

table=$(
    cat <<EOF
| Measurement | netdeck | Packet Sender | netdeck / Packet Sender | Target for netdeck | Result |
|---|---:|---:|---:|---|---|
| Resident memory, $SETTLE s after the map, median of $RUNS (MiB) | $netdeck_rss_median | $packetsender_rss_median | $(ratio "$netdeck_rss_median" "$packetsender_rss_median") | ≤ $RSS_TARGET_MIB MiB | $rss_verdict |
| Time from exec until the window is mapped, median of $RUNS (ms) | $netdeck_start_median | $packetsender_start_median | $(ratio "$netdeck_start_median" "$packetsender_start_median") | ≤ half of Packet Sender's ($start_limit ms) | $start_verdict |
| CPU time in $IDLE idle seconds, utime + stime, median of $RUNS (s) | $netdeck_cpu_median | $packetsender_cpu_median | $(ratio_or_na "$netdeck_cpu_median" "$packetsender_cpu_median") | ≤ $CPU_TARGET_S s | $cpu_verdict |
| Wake-ups (context switches) in $IDLE idle seconds, median | $netdeck_wakeups_median | $packetsender_wakeups_median | $(ratio_or_na "$netdeck_wakeups_median" "$packetsender_wakeups_median") | none (no periodic wake-ups) | $wakeup_verdict |
| Binary, stripped (MB) | $(mb "$netdeck_stripped") | $(mb "$packetsender_stripped") | $(ratio "$netdeck_stripped" "$packetsender_stripped") | ≤ $SIZE_TARGET_MB MB | $size_verdict |
| Binary, as shipped (MB) | $(mb "$netdeck_shipped") | $(mb "$packetsender_shipped") | $(ratio "$netdeck_shipped" "$packetsender_shipped") | | |
| Shared libraries loaded: count, MB on disk | $nd_lib_count, $(mb "$nd_lib_bytes") | $ps_lib_count, $(mb "$ps_lib_bytes") | | | |
| Time from exec until the window stops changing, median (ms) | $netdeck_drawn_median | $packetsender_drawn_median | $(ratio "$netdeck_drawn_median" "$packetsender_drawn_median") | | |
| CPU time in $IDLE idle seconds, all threads' run time, median (ms) | $netdeck_cpu_ms_median | $packetsender_cpu_ms_median | $(ratio_or_na "$netdeck_cpu_ms_median" "$packetsender_cpu_ms_median") | | |
| Runs: resident memory (MiB) | $(join "${netdeck_rss[@]}") | $(join "${packetsender_rss[@]}") | | | |
| Runs: time until mapped (ms) | $(join "${netdeck_start[@]}") | $(join "${packetsender_start[@]}") | | | |
| Runs: idle CPU (s) | $(join "${netdeck_cpu[@]}") | $(join "${packetsender_cpu[@]}") | | | |
| Runs: wake-ups | $(join "${netdeck_wakeups[@]}") | $(join "${packetsender_wakeups[@]}") | | | |
EOF
)

accessibility_table=$(
    cat <<EOF
| Measurement, median of $RUNS | netdeck | netdeck, screen reader running | empty Slint window | Target for netdeck | Result |
|---|---:|---:|---:|---|---|
| Resident memory (MiB) | $netdeck_rss_median | $reader_rss_median | $empty_rss_median | | |
| … above the empty window (MiB) | $above_empty | $reader_above_empty | | ≤ $ABOVE_EMPTY_TARGET_MIB MiB | $above_empty_verdict, $reader_above_empty_verdict |
| Wake-ups in $IDLE idle seconds | $netdeck_wakeups_median | $reader_wakeups_median | $empty_wakeups_median | none without a screen reader | $wakeup_verdict |
| CPU time in $IDLE idle seconds, all threads' run time (ms) | $netdeck_cpu_ms_median | $reader_cpu_ms_median | $empty_cpu_ms_median | | |
| Time from exec until the window is mapped (ms) | $netdeck_start_median | $reader_start_median | $empty_start_median | | |
| Threads (last run) | $netdeck_threads | $reader_threads | $empty_threads | | |
| Threads woken in the idle seconds (last run): wake-ups | $netdeck_woken | $reader_woken | $empty_woken | | |
| Binary, stripped (MB) | $(mb "$netdeck_stripped") | | $(mb "$empty_stripped") | | |
| Runs: resident memory (MiB) | $(join "${netdeck_rss[@]}") | $(join "${reader_rss[@]}") | $(join "${empty_rss[@]}") | | |
| Runs: wake-ups | $(join "${netdeck_wakeups[@]}") | $(join "${reader_wakeups[@]}") | $(join "${empty_wakeups[@]}") | | |
EOF
)

breakdown_table=$(
    cat <<EOF
| Last run | netdeck | Packet Sender |
|---|---:|---:|
| Resident memory (MiB) | ${netdeck_rss[-1]} | ${packetsender_rss[-1]} |
| … in the program's own binary (MiB) | $(mib "$nd_exe") | $(mib "$ps_exe") |
| … in shared libraries (MiB) | $(mib "$nd_lib") | $(mib "$ps_lib") |
| … in fonts and font caches (MiB) | $(mib "$nd_font") | $(mib "$ps_font") |
| … in shared memory, the window's pixels (MiB) | $(mib "$nd_shm") | $(mib "$ps_shm") |
| … in the heap, stacks and other anonymous memory (MiB) | $(mib "$nd_anon") | $(mib "$ps_anon") |
| … in other files (locale, ...) (MiB) | $(mib "$nd_other") | $(mib "$ps_other") |
| Threads | $netdeck_threads | $packetsender_threads |
| Window size | $netdeck_window | $packetsender_window |
| Threads woken in the $IDLE idle seconds: wake-ups | $netdeck_woken | $packetsender_woken |
EOF
)

packetsender_version=$(dpkg-query -W -f='${Version}' packetsender | sed 's/-[^-]*$//')
xvfb_version=$(dpkg-query -W -f='${Version}' xvfb | sed 's/^[0-9]*://; s/-.*//')

{
    echo "# The window's footprint: netdeck vs Packet Sender"
    echo
    measured_by "Packet Sender $packetsender_version" "Xvfb $xvfb_version 800x480x24" \
        "SLINT_BACKEND=winit-software"
    echo "The 2 cores are shared with other work and noisy; each figure is the median over the"
    echo "runs of that figure alone."
    echo
    echo "Each app is started $RUNS times, alternating, after one unmeasured start each (so"
    echo "that their files are in the page cache), on a display of its own, with a fresh"
    echo "empty HOME and XDG folders and no session bus. Time until mapped: from just before"
    echo "exec (bash's \`EPOCHREALTIME\`) to the X server's MapNotify for the app's top-level"
    echo "window, seen by a watcher listening on the root window (no polling). Resident memory:"
    echo "VmRSS from /proc/PID/status $SETTLE s after the map. Idle CPU: utime + stime from"
    echo "/proc/PID/stat, in ticks of 1/$CLK_TCK s, over the $IDLE s after that; the run time"
    echo "and context switches summed over /proc/PID/task/*/ give the same at nanosecond"
    echo "resolution and count the wake-ups. \"Stops changing\": the last change to the"
    echo "screen (X DAMAGE) within $SETTLE s of the map. Stripped: \`strip -o\` on a copy."
    echo "Packet Sender links Qt dynamically, so most of its code is in its shared libraries."
    echo
    print_table "$table"
    echo
    print_table "$breakdown_table"
    echo
    echo "## Accessibility: netdeck beside an empty Slint window"
    echo
    echo "netdeck is built with Slint's \`accessibility\` feature (AccessKit). Without a"
    echo "screen reader it cuts its session bus (no desktop-settings watcher, no AccessKit"
    echo "thread); with one announced (\`AT_SPI_BUS\` on the root window) it keeps the bus"
    echo "and AccessKit builds the tree a screen reader reads. The empty window is"
    echo "\`examples/empty_window.rs\`, built with the same features and release profile, run"
    echo "with no session bus."
    echo
    print_table "$accessibility_table"
} >"$RESULTS"

show_results "$table"$'\n\n'"$breakdown_table"$'\n\n'"$accessibility_table"
