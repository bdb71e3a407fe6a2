#!/usr/bin/env bash
# Benchmarks `netdeck http --repeat` against curl on this machine: REQUESTS sequential GETs
# over one kept-alive HTTP/1.1 connection, made by one process of each client, against two
# local servers:
#   1. `netdeck serve --http` (a JSON description of each request);
#   2. Python's http.server.ThreadingHTTPServer (a small fixed body).
# Requests per second are REQUESTS over the wall time of the whole client process.
# Prints a Markdown table and writes it to bench/results-http.md.
#
# Usage (from the repository root): bash bench/http.sh
# Knobs: RUNS (timed runs per client and server, default 5), REQUESTS (default 1000).
set -euo pipefail

RUNS=${RUNS:-5}
REQUESTS=${REQUESTS:-1000}

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-http.md

# Connections a server has reported opened and closed so far.
opened() { grep -c ' connected$' "$1" || true; }
closed() { grep -c ' disconnected' "$1" || true; }

# --- Tools -------------------------------------------------------------------------------

build_netdeck
ensure_command curl
require python3 timeout
# Timestamps come from $EPOCHREALTIME, which costs no fork inside the timed region.
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is required (for EPOCHREALTIME)"

# The second server. One write per response (buffered wfile, flushed by http.server after
# each request) and no Nagle, so no response waits on a delayed ACK. It reports connections
# like `netdeck serve`, so that both servers can count them.
cat >"$tmp/server.py" <<'EOF'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b'{"ok": true}\n'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        print(f"+ {self.client_address[0]}:{self.client_address[1]} connected", flush=True)

    def finish(self):
        super().finish()
        print(f"- {self.client_address[0]}:{self.client_address[1]} disconnected", flush=True)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
host, port = server.server_address
print(f"listening on {host}:{port}", flush=True)
server.serve_forever()
EOF

# --- Servers -----------------------------------------------------------------------------

# Starts server $1 (netdeck or python) in the background; sets port and server_out.
start_server() {
    server_out=$tmp/$1-server.out
    : >"$server_out" # exists before the first look for the port
    case $1 in
    netdeck) "$NETDECK" serve --http --quiet --port 0 >"$server_out" 2>&1 & ;;
    python) python3 -u "$tmp/server.py" >"$server_out" 2>&1 & ;;
    esac
    pids+=("$!")
    wait_for 10 '[[ -n $(listening_port "$server_out") ]]' ||
        die "the $1 server did not start: $(cat "$server_out")"
    port=$(listening_port "$server_out")
}

declare -A url=() out=()
for server in netdeck python; do
    start_server "$server"
    url[$server]=http://127.0.0.1:$port/bench
    out[$server]=$server_out
    log "$server server: ${url[$server]}"
done

# curl fetches the same URL as netdeck, REQUESTS times, each body into /dev/null: a config
# file pairs every URL with its own output (an URL without one would go to stdout).
for server in netdeck python; do
    for ((i = 0; i < REQUESTS; i++)); do
        printf 'url = "%s"\noutput = "/dev/null"\n' "${url[$server]}"
    done >"$tmp/curl-$server.conf"
done

# --- Runs --------------------------------------------------------------------------------

# One timed run of client $1 against server $2. Sets rate (requests per second over the
# client's wall time), and for netdeck also self_rate (its own figure, without start-up)
# and latency. Stops the script unless every request got 200 over a single connection.
timed_run() {
    local client=$1 server=$2 log_out=$tmp/client.out status=0 t0 t1 before conns
    before=$(opened "${out[$server]}")
    case $client in
    netdeck)
        t0=${EPOCHREALTIME/[.,]/}
        timeout 120 "$NETDECK" http --repeat "$REQUESTS" "${url[$server]}" \
            >"$log_out" 2>&1 || status=$?
        t1=${EPOCHREALTIME/[.,]/}
        ;;
    curl)
        t0=${EPOCHREALTIME/[.,]/}
        timeout 120 curl -sS -K "$tmp/curl-$server.conf" >"$log_out" 2>&1 || status=$?
        t1=${EPOCHREALTIME/[.,]/}
        ;;
    esac
    ((status == 0)) || die "$client against the $server server exited with status $status: $(head -5 "$log_out")"
    case $client in
    netdeck)
        grep -qx "status: 200 × $REQUESTS" "$log_out" ||
            die "netdeck against the $server server did not get $REQUESTS × 200: $(cat "$log_out")"
        self_rate=$(sed -n 's/^[0-9]\+ requests in .* s: \([0-9]\+\) requests\/s$/\1/p' "$log_out")
        latency=$(sed -n 's/^latency: //p' "$log_out")
        [[ -n $self_rate && -n $latency ]] || die "unexpected netdeck output: $(cat "$log_out")"
        ;;
    curl)
        # Every body went to /dev/null, and curl had nothing else to say.
        [[ ! -s $log_out ]] || die "curl against the $server server wrote: $(head -5 "$log_out")"
        ;;
    esac
    # The server reports the client's connection closed shortly after the client exits.
    wait_for 10 '(($(closed "${out[$server]}") >= $(opened "${out[$server]}")))' ||
        die "the $server server still has connections open after $client exited"
    conns=$(($(opened "${out[$server]}") - before))
    ((conns == 1)) || die "$client used $conns connections to the $server server, not 1"
    rate=$(awk -v n="$REQUESTS" -v us="$((t1 - t0))" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
}

# Untimed, also a warm-up: curl reports each status and whether it opened a connection
# (num_connects is 1 for a new connection, 0 for a reused one).
for server in netdeck python; do
    curl -sS -K "$tmp/curl-$server.conf" -w '%{http_code} %{num_connects}\n' \
        >"$tmp/curl-check.out" 2>&1 || die "curl against the $server server failed: $(head -5 "$tmp/curl-check.out")"
    lines=$(wc -l <"$tmp/curl-check.out")
    ok=$(awk '$1 == 200' "$tmp/curl-check.out" | wc -l)
    connects=$(awk '{ n += $2 } END { print n + 0 }' "$tmp/curl-check.out")
    ((lines == REQUESTS && ok == REQUESTS)) ||
        die "curl against the $server server: $ok of $REQUESTS responses were 200 ($lines lines of output)"
    ((connects == 1)) || die "curl opened $connects connections to the $server server, not 1"
    log "check: curl against the $server server: $ok × 200, $connects connection"
    timed_run netdeck "$server"
    log "check: netdeck against the $server server: $REQUESTS × 200, 1 connection"
done

declare -A runs=() self_runs=() latencies=()
for ((i = 1; i <= RUNS; i++)); do
    # Alternating, and swapping which client goes first, spreads the machine's background
    # noise over both clients.
    if ((i % 2)); then order=(netdeck curl); else order=(curl netdeck); fi
    for server in netdeck python; do
        for client in "${order[@]}"; do
            timed_run "$client" "$server"
            runs[$client-$server]+=" $rate"
            if [[ $client == netdeck ]]; then
                self_runs[$server]+=" $self_rate"
                latencies[$server-$i]=$latency
                log "run $i/$RUNS: $(printf '%-7s against the %-7s server' "$client" "$server"): $rate requests/s (its own figure: $self_rate)"
            else
                log "run $i/$RUNS: $(printf '%-7s against the %-7s server' "$client" "$server"): $rate requests/s"
            fi
        done
    done
done

declare -A med=() list=() latency_of=()
for key in netdeck-netdeck curl-netdeck netdeck-python curl-python; do
    # shellcheck disable=SC2086 # the runs are a space-separated list
    med[$key]=$(median ${runs[$key]})
    # shellcheck disable=SC2086
    list[$key]=$(join ${runs[$key]})
done
for server in netdeck python; do
    # shellcheck disable=SC2086
    med[self-$server]=$(median ${self_runs[$server]})
    # The latency line of the run whose rate is closest to the median.
    # shellcheck disable=SC2086
    pick=$(printf '%s\n' ${runs[netdeck-$server]} |
        awk -v m="${med[netdeck-$server]}" '{ d = $1 - m; d = d < 0 ? -d : d; if (NR == 1 || d < best) { best = d; run = NR } } END { print run }')
    latency_of[$server]="${latencies[$server-$pick]} (run $pick)"
done

# --- Report ------------------------------------------------------------------------------

verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "missed" }'; }

table=$(
    cat <<EOF
| Measurement | netdeck | curl | netdeck / curl |
|---|---:|---:|---:|
| \`netdeck serve --http\`: $REQUESTS GETs, median of $RUNS (requests/s; target ≥ curl: $(verdict "${med[netdeck-netdeck]}" "${med[curl-netdeck]}")) | ${med[netdeck-netdeck]} | ${med[curl-netdeck]} | $(ratio "${med[netdeck-netdeck]}" "${med[curl-netdeck]}") |
| Runs against \`netdeck serve --http\` (requests/s) | ${list[netdeck-netdeck]} | ${list[curl-netdeck]} | |
| Python ThreadingHTTPServer: $REQUESTS GETs, median of $RUNS (requests/s; target ≥ curl: $(verdict "${med[netdeck-python]}" "${med[curl-python]}")) | ${med[netdeck-python]} | ${med[curl-python]} | $(ratio "${med[netdeck-python]}" "${med[curl-python]}") |
| Runs against Python ThreadingHTTPServer (requests/s) | ${list[netdeck-python]} | ${list[curl-python]} | |
| netdeck's own figure against \`netdeck serve --http\`, without process start-up, median of $RUNS (requests/s) | ${med[self-netdeck]} | | |
| netdeck's own figure against Python ThreadingHTTPServer, without process start-up, median of $RUNS (requests/s) | ${med[self-python]} | | |
| netdeck's latency against \`netdeck serve --http\` | ${latency_of[netdeck]} | | |
| netdeck's latency against Python ThreadingHTTPServer | ${latency_of[python]} | | |
EOF
)

{
    echo "# \`netdeck http --repeat\` vs curl"
    echo
    measured_by "$(curl --version | head -n 1 | cut -d ' ' -f 1,2)" "$(python3 --version)"
    echo "Clients: \`netdeck http --repeat $REQUESTS URL\`, and one \`curl -sS -K FILE\` process" \
        "whose config file lists the same URL $REQUESTS times, each with \`output = \"/dev/null\"\`."
    echo "Servers: \`netdeck serve --http --quiet --port 0\` (200 with a JSON description of" \
        "each request), and Python's \`http.server.ThreadingHTTPServer\` with" \
        "\`protocol_version = \"HTTP/1.1\"\` (200 with a 13-byte body and Content-Length)."
    echo "Requests/s is $REQUESTS over the client process's wall time, start-up included." \
        "Every run is checked to have used one connection (counted by the server) and, for" \
        "netdeck, to have got $REQUESTS × 200; curl's statuses and connection reuse are checked" \
        "in an untimed run with \`-w '%{http_code} %{num_connects}'\`."
    echo "Runs alternate between the clients, and the latency lines are netdeck's own," \
        "from the run closest to the median."
    echo
    print_table "$table"
} >"$RESULTS"

show_results "$table"
