#!/usr/bin/env bash
# Benchmarks `netdeck serve` against ncat on this machine:
#   1. receive throughput: the same C sender pushes BYTES over loopback to each receiver;
#   2. resident memory per idle client: CLIENTS connections held open by one process.
# Prints a Markdown table and writes it to bench/results-serve.md.
#
# Usage (from the repository root): bash bench/serve.sh
# Knobs: RUNS (throughput runs per receiver, default 5), BYTES (default 2 GiB),
#        CLIENTS (idle clients, default 5000).
set -euo pipefail

RUNS=${RUNS:-5}
BYTES=${BYTES:-2147483648}
CLIENTS=${CLIENTS:-5000}

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-serve.md

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

fd_count() { { ls "/proc/$1/fd" 2>/dev/null || true; } | wc -l; }

# --- Tools -------------------------------------------------------------------------------

build_netdeck
ensure_command ncat
require gcc python3 ss

# Both receivers need one descriptor per client, and so does the client process.
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < CLIENTS + 100)); then
    die "the hard open-file limit ($hard) is below $((CLIENTS + 100))"
fi
if [[ $hard == unlimited ]]; then ulimit -n $((CLIENTS + 1000)); else ulimit -n "$hard"; fi

# One sender for both receivers, in C so that it is never the bottleneck: writes BYTES from
# a 1 MiB buffer, half-closes, and waits for the receiver to close so no data is cut short.
cat >"$tmp/sender.c" <<'EOF'
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 20];

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: sender PORT BYTES\n");
        return 2;
    }
    unsigned long long left = strtoull(argv[2], NULL, 10);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    memset(buf, 'x', sizeof buf);
    while (left > 0) {
        size_t chunk = left < sizeof buf ? left : sizeof buf;
        ssize_t n = write(fd, buf, chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("write");
            return 1;
        }
        left -= (unsigned long long)n;
    }
    shutdown(fd, SHUT_WR);
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
    return 0;
}
EOF
gcc -O2 -o "$tmp/sender" "$tmp/sender.c"

# Opens CLIENTS connections, reports "held failed", then keeps them open until killed.
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
    # Paced so that a short listen backlog (ncat's is 10) does not overflow: overflowing
    # connections look open here but reach the receiver only through SYN-ACK retries.
    time.sleep(0.0005)
print(len(held), failed, flush=True)
signal.pause()
EOF

# --- Throughput --------------------------------------------------------------------------

# Each run sets mbps: 10^6 bytes per second from the sender's start to the receiver's exit.
# They run in this shell, not in $(...), so that a failure stops the script and the cleanup
# sees every background process.

run_netdeck_throughput() {
    local out=$tmp/netdeck-tp.out port pid t0 t1 got status=0
    : >"$out" # exists before the first look for the port
    "$NETDECK" serve --quiet --once --port 0 >"$out" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_for 10 '[[ -n $(listening_port "$out") ]]' || die "netdeck did not start: $(cat "$out")"
    port=$(listening_port "$out")
    t0=$(now_ns)
    timeout 300 "$tmp/sender" "$port" "$BYTES" || die "the sender to netdeck failed"
    reap "$pid" || status=$?
    t1=$(now_ns)
    ((status == 0)) || die "netdeck exited with status $status: $(cat "$out")"
    got=$(sed -n 's/.* disconnected.*(\([0-9]\+\) bytes in,.*/\1/p' "$out")
    [[ $got == "$BYTES" ]] || die "netdeck received ${got:-nothing}, not $BYTES bytes: $(cat "$out")"
    mbps=$(mb_per_s "$BYTES" $((t1 - t0)))
}

run_ncat_throughput() {
    local err=$tmp/ncat-tp.err port pid t0 t1 status=0
    port=$(free_port)
    # --recv-only: like `netdeck serve`, ncat then only receives and leaves stdin alone.
    ncat -l --recv-only 127.0.0.1 "$port" </dev/null >/dev/null 2>"$err" &
    pid=$!
    pids+=("$pid")
    wait_for 10 "is_listening $port" || die "ncat did not start: $(cat "$err")"
    t0=$(now_ns)
    timeout 300 "$tmp/sender" "$port" "$BYTES" || die "the sender to ncat failed"
    reap "$pid" || status=$?
    t1=$(now_ns)
    ((status == 0)) || die "ncat exited with status $status: $(cat "$err")"
    mbps=$(mb_per_s "$BYTES" $((t1 - t0)))
}

netdeck_runs=()
ncat_runs=()
for ((i = 1; i <= RUNS; i++)); do
    # Alternating spreads the machine's background noise over both receivers.
    run_netdeck_throughput
    netdeck_runs+=("$mbps")
    log "run $i/$RUNS: netdeck $mbps MB/s"
    run_ncat_throughput
    ncat_runs+=("$mbps")
    log "run $i/$RUNS: ncat    $mbps MB/s"
done
netdeck_mbps=$(median "${netdeck_runs[@]}")
ncat_mbps=$(median "${ncat_runs[@]}")
tp_ratio=$(ratio "$netdeck_mbps" "$ncat_mbps")

# --- Memory per idle client --------------------------------------------------------------

# For measure_idle: keeps in held the most clients the receiver has had at once, which
# tells how far a receiver that dies got.
track_held() {
    local n
    n=$(($(fd_count "$pid") - fds_base))
    ((n <= held)) || held=$n
}

# For measure_idle: true once the receiver has accepted every client or has died.
accepted_all() {
    kill -0 "$pid" 2>/dev/null || return 0
    track_held
    ((held >= count))
}

# Holds $2 idle clients on the receiver $1 (listening on port $3) and sets rss_base and
# rss_loaded (KiB) and held (descriptors the receiver gained: the clients it accepted).
# Fails if the receiver died or did not accept them all.
measure_idle() {
    local pid=$1 count=$2 port=$3 fds_base client ok failed
    sleep 0.5 # let the receiver settle before the baseline
    rss_base=$(rss_kib "$pid")
    fds_base=$(fd_count "$pid")
    held=0
    python3 "$tmp/idle_clients.py" "$count" "$port" >"$tmp/clients.out" &
    client=$!
    pids+=("$client")
    wait_for 120 'track_held; [[ -s $tmp/clients.out ]]' || die "the idle clients did not finish connecting"
    read -r ok failed <"$tmp/clients.out"
    log "  $ok clients connected, $failed failed"
    # The receiver may still be accepting the last ones.
    wait_for 90 accepted_all || true
    sleep 1
    rss_loaded=""
    if kill -0 "$pid" 2>/dev/null; then
        rss_loaded=$(rss_kib "$pid")
        held=$(($(fd_count "$pid") - fds_base))
    fi
    kill "$client"
    reap "$client" || true
    [[ -n $rss_loaded ]] && ((held >= count))
}

per_client() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / n }'; }

log "memory: netdeck with $CLIENTS idle clients"
out=$tmp/netdeck-idle.out
: >"$out"
"$NETDECK" serve --quiet --port 0 >"$out" 2>&1 &
netdeck_pid=$!
pids+=("$netdeck_pid")
wait_for 10 '[[ -n $(listening_port "$out") ]]' || die "netdeck did not start: $(cat "$out")"
measure_idle "$netdeck_pid" "$CLIENTS" "$(listening_port "$out")" ||
    die "netdeck held $held of $CLIENTS clients: $(grep -v ' connected$' "$out" | head -5)"
connected=$(grep -c ' connected$' "$out" || true)
((connected == CLIENTS)) || die "netdeck reported $connected of $CLIENTS clients connected"
netdeck_rss="$rss_base → $rss_loaded"
netdeck_kib=$(per_client "$rss_base" "$rss_loaded" "$CLIENTS")
log "  RSS $netdeck_rss KiB, $netdeck_kib KiB per client"
kill "$netdeck_pid"
reap "$netdeck_pid" || true

# Runs ncat in keep-open mode with $1 idle clients; fails if it cannot hold them.
ncat_idle() {
    local port status=0
    port=$(free_port)
    ncat -l -k --recv-only --max-conns $(($1 + 1000)) 127.0.0.1 "$port" \
        </dev/null >/dev/null 2>"$tmp/ncat-idle.err" &
    ncat_pid=$!
    pids+=("$ncat_pid")
    wait_for 10 "is_listening $port" || die "ncat did not start: $(cat "$tmp/ncat-idle.err")"
    measure_idle "$ncat_pid" "$1" "$port" || status=$?
    kill "$ncat_pid" 2>/dev/null || true
    reap "$ncat_pid" || true
    return "$status"
}

# ncat's keep-open mode waits with select(), so it may give up once a descriptor reaches
# FD_SETSIZE (1024); it is then measured again with NCAT_FALLBACK clients, which fit.
NCAT_FALLBACK=${NCAT_FALLBACK:-1000}
ncat_clients=$CLIENTS
ncat_note=""
log "memory: ncat with $CLIENTS idle clients"
if ! ncat_idle "$CLIENTS"; then
    why=$(head -n 1 "$tmp/ncat-idle.err")
    if [[ -n $why ]]; then why="exited: \"$why\""; else why="stopped accepting"; fi
    ncat_note="ncat -l -k could not hold $CLIENTS idle clients: it reached at least $held, then $why. Its memory figures are for $NCAT_FALLBACK clients."
    log "  $ncat_note"
    ncat_clients=$NCAT_FALLBACK
    log "memory: ncat with $ncat_clients idle clients"
    ncat_idle "$ncat_clients" || die "ncat could not hold $ncat_clients idle clients either"
fi
ncat_rss="$rss_base → $rss_loaded"
ncat_kib=$(per_client "$rss_base" "$rss_loaded" "$ncat_clients")
log "  RSS $ncat_rss KiB, $ncat_kib KiB per client"
if ((ncat_clients != CLIENTS)); then
    ncat_rss+=" ($ncat_clients clients)"
    ncat_kib+=" ($ncat_clients clients)"
fi
mem_ratio=$(awk -v a="$netdeck_kib" -v b="${ncat_kib%% *}" 'BEGIN { printf (b > 0) ? "%.2f" : "n/a", a / (b > 0 ? b : 1) }')
target=$(awk -v k="$netdeck_kib" 'BEGIN { print (k < 40) ? "met" : "missed" }')

# --- Report ------------------------------------------------------------------------------

size=$(human_size "$BYTES")

table=$(
    cat <<EOF
| Measurement | netdeck | ncat | netdeck / ncat |
|---|---:|---:|---:|
| Receive throughput, $size over loopback, median of $RUNS (MB/s) | $netdeck_mbps | $ncat_mbps | $tp_ratio |
| Throughput runs (MB/s) | $(join "${netdeck_runs[@]}") | $(join "${ncat_runs[@]}") | |
| RSS idle → with $CLIENTS idle clients (KiB) | $netdeck_rss | $ncat_rss | |
| RSS per idle client (KiB; target < 40 for netdeck: $target) | $netdeck_kib | $ncat_kib | $mem_ratio |
EOF
)

{
    echo "# \`netdeck serve\` vs ncat"
    echo
    measured_by "$(ncat_version)"
    echo "MB/s is 10^6 bytes per second, from the sender's start to the receiver's exit."
    echo
    print_table "$table" "$ncat_note"
} >"$RESULTS"

show_results "$table" "$ncat_note"
