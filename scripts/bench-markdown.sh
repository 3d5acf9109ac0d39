#!/bin/sh
# Size of `syncagent diff -o markdown` (the pull-request preview) for 1,000 resources — Deployments, Services,
# ConfigMaps, DestinationRules and VirtualServices in 10 namespaces — of which 20 Deployments were edited by hand
# (replicas and image, by `kubectl-edit`). Offline (`--dir` against `--live`), release build.
# Usage: scripts/bench-markdown.sh [N=1000] [CHANGES=20]
set -eu
cd "$(dirname "$0")/.."
N=${1:-1000}
CHANGES=${2:-20}
swift build -c release --product syncagent >/dev/null
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/desired"
python3 - "$WORK" "$N" "$CHANGES" <<'PY'
import json, sys
work, n, changes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kinds = ["Deployment", "Service", "ConfigMap", "DestinationRule", "VirtualService"]
desired, live = [], []
def managed(api, fields, manager="syncagent", op="Apply", time="2026-12-01T10:00:00Z"):
    return {"manager": manager, "operation": op, "apiVersion": api, "time": time, "fieldsType": "FieldsV1",
            "fieldsV1": fields}
edited = 0
for i in range(n):
    kind, ns, name = kinds[i % 5], f"team-{i % 10}", f"svc-{i // 5}"
    meta = {"name": name, "namespace": ns, "labels": {"app": name}}
    if kind == "Deployment":
        obj = {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": {"replicas": 2,
               "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}},
               "spec": {"containers": [{"name": "app", "image": f"registry.example/{name}:1.0.{i}",
               "ports": [{"containerPort": 8080}]}]}}}}
    elif kind == "Service":
        obj = {"apiVersion": "v1", "kind": kind, "metadata": meta,
               "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    elif kind == "ConfigMap":
        obj = {"apiVersion": "v1", "kind": kind, "metadata": meta, "data": {"LOG_LEVEL": "info", "FEATURE": str(i)}}
    elif kind == "DestinationRule":
        obj = {"apiVersion": "networking.istio.io/v1", "kind": kind, "metadata": meta, "spec": {
               "host": f"{name}.{ns}.svc.cluster.local", "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 100}},
               "outlierDetection": {"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s"}},
               "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}}
    else:
        obj = {"apiVersion": "networking.istio.io/v1", "kind": kind, "metadata": meta, "spec": {"hosts": [name],
               "http": [{"route": [{"destination": {"host": name, "subset": "v1"}, "weight": 80},
               {"destination": {"host": name, "subset": "v2"}, "weight": 20}], "timeout": "10s",
               "retries": {"attempts": 3, "perTryTimeout": "2s"}}]}}
    desired.append(obj)
    copy = json.loads(json.dumps(obj))
    entries = [managed(obj["apiVersion"], {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {}, "f:data": {}})]
    if kind == "Deployment" and edited < changes:
        edited += 1
        copy["spec"]["replicas"] = 5
        copy["spec"]["template"]["spec"]["containers"][0]["image"] += "-hotfix"
        entries.append(managed("apps/v1", {"f:spec": {"f:replicas": {}}}, "kubectl-edit", "Update", "2026-12-02T03:14:00Z"))
    copy["metadata"]["managedFields"] = entries
    live.append(copy)
open(f"{work}/desired/objects.yaml", "w").write("---\n".join(json.dumps(d) + "\n" for d in desired))
open(f"{work}/live.json", "w").write(json.dumps({"apiVersion": "v1", "kind": "List", "items": live}))
PY
set +e
"$BIN/syncagent" diff --dir "$WORK/desired" --live "$WORK/live.json" -o markdown >"$WORK/preview.md"
STATUS=$?
set -e
[ "$STATUS" = 1 ] || { echo "expected exit 1 (differences), got $STATUS" >&2; exit 1; }
BYTES=$(wc -c <"$WORK/preview.md")
SECTIONS=$(grep -c '^<details>' "$WORK/preview.md")
echo "diff -o markdown, $N resources, $CHANGES edited: $BYTES bytes, $SECTIONS sections (limit 60000)"
