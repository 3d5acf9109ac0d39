#!/usr/bin/env bash
# bench-git.sh: times GitSource's "has the branch moved?" check (libgit2, in process) against `git ls-remote`
# (the git CLI, one process per check) on a 1,000-commit repository, over git:// (git daemon on 127.0.0.1) and
# file://, and prints the figures and their ratio.
#
# Usage: scripts/bench-git.sh [N]     N = checks per figure (default 200). Loopback only; cleans up after itself.
set -euo pipefail

N="${1:-200}"
COMMITS=1000
cd "$(dirname "$0")/.."

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-git.XXXXXX")"
DAEMON_PID=""
cleanup() {
    if [[ -n "$DAEMON_PID" ]]; then
        kill "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building syncbench (release)"
if ! swift build -c release --product syncbench >"$WORK/build.log" 2>&1; then
    grep -E "error" "$WORK/build.log" >&2 || cat "$WORK/build.log" >&2
    exit 1
fi
BIN="$(swift build -c release --show-bin-path)/syncbench"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0

echo "== making a repository with $COMMITS commits (git fast-import)"
REPO="$WORK/served/config.git"
git init -q --bare -b main "$REPO"
{
    for ((i = 1; i <= COMMITS; i++)); do
        region=$((i % 10))
        content="region: r$region
revision: $i
"
        message="Change $i"
        echo "commit refs/heads/main"
        echo "mark :$i"
        echo "committer Bench <bench@example.com> $((1704067200 + i * 60)) +0000"
        echo "data ${#message}"
        echo "$message"
        if ((i > 1)); then echo "from :$((i - 1))"; fi
        echo "M 100644 inline mesh/regions/r$region/values.yaml"
        echo "data ${#content}"
        echo "$content"
    done
} | git --git-dir="$REPO" fast-import --quiet
HEAD_SHA="$(git --git-dir="$REPO" rev-parse main)"
echo "   main = $HEAD_SHA ($(git --git-dir="$REPO" rev-list --count main) commits)"

# A free port on 127.0.0.1: one nothing answers on.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! port_open "$candidate"; then PORT="$candidate"; break; fi
done
[[ -n "$PORT" ]] || { echo "no free port found" >&2; exit 1; }

echo "== serving it with git daemon on 127.0.0.1:$PORT"
"$(git --exec-path)/git-daemon" --export-all --base-path="$WORK/served" --listen=127.0.0.1 --port="$PORT" \
    --reuseaddr "$WORK/served" 2>"$WORK/daemon.log" &
DAEMON_PID=$!
deadline=$((SECONDS + 15))
until port_open "$PORT"; do
    if ((SECONDS > deadline)) || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        echo "git daemon did not start:" >&2
        cat "$WORK/daemon.log" >&2
        exit 1
    fi
    sleep 0.05  # polling a port in a shell script; tests use waitUntil
done

# Mean milliseconds of N runs of `git [OPTIONS] ls-remote URL refs/heads/main` (process start included: that is
# the cost of asking the CLI). git 2.26+ speaks protocol v2 by default (one more round trip than v0, which is
# what libgit2 1.5 speaks), so both are timed.
git_ls_remote_mean() {
    local url="$1" start end
    shift
    git "$@" ls-remote "$url" refs/heads/main >/dev/null  # warm-up
    start=$(date +%s%N)
    for ((k = 0; k < N; k++)); do git "$@" ls-remote "$url" refs/heads/main >/dev/null; done
    end=$(date +%s%N)
    awk -v ns="$((end - start))" -v n="$N" 'BEGIN { printf "%.3f", ns / n / 1e6 }'
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

printf "\n%-9s %-13s %8s %9s %8s | %11s %6s | %11s %6s\n" transport check mean_ms median_ms p90_ms \
    "git(v2)_ms" ratio "git(v0)_ms" ratio
for url in "git://127.0.0.1:$PORT/config.git" "file://$REPO"; do
    transport="${url%%:*}"
    output="$("$BIN" git "$url" main "$N")"
    git_v2="$(git_ls_remote_mean "$url")"
    git_v0="$(git_ls_remote_mean "$url" -c protocol.version=0)"
    while IFS= read -r line; do
        check="$(field check <<<"$line")"
        mean="$(field mean_ms <<<"$line")"
        median="$(field median_ms <<<"$line")"
        p90="$(field p90_ms <<<"$line")"
        ratio_v2="$(awk -v g="$git_v2" -v m="$mean" 'BEGIN { printf "%.1fx", g / m }')"
        ratio_v0="$(awk -v g="$git_v0" -v m="$mean" 'BEGIN { printf "%.1fx", g / m }')"
        printf "%-9s %-13s %8s %9s %8s | %11s %6s | %11s %6s\n" "$transport" "$check" "$mean" "$median" "$p90" \
            "$git_v2" "$ratio_v2" "$git_v0" "$ratio_v0"
    done <<<"$output"
done
echo
echo "n=$N per figure. git(vN)_ms: mean of \`git ls-remote URL refs/heads/main\` with protocol vN, one process per"
echo "check; ratio = git mean / syncbench mean (higher is better for syncbench)."
