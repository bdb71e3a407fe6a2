#!/usr/bin/env bash
# Receive throughput over loopback: one C sender writes BYTES in 128 KiB writes to each
# receiver in turn, for ROUNDS alternating rounds:
#   netdeck serve --raw > /dev/null, netdeck serve -o FILE (on tmpfs, and /dev/null),
#   netdeck serve --quiet (discard), ncat -l > /dev/null, ncat -l > FILE (on tmpfs),
#   socat -u TCP-LISTEN STDOUT,
#   and iperf3 with the same write size (the machine's limit).
# Then the client side: a C server writes BYTES the same way to whoever connects, received by
#   netdeck connect --raw, ncat --recv-only and socat, each > /dev/null.
# Beside the rate, the CPU time (user + system) each receiver took, which the noise of a shared
# machine disturbs less than the wall-clock rate.
# Prints the Markdown tables and writes them to bench/results-receive.md.
#
# Usage (from the repository root): bash bench/receive.sh
# Knobs: ROUNDS (default 3), BYTES (default 4000000000), TMPFS (folder on a tmpfs for the
#        -o FILE runs, default /dev/shm).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
BYTES=${BYTES:-4000000000}
TMPFS=${TMPFS:-/dev/shm}
WRITE=131072

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-receive.md

# --- Tools -------------------------------------------------------------------------------

build_netdeck
export DEBIAN_FRONTEND=noninteractive
ensure_command ncat
ensure_command socat
ensure_command iperf3
[[ -x /usr/bin/time ]] || apt_install time
require gcc python3 ss
[[ $(stat -f -c %T "$TMPFS") == tmpfs ]] || die "$TMPFS is not a tmpfs"
out_dir=$(mktemp -d "$TMPFS/netdeck-receive.XXXXXX")
trap 'rm -rf "$out_dir"; cleanup' EXIT

# The sender, in C so that it is never the bottleneck: writes BYTES in WRITE-byte writes,
# half-closes, and waits for the receiver to close so no data is cut short.
cat >"$tmp/sender.c" <<EOF
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[$WRITE];

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

# The server for the client side: accepts one connection on 127.0.0.1:PORT, writes BYTES in
# WRITE-byte writes, and closes.
cat >"$tmp/source.c" <<EOF
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[$WRITE];

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: source PORT BYTES\\n");
        return 2;
    }
    unsigned long long left = strtoull(argv[2], NULL, 10);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1, listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1) < 0) {
        perror("listen");
        return 1;
    }
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
        perror("accept");
        return 1;
    }
    memset(buf, 'x', sizeof buf);
    while (left > 0) {
        size_t chunk = left < sizeof buf ? left : sizeof buf;
        ssize_t n = write(fd, buf, chunk);
        if (n < 0) {
            perror("write");
            return 1;
        }
        left -= (unsigned long long)n;
    }
    close(fd);
    return 0;
}
EOF
gcc -O2 -o "$tmp/source" "$tmp/source.c"

# --- Receivers ---------------------------------------------------------------------------

# Each receiver is a shell command run with its port in $port, its data to its own
# redirection and its messages to $err; it must exit once the sender's connection ends.
receivers=(raw output output-null discard ncat ncat-file socat)
declare -A label command
label[raw]='`netdeck serve --raw --once > /dev/null`'
command[raw]='"$NETDECK" serve --raw --once --port "$port" >/dev/null'
label[output]="\`netdeck serve --once -o FILE\` (tmpfs)"
command[output]='"$NETDECK" serve --once --port "$port" -o "$out_dir/received" >/dev/null'
label[output-null]="\`netdeck serve --once -o /dev/null\`"
command[output-null]='"$NETDECK" serve --once --port "$port" -o /dev/null >/dev/null'
label[discard]='`netdeck serve --quiet --once` (discard)'
command[discard]='"$NETDECK" serve --quiet --once --port "$port" >/dev/null'
label[ncat]='`ncat -l --recv-only > /dev/null`'
command[ncat]='ncat -l --recv-only 127.0.0.1 "$port" </dev/null >/dev/null'
label[ncat-file]='`ncat -l --recv-only > FILE` (tmpfs)'
command[ncat-file]='ncat -l --recv-only 127.0.0.1 "$port" </dev/null >"$out_dir/received"'
label[socat]='`socat -u TCP-LISTEN:P STDOUT > /dev/null`'
command[socat]='socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" STDOUT >/dev/null'

# User + system seconds of the run of receiver $1 just ended.
cpu_seconds() { awk '{ printf "%.2f", $1 + $2 }' "$tmp/$1.cpu"; }

# Runs receiver $1 once and sets mbps: 10^6 bytes per second from the sender's start to the
# receiver's exit. Runs in this shell so that a failure stops the script.
run_receiver() {
    local name=$1 err=$tmp/$1.err port pid t0 t1 status=0 size
    port=$(free_port)
    eval "/usr/bin/time -f '%U %S' -o \"\$tmp/\$name.cpu\" ${command[$name]}" 2>"$err" &
    pid=$!
    pids+=("$pid")
    wait_for 10 "is_listening $port" || die "$name did not start: $(cat "$err")"
    t0=$(now_ns)
    timeout 300 "$tmp/sender" "$port" "$BYTES" || die "the sender to $name failed"
    reap "$pid" || status=$?
    t1=$(now_ns)
    ((status == 0)) || die "$name exited with status $status: $(cat "$err")"
    if [[ -e $out_dir/received ]]; then
        size=$(stat -c %s "$out_dir/received")
        rm -f "$out_dir/received"
        ((size == BYTES)) || die "$name wrote $size bytes, not $BYTES"
    fi
    mbps=$(mb_per_s "$BYTES" $((t1 - t0)))
    cpu=$(cpu_seconds "$name")
}

# iperf3 receiving from its own client, with the same write size: the machine's limit.
run_iperf3() {
    local port pid status=0
    port=$(free_port)
    iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>"$tmp/iperf3.err" &
    pid=$!
    pids+=("$pid")
    wait_for 10 "is_listening $port" || die "iperf3 did not start: $(cat "$tmp/iperf3.err")"
    iperf3 -c 127.0.0.1 -p "$port" -n "$BYTES" -l "$WRITE" --json >"$tmp/iperf3.json" ||
        die "the iperf3 client failed: $(cat "$tmp/iperf3.json")"
    reap "$pid" || status=$?
    ((status == 0)) || die "the iperf3 server exited with status $status"
    mbps=$(python3 -c 'import json, sys
print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 8e6))' \
        "$tmp/iperf3.json")
}

# The client side: each client is a shell command that connects to $port and writes what it
# receives to /dev/null.
clients=(connect ncat-client socat-client)
label[connect]='`netdeck connect --raw > /dev/null`'
command[connect]='"$NETDECK" connect "127.0.0.1:$port" --raw >/dev/null'
label[ncat-client]='`ncat --recv-only > /dev/null`'
command[ncat-client]='ncat --recv-only 127.0.0.1 "$port" </dev/null >/dev/null'
label[socat-client]='`socat -u TCP:HOST:P STDOUT > /dev/null`'
command[socat-client]='socat -u "TCP:127.0.0.1:$port" STDOUT >/dev/null'

# Runs client $1 once against the C source and sets mbps: from the client's start to its exit.
run_client() {
    local name=$1 err=$tmp/$1.err port source t0 t1 status=0
    port=$(free_port)
    "$tmp/source" "$port" "$BYTES" &
    source=$!
    pids+=("$source")
    wait_for 10 "is_listening $port" || die "the source did not start"
    t0=$(now_ns)
    eval "timeout 300 /usr/bin/time -f '%U %S' -o \"\$tmp/\$name.cpu\" ${command[$name]}" 2>"$err" ||
        status=$?
    t1=$(now_ns)
    ((status == 0)) || die "$name exited with status $status: $(cat "$err")"
    reap "$source" || die "the source for $name failed"
    mbps=$(mb_per_s "$BYTES" $((t1 - t0)))
    cpu=$(cpu_seconds "$name")
}

declare -A runs cpus
for ((round = 1; round <= ROUNDS; round++)); do
    # Alternating spreads the machine's background noise over every receiver.
    for name in "${receivers[@]}"; do
        run_receiver "$name"
        runs[$name]+="$mbps "
        cpus[$name]+="$cpu "
        log "round $round/$ROUNDS: $name $mbps MB/s, $cpu s CPU"
    done
    run_iperf3
    runs[iperf3]+="$mbps "
    log "round $round/$ROUNDS: iperf3 $mbps MB/s"
    for name in "${clients[@]}"; do
        run_client "$name"
        runs[$name]+="$mbps "
        cpus[$name]+="$cpu "
        log "round $round/$ROUNDS: $name $mbps MB/s, $cpu s CPU"
    done
done

# --- Report ------------------------------------------------------------------------------

# Row for receiver $1 labelled $2, with its ratios to receiver $3.
row() {
    local name=$1 text=$2 median_mbps cpu="" cpu_ratio=""
    # shellcheck disable=SC2086 # the runs are a space-separated list
    median_mbps=$(median ${runs[$name]})
    if [[ -n ${cpus[$name]:-} ]]; then
        # shellcheck disable=SC2086
        cpu=$(median ${cpus[$name]})
        # shellcheck disable=SC2086
        cpu_ratio=$(ratio "$cpu" "$(median ${cpus[$3]})")
    fi
    # shellcheck disable=SC2086
    echo "| $text | $median_mbps | $(join ${runs[$name]% }) | $(ratio "$median_mbps" "$(median ${runs[$3]})") | $cpu | $cpu_ratio |"
}

table=$(
    echo "| Receiver | MB/s (median) | Rounds (MB/s) | / ncat | CPU s (median) | CPU / ncat |"
    echo "|---|---:|---|---:|---:|---:|"
    row iperf3 "\`iperf3\` loopback, $((WRITE / 1024)) KiB writes (the machine's limit)" ncat
    for name in "${receivers[@]}"; do
        row "$name" "${label[$name]}" ncat
    done
    echo
    echo "Client side, from a C server writing the same way:"
    echo
    echo "| Client | MB/s (median) | Rounds (MB/s) | / ncat | CPU s (median) | CPU / ncat |"
    echo "|---|---:|---|---:|---:|---:|"
    for name in "${clients[@]}"; do
        row "$name" "${label[$name]}" ncat-client
    done
)
# shellcheck disable=SC2086
note="netdeck raw / discard: $(ratio "$(median ${runs[raw]})" "$(median ${runs[discard]})"); netdeck -o FILE / discard: $(ratio "$(median ${runs[output]})" "$(median ${runs[discard]})"); netdeck -o FILE / ncat > FILE: $(ratio "$(median ${runs[output]})" "$(median ${runs[ncat-file]})")."

{
    echo "# Receive throughput: \`netdeck serve\` beside ncat, socat and iperf3"
    echo
    measured_by "$(ncat_version)" "$(socat -V | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')" \
        "$(iperf3 --version | sed -n '1s/^iperf \([^ ]*\).*/iperf3 \1/p')"
    echo "One C sender writes $BYTES bytes in $((WRITE / 1024)) KiB writes over loopback to each"
    echo "receiver, $ROUNDS rounds alternating; MB/s is 10^6 bytes per second from the sender's"
    echo "start to the receiver's exit (iperf3: its own count)."
    echo
    print_table "$table" "$note"
} >"$RESULTS"

show_results "$table" "$note"
