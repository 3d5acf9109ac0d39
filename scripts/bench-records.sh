#!/bin/sh
# What keeping the inventory and status records costs a sync pass: writes and milliseconds per region for a first
# sync, a one-object change and a no-change pass of the example mesh on two kubesim regions (scripts/bench-records.py).
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product syncagent >/dev/null
swift build -c release --product kubesim >/dev/null
exec python3 scripts/bench-records.py "$(swift build -c release --show-bin-path)"
