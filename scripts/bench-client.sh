#!/usr/bin/env bash
# make bench: syncagent's Kubernetes client (libcurl, one process) against kubectl, both talking to kubesim over
# HTTPS, on N small ConfigMaps (default 1000). Whole processes are timed, as a user would run them:
#   get:   `syncbench client get` (all N in one process)   vs   N x `kubectl get configmap NAME -o json`
#   apply: `syncbench client apply` (server-side apply)     vs   N x `kubectl apply --server-side -f FILE`
#   and, for reference, one `kubectl apply --server-side -f DIR` of N files.
# Each side creates its own objects (names differ), so every apply is a create. kubectl keeps a warm discovery cache.
# Usage: scripts/bench-client.sh [N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-1000}"
work="$(mktemp -d -t syncagent-bench-client.XXXXXX)"
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

command -v kubectl >/dev/null || { echo "bench-client: kubectl is not on PATH" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench-client: python3 is not on PATH (used for free ports)" >&2; exit 1; }

echo "== building syncbench and kubesim (release)"
for product in syncbench kubesim; do  # one --product per call: SwiftPM builds only the last one given
    if ! (cd "$root" && swift build -c release --product "$product" >>"$work/build.log" 2>&1); then
        cat "$work/build.log" >&2
        exit 1
    fi
done
bin="$(cd "$root" && swift build -c release --show-bin-path)"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin/kubesim" --region "bench=$port" --data "$work/data" --kubeconfig "$work/kubeconfig" --log-level warning \
    >"$work/kubesim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do
    grep -q "kubesim ready" "$work/kubesim.log" 2>/dev/null && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/kubesim.log" >&2; exit 1; }
    sleep 0.1
done
grep -q "kubesim ready" "$work/kubesim.log" || { echo "bench-client: kubesim did not start" >&2; exit 1; }
export KUBECONFIG="$work/kubeconfig"
kubectl_() { kubectl --cache-dir "$work/cache" "$@"; }

# One folder of N ConfigMap manifests per contender.
for set in sync kubectl batch; do
    mkdir -p "$work/$set"
    for i in $(seq 0 $((n - 1))); do
        cat >"$work/$set/cm-$(printf %05d "$i").yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: bench-$set-$i
  namespace: default
  labels: {app: bench, set: $set}
data:
  index: "$i"
  mesh: "reviews.bookinfo.svc.cluster.local"
YAML
    done
done
kubectl_ get namespace default -o name >/dev/null  # warm kubectl's discovery cache, as a user's would be

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

echo "== apply: $n ConfigMaps, server-side"
t0=$(now)
"$bin/syncbench" client apply --kubeconfig "$work/kubeconfig" --dir "$work/sync"
t1=$(now)
for f in "$work"/kubectl/*.yaml; do kubectl_ apply --server-side -f "$f" >/dev/null; done
t2=$(now)
kubectl_ apply --server-side -f "$work/batch" >/dev/null
t3=$(now)
sync_apply=$(elapsed "$t0" "$t1")
kubectl_apply=$(elapsed "$t1" "$t2")
batch_apply=$(elapsed "$t2" "$t3")

echo "== get: $n ConfigMaps"
t0=$(now)
"$bin/syncbench" client get --kubeconfig "$work/kubeconfig" --dir "$work/sync"
t1=$(now)
for i in $(seq 0 $((n - 1))); do kubectl_ get configmap "bench-sync-$i" -n default -o json >/dev/null; done
t2=$(now)
sync_get=$(elapsed "$t0" "$t1")
kubectl_get=$(elapsed "$t1" "$t2")

ratio() { python3 -c "print(f'{$1 / $2:.1f}')"; }
echo
echo "results for $n ConfigMaps against kubesim (HTTPS, one region), whole processes:"
printf '  %-44s %9s s\n' "syncbench client apply (1 process)" "$sync_apply"
printf '  %-44s %9s s   syncagent %sx faster\n' "kubectl apply --server-side -f FILE (x$n)" "$kubectl_apply" "$(ratio "$kubectl_apply" "$sync_apply")"
printf '  %-44s %9s s   syncagent %sx faster\n' "kubectl apply --server-side -f DIR (1 batch)" "$batch_apply" "$(ratio "$batch_apply" "$sync_apply")"
printf '  %-44s %9s s\n' "syncbench client get (1 process)" "$sync_get"
printf '  %-44s %9s s   syncagent %sx faster\n' "kubectl get configmap NAME (x$n)" "$kubectl_get" "$(ratio "$kubectl_get" "$sync_get")"
