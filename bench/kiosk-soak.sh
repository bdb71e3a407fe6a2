#!/usr/bin/env bash
# A kiosk left running: the release build's `netdeck --kiosk --demo` on an 800x480 Xvfb screen
# of its own, playing the guided demo over and over for MINUTES minutes. Every INTERVAL
# seconds it samples the process's open descriptors, its TCP sockets by state (CLOSE-WAIT
# apart: a socket its peer closed and netdeck never did), its resident memory and the CPU time
# it has used. Prints the series and the slope per hour of each (least squares; memory after
# the first WARMUP minutes, while caches and the heap settle) as Markdown, and writes them to
# bench/results-kiosk-soak.md. Exits 1 if the window died, or if descriptors or CLOSE-WAIT
# sockets grew or memory grew by more than 0.5 MiB an hour.
#
# Usage (from the repository root): bash bench/kiosk-soak.sh [MINUTES]   (default 60)
# Knobs: INTERVAL (seconds between samples, default 30), WARMUP (minutes, default 10).
# Needs Xvfb (apt-get install -y xvfb libxkbcommon-x11-0 libxcursor1 libxi6 libxrandr2
# fontconfig fonts-dejavu-core) and ss (iproute2).
set -euo pipefail

MINUTES=${1:-60}
INTERVAL=${INTERVAL:-30}
WARMUP=${WARMUP:-10}
# What a kiosk that runs for weeks may gain in an hour.
RSS_SLOPE_LIMIT_MIB=0.5

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-kiosk-soak.md

[[ $MINUTES =~ ^[0-9]+$ && $MINUTES -gt 0 ]] || die "MINUTES must be a whole number of minutes, not '$MINUTES'"
build_netdeck
require Xvfb ss awk

# A screen of its own, the size of a 7-inch kiosk panel; Xvfb picks a free display number and
# writes it to fd 3, so a display someone else runs is left alone.
Xvfb -displayfd 3 -screen 0 800x480x24 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
pids+=("$!")
wait_for 10 '[[ -s $tmp/display ]]' || die "Xvfb did not start: $(cat "$tmp/xvfb.log")"
export DISPLAY=":$(cat "$tmp/display")"
export SLINT_BACKEND=winit-software
log "started Xvfb on $DISPLAY"

# Its own settings file, so the user's are neither read nor written.
"$NETDECK" --kiosk --demo --config "$tmp/settings.toml" >"$tmp/netdeck.out" 2>"$tmp/netdeck.err" &
netdeck=$!
pids+=("$netdeck")

ticks=$(getconf CLK_TCK)
page_kib=$(($(getconf PAGESIZE) / 1024))

# One sample of the window's process: seconds since start, descriptors, established, CLOSE-WAIT
# and other TCP sockets, RSS in KiB, CPU seconds, TCP sockets in all.
sample() {
    local elapsed=$1 fds states established close_wait other rss cpu
    fds=$(find "/proc/$netdeck/fd" -mindepth 1 -maxdepth 1 | wc -l)
    # Every TCP socket with a descriptor in the process, by state.
    states=$(ss -Htanp | grep -F "pid=$netdeck," | awk '{ print $1 }' || true)
    established=$(grep -cx 'ESTAB' <<<"$states" || true)
    close_wait=$(grep -cx 'CLOSE-WAIT' <<<"$states" || true)
    other=$(grep -cvx -e 'ESTAB' -e 'CLOSE-WAIT' -e '' <<<"$states" || true)
    rss=$(($(awk '{ print $2 }' "/proc/$netdeck/statm") * page_kib))
    # utime and stime, fields 14 and 15 of stat, after the command in parentheses.
    cpu=$(sed 's/.*) //' "/proc/$netdeck/stat" | awk -v t="$ticks" '{ printf "%.2f", ($12 + $13) / t }')
    echo "$elapsed $fds $established $close_wait $other $rss $cpu $((established + close_wait + other))"
}

alive() { kill -0 "$netdeck" 2>/dev/null; }

# The clock starts once the window is up and the demo's first server listens.
wait_for 30 '[[ -n $(ss -Hltnp | grep -F "pid=$netdeck,") ]]' ||
    die "the demo did not start: $(tail -n 5 "$tmp/netdeck.err")"
log "kiosk soak: $MINUTES min, a sample every $INTERVAL s"
started=$SECONDS
end=$((started + MINUTES * 60))
: >"$tmp/samples"
while :; do
    alive || die "the window exited: $(tail -n 5 "$tmp/netdeck.err")"
    line=$(sample $((SECONDS - started)))
    echo "$line" >>"$tmp/samples"
    read -r t fds est cw other rss cpu _ <<<"$line"
    log "$(printf '%4d s: %3d descriptors, TCP %d established, %d CLOSE-WAIT, %d other, RSS %.1f MiB, CPU %s s' \
        "$t" "$fds" "$est" "$cw" "$other" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$cpu")"
    ((SECONDS + INTERVAL <= end)) || break
    sleep "$INTERVAL"
done
alive || die "the window exited: $(tail -n 5 "$tmp/netdeck.err")"

# Least-squares slope per hour of column $1 of the samples, over those from minute $2 on;
# "n/a" with fewer than two samples.
slope() {
    awk -v col="$1" -v from="$2" -v scale="${3:-1}" '
        $1 >= from * 60 { x = $1 / 3600; y = $col / scale; n++; sx += x; sy += y; sxx += x * x; sxy += x * y }
        END {
            d = n * sxx - sx * sx
            if (n < 2 || d == 0) print "n/a"; else printf "%.2f", (n * sxy - sx * sy) / d
        }' "$tmp/samples"
}
fd_slope=$(slope 2 0)
cw_slope=$(slope 4 0)
tcp_slope=$(slope 8 0)
rss_slope=$(slope 6 "$WARMUP" 1024)
cpu_slope=$(slope 7 0)
read -r _ fd_first _ _ _ rss_first _ _ < <(head -n 1 "$tmp/samples")
read -r t_last fd_last _ _ _ rss_last cpu_last _ < <(tail -n 1 "$tmp/samples")
cw_max=$(awk 'BEGIN { m = 0 } $4 > m { m = $4 } END { print m }' "$tmp/samples")

series=$(
    echo "| Time (min) | Descriptors | TCP established | TCP CLOSE-WAIT | TCP other | RSS (MiB) | CPU time (s) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    awk '{ printf "| %.1f | %d | %d | %d | %d | %.1f | %s |\n", $1 / 60, $2, $3, $4, $5, $6 / 1024, $7 }' "$tmp/samples"
)

# "met" or "missed": whether slope $1 is at most $2 ("n/a" cannot be judged).
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "n/a") print "not judged"; else print (v <= t) ? "met" : "missed" }'; }
# Descriptors are whole: the count moves with the step the demo is at when sampled, so the
# target is a fitted line that gains less than one over the run.
hours=$(awk -v s="$t_last" 'BEGIN { print s / 3600 }')
fd_verdict=$(awk -v v="$fd_slope" -v h="$hours" 'BEGIN { if (v == "n/a") print "not judged"; else print (v * h < 1) ? "met" : "missed" }')
cw_verdict=$(awk -v m="$cw_max" 'BEGIN { print (m == 0) ? "met" : "missed" }')
rss_verdict=$(verdict "$rss_slope" "$RSS_SLOPE_LIMIT_MIB")

slopes=$(
    echo "| Per hour (least squares) | Slope | Target | |"
    echo "|---|---:|---:|---|"
    echo "| Descriptors ($fd_first → $fd_last) | $fd_slope | 0 (less than 1 over the run) | $fd_verdict |"
    echo "| TCP sockets in CLOSE-WAIT (at most $cw_max at once) | $cw_slope | 0 | $cw_verdict |"
    echo "| TCP sockets, any state | $tcp_slope | 0 | |"
    echo "| RSS, MiB ($(awk -v a="$rss_first" -v b="$rss_last" 'BEGIN { printf "%.1f → %.1f", a / 1024, b / 1024 }'); the slope from minute $WARMUP) | $rss_slope | ≤ $RSS_SLOPE_LIMIT_MIB | $rss_verdict |"
    echo "| CPU time, s | $cpu_slope | | |"
)

version=$("$NETDECK" --version 2>/dev/null | head -n 1 | awk '{ print $2 }')
note="netdeck $version ran \`--kiosk --demo\` (Auto at the demo's own reading pace, every round
starting over) on an 800x480 Xvfb screen for $((t_last / 60)) min $((t_last % 60)) s after its
window was up: $(wc -l <"$tmp/samples") samples, one every $INTERVAL s. Descriptors are the entries of /proc/PID/fd; TCP sockets are those
\`ss -tanp\` lists for the process (a socket in TIME-WAIT belongs to no process); RSS is
resident pages of /proc/PID/statm; CPU time is user plus system time from /proc/PID/stat
($cpu_last s in all). The memory slope leaves out the first $WARMUP minutes, while the
allocator and font caches settle. Targets for a kiosk that runs for weeks: no descriptor and
no half-closed socket gained, at most $RSS_SLOPE_LIMIT_MIB MiB of memory an hour."

tables=$(printf '%s\n\n%s' "$slopes" "$series")
{
    echo "# \`netdeck --kiosk --demo\` left running"
    echo
    measured_by "Xvfb $(dpkg-query -W -f='${Version}' xvfb 2>/dev/null || echo '?')"
    echo
    print_table "$tables" "$note"
} >"$RESULTS"
show_results "$slopes" "$note"

[[ $fd_verdict != missed && $cw_verdict != missed && $rss_verdict != missed ]] ||
    die "the kiosk gained descriptors, half-closed sockets or memory (see $RESULTS)"
