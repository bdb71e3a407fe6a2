#!/usr/bin/env bash
# Benchmarks `netdeck serve --tls --echo` against ncat (`ncat --ssl -l --exec /bin/cat`) and
# socat (`OPENSSL-LISTEN ... EXEC:cat`): one socat TLS client sends BYTES through each echo
# server and reads them all back, over loopback, with the same certificate.
# Prints a Markdown table and writes it to bench/results-tls-echo.md.
#
# Usage (from the repository root): bash bench/tls-echo.sh
# Knobs: RUNS (runs per server, default 3), BYTES (default 1 GiB), STALL (seconds before a run
#        that stopped moving is given up, default 120).
set -euo pipefail

RUNS=${RUNS:-3}
BYTES=${BYTES:-1073741824}
STALL=${STALL:-120}

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-tls-echo.md

build_netdeck
ensure_packages ncat socat
require openssl python3

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/both.pem"

# Starts echo server $1 on port $2 in the background.
start_server() {
    case $1 in
    netdeck) "$NETDECK" serve --port "$2" --tls --echo --quiet \
        --cert "$tmp/cert.pem" --key "$tmp/key.pem" >/dev/null ;;
    ncat) ncat --ssl -l -k 127.0.0.1 "$2" --ssl-cert "$tmp/cert.pem" --ssl-key "$tmp/key.pem" \
        --exec /bin/cat ;;
    socat) socat "OPENSSL-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork,cert=$tmp/both.pem,verify=0" \
        EXEC:cat ;;
    esac &
    pids+=($!)
    wait_for 10 "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $2)).close()' 2>/dev/null" \
        || die "$1 did not start listening"
}

# One run: MB/s for BYTES out and back through the server on port $1; fails on a short echo.
echo_run() {
    local start end echoed
    start=$(now_ns)
    # A server that stops echoing is given up after STALL seconds.
    echoed=$({ head -c "$BYTES" /dev/zero |
        timeout "$STALL" socat -b 262144 -t 60 - "OPENSSL:127.0.0.1:$1,verify=0" || true; } | wc -c)
    end=$(now_ns)
    ((echoed == BYTES)) || { log "short echo: $echoed of $BYTES bytes"; return 1; }
    python3 -c "print(f'{$BYTES / (($end - $start) / 1e9) / 1e6:.1f}')"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A figures runs short
for server in netdeck ncat socat; do
    port=$(free_port)
    start_server "$server" "$port"
    list=()
    short[$server]=0
    for ((run = 1; run <= RUNS; run++)); do
        if rate=$(echo_run "$port"); then
            list+=("$rate")
            log "$server run $run: $rate MB/s"
        else
            short[$server]=$((short[$server] + 1))
        fi
    done
    kill "${pids[-1]}" 2>/dev/null || true
    reap "${pids[-1]}" || true
    runs[$server]=$(IFS=,; echo "${list[*]}" | sed 's/,/, /g')
    figures[$server]=$( ((${#list[@]} > 0)) && median "${list[@]}" || echo "-")
done

ratio() { python3 -c "a, b = '$1', '$2'; print(f'{float(a) / float(b):.2f}' if '-' not in (a, b) else '-')"; }

{
    echo "# \`netdeck serve --tls --echo\` vs ncat and socat"
    echo
    echo "Measured by \`bash bench/tls-echo.sh\` on $(date +%F), $(nproc) CPUs, $(uname -sr)," \
        "$(ncat --version 2>&1 | head -1 | awk '{print $1, $3}'), $(socat -V | awk '/socat version/ {print "socat", $3}')."
    echo "One socat TLS client sends $BYTES bytes through each echo server and reads them back;"
    echo "MB/s is 10^6 bytes each way per second, from the client's start to its end. Same"
    echo "ECDSA P-256 certificate for all three."
    echo
    echo "| Echo server | median MB/s | runs (MB/s) | runs cut short or stalled | ratio to netdeck |"
    echo "|---|---:|---|---:|---:|"
    for server in netdeck ncat socat; do
        echo "| $server | ${figures[$server]} | ${runs[$server]} | ${short[$server]} of $RUNS | $(ratio "${figures[$server]}" "${figures[netdeck]}") |"
    done
} | tee "$RESULTS"
