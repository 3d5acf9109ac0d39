#!/usr/bin/env bash
# make demo: turns config/mesh into a Git repository and renders what each region receives, read through libgit2
# from the commit (no work tree). It ends by itself and leaves nothing running or behind.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
syncagent="$root/.build/debug/syncagent"
work="$(mktemp -d -t syncagent-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "== making a config repository from config/mesh"
git init -q -b main "$work/repo"
cp -R "$root/config/mesh" "$work/repo/mesh"
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=demo -c user.email=demo@example.invalid commit -qm "Bookinfo mesh for two regions"
echo "   $(git -C "$work/repo" log --oneline -1)"

for region in us-sanjose-1 us-chicago-1; do
    echo
    echo "== $region: syncagent render --repo file://$work/repo --path mesh --region $region"
    "$syncagent" render --repo "file://$work/repo" --path mesh --region "$region" --cache "$work/cache" -o json \
        | python3 -c '
import json, sys, collections
items = json.load(sys.stdin)["items"]
kinds = collections.Counter(i["kind"] for i in items)
print("   %d resources: %s" % (len(items), ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items()))))
for i in items:
    if i["kind"] == "DestinationRule" and i["metadata"]["name"] == "reviews":
        d = i["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["distribute"][0]
        print("   reviews locality from %s: %s" % (d["from"], d["to"]))
'
done

echo
echo "== a broken manifest stops everything (exit code 2, every problem named)"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n' > "$work/repo/mesh/base/broken.yaml"
set +e
"$syncagent" render --dir "$work/repo/mesh" --region us-sanjose-1 2>"$work/err" >/dev/null
status=$?
sed 's/^/   /' "$work/err"
echo "   exit code $status"
set -e
