#!/usr/bin/env bash
# Benchmarks `netdeck http` against curl on this machine, both clients talking to one nginx
# (Debian's nginx-light) on 127.0.0.1:
#   1. downloads of SIZES (random bytes) over http, to /dev/null and to a file: wall time
#      (MB/s) and peak resident memory (GNU time's %M);
#   2. REQUESTS keep-alive GETs of a small file over http and over https (a self-signed
#      certificate), by `netdeck http --repeat` and by one curl process given the URL
#      REQUESTS times: requests per second over the client process's wall time.
# Runs alternate between the clients. Every run is checked against nginx's stub_status
# counters: one connection, and the expected number of requests.
# Prints a Markdown table and writes it to bench/results-http-download.md.
#
# Usage (from the repository root): bash bench/http-download.sh
# Knobs: NETDECK (the binary to measure; when given, nothing is built, else
#        target/release/netdeck is built first), RUNS (timed runs per client and case,
#        default 5), REQUESTS (default 2000), SIZES (bytes, default 200 MiB and 1 GiB).
set -euo pipefail

RUNS=${RUNS:-5}
REQUESTS=${REQUESTS:-2000}
SIZES=${SIZES:-209715200 1073741824}

# A binary given in NETDECK replaces lib.sh's default (made absolute before lib.sh moves to
# the repository root).
netdeck_given=
[[ -z ${NETDECK:-} ]] || netdeck_given=$(realpath "$NETDECK")

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-http-download.md

# --- Tools -------------------------------------------------------------------------------

if [[ -n $netdeck_given ]]; then
    NETDECK=$netdeck_given
    log "measuring $NETDECK (given in NETDECK, not built)"
else
    build_netdeck
fi
[[ -x $NETDECK ]] || die "$NETDECK is not an executable"
ensure_packages nginx-light time curl openssl
require python3 timeout ss
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is required"
# Timestamps come from $EPOCHREALTIME, which costs no fork inside the timed region.
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is required (for EPOCHREALTIME)"

# --- nginx -------------------------------------------------------------------------------

www=$tmp/www
mkdir -p "$www" "$tmp/nginx"

log "making the files served"
for size in $SIZES; do
    head -c "$size" /dev/urandom >"$www/file-$size.bin"
done
small_body='{"ok": true}'
echo "$small_body" >"$www/small.json"
small_size=$(stat -c %s "$www/small.json")

# The self-signed certificate both clients trust with --cacert (openssl's defaults make it
# CA:TRUE, which both accept as the server's own certificate when given as its CA).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$tmp/nginx/key.pem" -out "$tmp/nginx/cert.pem" 2>/dev/null ||
    die "openssl could not make the certificate"
cert=$tmp/nginx/cert.pem

port=$(free_port)
tls_port=$(free_port)
while [[ $tls_port == "$port" ]]; do tls_port=$(free_port); done

# master_process on: this nginx segfaults with master_process off once given sockets.
# keepalive_requests: nginx closes a kept-alive connection after 1000 requests by default.
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
user root;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events {
    worker_connections 64;
}
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    default_type application/octet-stream;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $tmp/nginx/cert.pem;
        ssl_certificate_key $tmp/nginx/key.pem;
        root $www;
        location = /nginx_status {
            stub_status;
        }
    }
}
EOF

nginx -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
    >"$tmp/nginx/out" 2>&1 &
pids+=("$!")
nginx_pid=$!
wait_for 10 'is_listening "$port" && is_listening "$tls_port"' ||
    die "nginx did not start: $(cat "$tmp/nginx/out" "$tmp/nginx/error.log" 2>/dev/null)"
kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited: $(cat "$tmp/nginx/out")"
log "nginx: http://127.0.0.1:$port/, https://127.0.0.1:$tls_port/"

# nginx's counts of connections accepted and requests served so far ("accepts requests").
# The query is itself one connection and one request.
counters() {
    curl -sS "http://127.0.0.1:$port/nginx_status" | awk 'NR == 3 { print $1, $3 }'
}

# Stops the script unless the client run since counters gave "$1" (before) used one
# connection and made $3 requests. $2 names the run in the error message.
check_counters() {
    local before=($1) after conns requests
    read -r -a after <<<"$(counters)"
    conns=$((after[0] - before[0] - 1))
    requests=$((after[1] - before[1] - 1))
    ((conns == 1 && requests == $3)) ||
        die "$2: nginx counted $conns connections and $requests requests, not 1 and $3"
}

# --- Downloads ---------------------------------------------------------------------------

download_url() { echo "http://127.0.0.1:$port/file-$1.bin"; }

# One timed download by client $1 of the file of $2 bytes to $3 (null: /dev/null, file: a
# file in $tmp, removed afterwards). Sets speed (MB/s over the client's wall time) and
# peak (peak resident memory, KiB). Stops the script on a failure or a short file.
download_run() {
    local client=$1 size=$2 dest=$3 url target before status=0 t0 t1 got
    url=$(download_url "$size")
    case $dest in
    null) target=/dev/null ;;
    file) target=$tmp/download.bin ;;
    esac
    before=$(counters)
    case $client in
    netdeck) cmd=("$NETDECK" http "$url" -o "$target") ;;
    curl) cmd=(curl -s -o "$target" "$url") ;;
    esac
    t0=${EPOCHREALTIME/[.,]/}
    timeout 300 /usr/bin/time -f %M -o "$tmp/time.out" "${cmd[@]}" >"$tmp/client.out" 2>&1 ||
        status=$?
    t1=${EPOCHREALTIME/[.,]/}
    ((status == 0)) || die "$client downloading $(human_size "$size") to $dest exited with status $status: $(head -5 "$tmp/client.out")"
    [[ ! -s $tmp/client.out ]] || die "$client downloading $(human_size "$size") wrote: $(head -5 "$tmp/client.out")"
    if [[ $dest == file ]]; then
        got=$(stat -c %s "$target")
        rm -f "$target"
        ((got == size)) || die "$client wrote $got bytes of $size"
    fi
    check_counters "$before" "$client downloading $(human_size "$size") to $dest" 1
    speed=$(mb_per_s "$size" "$(((t1 - t0) * 1000))")
    peak=$(tail -n 1 "$tmp/time.out")
}

# Untimed, also a warm-up (the files enter the page cache): each client's file must be the
# file served, byte for byte.
for size in $SIZES; do
    for client in netdeck curl; do
        case $client in
        netdeck) "$NETDECK" http "$(download_url "$size")" -o "$tmp/check.bin" ;;
        curl) curl -sS -o "$tmp/check.bin" "$(download_url "$size")" ;;
        esac
        cmp -s "$tmp/check.bin" "$www/file-$size.bin" ||
            die "$client's download of $(human_size "$size") differs from the file served"
        rm -f "$tmp/check.bin"
        log "check: $client downloaded $(human_size "$size") intact"
    done
done

# --- Keep-alive requests -----------------------------------------------------------------

declare -A small_url=() curl_conf=()
small_url[http]=http://127.0.0.1:$port/small.json
small_url[https]=https://127.0.0.1:$tls_port/small.json

# curl fetches the same URL as netdeck, REQUESTS times, each body into /dev/null: a config
# file pairs every URL with its own output (an URL without one would go to stdout).
for scheme in http https; do
    curl_conf[$scheme]=$tmp/curl-$scheme.conf
    for ((i = 0; i < REQUESTS; i++)); do
        printf 'url = "%s"\noutput = "/dev/null"\n' "${small_url[$scheme]}"
    done >"${curl_conf[$scheme]}"
done

# One timed run of client $1 over $2 (http or https). Sets rate (requests per second over
# the client's wall time), and for netdeck also self_rate (its own figure, without
# start-up). Stops the script unless every request got 200 over a single connection.
repeat_run() {
    local client=$1 scheme=$2 before status=0 t0 t1 extra=()
    [[ $scheme == http ]] || extra=(--cacert "$cert")
    before=$(counters)
    case $client in
    netdeck)
        t0=${EPOCHREALTIME/[.,]/}
        timeout 120 "$NETDECK" http --repeat "$REQUESTS" "${extra[@]}" "${small_url[$scheme]}" \
            >"$tmp/client.out" 2>&1 || status=$?
        t1=${EPOCHREALTIME/[.,]/}
        ;;
    curl)
        t0=${EPOCHREALTIME/[.,]/}
        timeout 120 curl -sS "${extra[@]}" -K "${curl_conf[$scheme]}" >"$tmp/client.out" 2>&1 ||
            status=$?
        t1=${EPOCHREALTIME/[.,]/}
        ;;
    esac
    ((status == 0)) || die "$client over $scheme exited with status $status: $(head -5 "$tmp/client.out")"
    case $client in
    netdeck)
        grep -qx "status: 200 × $REQUESTS" "$tmp/client.out" ||
            die "netdeck over $scheme did not get $REQUESTS × 200: $(cat "$tmp/client.out")"
        self_rate=$(sed -n 's/^[0-9]\+ requests in .* s: \([0-9]\+\) requests\/s$/\1/p' "$tmp/client.out")
        [[ -n $self_rate ]] || die "unexpected netdeck output: $(cat "$tmp/client.out")"
        ;;
    curl)
        [[ ! -s $tmp/client.out ]] || die "curl over $scheme wrote: $(head -5 "$tmp/client.out")"
        ;;
    esac
    check_counters "$before" "$client over $scheme" "$REQUESTS"
    rate=$(awk -v n="$REQUESTS" -v us="$((t1 - t0))" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
}

# Untimed, also a warm-up: curl reports each status and whether it opened a connection
# (num_connects is 1 for a new connection, 0 for a reused one), and the body it got.
for scheme in http https; do
    extra=()
    [[ $scheme == http ]] || extra=(--cacert "$cert")
    curl -sS "${extra[@]}" -K "${curl_conf[$scheme]}" -w '%{http_code} %{num_connects} %{size_download}\n' \
        >"$tmp/curl-check.out" 2>&1 || die "curl over $scheme failed: $(head -5 "$tmp/curl-check.out")"
    lines=$(wc -l <"$tmp/curl-check.out")
    ok=$(awk -v n="$small_size" '$1 == 200 && $3 == n' "$tmp/curl-check.out" | wc -l)
    connects=$(awk '{ n += $2 } END { print n + 0 }' "$tmp/curl-check.out")
    ((lines == REQUESTS && ok == REQUESTS)) ||
        die "curl over $scheme: $ok of $REQUESTS responses were 200 with the whole body ($lines lines of output)"
    ((connects == 1)) || die "curl opened $connects connections over $scheme, not 1"
    log "check: curl over $scheme: $ok × 200, $connects connection"
    [[ $("$NETDECK" http "${extra[@]}" "${small_url[$scheme]}") == "$small_body" ]] ||
        die "netdeck over $scheme did not get the small file's body"
    repeat_run netdeck "$scheme"
    log "check: netdeck over $scheme: $REQUESTS × 200, 1 connection"
done

# --- Runs --------------------------------------------------------------------------------

declare -A speeds=() peaks=() rates=() self_rates=()
for ((i = 1; i <= RUNS; i++)); do
    # Alternating, and swapping which client goes first, spreads the machine's background
    # noise over both clients.
    if ((i % 2)); then order=(netdeck curl); else order=(curl netdeck); fi
    for size in $SIZES; do
        for dest in null file; do
            for client in "${order[@]}"; do
                download_run "$client" "$size" "$dest"
                speeds[$client-$size-$dest]+=" $speed"
                peaks[$client-$size-$dest]+=" $peak"
                log "run $i/$RUNS: $(printf '%-7s %8s to %-4s' "$client" "$(human_size "$size")" "$dest"): $speed MB/s, peak $peak KiB"
            done
        done
    done
    for scheme in http https; do
        for client in "${order[@]}"; do
            repeat_run "$client" "$scheme"
            rates[$client-$scheme]+=" $rate"
            if [[ $client == netdeck ]]; then
                self_rates[$scheme]+=" $self_rate"
                log "run $i/$RUNS: $(printf '%-7s over %-5s' "$client" "$scheme"): $rate requests/s (its own figure: $self_rate)"
            else
                log "run $i/$RUNS: $(printf '%-7s over %-5s' "$client" "$scheme"): $rate requests/s"
            fi
        done
    done
done

# --- Report ------------------------------------------------------------------------------

# KiB as MiB with one decimal.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# "met" when $1 >= $2, else "missed".
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "missed" }'; }
# "met" when $1 <= $2, else "missed".
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "met" : "missed" }'; }
# "met" when $1 < $2, else "missed".
below() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? "met" : "missed" }'; }

dest_name() { case $1 in null) echo '`/dev/null`' ;; file) echo 'a file' ;; esac; }

rows=
for size in $SIZES; do
    for dest in null file; do
        name="$(human_size "$size") to $(dest_name "$dest")"
        declare -A med=() list=() mlist=()
        for client in netdeck curl; do
            key=$client-$size-$dest
            # shellcheck disable=SC2086 # the runs are a space-separated list
            med[speed-$client]=$(median ${speeds[$key]})
            # shellcheck disable=SC2086
            list[$client]=$(join ${speeds[$key]})
            # shellcheck disable=SC2086
            med[peak-$client]=$(mib "$(median ${peaks[$key]})")
            # shellcheck disable=SC2046 # one word per run
            mlist[$client]=$(join $(for k in ${peaks[$key]}; do mib "$k"; echo; done))
        done
        targets="target ≤ curl + 4 MiB: $(at_most "${med[peak-netdeck]}" "$(awk -v c="${med[peak-curl]}" 'BEGIN { print c + 4 }')")"
        if ((size == 1073741824)); then
            targets+=", target < 16 MiB: $(below "${med[peak-netdeck]}" 16)"
        fi
        rows+="| $name: speed, median of $RUNS (MB/s; target ≥ curl: $(at_least "${med[speed-netdeck]}" "${med[speed-curl]}")) | ${med[speed-netdeck]} | ${med[speed-curl]} | $(ratio "${med[speed-netdeck]}" "${med[speed-curl]}") |
| $name: speed runs (MB/s) | ${list[netdeck]} | ${list[curl]} | |
| $name: peak memory, median of $RUNS (MiB; $targets) | ${med[peak-netdeck]} | ${med[peak-curl]} | $(ratio "${med[peak-netdeck]}" "${med[peak-curl]}") |
| $name: peak memory runs (MiB) | ${mlist[netdeck]} | ${mlist[curl]} | |
"
        unset med list mlist
    done
done
for scheme in http https; do
    # shellcheck disable=SC2086
    n=$(median ${rates[netdeck-$scheme]})
    # shellcheck disable=SC2086
    c=$(median ${rates[curl-$scheme]})
    # shellcheck disable=SC2086
    s=$(median ${self_rates[$scheme]})
    r=$(ratio "$n" "$c")
    rows+="| $scheme: $REQUESTS keep-alive GETs of a $small_size-byte file, median of $RUNS (requests/s; target ≥ 1.3 × curl: $(at_least "$r" 1.3)) | $n | $c | $r |
| $scheme: runs (requests/s) | $(join ${rates[netdeck-$scheme]}) | $(join ${rates[curl-$scheme]}) | |
| $scheme: netdeck's own figure, without process start-up, median of $RUNS (requests/s) | $s | | |
"
done

table=$(
    echo "| Measurement | netdeck | curl | netdeck / curl |"
    echo "|---|---:|---:|---:|"
    printf '%s' "$rows"
)

nginx_version=$(nginx -v 2>&1 | sed -n 's/^nginx version: nginx\//nginx /p')
fstype=$(df --output=fstype "$tmp" | tail -n 1)
{
    echo "# \`netdeck http\` vs curl: downloads and keep-alive requests from nginx"
    echo
    measured_by "$(curl --version | head -n 1 | cut -d ' ' -f 1,2)" "$nginx_version" \
        "$(openssl version | cut -d ' ' -f 1,2)"
    echo "Server: Debian's nginx-light on 127.0.0.1 (one worker, \`sendfile on\`," \
        "\`access_log off\`, \`keepalive_requests 1000000\`), files in a \`mktemp -d\` folder" \
        "($fstype), already in the page cache (each is downloaded once, untimed, before the runs)."
    echo "Downloads: files of random bytes; \`netdeck http URL -o TARGET\` and" \
        "\`curl -s -o TARGET URL\`, TARGET being \`/dev/null\` or a file in the same folder" \
        "(removed after each run). MB/s is 10^6 bytes per second over the client process's wall" \
        "time, start-up included; peak memory is GNU time's %M (maximum resident set size)." \
        "Each client's download is checked byte for byte once (untimed), and every timed file" \
        "download for its size."
    echo "Keep-alive: \`netdeck http --repeat $REQUESTS URL\`, and one \`curl -sS -K FILE\` process" \
        "whose config file lists the same URL $REQUESTS times, each with \`output = \"/dev/null\"\`;" \
        "over https both are given \`--cacert CERT\`, a self-signed RSA 2048 certificate for" \
        "IP 127.0.0.1 (\`openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1\`)." \
        "Requests/s is $REQUESTS over the client process's wall time, start-up and handshake included." \
        "curl's statuses, bodies and connection reuse are checked in an untimed run with" \
        "\`-w '%{http_code} %{num_connects} %{size_download}'\`."
    echo "Every timed run is checked against nginx's stub_status counters: one connection, and" \
        "1 (download) or $REQUESTS (keep-alive) requests. Runs alternate between the clients," \
        "swapping which goes first."
    echo
    print_table "$table"
} >"$RESULTS"

show_results "$table"
