#!/bin/sh
# Region-ordered sync: time from a pushed commit to both kubesim regions synced (webhook and poll) for the example
# mesh and for 1,000 resources, against kubectl apply --server-side --prune region by region; and the agent's RSS
# at rest with 1,000 and 5,000 resources per region. Release build; prints figures and ratios (scripts/bench-sync.py).
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product syncagent >/dev/null
swift build -c release --product kubesim >/dev/null
exec python3 scripts/bench-sync.py "$(swift build -c release --show-bin-path)"
