#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer and AddressSanitizer: the YAML loader, the JSON reader, render (files to
# resources), kubeconfig parsing and webhook verification, each for a bounded time. Not part of `make test`.
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target...]   (targets: FuzzYAML FuzzJSON FuzzRender
#        FuzzKubeconfig FuzzWebhook; SHARED=/path/to/shared overrides where the seed corpus is)
# Builds into .build-fuzz (never .build); the working corpus grows in .build-fuzz/corpus/<target> from run to run,
# crash, timeout and out-of-memory inputs go to .build-fuzz/crashes/<target>/, logs to .build-fuzz/logs/.
# Ends with a table (target, executions, exec/s, coverage, crashes); exits 1 when any target found one.
# Replay an input without sanitizers: swift build --product FuzzYAML && .build/debug/FuzzYAML <file or folder>.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SHARED:-$root/../shared}"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzYAML FuzzJSON FuzzRender FuzzKubeconfig FuzzWebhook)
scratch="$root/.build-fuzz"
mkdir -p "$scratch/logs"

# libFuzzer without its main (SwiftPM links executables with --defsym main=<Module>_main, which would clash with
# it): FuzzSupport's main calls LLVMFuzzerRunDriver instead. Coverage and ASan instrument the Swift code only.
clang="$(dirname "$(readlink -f "$(command -v swiftc)")")/clang"
libfuzzer="$("$clang" -print-file-name=libclang_rt.fuzzer_no_main-x86_64.a)"
[ -f "$libfuzzer" ] || { echo "fuzz: no libFuzzer runtime in the toolchain ($libfuzzer)" >&2; exit 1; }
flags=(-c release --scratch-path "$scratch"
    -Xswiftc -sanitize=address -Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
    -Xlinker "$libfuzzer" -Xlinker -lstdc++)
for target in "${targets[@]}"; do
    echo "== building $target (release, libFuzzer + ASan)"
    if ! swift build "${flags[@]}" --product "$target" >"$scratch/logs/build-$target.log" 2>&1; then
        tail -40 "$scratch/logs/build-$target.log" >&2
        exit 1
    fi
done

# Seeds, rebuilt every run from the shared corpus and the repository (files over 64 KB left out: slow to mutate).
seed_files() {  # target -> file paths
    case "$1" in
        FuzzYAML) find "$shared/corpus" "$root/config" -type f -name '*.yaml' -size -64k ;;
        FuzzJSON) find "$shared/corpus" -type f -name '*.json' -size -64k ;;
        FuzzRender) find "$shared/corpus" "$root/config" -type f \( -name '*.yaml' -o -name '*.json' \) -size -64k ;;
        FuzzKubeconfig) find "$root/Fuzz/Seeds/Kubeconfig" -type f ;;
        FuzzWebhook) find "$root/Fuzz/Seeds/Webhook" -type f ;;
    esac
}
[ -d "$shared/corpus" ] || echo "fuzz: no seed corpus at $shared/corpus; YAML, JSON and render start from nothing" >&2

summary="$scratch/logs/summary.txt"
printf '%-16s %12s %8s %8s %8s\n' target executions exec/s cov crashes >"$summary"
found=0
for target in "${targets[@]}"; do
    seeds="$scratch/seeds/$target"
    corpus="$scratch/corpus/$target"
    crashes="$scratch/crashes/$target"
    rm -rf "$seeds"
    mkdir -p "$seeds" "$corpus" "$crashes"
    seed_files "$target" 2>/dev/null | while IFS= read -r file; do
        cp "$file" "$seeds/$(printf '%s' "$file" | sha1sum | cut -c1-16)-$(basename "$file")"
    done
    log="$scratch/logs/$target.log"
    before=$(find "$crashes" -type f | wc -l)
    echo "== fuzzing $target for ${seconds}s ($(find "$seeds" -type f | wc -l) seeds, $(find "$corpus" -type f | wc -l) in the corpus)"
    status=0
    (cd "$crashes" && "$scratch/release/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "$seeds") >"$log" 2>&1 || status=$?
    after=$(find "$crashes" -type f | wc -l)
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    new=$((after - before))
    if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
        found=1
        echo "   $target stopped (exit $status); see $log and $crashes" >&2
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)|Fatal error|Crash|crashed' "$log" | head -8 >&2 || true
    fi
    printf '%-16s %12s %8s %8s %8s\n' "$target" "${executions:-?}" "${speed:-?}" "${coverage:-?}" "$new" >>"$summary"
done
echo
cat "$summary"
exit "$found"
