#!/usr/bin/env bash
# A chaos soak of the release build, with the driver the tests use (tests/peers/chaos.py):
#   1. CLIENTS misbehaving clients for DURATION seconds against `netdeck serve` in each mode
#      (manual, echo, auto-reply, HTTP): they connect, send random bytes, flood, half-close,
#      reset (SO_LINGER 0) and disconnect at random; in HTTP mode they also send partial,
#      malformed, pipelined and oversized requests. Afterwards: the server still accepts and
#      answers, holds 0 clients, counted every byte it printed, counted for each client that
#      ended without a reset exactly what that client sent, its resident memory at the end of
#      the load and once the clients have left is within 10% of the level after WARMUP
#      seconds, and it exits 0 on SIGTERM with nothing on stderr.
#   2. `netdeck http --timeout TIMEOUT` against hostile servers: one byte a second, an endless
#      (up to 1 GiB) header, a Content-Length larger or smaller than the body, a close in the
#      middle of a chunk. Each must end with its error line and exit code within the deadline.
# Prints Markdown tables and writes them to bench/results-soak.md; exits 1 if a check failed.
#
# Usage (from the repository root): bash bench/soak.sh
# Knobs: CLIENTS (default 500), DURATION (seconds per mode, default 60), WARMUP (default 30:
#        under this load the resident memory climbs for 20 to 30 s to the level the busy
#        clients' buffers need, then stays there),
#        SEED (default random; printed, and the same seed replays every client's choices),
#        TIMEOUT (the HTTP client's --timeout, default 5).
set -euo pipefail

CLIENTS=${CLIENTS:-500}
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-30}
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
TIMEOUT=${TIMEOUT:-5}

# Shared helpers; sourcing also moves to the repository root and sets up $tmp and pids.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS=bench/results-soak.md
CHAOS=tests/peers/chaos.py

build_netdeck
require python3

# The driver holds CLIENTS sockets at once.
hard=$(ulimit -Hn)
if [[ $hard == unlimited ]]; then ulimit -n $((CLIENTS + 1000)); else ulimit -n "$hard"; fi

log "soak: $CLIENTS clients, $DURATION s per mode, seed $SEED"
soak_status=0
python3 "$CHAOS" serve "$NETDECK" --clients "$CLIENTS" --duration "$DURATION" \
    --warmup "$WARMUP" --seed "$SEED" --rss-ratio 1.10 --json "$tmp/serve.json" >&2 ||
    soak_status=$?
[[ -s $tmp/serve.json ]] || die "the soak driver stopped without a report (status $soak_status)"

log "hostile HTTP servers, --timeout $TIMEOUT"
hostile_status=0
python3 "$CHAOS" hostile "$NETDECK" --timeout "$TIMEOUT" --check-deadline \
    --json "$tmp/hostile.json" >&2 || hostile_status=$?
[[ -s $tmp/hostile.json ]] || die "the hostile-server driver stopped without a report (status $hostile_status)"

# The tables, from the two reports.
tables=$(python3 - "$tmp/serve.json" "$tmp/hostile.json" "$WARMUP" <<'EOF'
import json
import sys

soak = json.load(open(sys.argv[1]))
hostile = json.load(open(sys.argv[2]))
names = {"manual": "manual", "echo": "echo (`--echo`)", "reply": "auto-reply (`--reply`)",
         "http": "HTTP (`--http`)"}
mib = lambda kib: f"{kib / 1024:.1f}"
verdict = lambda ok: "pass" if ok else "**FAIL**"
first = soak["modes"][0]
print(f"Seed {soak['seed']}; {first['clients']} clients for {first['duration_s']:g} s per mode; "
      f"warm-up {sys.argv[3]} s.")
print()
print("| Mode | Connections | Bytes received (server) | Bytes sent (server) | Resets (client / seen by server) "
      "| Graceful clients checked | RSS after warm-up → end of load → clients gone (MiB) "
      "| End of load / warm-up | Clients gone / warm-up |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in soak["modes"]:
    s, rss = r["server"], r["rss_kib"]
    print(f"| {names[r['mode']]} | {r['connections']} | {s['bytes_in_totals']:,} | {s['bytes_out_totals']:,} "
          f"| {r['ends'].get('reset', 0)} / {s['reasons'].get('reset by peer', 0)} "
          f"| {r['graceful_checked']} | {mib(rss['warm'])} → {mib(rss['end'])} → {mib(rss['idle'])} "
          f"| {rss['load_ratio']:.2f} | {rss['ratio']:.2f} |")
print()
print("RSS every 5 s (MiB, the highest sample of each 5 s):")
print()
for r in soak["modes"]:
    print(f"- {names[r['mode']]}: " + " ".join(mib(k) for k in r["rss_kib"]["every_5_s"]))
print()
checks = list(first["checks"])
print("| Mode | " + " | ".join(checks) + " |")
print("|---|" + "---|" * len(checks))
for r in soak["modes"]:
    print(f"| {names[r['mode']]} | " + " | ".join(verdict(r["checks"][c]) for c in checks) + " |")
print()
print("| Mode | Server's reasons for each end | Probe after the soak |")
print("|---|---|---|")
for r in soak["modes"]:
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(r["server"]["reasons"].items()))
    print(f"| {names[r['mode']]} | {reasons} | {r['probe']['detail']} |")
print()
timeout = hostile["timeout_s"]
print(f"`netdeck http URL --timeout {timeout:g}` against hostile servers:")
print()
print("| Server | Exit code (expected) | Error line | Time (s) / deadline | Peak RSS (MiB) | Server sent | Result |")
print("|---|---:|---|---:|---:|---:|---|")
for c in hostile["cases"]:
    line = c["error_line"] or f"(none; body `{c['stdout']}`)"
    line = line.replace(c["url"], "URL")
    print(f"| {c['case']} | {c['exit_code']} ({c['expected_exit_code']}) | {line} "
          f"| {c['elapsed_s']:.2f} / {timeout:g} | {mib(c['peak_rss_kib'])} | {c['server_sent_bytes']:,} B "
          f"| {verdict(c['ok'])} |")
EOF
)

note="Bytes are counted by the server (its per-client totals, equal to the bytes of its data
lines). RSS is VmRSS of the serve process: the highest sample (every 0.2 s) in the second
before the warm-up ends and in the last second of the load, and one sample once every client
has left (after the probe); the memory check holds both against the first. A graceful client
ended with a
half-close or a disconnect and the server saw it close; for each, the bytes it sent equal the
server's count. Peak RSS of \`netdeck http\` is GNU time's maximum resident set size; 'ok' is
a normal 2-byte answer for comparison. 'Server sent' counts what the hostile server's kernel
accepted before netdeck hung up (the endless header would go on to 1 GiB)."

{
    echo "# \`netdeck serve\` and \`netdeck http\` under chaos"
    echo
    measured_by "Python $(python3 -c 'import platform; print(platform.python_version())')"
    echo
    print_table "$tables" "$note"
} >"$RESULTS"
show_results "$tables" "$note"

((soak_status == 0 && hostile_status == 0)) || die "some checks failed (see $RESULTS)"
