#!/usr/bin/env bash
# Fails when the build log shows a compiler warning in the project's own sources (dependencies excluded).
set -euo pipefail
log="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
if grep -E "^${root}/(Sources|Tests|Benchmarks|Fuzz)/.*: warning:" "$log" | sort -u | tee /dev/stderr | grep -q .; then
    echo "check-warnings: the build has warnings (above); the project builds with none" >&2
    exit 1
fi
