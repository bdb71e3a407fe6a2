#!/usr/bin/env bash
# Lists the functions the window runs from its start until it idles, in the order they first
# ran, into assets/startup-order.txt; build.rs has the linker place them together at the start
# of the code (docs/design.md, "The release binary"). Run it again after a change of
# dependencies or of what the window does at start: names not found are skipped, and new
# functions land among the rest, so a stale list costs memory, not correctness.
#
# Usage (from anywhere, as root for the packages): bash scripts/startup-order.sh
# Needs valgrind (callgrind_control is its Perl script) and Xvfb (apt-get install -y valgrind xvfb xdotool libxkbcommon-x11-0
# libxcursor1 libxi6 libxrandr2 fontconfig fonts-dejavu-core).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# The same build as a release one, with its symbols kept (build.rs strips otherwise).
NETDECK_KEEP_SYMBOLS=1 cargo build --release --locked --bin netdeck
cp target/release/netdeck "$work/netdeck"

Xvfb :97 -screen 0 800x480x24 -nolisten tcp >/dev/null 2>&1 &
for _ in $(seq 100); do [ -e /tmp/.X11-unix/X97 ] && break; sleep 0.1; done
mkdir -p "$work/home"
(cd "$work" && exec env DISPLAY=:97 HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" \
    XDG_CACHE_HOME="$work/home/cache" DBUS_SESSION_BUS_ADDRESS=disabled: \
    SLINT_BACKEND=winit-software \
    valgrind --tool=callgrind --demangle=no --dump-instr=no \
    --callgrind-out-file="$work/callgrind.out" ./netdeck >/dev/null 2>"$work/valgrind.log") &
valgrind_pid=$!
# The window is mapped (slowly, under valgrind), then idles a while.
for _ in $(seq 300); do
  DISPLAY=:97 xdotool search --name '^netdeck$' >/dev/null 2>&1 && break
  sleep 1
done
DISPLAY=:97 xdotool search --name '^netdeck$' >/dev/null || { cat "$work/valgrind.log"; exit 1; }
sleep 8
# Dumped while it runs: a process ended by a signal may not write its profile.
callgrind_control --dump "$valgrind_pid" >/dev/null
kill "$valgrind_pid"
wait "$valgrind_pid" || true
ls "$work"/callgrind.out* >/dev/null || { cat "$work/valgrind.log"; exit 1; }

# Every function of netdeck's binary that ran: callgrind names an object and a function once
# ("ob=(7) /path", "fn=(12) name", also as callees: "cob=", "cfn="), then only by number.
python3 - "$work"/callgrind.out* >assets/startup-order.txt <<'PY'
import re
import sys

binary = "/netdeck"
names, seen = [], set()
for path in sys.argv[1:]:
    objects, functions, current = {}, {}, None
    for line in open(path, errors="replace"):
        key, _, rest = line.rstrip("\n").partition("=")
        match = re.match(r"\((\d+)\)(?: (.*))?", rest)
        if not match:
            continue
        number, name = match.groups()
        if key in ("ob", "cob") and name:
            objects[number] = name
        if key in ("fn", "cfn") and name:
            functions[number] = name
        if key == "ob":
            current = objects.get(number, "")
        if key == "fn" and current.endswith(binary):
            # "'2" marks a recursion depth; addresses are code without a symbol.
            function = re.sub(r"'\d+$", "", functions.get(number, ""))
            if function and not function.startswith("0x") and function not in seen:
                seen.add(function)
                names.append(function)
for name in names:
    print(name)
PY
echo "assets/startup-order.txt: $(wc -l <assets/startup-order.txt) functions"
echo "The next plain release build links the binary stripped, in this order."
