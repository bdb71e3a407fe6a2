#!/usr/bin/env bash
# Memory per idle client: COUNTS idle connections (one Python process holds them) to
# `netdeck serve`, beside `ncat -l -k` and `socat TCP-LISTEN:P,fork`. The memory is the
# proportional set size (Pss) of the receiver and every process it started, so socat's forked
# children are counted without counting the libraries they share many times.
# Prints a Markdown table and writes it to bench/results-idle.md.
#
# Usage (from the repository root): bash bench/idle.sh
# Knobs: COUNTS (default "2000 10000").
set -euo pipefail

COUNTS=${COUNTS:-2000 10000}

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-idle.md

build_netdeck
ensure_command ncat
ensure_command socat
require python3 ss

largest=$(printf '%s\n' $COUNTS | sort -n | tail -1)
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < largest + 100)); then
    die "the hard open-file limit ($hard) is below $((largest + 100))"
fi
if [[ $hard == unlimited ]]; then ulimit -n $((largest + 1000)); else ulimit -n "$hard"; fi

# Opens COUNT connections, reports "held failed", then keeps them open until killed.
cat >"$tmp/idle_clients.py" <<'EOF'
import resource
import signal
import socket
import sys
import time

count, port = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = count + 100
if soft < want:
    resource.setrlimit(
        resource.RLIMIT_NOFILE,
        (want if hard == resource.RLIM_INFINITY else min(want, hard), hard),
    )
held, failed = [], 0
for _ in range(count):
    try:
        s = socket.socket()
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        held.append(s)
    except OSError:
        failed += 1
    # Paced so that a short listen backlog (ncat's is 10) does not overflow.
    time.sleep(0.0005)
print(len(held), failed, flush=True)
signal.pause()
EOF

# Pss in KiB of process $1 and all its descendants.
tree_pss_kib() {
    local pid all=$1 next=$1 children
    while [[ -n $next ]]; do
        children=$(for pid in $next; do cat "/proc/$pid/task/"*/children 2>/dev/null || true; done | xargs)
        all+=" $children"
        next=$children
    done
    for pid in $all; do
        awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true
    done | awk '{ s += $1 } END { print s + 0 }'
}

fd_count() { { ls "/proc/$1/fd" 2>/dev/null || true; } | wc -l; }

# How many clients the receiver of kind $1 (pid $2) holds, by what it shows: netdeck's
# connected lines, ncat's descriptors, socat's children.
held_by() {
    case $1 in
    netdeck) grep -c ' connected$' "$tmp/netdeck.out" || true ;;
    ncat) echo $(($(fd_count "$2") - fds_base)) ;;
    socat) { cat "/proc/$2/task/"*/children 2>/dev/null || true; } | wc -w ;;
    esac
}

# Starts receiver $1 on port $2 and sets pid.
start_receiver() {
    case $1 in
    netdeck)
        : >"$tmp/netdeck.out"
        "$NETDECK" serve --quiet --port "$2" >"$tmp/netdeck.out" 2>&1 &
        ;;
    ncat)
        ncat -l -k --recv-only --max-conns $((largest + 1000)) 127.0.0.1 "$2" \
            </dev/null >/dev/null 2>"$tmp/ncat.err" &
        ;;
    socat)
        socat -u "TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,backlog=4096,fork" STDOUT \
            >/dev/null 2>"$tmp/socat.err" &
        ;;
    esac
    pid=$!
    pids+=("$pid")
    wait_for 10 "is_listening $2" || die "$1 did not start"
}

# For measure: sets now to the clients the receiver holds, and held to the most it has held.
note_held() {
    kill -0 "$pid" 2>/dev/null || return 0
    now=$(held_by "$kind" "$pid")
    ((now <= held)) || held=$now
}

# Holds $2 idle clients on a fresh receiver of kind $1 and sets base_kib, loaded_kib and held
# (how many it held at most; fewer than $2 if it gave up).
measure() {
    local kind=$1 count=$2 port client last=-1 now=0
    port=$(free_port)
    start_receiver "$kind" "$port"
    sleep 0.5 # let the receiver settle before the baseline
    base_kib=$(tree_pss_kib "$pid")
    fds_base=$(fd_count "$pid")
    held=0
    python3 "$tmp/idle_clients.py" "$count" "$port" >"$tmp/clients.out" &
    client=$!
    pids+=("$client")
    wait_for 180 'note_held; [[ -s $tmp/clients.out ]]' ||
        die "the idle clients did not finish connecting"
    # Until the receiver holds them all, stops gaining clients, or dies.
    while kill -0 "$pid" 2>/dev/null; do
        note_held
        ((now < count && now != last)) || break
        last=$now
        sleep 1
    done
    loaded_kib=""
    if kill -0 "$pid" 2>/dev/null; then
        loaded_kib=$(tree_pss_kib "$pid")
    fi
    kill "$client"
    reap "$client" || true
    # socat's children end with their clients; let them go so the next run starts clean.
    [[ $kind != socat ]] || wait_for 60 '(($(held_by socat "$pid") == 0))' || true
    kill "$pid" 2>/dev/null || true
    reap "$pid" || true
    log "  $kind: $held of $count clients, Pss $base_kib → ${loaded_kib:-(gone)} KiB"
}

rows=()
# Measures receiver $1 with $2 clients and adds its row, labelled $3 (the count by default);
# fails if it could not hold them all.
measure_row() {
    local kind=$1 count=$2 text=${3:-$2} added why
    log "$kind with $count idle clients"
    measure "$kind" "$count"
    if [[ -n $loaded_kib ]] && ((held >= count)); then
        added=$((loaded_kib - base_kib))
        rows+=("| $text | \`$kind\` | $base_kib → $loaded_kib | $(awk -v k="$added" 'BEGIN { printf "%.1f", k / 1024 }') | $(awk -v k="$added" -v n="$count" 'BEGIN { printf "%.2f", k / n }') |")
    else
        why="stopped accepting"
        [[ $kind != ncat ]] || why="exited: \"$(head -n 1 "$tmp/ncat.err")\""
        rows+=("| $text | \`$kind\` | held $held, then $why | | |")
        return 1
    fi
}

ncat_failed=false
for count in $COUNTS; do
    measure_row netdeck "$count" || die "netdeck did not hold $count clients"
    measure_row ncat "$count" || ncat_failed=true
    measure_row socat "$count" || die "socat did not hold $count clients"
done
# ncat's keep-open mode waits with select(), which stops at descriptor 1024: its figures then
# come from the most it can hold.
if $ncat_failed; then
    measure_row ncat 1000 "1000 (ncat's most)"
fi

table=$(
    echo "| Idle clients | Receiver | Pss before → with them (KiB) | Added (MiB) | KiB per client |"
    echo "|---:|---|---|---:|---:|"
    printf '%s\n' "${rows[@]}"
)

{
    echo "# Memory per idle client: \`netdeck serve\` beside ncat and socat"
    echo
    measured_by "$(ncat_version)" "$(socat -V | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')"
    echo "Pss of the receiver and the processes it started (socat forks one per client), before"
    echo "the clients and with all of them connected and idle."
    echo
    print_table "$table"
} >"$RESULTS"

show_results "$table"
