#!/usr/bin/env bash
# make demo: both local regions (kubesim), Debian's Prometheus scraping their mesh metrics, a config repository
# made from config/mesh, and the agent (`syncagent run`) keeping both regions equal to it:
#   1. both regions sync in order, each behind its readiness and metric gates;
#   2. a hand edit in us-chicago-1 shows up as drift, with who made it;
#   3. a commit that makes reviews-v3 fail 20 % of its requests fails the error-rate gate in us-sanjose-1, is
#      rolled back there, and never reaches us-chicago-1;
#   4. `git revert` of that commit syncs cleanly.
# It ends by itself, prints what happened, and leaves nothing running or behind.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.build/debug"
work="$(mktemp -d -t syncagent-demo.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${DEMO_KEEP:-}" ]; then echo "demo: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: runs COMMAND until it succeeds
    local deadline=$((SECONDS + $1)) what="$2"; shift 2
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS > deadline)); then echo "demo: timed out waiting for $what" >&2; tail -30 "$work/agent.log" >&2 || true; exit 1; fi
        sleep 0.5
    done
}
step() { echo; echo "== $*"; }

sanjose_api=$(free_port); chicago_api=$(free_port); sanjose_metrics=$(free_port); chicago_metrics=$(free_port)
prom_port=$(free_port); agent_port=$(free_port)

step "starting kubesim: us-sanjose-1 (https://127.0.0.1:$sanjose_api) and us-chicago-1 (https://127.0.0.1:$chicago_api)"
"$bin/kubesim" --region "us-sanjose-1=$sanjose_api:$sanjose_metrics" --region "us-chicago-1=$chicago_api:$chicago_metrics" \
    --data "$work/kubesim" --kubeconfig "$work/kubeconfig" --rollout-seconds 1 --log-level warning >"$work/kubesim.log" 2>&1 &
pids+=($!)
wait_for 60 "kubesim" grep -q "kubesim ready" "$work/kubesim.log"

step "starting Prometheus (http://127.0.0.1:$prom_port), scraping both regions' Istio metrics every second"
cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: mesh
    static_configs:
      - {targets: ['127.0.0.1:$sanjose_metrics'], labels: {region: us-sanjose-1}}
      - {targets: ['127.0.0.1:$chicago_metrics'], labels: {region: us-chicago-1}}
EOF
prometheus --config.file="$work/prometheus.yml" --web.listen-address="127.0.0.1:$prom_port" \
    --storage.tsdb.path="$work/prometheus" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_for 60 "prometheus" curl -sf "http://127.0.0.1:$prom_port/-/ready"

step "making the config repository (a bare origin, and a clone to commit in) from config/mesh"
git init -q --bare -b main "$work/origin.git"
git clone -q "$work/origin.git" "$work/clone" 2>/dev/null
cp -R "$root/config/mesh" "$work/clone/mesh"
# The real Istio CRDs (the shared corpus, a sibling of the repository) and the PrometheusRule CRD.
{ cat "$root/../shared/corpus/istio-crds/crd-all.gen.yaml"; echo "---"; cat "$root/config/crds/prometheus-operator-crds.yaml"; } \
    >"$work/clone/mesh/base/00-crds.yaml"
git_c() { git -C "$work/clone" -c user.name="Dana Developer" -c user.email=dana@example.invalid "$@"; }
git_c add -A
git_c commit -qm "Bookinfo mesh for two regions"
git_c push -q origin main
echo "   $(git_c log --oneline -1)"

sed -e "s|@ORIGIN@|file://$work/origin.git|" -e "s|@KUBECONFIG@|$work/kubeconfig|g" \
    -e "s|@PROMETHEUS@|http://127.0.0.1:$prom_port|" -e "s|@LISTEN@|127.0.0.1:$agent_port|" \
    -e "s|@CACHE@|$work/cache|" "$root/config/demo/syncagent.yaml" >"$work/syncagent.yaml"
syncagent() { "$bin/syncagent" "$@" --config "$work/syncagent.yaml"; }
region_result() {  # region_result REGION RESULT [REVISION]: the region's status says RESULT (at REVISION)
    { syncagent status -o json 2>/dev/null || true; } | python3 -c '
import json, sys
region, result, revision = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
for r in json.load(sys.stdin)["regions"]:
    if r["region"] == region:
        ok = r.get("lastResult") == result and (revision is None or r.get("lastRevision") == revision)
        sys.exit(0 if ok else 1)
sys.exit(1)' "$@"
}
annotation() {  # annotation REGION: reviews-v3's pod-template annotations, read straight from the API
    local port=$sanjose_api; [ "$1" = us-chicago-1 ] && port=$chicago_api
    curl -s --cacert "$work/kubesim/ca.crt" -H "Authorization: Bearer $(cat "$work/kubesim/regions/$1/token")" \
        "https://127.0.0.1:$port/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v3" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["template"]["metadata"].get("annotations") or "{}")'
}

step "starting the agent: syncagent run (polls every 2 s; gates: readiness, then error rate < 5 % and P99 < 1000 ms held for 8 s)"
"$bin/syncagent" run --config "$work/syncagent.yaml" --log-level "${DEMO_LOG_LEVEL:-info}" >"$work/agent.log" 2>&1 &
pids+=($!)
agent_pid=$!
first=$(git_c rev-parse HEAD)
wait_for 120 "both regions to sync" region_result us-chicago-1 synced "$first"
agent_lines() { grep -E "$1" "$work/agent.log" | grep -E "\[(SyncAgent|RolloutEngine)\]" | sed -E 's/^.*\[(SyncAgent|RolloutEngine)\] //; s/^/   /' | cut -c1-160; }
agent_lines "metric gate|gate passed|synced [0-9a-f]{7}"
syncagent status | sed 's/^/   /' | grep -v " gate t+" || true

step "a hand edit in us-chicago-1: someone scales reviews-v1 to 3 replicas with kubectl-edit"
curl -s -o /dev/null --cacert "$work/kubesim/ca.crt" -H "Authorization: Bearer $(cat "$work/kubesim/regions/us-chicago-1/token")" \
    -X PATCH -H "Content-Type: application/merge-patch+json" --data '{"spec":{"replicas":3}}' \
    "https://127.0.0.1:$chicago_api/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1?fieldManager=kubectl-edit"
echo "   syncagent drift:"
set +e
syncagent drift | sed 's/^/   /' | grep -v "^   *$" | head -8
set -e

step "a bad release: reviews-v3's pods now fail 20 % of requests (kubesim.io/error-rate: \"0.2\")"
python3 - "$work/clone/mesh/base/10-bookinfo.yaml" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
anchor = "        app: reviews\n        version: v3\n"
assert anchor in text
head, tail = text.rsplit("    metadata:\n      labels:\n" + anchor, 1)
text = head + "    metadata:\n      annotations:\n        kubesim.io/error-rate: \"0.2\"\n      labels:\n" + anchor + tail
open(path, "w").write(text)
EOF
git_c commit -qam "reviews-v3: new release"
git_c push -q origin main
bad=$(git_c rev-parse HEAD)
echo "   pushed $(git_c log --oneline -1)"
wait_for 120 "us-sanjose-1 to roll back" region_result us-sanjose-1 rolled-back
agent_lines "gate failed|rolling back|rolled back|not touched" | tail -4
echo "   reviews-v3 pod-template annotations: us-sanjose-1 $(annotation us-sanjose-1) (restored), us-chicago-1 $(annotation us-chicago-1) (never saw it)"

step "git revert of the bad commit: a new revision, synced like any other"
git_c revert --no-edit HEAD >/dev/null
git_c push -q origin main
good=$(git_c rev-parse HEAD)
echo "   pushed $(git_c log --oneline -1)"
wait_for 120 "both regions to sync the revert" region_result us-chicago-1 synced "$good"
syncagent status | sed 's/^/   /' | grep -v " gate t+" || true

step "stopping the agent (SIGTERM: it finishes its step and exits)"
kill -TERM "$agent_pid"
wait "$agent_pid" && echo "   agent exited 0"
echo
echo "What happened: $(git_c log --oneline -1 "$first" | cut -c1-60) synced to us-sanjose-1 then us-chicago-1 behind"
echo "their gates; a hand edit in us-chicago-1 was reported as drift with its author; ${bad:0:12} failed the"
echo "error-rate gate in us-sanjose-1, was rolled back there and never reached us-chicago-1; its revert ${good:0:12}"
echo "synced to both. Everything started here is stopped and removed."
