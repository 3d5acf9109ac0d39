#!/usr/bin/env bash
# make bench-yaml: KubeYAML + render (release build) against a bare libyaml event loop in C, over the same bytes:
# the Istio CRD file and every Bookinfo sample, each parsed N times (default 100). Prints both times and the ratio.
# Usage: scripts/bench-yaml.sh [N]    (SHARED=/path/to/shared overrides where the corpus is)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SHARED:-$root/../shared}"
n="${1:-100}"
work="$(mktemp -d -t syncagent-bench-yaml.XXXXXX)"
trap 'rm -rf "$work"' EXIT

files=("$shared/corpus/istio-crds/crd-all.gen.yaml")
while IFS= read -r file; do files+=("$file"); done < <(find "$shared/corpus/istio-bookinfo" -name '*.yaml' | sort)

echo "== building syncbench (release)"
if ! (cd "$root" && swift build -c release --product syncbench >"$work/build.log" 2>&1); then
    cat "$work/build.log" >&2
    exit 1
fi

echo "== compiling the C baseline (libyaml $(pkg-config --modversion yaml-0.1), gcc -O2)"
cat > "$work/yamlloop.c" <<'C'
/* Bare libyaml event loop: parse each file until STREAM-END, N times; prints seconds=... */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <yaml.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: yamlloop N FILE...\n"); return 2; }
    int n = atoi(argv[1]), count = argc - 2;
    unsigned char **data = calloc(count, sizeof *data);
    size_t *size = calloc(count, sizeof *size), total = 0;
    for (int f = 0; f < count; f++) {
        FILE *in = fopen(argv[f + 2], "rb");
        if (!in) { perror(argv[f + 2]); return 1; }
        fseek(in, 0, SEEK_END); size[f] = (size_t)ftell(in); fseek(in, 0, SEEK_SET);
        data[f] = malloc(size[f] + 1);
        if (fread(data[f], 1, size[f], in) != size[f]) { perror(argv[f + 2]); return 1; }
        fclose(in);
        total += size[f];
    }
    long events = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < n; i++) {
        for (int f = 0; f < count; f++) {
            yaml_parser_t parser;
            yaml_event_t event;
            if (!yaml_parser_initialize(&parser)) return 1;
            yaml_parser_set_input_string(&parser, data[f], size[f]);
            int done = 0;
            while (!done) {
                if (!yaml_parser_parse(&parser, &event)) { fprintf(stderr, "%s: %s\n", argv[f + 2], parser.problem); return 1; }
                done = event.type == YAML_STREAM_END_EVENT;
                events++;
                yaml_event_delete(&event);
            }
            yaml_parser_delete(&parser);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("libyaml: %d files, %zu bytes, %ld events per pass\n", count, total, events / n);
    printf("events seconds=%.3f MBps=%.1f\n", seconds, (double)total * n / 1e6 / seconds);
    return 0;
}
C
gcc -O2 -o "$work/yamlloop" "$work/yamlloop.c" $(pkg-config --cflags --libs yaml-0.1)

echo "== ${#files[@]} files (the CRD file and every Bookinfo sample) x $n"
"$work/yamlloop" "$n" "${files[@]}" | tee "$work/c.txt"
"$root/.build/release/syncbench" yaml -n "$n" "${files[@]}" | tee "$work/swift.txt"

seconds() { sed -n "s/^$1 seconds=\([0-9.]*\).*/\1/p" "$2"; }
c="$(seconds events "$work/c.txt")"
load="$(seconds load "$work/swift.txt")"
render="$(seconds render "$work/swift.txt")"
echo "== result"
awk -v c="$c" -v l="$load" -v r="$render" 'BEGIN {
    printf "C libyaml event loop:   %7.3f s\n", c
    printf "KubeYAML load:          %7.3f s  (%.2fx the C loop)\n", l, l / c
    printf "KubeYAML load + render: %7.3f s  (%.2fx the C loop)\n", r, r / c
}'
