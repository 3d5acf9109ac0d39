#!/usr/bin/env python3
"""What keeping syncagent's own records costs a pass (issue 11), driven by scripts/bench-records.sh. Release
builds, loopback only.

Two kubesim regions, the example mesh (config/mesh, 30 objects), no metric gate. `syncagent sync -o json` reports,
per region, the writes of the inventory and status records and the time they took (RecordFence's account), beside
the pass's duration. Three kinds of pass: the first sync (30 creates), a pass that changes one ConfigMap, and a
pass that changes nothing. Each of the last two is the median of RUNS passes.
"""
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mesh_crds():
    """The example mesh's CRDs: Istio's real ones (the shared corpus, a sibling of the repository), then the
    PrometheusRule CRD."""
    istio = open(f"{ROOT}/../shared/corpus/istio-crds/crd-all.gen.yaml").read().strip("\n")
    return istio + "\n---\n" + open(f"{ROOT}/config/crds/prometheus-operator-crds.yaml").read()

RUNS = int(os.environ.get("RUNS", "5"))
REGIONS = ["us-sanjose-1", "us-chicago-1"]
work = tempfile.mkdtemp(prefix="bench-records.")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid", *args], cwd=cwd,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    spec = []
    for region in REGIONS:
        spec += ["--region", f"{region}={free_port()}:{free_port()}"]
    log = f"{work}/kubesim.log"
    sim = subprocess.Popen([f"{BIN}/kubesim", *spec, "--data", f"{work}/data", "--kubeconfig", f"{work}/kubeconfig",
                            "--rollout-seconds", "0.5", "--log-level", "warning"],
                           stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while "kubesim ready" not in open(log).read():
            if time.time() > deadline or sim.poll() is not None:
                raise SystemExit("bench-records: kubesim did not start:\n" + open(log).read())
            time.sleep(0.05)
        origin, clone = f"{work}/origin.git", f"{work}/clone"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", origin], check=True)
        subprocess.run(["git", "clone", "-q", origin, clone], check=True, stderr=subprocess.DEVNULL)
        shutil.copytree(f"{ROOT}/config/mesh", f"{clone}/mesh")
        open(f"{clone}/mesh/base/00-crds.yaml", "w").write(mesh_crds())

        def commit(generation):
            open(f"{clone}/mesh/base/60-bench.yaml", "w").write(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench, namespace: bookinfo}\n"
                f"data: {{generation: \"{generation}\"}}\n")
            git("add", "-A", cwd=clone)
            git("commit", "-qm", f"generation {generation}", cwd=clone)
            git("push", "-q", "origin", "main", cwd=clone)

        config = f"{work}/syncagent.yaml"
        regions = "".join(f"  - {{name: {r}, kubeconfig: {work}/kubeconfig, context: {r}}}\n" for r in REGIONS)
        open(config, "w").write(f"""repo: {{url: "file://{origin}", branch: main, path: mesh}}
regions:
{regions}gates: {{readinessTimeout: 10m}}
agent: {{cache: {work}/cache}}
""")

        def sync():
            out = subprocess.run([f"{BIN}/syncagent", "sync", "--config", config, "-o", "json"], capture_output=True,
                                 text=True)
            if out.returncode != 0:
                raise SystemExit(f"bench-records: sync exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
            return json.loads(out.stdout)["regions"]

        def row(name, passes):
            writes = [sum(r["records"]["writes"] for r in p) / len(p) for p in passes]
            record = [sum(r["records"]["seconds"] for r in p) / len(p) * 1000 for p in passes]
            total = [sum(r["durationSeconds"] for r in p) / len(p) * 1000 for p in passes]
            w, rec, tot = statistics.median(writes), statistics.median(record), statistics.median(total)
            share = 100 * rec / tot if tot else 0
            print(f"{name:<22} {w:>6.1f} {rec:>12.1f} {tot:>12.1f} {share:>7.1f} %")

        print(f"per region (mean of {len(REGIONS)}), median of {RUNS} passes where noted")
        print(f"{'pass':<22} {'writes':>6} {'records ms':>12} {'pass ms':>12} {'share':>9}")
        commit(0)
        row("first sync (30 new)", [sync()])
        changed, unchanged = [], []
        for generation in range(1, RUNS + 1):
            commit(generation)
            changed.append(sync())
            unchanged.append(sync())
        row("one object changed", changed)
        row("nothing changed", unchanged)
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(15)
        shutil.rmtree(work, ignore_errors=True)


main()
