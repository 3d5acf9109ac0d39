import Foundation
import SyncCore
import TestSupport

/// The example mesh as users keep it: a bare Git repository ("origin", file://) holding `config/mesh` plus the CRDs
/// it needs, a clone to commit in, two kubesim regions with an audit log, optionally Debian's Prometheus scraping
/// their mesh metrics, and a `syncagent.yaml` pointing at all of it. Nothing is synced yet.
final class SyncMesh: Sendable {
    static let regionNames = ["us-sanjose-1", "us-chicago-1"]
    let cluster: KubeSimCluster
    let work: TemporaryDirectory
    let prometheus: PrometheusServer?
    let syncagent = productPath("syncagent")
    /// The first commit (the mesh as in config/mesh).
    let initial: String

    var origin: String { work.path + "/origin.git" }
    var clone: String { work.path + "/clone" }
    var configPath: String { work.path + "/syncagent.yaml" }
    var auditPath: String { work.path + "/audit.jsonl" }
    var cachePath: String { work.path + "/cache" }

    /// The seed's two checks, per workload, over short windows, for region `{region}` (kubesim labels its metrics
    /// with `destination_cluster`).
    static let seedChecks = """
              - name: error-rate
                query: >-
                  max(sum by (destination_workload) (rate(istio_requests_total{destination_cluster="{region}",reporter="destination",response_code=~"5..",response_flags!="UH"}[10s]))
                  / sum by (destination_workload) (rate(istio_requests_total{destination_cluster="{region}",reporter="destination"}[10s])))
                threshold: 0.05
                valueWhenEmpty: 0
              - name: p99-latency
                query: >-
                  histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{destination_cluster="{region}",reporter="destination"}[10s])))
                threshold: 1000
                valueWhenEmpty: 0
        """

    /// The seed's gates held for a 6 s bake time, polled every second, against the test's Prometheus.
    static let seedGates = """
          readinessTimeout: 120s
          prometheus:
            url: @PROMETHEUS@
            bakeTime: 6s
            interval: 1s
            checks:

        """ + seedChecks + "\n"

    /// - Parameters:
    ///   - gates: the `gates:` block's body (indented by 2), `readinessTimeout: 120s` by default (far beyond any
    ///     rollout here, even on a loaded machine).
    ///   - withPrometheus: start Prometheus scraping both regions; `@PROMETHEUS@` in `gates` becomes its URL.
    ///   - extra: more top-level configuration (sync:, agent:).
    init(
        gates: String = "  readinessTimeout: 120s\n", withPrometheus: Bool = false, extra: String = "",
        pollInterval: String = "1s", rolloutSeconds: Double = 0.5
    ) async throws {
        let work = try TemporaryDirectory(prefix: "sync-mesh")
        self.work = work
        cluster = try await KubeSimCluster(
            regions: Self.regionNames, rolloutSeconds: rolloutSeconds,
            extraArguments: ["--audit-log", work.path + "/audit.jsonl"])
        if withPrometheus {
            prometheus = try await PrometheusServer(
                targets: cluster.regions.map { "127.0.0.1:\($0.metrics)" }, scrapeInterval: 1)
        } else {
            prometheus = nil
        }
        let origin = work.path + "/origin.git"
        let clone = work.path + "/clone"
        try await runChecked(["git", "init", "-q", "--bare", "-b", "main", origin])
        try await runChecked(["git", "clone", "-q", origin, clone])
        try await runChecked(["cp", "-R", packageRoot.appendingPathComponent("config/mesh").path, clone + "/mesh"])
        try Self.meshCRDs().write(toFile: clone + "/mesh/base/00-crds.yaml", atomically: true, encoding: .utf8)
        initial = try Self.commitAll(clone: clone, message: "Bookinfo mesh for two regions")
        var config =
            "repo: {url: \"file://\(origin)\", branch: main, path: mesh, pollInterval: \(pollInterval)}\nregions:\n"
        for name in Self.regionNames {
            config += "  - {name: \(name), kubeconfig: \(cluster.kubeconfigPath), context: \(name)}\n"
        }
        config += "gates:\n" + gates.replacingOccurrences(of: "@PROMETHEUS@", with: prometheus?.url ?? "")
        config += extra
        if !extra.contains("agent:") { config += "agent: {cache: \(work.path)/cache}\n" }
        try work.write("syncagent.yaml", config)
    }

    /// How many objects the mesh has in each region: Istio's 15 CRDs, the PrometheusRule CRD and the 26 objects of
    /// `config/mesh`.
    static let objectCount = 42

    /// The real Istio CRDs (the shared corpus's `istio-crds/crd-all.gen.yaml`), then the PrometheusRule CRD
    /// (`config/crds/prometheus-operator-crds.yaml`): the mesh's `base/00-crds.yaml`.
    static func meshCRDs() throws -> String {
        let istio = try String(
            contentsOfFile: sharedRoot.appendingPathComponent("corpus/istio-crds/crd-all.gen.yaml").path,
            encoding: .utf8)
        return istio.trimmingCharacters(in: .newlines) + "\n---\n" + (try prometheusOperatorCRDs())
    }

    /// The PrometheusRule CRD alone (`config/crds/prometheus-operator-crds.yaml`).
    static func prometheusOperatorCRDs() throws -> String {
        try String(
            contentsOfFile: packageRoot.appendingPathComponent("config/crds/prometheus-operator-crds.yaml").path,
            encoding: .utf8)
    }

    /// Commits everything in the clone and pushes it; returns the new head.
    @discardableResult
    static func commitAll(clone: String, message: String) throws -> String {
        let git = ["git", "-C", clone, "-c", "user.name=Dana Developer", "-c", "user.email=dana@example.invalid"]
        try runChecked(git + ["add", "-A"])
        try runChecked(git + ["commit", "-qm", message])
        try runChecked(git + ["push", "-q", "origin", "main"])
        return try runChecked(["git", "-C", clone, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Edits `file` (relative to the clone's `mesh/`) with `edit`, commits and pushes; returns the new head.
    @discardableResult
    func commit(_ message: String, file: String, _ edit: (String) throws -> String) throws -> String {
        try runChecked(["git", "-C", clone, "pull", "-q", "--ff-only", "origin", "main"])  // syncagent may have pushed
        let path = clone + "/mesh/" + file
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let changed = try edit(text)
        if changed.isEmpty {
            try FileManager.default.removeItem(atPath: path)
        } else {
            try changed.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return try Self.commitAll(clone: clone, message: message)
    }

    /// The mesh's Bookinfo file with reviews-v3's pod template changed by `change` (given its `metadata:` and
    /// `labels:` lines).
    static func editReviewsV3(_ text: String, annotations: String? = nil, image: String? = nil) throws -> String {
        var text = text
        let anchor = "    metadata:\n      labels:\n        app: reviews\n        version: v3\n"
        guard let range = text.range(of: anchor, options: .backwards) else {
            throw TestSupportError("reviews-v3's pod template not found in 10-bookinfo.yaml")
        }
        if let annotations {
            text.replaceSubrange(
                range,
                with:
                    "    metadata:\n      annotations:\n        \(annotations)\n      labels:\n        app: reviews\n        version: v3\n"
            )
        }
        if let image {
            let old = "docker.io/istio/examples-bookinfo-reviews-v3:1.20.3"
            guard text.contains(old) else { throw TestSupportError("reviews-v3's image not found") }
            text = text.replacingOccurrences(of: old, with: image)
        }
        return text
    }

    /// Runs `syncagent ARGS --config <the test's config>` (off the cooperative pool).
    func syncagent(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessOutput {
        let command = [syncagent] + arguments + ["--config", configPath]
        return try await blocking { try run(command, environment: environment) }
    }

    /// `syncagent status -o json`, per region.
    func status() async throws -> [String: Value] {
        let output = try await syncagent(["status", "-o", "json"])
        let report = try Value(json: output.stdout)
        var regions: [String: Value] = [:]
        for region in report["regions"]?.arrayValue ?? [] {
            if let name = region["region"]?.stringValue { regions[name] = region }
        }
        return regions
    }

    /// GET of an API path in a region, decoded; nil on 404.
    func get(_ path: String, region: String) async throws -> Value? {
        let cluster = cluster
        let (status, body) = try await blocking { try cluster.request("GET", path, region: region) }
        if status == 404 { return nil }
        guard status == 200 else { throw TestSupportError("GET \(path) in \(region): \(status) \(body)") }
        return try Value(json: body)
    }

    /// A Deployment in namespace bookinfo.
    func deployment(_ name: String, region: String) async throws -> Value? {
        try await get("/apis/apps/v1/namespaces/bookinfo/deployments/\(name)", region: region)
    }

    /// The region's inventory.
    func inventory(region: String) async throws -> Inventory? {
        try await get("/api/v1/namespaces/syncagent-system/configmaps/syncagent-inventory", region: region)
            .map { try Inventory(configMap: $0) }
    }

    /// Every request kubesim answered so far, in order (audit.k8s.io/v1 Events).
    func audit() throws -> [AuditEvent] {
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try AuditEvent(Value(json: String($0))) }
    }

    /// How many server-side applies by syncagent a region stored so far: a cheap count (no JSON parsing, off the
    /// cooperative pool) for waits that poll it.
    func storedApplies(region: String) async throws -> Int {
        let path = auditPath
        return try await blocking {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { line in
                line.contains("\"kubesim.io/region\":\"\(region)\"") && line.contains("fieldManager=syncagent")
                    && line.contains("\"verb\":\"patch\"") && !line.contains("dryRun=All")
            }.count
        }
    }

    /// The number of events logged so far (a mark to read what comes after).
    func auditMark() throws -> Int { try audit().count }
}

/// One audit event: what a test needs of it.
struct AuditEvent: Sendable {
    var region: String
    var verb: String
    var uri: String
    var resource: String
    var namespace: String
    var name: String
    var code: Int
    var userAgent: String

    init(_ event: Value) {
        userAgent = event["userAgent"]?.stringValue ?? ""
        region = event[path: ["annotations", "kubesim.io/region"]]?.stringValue ?? ""
        verb = event["verb"]?.stringValue ?? ""
        uri = event["requestURI"]?.stringValue ?? ""
        resource = event[path: ["objectRef", "resource"]]?.stringValue ?? ""
        namespace = event[path: ["objectRef", "namespace"]]?.stringValue ?? ""
        name = event[path: ["objectRef", "name"]]?.stringValue ?? ""
        code = Int(event[path: ["responseStatus", "code"]]?.intValue ?? 0)
    }

    /// A change that was stored: a write that was not a dry run and succeeded.
    var isStoredWrite: Bool {
        ["create", "update", "patch", "delete"].contains(verb) && !uri.contains("dryRun=All") && code < 300
    }

    /// A server-side apply by syncagent that was stored.
    var isSyncagentApply: Bool { isStoredWrite && verb == "patch" && uri.contains("fieldManager=syncagent") }
}
