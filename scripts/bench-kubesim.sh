#!/usr/bin/env bash
# Requests per second kubesim serves on one core: GET of a Deployment, and server-side apply of a Deployment.
# kubesim is pinned to CPU 0 (taskset); the load generator (wrk, Debian's package) runs on CPU 1.
# Usage: scripts/bench-kubesim.sh [seconds=10] [connections=8]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-8}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 2; }
swift build -c release --product kubesim >/dev/null
BIN=$(swift build -c release --show-bin-path)/kubesim
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 0 "$BIN" --region bench=$PORT --data "$WORK/data" --kubeconfig "$WORK/kubeconfig" --log-level warning >"$WORK/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do grep -q "kubesim ready" "$WORK/log" && break; sleep 0.1; done
TOKEN=$(cat "$WORK/data/regions/bench/token")
URL="https://127.0.0.1:$PORT/apis/apps/v1/namespaces/default/deployments/web"
BODY='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}],"env":[{"name":"MODE","value":"prod"}]}]}}}}'
curl -sS -o /dev/null --cacert "$WORK/data/ca.crt" -H "Authorization: Bearer $TOKEN" -X PATCH \
  -H "Content-Type: application/apply-patch+yaml" --data-binary "$BODY" "$URL?fieldManager=bench"
cat >"$WORK/apply.lua" <<LUA
wrk.method = "PATCH"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/apply-patch+yaml"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
# Alternating replicas 2/3: every request changes the object (journal write, generation bump).
cat >"$WORK/change.lua" <<LUA
local bodies = { '$BODY', string.gsub('$BODY', '"replicas":2', '"replicas":3') }
local n = 0
request = function()
  n = n + 1
  return wrk.format("PATCH", nil, { ["Content-Type"] = "application/apply-patch+yaml", ["Authorization"] = "Bearer $TOKEN" }, bodies[n % 2 + 1])
end
LUA
cat >"$WORK/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
rps() { awk '/Requests\/sec/ {print $2}'; }
GET=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$WORK/get.lua" "$URL" | rps)
APPLY=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$WORK/apply.lua" "$URL?fieldManager=bench&fieldValidation=Strict" | rps)
CHANGE=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$WORK/change.lua" "$URL?fieldManager=bench&fieldValidation=Strict" | rps)
echo "kubesim on 1 core, ${CONNECTIONS} keep-alive TLS connections, ${SECONDS_PER_RUN}s each:"
echo "  GET deployment:                 $GET req/s"
echo "  server-side apply, unchanged:   $APPLY req/s"
echo "  server-side apply, changing:    $CHANGE req/s"
