#!/bin/sh
# syncagent diff of 1,000 resources against two kubesim regions vs kubectl diff -f of the same 1,000 against one.
# Whole processes, release build. Prints both times and the ratio (target: syncagent >= 5x faster).
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product syncagent >/dev/null
swift build -c release --product kubesim >/dev/null
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d)
trap 'kill "$SIM" 2>/dev/null || true; rm -rf "$WORK"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$BIN/kubesim" --region "us-sanjose-1=$(port):$(port)" --region "us-chicago-1=$(port):$(port)" \
    --data "$WORK/data" --kubeconfig "$WORK/kubeconfig" >"$WORK/kubesim.log" 2>&1 &
SIM=$!
: >>"$WORK/kubesim.log"
for _ in $(seq 1 300); do grep -q "kubesim ready" "$WORK/kubesim.log" && break; sleep 0.1; done
export KUBECONFIG="$WORK/kubeconfig"
mkdir -p "$WORK/desired"
python3 - "$WORK/desired/objects.yaml" <<'PY'
import sys
docs = []
for i in range(500):
    docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: bench-{i}, namespace: default}}
data: {{key: value-{i}, other: "{i}"}}""")
    docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: bench-{i}, namespace: default, labels: {{app: bench-{i}}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: bench-{i}}}}}
  template:
    metadata: {{labels: {{app: bench-{i}}}}}
    spec:
      containers: [{{name: app, image: "nginx:1.27", ports: [{{containerPort: 80}}]}}]""")
open(sys.argv[1], "w").write("\n---\n".join(docs) + "\n")
PY
for region in us-sanjose-1 us-chicago-1; do
    kubectl --context "$region" apply --server-side --field-manager syncagent -f "$WORK/desired/objects.yaml" >/dev/null
done
# Both tools are timed against a settled cluster: wait (up to 60 s) until kubesim's controllers have finished the
# 1,000 rollouts, whose status writes would otherwise compete with whichever tool runs first.
for region in us-sanjose-1 us-chicago-1; do
    for _ in $(seq 1 600); do
        pending=$(kubectl --context "$region" get deployments -n default --no-headers | awk '$2 != "1/1"' | wc -l)
        test "$pending" = 0 && break
        sleep 0.1
    done
done
cat >"$WORK/syncagent.yaml" <<YAML
regions:
  - {name: us-sanjose-1, kubeconfig: $WORK/kubeconfig, context: us-sanjose-1}
  - {name: us-chicago-1, kubeconfig: $WORK/kubeconfig, context: us-chicago-1}
YAML
now() { python3 -c 'import time; print(time.time())'; }
t0=$(now)
"$BIN/syncagent" diff --config "$WORK/syncagent.yaml" --dir "$WORK/desired" -o json >"$WORK/syncagent.out" || test $? = 1
t1=$(now)
kubectl --context us-sanjose-1 diff --server-side --field-manager syncagent -f "$WORK/desired/objects.yaml" \
    >"$WORK/kubectl.out" || test $? = 1
t2=$(now)
python3 - "$t0" "$t1" "$t2" <<'PY'
import sys
t0, t1, t2 = map(float, sys.argv[1:])
s, k = t1 - t0, t2 - t1
print(f"syncagent diff, 1000 resources x 2 regions: {s:.2f} s")
print(f"kubectl diff -f, 1000 resources x 1 region: {k:.2f} s")
print(f"ratio (kubectl / syncagent): {k / s:.1f}x (target >= 5x)")
PY
