#!/usr/bin/env bash
# Benchmarks the `netdeck connect` client against ncat's client on this machine:
#   1. send throughput: each client streams the same BYTES-byte file from stdin over
#      loopback into the same sink, first `ncat -l --recv-only`, then a C sink;
#   2. the client's peak resident memory during those runs;
#   3. whether each client still delivers everything to a sink that half-closes at once.
# Prints a Markdown table and writes it to bench/results-connect.md.
#
# Usage (from the repository root): bash bench/connect.sh
# Knobs: RUNS (throughput runs per client and sink, default 5), BYTES (default 2 GiB).
set -euo pipefail

RUNS=${RUNS:-5}
BYTES=${BYTES:-2147483648}
CHECK_BYTES=1048576 # for the half-close check, where speed does not matter

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-connect.md

# --- Tools -------------------------------------------------------------------------------

build_netdeck
ensure_command ncat
# GNU time reports a child's peak resident set (the kernel's VmHWM) once it has exited.
[[ -x /usr/bin/time ]] || apt_install time
require gcc python3 ss timeout

# The second sink, in C so that it is never the bottleneck: accepts one connection, reads it
# in 1 MiB chunks until EOF, prints the byte count and closes.
cat >"$tmp/sink.c" <<'EOF'
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 20];

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: sink PORT\n");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1) < 0) {
        perror("listen");
        return 1;
    }
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
        perror("accept");
        return 1;
    }
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            total += (unsigned long long)n;
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            perror("read");
            return 1;
        }
    }
    close(fd);
    printf("%llu\n", total);
    return 0;
}
EOF
gcc -O2 -o "$tmp/sink" "$tmp/sink.c"

# The data, created once and read by every run from the page cache. An AES-CTR keystream is
# as cheap as zeros to produce but rules out any shortcut for all-zero pages.
data=$tmp/data
if command -v openssl >/dev/null; then
    data_kind="pseudo-random (AES-128-CTR keystream)"
    head -c "$BYTES" /dev/zero |
        openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:netdeck-bench >"$data"
else
    data_kind="zeros"
    head -c "$BYTES" /dev/zero >"$data"
fi
(($(stat -c %s "$data") == BYTES)) || die "could not create $BYTES bytes of data"
# Written back now, so that disk writes do not land in the first runs.
sync "$data"
head -c "$CHECK_BYTES" "$data" >"$tmp/check-data"

# ncat --recv-only half-closes as soon as it accepts when its stdin is at EOF. The
# throughput sinks get this FIFO, opened read-write so that it never reaches EOF.
mkfifo "$tmp/idle"

# --- Runs --------------------------------------------------------------------------------

# Starts sink $1 on a fresh port with $2 as ncat's stdin; sets port and sink_pid. The sink
# writes the number of bytes it received to $tmp/count.
start_sink() {
    port=$(free_port)
    : >"$tmp/count"
    case $1 in
    ncat)
        # ncat writes what it receives to /dev/null, so the count comes from the I/O counters
        # of the shell around it, which take in ncat's once it is reaped.
        # shellcheck disable=SC2016 # expanded by the inner shell
        timeout 300 bash -c '
            ncat -l --recv-only 127.0.0.1 "$1" <>"$2" >/dev/null 2>"$3" || exit
            awk "/^wchar:/ { print \$2 }" /proc/$$/io' _ "$port" "$2" "$tmp/sink.err" \
            >"$tmp/count" &
        ;;
    c)
        timeout 300 "$tmp/sink" "$port" >"$tmp/count" 2>"$tmp/sink.err" &
        ;;
    esac
    sink_pid=$!
    pids+=("$sink_pid")
    wait_for 10 "is_listening $port" || die "the $1 sink did not start: $(cat "$tmp/sink.err")"
}

# Runs client $1 with file $2 on stdin against the sink on $port until both have exited;
# sets elapsed_ns, client_status, sink_status, received and rss (the client's peak, KiB).
run_client() {
    local client
    case $1 in
    netdeck) client=("$NETDECK" connect 127.0.0.1 "$port" --stdin) ;;
    # Plain client mode, like `netdeck connect --stdin`: at stdin's EOF it half-closes and
    # waits for the server to close (--send-only would exit without waiting).
    ncat) client=(ncat 127.0.0.1 "$port") ;;
    esac
    local t0 t1
    client_status=0
    sink_status=0
    t0=$(now_ns)
    timeout 300 /usr/bin/time -f %M -o "$tmp/rss" "${client[@]}" <"$2" >/dev/null \
        2>"$tmp/client.err" || client_status=$?
    reap "$sink_pid" || sink_status=$?
    t1=$(now_ns)
    elapsed_ns=$((t1 - t0))
    received=$(cat "$tmp/count")
    # GNU time puts a status line before the figure when the command fails.
    rss=$(tail -n 1 "$tmp/rss" 2>/dev/null || true)
}

# One timed run of client $1 into sink $2; sets mbps and rss, and stops the script unless
# every byte arrived and both sides exited cleanly.
throughput_run() {
    start_sink "$2" "$tmp/idle"
    run_client "$1" "$data"
    ((client_status != 124)) || die "the $1 client did not exit within 300 s (sink: $2)"
    ((client_status == 0)) || die "the $1 client exited with status $client_status: $(cat "$tmp/client.err")"
    ((sink_status == 0)) || die "the $2 sink exited with status $sink_status: $(cat "$tmp/sink.err")"
    [[ $received == "$BYTES" ]] ||
        die "the $2 sink received ${received:-nothing}, not $BYTES bytes, from the $1 client"
    mbps=$(mb_per_s "$BYTES" "$elapsed_ns")
}

max() { printf '%s\n' "$@" | sort -g | tail -n 1; }

declare -A runs=()
netdeck_rss=()
ncat_rss=()
for ((i = 1; i <= RUNS; i++)); do
    # Alternating spreads the machine's background noise over both clients.
    for sink in ncat c; do
        for client in netdeck ncat; do
            throughput_run "$client" "$sink"
            runs[$client-$sink]+=" $mbps"
            if [[ $client == netdeck ]]; then netdeck_rss+=("$rss"); else ncat_rss+=("$rss"); fi
            log "run $i/$RUNS: $(printf '%-7s into the %-4s sink' "$client" "$sink"): $mbps MB/s, peak RSS $rss KiB"
        done
    done
done

for key in netdeck-ncat ncat-ncat netdeck-c ncat-c; do
    # shellcheck disable=SC2086 # the runs are a space-separated list
    declare "median_${key/-/_}=$(median ${runs[$key]})"
    # shellcheck disable=SC2086
    declare "list_${key/-/_}=$(join ${runs[$key]})"
done
netdeck_rss_median=$(median "${netdeck_rss[@]}")
ncat_rss_median=$(median "${ncat_rss[@]}")

# --- Half-close check --------------------------------------------------------------------

# With stdin at EOF, the sink half-closes right after accepting; a client should still send
# all of its input and then exit. Sets check_note when netdeck does not.
declare -A delivered=() exited=()
for client in netdeck ncat; do
    start_sink ncat /dev/null
    run_client "$client" "$tmp/check-data"
    delivered[$client]=${received:-0}
    exited[$client]=$client_status
    log "half-close check: $client delivered ${received:-0} of $CHECK_BYTES bytes, exit status $client_status"
done
check_note=""
if [[ ${delivered[netdeck]} != "$CHECK_BYTES" ]]; then
    check_note="Against \`ncat -l --recv-only </dev/null\`, which half-closes right after accepting, \`netdeck connect --stdin\` delivered ${delivered[netdeck]} of $CHECK_BYTES bytes and exited with status ${exited[netdeck]}; ncat's client delivered ${delivered[ncat]} (status ${exited[ncat]}). The throughput sinks keep stdin open, so they do not half-close."
fi

# --- Report ------------------------------------------------------------------------------

size=$(human_size "$BYTES")

table=$(
    cat <<EOF
| Measurement | netdeck | ncat | netdeck / ncat |
|---|---:|---:|---:|
| Send throughput, $size into \`ncat -l --recv-only\`, median of $RUNS (MB/s) | $median_netdeck_ncat | $median_ncat_ncat | $(ratio "$median_netdeck_ncat" "$median_ncat_ncat") |
| Runs into \`ncat -l --recv-only\` (MB/s) | $list_netdeck_ncat | $list_ncat_ncat | |
| Send throughput, $size into a C sink, median of $RUNS (MB/s) | $median_netdeck_c | $median_ncat_c | $(ratio "$median_netdeck_c" "$median_ncat_c") |
| Runs into the C sink (MB/s) | $list_netdeck_c | $list_ncat_c | |
| Client peak RSS, median of $((2 * RUNS)) runs (max) (KiB) | $netdeck_rss_median ($(max "${netdeck_rss[@]}")) | $ncat_rss_median ($(max "${ncat_rss[@]}")) | $(ratio "$netdeck_rss_median" "$ncat_rss_median") |
| Bytes delivered to \`ncat -l --recv-only </dev/null\` (half-closes at once), of $CHECK_BYTES | ${delivered[netdeck]} | ${delivered[ncat]} | |
EOF
)

{
    echo "# \`netdeck connect\` vs ncat"
    echo
    measured_by "$(ncat_version)"
    echo "Clients: \`netdeck connect 127.0.0.1 PORT --stdin\` and \`ncat 127.0.0.1 PORT\`, each" \
        "reading the same $size file of $data_kind data on stdin."
    echo "Sinks: \`ncat -l --recv-only 127.0.0.1 PORT >/dev/null\` (stdin kept open), and a C" \
        "program that reads in 1 MiB chunks; both count what they receive, and every run is" \
        "checked to have delivered all $BYTES bytes."
    echo "MB/s is 10^6 bytes per second, from the client's start until both the client and" \
        "the sink have exited. Peak RSS is the client's VmHWM, from GNU time."
    echo
    print_table "$table" "$check_note"
} >"$RESULTS"

show_results "$table" "$check_note"
