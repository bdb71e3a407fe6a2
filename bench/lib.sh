# shellcheck shell=bash
# Helpers shared by the benchmark scripts in this folder, which source this file after
# `set -euo pipefail`. Sourcing it also moves to the repository root, makes the scratch
# folder $tmp and sets up the cleanup of $tmp and of every process in pids.

# Every script runs from the repository root and measures this binary.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NETDECK=target/release/netdeck

# Scratch files of this run, and the background processes still to be stopped.
tmp=$(mktemp -d)
pids=()

# On exit: stops the processes left in pids, waits for them and removes $tmp.
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits for a background process and drops it from the cleanup list; returns its status.
reap() {
    local status=0 p keep=()
    # Quiet: a process that aborted is reported by the caller, not by the shell.
    { wait "$1"; } 2>/dev/null || status=$?
    for p in "${pids[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    pids=("${keep[@]}")
    return "$status"
}

# Progress and errors go to stderr, so that stdout carries only the results.
log() { printf '%s\n' "$*" >&2; }
# Stops the script with an error message.
die() { log "error: $*"; exit 1; }

# Polls a shell condition every 50 ms for up to $1 seconds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until eval "$1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# Wall-clock time in nanoseconds.
now_ns() { date +%s%N; }

# A loopback TCP port that is free now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True once something listens on TCP port $1.
is_listening() { [[ -n $(ss -Hltn "sport = :$1") ]]; }

# Port from a "listening on 127.0.0.1:PORT" line in file $1, empty until it appears.
listening_port() { sed -n 's/^listening on .*:\([0-9]\+\)$/\1/p' "$1"; }

# Always measure the current source (a no-op when the release build is up to date).
build_netdeck() {
    log "building $NETDECK"
    cargo build --release --locked
}

# Installs Debian package $1, refreshing the package lists only if the first try fails.
apt_install() {
    log "installing $1"
    apt-get install -y "$1" || { apt-get update && apt-get install -y "$1"; }
}

# Installs the package of the same name when command $1 is missing.
ensure_command() { command -v "$1" >/dev/null || apt_install "$1"; }

# Installs those of the Debian packages given that are missing, refreshing the package lists
# once first (a fresh machine may have none).
ensure_packages() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' || missing+=("$pkg")
    done
    if ((${#missing[@]} > 0)); then
        log "installing ${missing[*]}"
        apt-get update >&2
        apt-get install -y "${missing[@]}" >&2
    fi
}

# Stops the script unless every command named is on the PATH.
require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool is required"
    done
}

# Median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# $1 / $2 with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# The arguments as a comma-separated list, for a table cell.
join() { echo "$*" | sed 's/ /, /g'; }

# 10^6 bytes per second for $1 bytes in $2 nanoseconds, with one decimal.
mb_per_s() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }

# $1 bytes as whole GiB, or else as MiB, for table headings.
human_size() { awk -v b="$1" 'BEGIN { printf (b % 2^30) ? "%.0f MiB" : "%d GiB", (b % 2^30) ? b / 2^20 : b / 2^30 }'; }

# "ncat X.YZ", from the installed ncat.
ncat_version() { ncat --version 2>&1 | sed -n 's/^Ncat: Version \([^ ]*\).*/ncat \1/p'; }

# The "Measured by" line of a results file: script, date, CPUs, kernel, then the tool
# versions given as arguments.
measured_by() {
    echo "Measured by \`bash bench/${0##*/}\` on $(date -u +%Y-%m-%d), $(nproc) CPUs," \
        "Linux $(uname -r)$(printf ', %s' "$@")."
}

# Prints table $1 and, when $2 is given and not empty, a note after it.
print_table() {
    echo "$1"
    [[ -z ${2:-} ]] || { echo; echo "Note: $2"; }
}

# Shows table $1 (and note $2) on stdout at the end of a run, and where $RESULTS is.
show_results() {
    echo
    print_table "$@"
    echo
    echo "Written to $RESULTS"
}
