#!/usr/bin/env bash
# make bench (issue 14): syncagent against kubectl on N realistic resources per region in two kubesim regions
# (scripts/bench.py has the details). Builds the release products, installs what the benchmark needs (gcc and
# libyaml for the C baseline; matplotlib from PyPI for the plot), then runs scripts/bench.py with the arguments
# given here, e.g. scripts/bench.sh --sizes 100,1000 --runs 3 --label "$(git rev-parse --short HEAD)".
# BENCH_SKIP_BUILD=1 uses the binaries as they are (with --bin DIR, or .build/release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

EXTRA_PACKAGES="gcc" scripts/install-deps.sh
command -v kubectl >/dev/null || { echo "bench: kubectl is not on PATH (the reference the benchmark measures)" >&2; exit 1; }

mkdir -p .build
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    for product in syncagent kubesim; do  # one --product per call: SwiftPM builds only the last one given
        echo "== swift build -c release --product $product"
        if ! swift build -c release --product "$product" >.build/bench-build.log 2>&1; then
            cat .build/bench-build.log >&2
            exit 1
        fi
    done
fi

# matplotlib: already importable, else pip --user, else a virtual environment under .build/ (Debian's Python
# refuses --user installs into the system interpreter).
python=python3
venv=.build/bench-venv
if ! "$python" -c 'import matplotlib' 2>/dev/null; then
    if [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c 'import matplotlib' 2>/dev/null; then
        python="$venv/bin/python3"
    else
        echo "== installing matplotlib (PyPI)"
        if ! "$python" -m pip install --user --quiet matplotlib 2>/dev/null; then
            "$python" -m venv --system-site-packages "$venv"
            python="$venv/bin/python3"
            "$python" -m pip install --quiet matplotlib
        fi
    fi
fi

exec "$python" scripts/bench.py --bin "$(swift build -c release --show-bin-path)" "$@"
