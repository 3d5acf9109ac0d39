#!/usr/bin/env python3
"""Benchmark for the region-ordered sync (issue 6), driven by scripts/bench-sync.sh. Release builds, loopback only.

1. Time from a pushed commit to both regions synced, for the example mesh (config/mesh, 30 objects) and for
   1,000 resources (500 ConfigMaps + 500 Deployments), with bake times zero (readiness gate only):
   - syncagent run, woken by a signed webhook, and by its poll (interval 1 s);
   - kubectl apply --server-side --prune (an ApplySet, KUBECTL_APPLYSET=true), region by region in a loop, kubectl
     reading the same rendered objects (syncagent render per region); for the mesh each region is followed by
     `kubectl wait --for=condition=Available` on its Deployments (the readiness syncagent gates on); for 1,000
     resources the loop is apply only (kubectl wait takes minutes there), a lower bound that favours kubectl.
   Each is the median of RUNS commits that change one object (and, for "initial", the first sync of everything).
2. The agent's resident memory at rest (VmRSS) with 1,000 and 5,000 resources per region.
"""
import hashlib, hmac, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mesh_crds():
    """The example mesh's CRDs: Istio's real ones (the shared corpus, a sibling of the repository), then the
    PrometheusRule CRD."""
    istio = open(f"{ROOT}/../shared/corpus/istio-crds/crd-all.gen.yaml").read().strip("\n")
    return istio + "\n---\n" + open(f"{ROOT}/config/crds/prometheus-operator-crds.yaml").read()

RUNS = int(os.environ.get("RUNS", "3"))
REGIONS = ["us-sanjose-1", "us-chicago-1"]
work = tempfile.mkdtemp(prefix="bench-sync.")
children = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(args, log):
    process = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    children.append(process)
    return process


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(what, condition, timeout=600, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise SystemExit(f"bench-sync: timed out waiting for {what}")


def kubesim(name):
    folder = f"{work}/{name}"
    spec = []
    for region in REGIONS:
        spec += ["--region", f"{region}={free_port()}:{free_port()}"]
    log = f"{folder}.log"
    os.makedirs(folder)
    process = start([f"{BIN}/kubesim", *spec, "--data", f"{folder}/data", "--kubeconfig", f"{folder}/kubeconfig",
                     "--rollout-seconds", "0.5", "--log-level", "warning"], log)
    wait_for("kubesim", lambda: "kubesim ready" in open(log).read(), 60)
    return process, f"{folder}/kubeconfig"


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid", *args], cwd=cwd,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def head(cwd):
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def bulk_manifest(count, generation=0):
    docs = []
    for i in range(count // 2):
        docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: bench-{i}, namespace: bench, labels: {{app.kubernetes.io/part-of: bench}}}}
data: {{key: value-{i}, generation: "{generation if i == 0 else 0}"}}""")
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: bench-{i}, namespace: bench, labels: {{app: bench-{i}, app.kubernetes.io/part-of: bench}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: bench-{i}}}}}
  template:
    metadata: {{labels: {{app: bench-{i}}}}}
    spec:
      containers: [{{name: app, image: "nginx:1.27", ports: [{{containerPort: 80}}]}}]""")
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n"
    return namespace + "---\n" + "\n---\n".join(docs) + "\n"


class Scenario:
    """One desired set: how to write it into a folder, and how to change one object of it."""

    def __init__(self, name, count):
        self.name, self.count = name, count

    def write(self, folder, generation):
        mesh = f"{folder}/mesh"
        if self.count == 0:  # the example mesh
            if not os.path.exists(mesh):
                shutil.copytree(f"{ROOT}/config/mesh", mesh)
                open(f"{mesh}/base/00-crds.yaml", "w").write(mesh_crds())
            path = f"{mesh}/base/60-bench.yaml"
            open(path, "w").write(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench, namespace: bookinfo}\n"
                f"data: {{generation: \"{generation}\"}}\n")
        else:
            os.makedirs(f"{mesh}/base", exist_ok=True)
            open(f"{mesh}/base/bulk.yaml", "w").write(bulk_manifest(self.count, generation))

    def kubectl_files(self, folder):
        """What kubectl applies: the rendered files per region (syncagent render), so both tools apply the same."""
        return f"{folder}/mesh"


def agent_config(path, origin, kubeconfig, listen, poll, secret, drift="1h"):
    regions = "".join(f"  - {{name: {r}, kubeconfig: {kubeconfig}, context: {r}}}\n" for r in REGIONS)
    open(path, "w").write(f"""repo: {{url: "file://{origin}", branch: main, path: mesh, pollInterval: {poll}}}
regions:
{regions}gates: {{readinessTimeout: 10m}}
agent: {{listen: "{listen}", webhookSecretFile: {secret}, driftInterval: {drift}, cache: {work}/cache-{os.path.basename(path)}}}
""")


def metrics(port):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def synced(port, sha):
    text = metrics(port)
    return all(f'syncagent_region_revision_info{{region="{r}",revision="{sha}"}} 1' in text for r in REGIONS)


def webhook(port, secret, sha):
    body = json.dumps({"ref": "refs/heads/main", "after": sha}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/hooks/git", data=body, method="POST", headers={
        "X-GitHub-Event": "push", "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=5).status == 202


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_syncagent(scenario, mode):
    """Median seconds from push to both regions synced, over RUNS one-object commits; and the initial sync."""
    sim, kubeconfig = kubesim(f"sim-{scenario.name}-{mode}")
    origin, clone = f"{work}/{scenario.name}-{mode}.git", f"{work}/{scenario.name}-{mode}-clone"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", origin], check=True)
    subprocess.run(["git", "clone", "-q", origin, clone], check=True, stderr=subprocess.DEVNULL)
    scenario.write(clone, 0)
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "initial", cwd=clone)
    secret = "bench-secret"
    open(f"{work}/secret", "w").write(secret)
    port = free_port()
    config = f"{work}/{scenario.name}-{mode}.yaml"
    agent_config(config, origin, kubeconfig, f"127.0.0.1:{port}", "1s" if mode == "poll" else "1h", f"{work}/secret")
    agent = start([f"{BIN}/syncagent", "run", "--config", config, "--log-level", "warning"], f"{config}.log")
    wait_for("the agent", lambda: metrics(port) is not None, 60)
    times = []
    for generation in range(0, RUNS + 1):
        if generation > 0:
            scenario.write(clone, generation)
            git("commit", "-qam", f"change {generation}", cwd=clone)
        started = time.time()
        git("push", "-q", "origin", "main", cwd=clone)
        sha = head(clone)
        if mode == "webhook":
            webhook(port, secret, sha)
        wait_for(f"{sha} in both regions", lambda: synced(port, sha), 900)
        times.append(time.time() - started)
    stop(agent)
    stop(sim)
    return times[0], statistics.median(times[1:])


def measure_kubectl(scenario):
    """The same commits applied with kubectl, region by region, each region waited on before the next."""
    sim, kubeconfig = kubesim(f"sim-{scenario.name}-kubectl")
    folder = f"{work}/{scenario.name}-kubectl"
    os.makedirs(folder)
    env = dict(os.environ, KUBECONFIG=kubeconfig)
    times = []
    for generation in range(0, RUNS + 1):
        scenario.write(folder, generation)
        started = time.time()
        for region in REGIONS:
            rendered = subprocess.run([f"{BIN}/syncagent", "render", "--dir", f"{folder}/mesh", "--region", region,
                                       "-o", "yaml"], check=True, capture_output=True, text=True).stdout
            path = f"{folder}/{region}.yaml"
            open(path, "w").write(rendered)
            base = ["kubectl", "--context", region, "--cache-dir", f"{folder}/cache"]
            namespace = "bookinfo" if scenario.count == 0 else "bench"
            # kubectl prunes server-side applied objects only through an ApplySet, whose parent lives in the
            # namespace, so the namespace comes first; so do the CRDs (kubectl cannot apply a kind it has not seen).
            first = f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n"
            subprocess.run(base + ["apply", "--server-side", "-f", "-"], input=first, text=True, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            if scenario.count == 0:
                subprocess.run(base + ["apply", "--server-side", "-f", "-"], input=mesh_crds(), text=True,
                               env=env, check=True, stdout=subprocess.DEVNULL)
                subprocess.run(base + ["wait", "--for=condition=Established", "crd", "--all", "--timeout=600s"],
                               env=env, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(base + ["apply", "--server-side", "--force-conflicts", "--prune", "--applyset=bench-set",
                                   "-n", namespace, "-f", path], env=dict(env, KUBECTL_APPLYSET="true"), check=True,
                           stdout=subprocess.DEVNULL)
            if scenario.count <= 100:
                # (For 1,000 resources kubectl wait takes minutes per region against kubesim, so the loop there is
                # apply only: a lower bound for kubectl, which favours it.)
                subprocess.run(base + ["wait", "--for=condition=Available", "deployment", "--all", "-n", namespace,
                                       "--timeout=600s"], env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.time() - started)
    stop(sim)
    return times[0], statistics.median(times[1:])


def measure_rss(count):
    sim, kubeconfig = kubesim(f"sim-rss-{count}")
    origin, clone = f"{work}/rss-{count}.git", f"{work}/rss-{count}-clone"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", origin], check=True)
    subprocess.run(["git", "clone", "-q", origin, clone], check=True, stderr=subprocess.DEVNULL)
    Scenario("bulk", count).write(clone, 0)
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "initial", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    sha = head(clone)
    open(f"{work}/secret", "w").write("x")
    port = free_port()
    config = f"{work}/rss-{count}.yaml"
    agent_config(config, origin, kubeconfig, f"127.0.0.1:{port}", "2s", f"{work}/secret", drift="3s")
    agent = start([f"{BIN}/syncagent", "run", "--config", config, "--log-level", "warning"], f"{config}.log")
    wait_for(f"{count} resources synced", lambda: synced(port, sha), 1800, 0.5)
    time.sleep(8)  # at rest: a few polls and at least two drift checks of every resource have run
    rss = rss_kib(agent.pid)
    stop(agent)
    stop(sim)
    return rss


def main():
    rows = []
    for scenario in [Scenario("mesh", 0), Scenario("bulk-1000", 1000)]:
        webhook_initial, webhook_change = measure_syncagent(scenario, "webhook")
        poll_initial, poll_change = measure_syncagent(scenario, "poll")
        kubectl_initial, kubectl_change = measure_kubectl(scenario)
        rows.append((scenario.name, webhook_initial, webhook_change, poll_initial, poll_change, kubectl_initial,
                     kubectl_change))
        print(f"  measured {scenario.name}: webhook {webhook_change:.2f} s, poll {poll_change:.2f} s, "
              f"kubectl {kubectl_change:.2f} s (initial {webhook_initial:.2f} / {poll_initial:.2f} / {kubectl_initial:.2f} s)",
              flush=True)
    print(f"push -> both regions synced (bake time 0, readiness gate on; median of {RUNS} one-object commits):")
    print(f"{'set':<11} {'syncagent webhook':>18} {'syncagent poll 1s':>18} {'kubectl loop':>13}   ratio kubectl/webhook")
    for name, wi, wc, pi, pc, ki, kc in rows:
        print(f"{name:<11} {'change':>7} {wc:9.2f} s  {pc:14.2f} s  {kc:10.2f} s   {kc / wc:5.1f}x")
        print(f"{'':<11} {'initial':>7} {wi:9.2f} s  {pi:14.2f} s  {ki:10.2f} s   {ki / wi:5.1f}x")
    for count in [1000, 5000]:
        print(f"agent RSS at rest, {count} resources per region x 2 regions: {measure_rss(count) / 1024:.1f} MiB")


try:
    main()
finally:
    for child in children:
        stop(child)
    shutil.rmtree(work, ignore_errors=True)
