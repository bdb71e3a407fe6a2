#!/usr/bin/env bash
# Benchmarks `netdeck udp listen` against socat (`UDP-RECV`) as UDP receivers, with iperf3 in
# UDP mode as the rate anchor: one C sender sends COUNT datagrams of 1,400 bytes over loopback,
# as fast as it can and then paced at RATE datagrams per second; each receiver writes what it
# gets to a file, and what arrived is counted from its size.
# Prints a Markdown table and writes it to bench/results-udp.md.
#
# Usage (from the repository root): bash bench/udp.sh
# Knobs: COUNT (datagrams per run, default 200000), RATE (paced datagrams/s, default 50000),
#        RUNS (runs per receiver and pace, default 3).
set -euo pipefail

COUNT=${COUNT:-200000}
RATE=${RATE:-50000}
RUNS=${RUNS:-3}
SIZE=1400

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-udp.md

build_netdeck
ensure_packages socat iperf3
require gcc python3

# Sends COUNT datagrams of SIZE bytes to 127.0.0.1:PORT, at RATE per second (0: at once);
# prints how many seconds sending took.
cat >"$tmp/sender.c" <<'EOF'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: sender PORT COUNT SIZE RATE\n");
        return 2;
    }
    long count = atol(argv[2]), size = atol(argv[3]);
    double rate = atof(argv[4]);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char *buf = calloc(1, size);
    double start = now();
    for (long i = 0; i < count; i++) {
        if (rate > 0) {
            while (now() - start < i / rate) {
            }
        }
        memcpy(buf, &i, sizeof i);
        sendto(fd, buf, size, 0, (struct sockaddr *)&addr, sizeof addr);
    }
    printf("%.6f\n", now() - start);
    return 0;
}
EOF
gcc -O2 -o "$tmp/sender" "$tmp/sender.c"

# Starts receiver $1 on port $2, writing what it gets to file $3.
start_receiver() {
    case $1 in
    netdeck) "$NETDECK" udp listen --port "$2" --raw >"$3" 2>/dev/null ;;
    socat) socat -u "UDP-RECV:$2,bind=127.0.0.1" "OPEN:$3,creat,trunc" ;;
    esac &
    pids+=($!)
}

# Waits until file $1 stops growing for half a second.
settle() {
    local size=-1 now_size
    while true; do
        now_size=$(stat -c %s "$1")
        ((now_size == size)) && return
        size=$now_size
        sleep 0.5
    done
}

# One run of receiver $1 at rate $2: prints "received-datagrams rate-per-second".
receive_run() {
    local port file seconds received
    port=$(free_port)
    file="$tmp/received"
    : >"$file"
    start_receiver "$1" "$port" "$file"
    # Bound once it answers nothing and is still alive: give it the time to bind.
    wait_for 10 "ss -uln | grep -q ':$port '" || die "$1 did not bind"
    seconds=$("$tmp/sender" "$port" "$COUNT" "$SIZE" "$2")
    settle "$file"
    received=$(($(stat -c %s "$file") / SIZE))
    kill "${pids[-1]}" 2>/dev/null || true
    reap "${pids[-1]}" || true
    python3 -c "print($received, f'{$received / $seconds:.0f}')"
}

# iperf3's own sender and receiver at rate $1 (0: as fast as it can): "received rate".
iperf_run() {
    local port json bandwidth
    port=$(free_port)
    iperf3 -s -1 -p "$port" >/dev/null &
    pids+=($!)
    wait_for 10 "ss -tln | grep -q ':$port '" || die "iperf3 did not listen"
    if (($1 > 0)); then bandwidth=$(($1 * SIZE * 8)); else bandwidth=0; fi
    json=$(iperf3 -c 127.0.0.1 -p "$port" -u -l "$SIZE" -b "$bandwidth" -t 3 --json)
    reap "${pids[-1]}" || true
    python3 -c "
import json, sys
end = json.loads(sys.argv[1])['end']['sum']
seconds = end['seconds']
received = end['packets'] - end['lost_packets']
print(received, f'{received / seconds:.0f}', f\"{end['lost_percent']:.2f}\")
" "$json"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

rows=()
for pace in 0 "$RATE"; do
    label=$( ((pace == 0)) && echo "as fast as the sender goes" || echo "paced at $pace/s")
    declare -A rate_of=() loss_of=()
    for receiver in netdeck socat; do
        rates=() losses=()
        for ((run = 1; run <= RUNS; run++)); do
            read -r received rate < <(receive_run "$receiver" "$pace")
            loss=$(python3 -c "print(f'{100 * (1 - $received / $COUNT):.2f}')")
            log "$receiver, $label, run $run: $received of $COUNT received, $rate/s, $loss% lost"
            rates+=("$rate")
            losses+=("$loss")
        done
        rate_of[$receiver]=$(median "${rates[@]}")
        loss_of[$receiver]=$(median "${losses[@]}")
    done
    rates=() losses=()
    for ((run = 1; run <= RUNS; run++)); do
        read -r _ rate loss < <(iperf_run "$pace")
        log "iperf3, $label, run $run: $rate/s, $loss% lost"
        rates+=("$rate")
        losses+=("$loss")
    done
    rows+=("| $label | ${rate_of[netdeck]} | ${loss_of[netdeck]} % | ${rate_of[socat]} | ${loss_of[socat]} % | $(median "${rates[@]}") | $(median "${losses[@]}") % | $(python3 -c "print(f'{${rate_of[netdeck]} / ${rate_of[socat]}:.2f}')") |")
done

{
    echo "# \`netdeck udp listen\` vs socat, with iperf3 as the rate anchor"
    echo
    echo "Measured by \`bash bench/udp.sh\` on $(date +%F), $(nproc) CPUs, $(uname -sr)," \
        "$(socat -V | awk '/socat version/ {print "socat", $3}'), $(iperf3 --version | head -1 | awk '{print $1, $2}')."
    echo "One C sender sends $COUNT datagrams of $SIZE bytes over loopback to each receiver, which"
    echo "writes them to a file (netdeck \`udp listen --raw\`, socat \`UDP-RECV\`); the received"
    echo "rate is datagrams received per second of sending; medians of $RUNS runs. iperf3 uses its"
    echo "own sender (\`-u -l $SIZE\`, 3 s)."
    echo
    echo "| Sending | netdeck datagrams/s | netdeck lost | socat datagrams/s | socat lost | iperf3 datagrams/s | iperf3 lost | netdeck / socat |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
} | tee "$RESULTS"
