import Foundation
import SyncCore
import TestSupport
import Testing

/// `syncagent sync`, `status` and `rollback` end to end: the built binary, two kubesim regions (their audit log is
/// the witness of what was sent, and in which order), a bare Git repository, Debian's Prometheus where a metric
/// gate is tested.
// Serialized: each test runs two kubesim regions and whole rollouts; run side by side they load a 2-core machine
// enough to push unrelated timing bounds over.
@Suite(.serialized)
struct SyncCommandTests {
    @Test func syncsThePrimaryFirstInDependencyOrderThenTheSecondaryAndResendsNothingUnchanged() async throws {
        let mesh = try await SyncMesh()
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("us-sanjose-1  synced        \(SyncMesh.objectCount) created"), "\(sync.stdout)")
        #expect(sync.stdout.contains("us-chicago-1  synced        \(SyncMesh.objectCount) created"), "\(sync.stdout)")

        let applies = try mesh.audit().filter(\.isSyncagentApply)
        let objects = applies.filter { $0.resource != "configmaps" || $0.namespace != "syncagent-system" }
        // Region order: every stored apply in us-sanjose-1 comes before the first one in us-chicago-1.
        let lastSanJose = try #require(objects.lastIndex { $0.region == "us-sanjose-1" })
        let firstChicago = try #require(objects.firstIndex { $0.region == "us-chicago-1" })
        #expect(lastSanJose < firstChicago)
        // Dependency order inside each region.
        for region in SyncMesh.regionNames {
            let kinds = objects.filter { $0.region == region }.map(\.resource)
            #expect(kinds.count == SyncMesh.objectCount, "\(kinds)")
            let order = [
                "namespaces", "customresourcedefinitions", "serviceaccounts", "services", "deployments",
                "destinationrules", "gateways", "virtualservices", "prometheusrules",
            ]
            let positions = kinds.map { kind in order.firstIndex(of: kind) ?? -1 }
            #expect(!positions.contains(-1), "\(kinds)")
            #expect(positions == positions.sorted(), "applied out of order: \(kinds)")
        }
        // Make-before-break: the workloads were ready before the first route was applied.
        let events = try mesh.audit()
        let firstDestinationRule = try #require(
            events.firstIndex { $0.region == "us-sanjose-1" && $0.resource == "destinationrules" && $0.isStoredWrite })
        let readReviews = events[..<firstDestinationRule].contains {
            $0.region == "us-sanjose-1" && $0.verb == "get" && $0.name == "reviews-v3" && $0.resource == "deployments"
        }
        #expect(readReviews)

        // A second pass changes nothing: no stored write but the inventory's, and no gate run.
        let mark = try mesh.auditMark()
        let again = try await mesh.syncagent(["sync"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(
            again.stdout.contains("us-sanjose-1  unchanged     \(SyncMesh.objectCount) unchanged"), "\(again.stdout)")
        let writes = try mesh.audit().dropFirst(mark).filter(\.isStoredWrite)
        #expect(writes.isEmpty, "\(writes.map(\.uri))")

        let status = try await mesh.status()
        for region in SyncMesh.regionNames {
            #expect(status[region]?["lastResult"]?.stringValue == "synced")
            #expect(status[region]?["syncedRevision"]?.stringValue == mesh.initial)
            #expect(status[region]?["lastGoodRevision"]?.stringValue == mesh.initial)
            #expect(status[region]?["drifted"]?.intValue == 0)
            #expect(status[region]?["objects"]?.intValue == Int64(SyncMesh.objectCount))
        }
        // status reads as diff does, the settled ledger's proofs included: an object written since its proof (a
        // hand edit in one region) is read whole and counted; the objects proved are not.
        _ = try await mesh.cluster.kubectlChecked(
            ["label", "deployment", "ratings-v1", "-n", "bookinfo", "version=v9", "--overwrite"],
            region: "us-chicago-1")
        let edited = try await mesh.status()
        #expect(edited["us-chicago-1"]?["drifted"]?.intValue == 1, "\(edited)")
        #expect(edited["us-sanjose-1"]?["drifted"]?.intValue == 0, "\(edited)")
    }

    @Test func aReadinessTimeoutStopsAtThePrimaryAndRollsItBack() async throws {
        let mesh = try await SyncMesh(gates: "  readinessTimeout: 120s\n")
        #expect(try await mesh.syncagent(["sync"]).status == 0)
        let before = try #require(try await mesh.deployment("reviews-v3", region: "us-chicago-1"))
        let bad = try mesh.commit("reviews-v3: broken image", file: "base/10-bookinfo.yaml") {
            try SyncMesh.editReviewsV3($0, image: "docker.io/istio/examples-bookinfo-reviews-v3:1.20.3-broken")
        }
        let mark = try mesh.auditMark()
        let sync = try await mesh.syncagent(["sync", "-o", "json"])
        #expect(sync.status == 1, "\(sync.stdout)\(sync.stderr)")
        let report = try Value(json: sync.stdout)
        let regions = report["regions"]?.arrayValue ?? []
        #expect(regions.map { $0["result"]?.stringValue } == ["rolled-back", "not-reached"], "\(sync.stdout)")
        let message = regions.first?["message"]?.stringValue ?? ""
        #expect(message.contains("apps/v1/Deployment bookinfo/reviews-v3"), "\(message)")
        #expect(message.contains("ProgressDeadlineExceeded"), "\(message)")
        // The region's time covers its readiness wait (the broken rollout's deadline) and its rollback; its record
        // writes are counted: applying, the inventory before the first apply, failed, rolled-back.
        var seconds = 0.0
        if case .double(let value)? = regions.first?["durationSeconds"] { seconds = value }
        #expect(seconds >= 1, "\(sync.stdout)")
        #expect((regions.first?[path: ["records", "writes"]]?.intValue ?? 0) >= 3, "\(sync.stdout)")

        // us-sanjose-1 runs the good image again; us-chicago-1 never got a request that changes anything.
        let restored = try #require(try await mesh.deployment("reviews-v3", region: "us-sanjose-1"))
        let image = restored[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["image"]
        #expect(image?.stringValue == "docker.io/istio/examples-bookinfo-reviews-v3:1.20.3")
        let chicagoWrites = try mesh.audit().dropFirst(mark).filter { $0.region == "us-chicago-1" && $0.isStoredWrite }
        #expect(chicagoWrites.isEmpty, "\(chicagoWrites.map(\.uri))")
        let after = try #require(try await mesh.deployment("reviews-v3", region: "us-chicago-1"))
        #expect(after[path: ["metadata", "generation"]] == before[path: ["metadata", "generation"]])

        let status = try await mesh.status()
        #expect(status["us-sanjose-1"]?["lastResult"]?.stringValue == "rolled-back")
        #expect(status["us-sanjose-1"]?["failedRevision"]?.stringValue == bad)
        #expect(status["us-sanjose-1"]?["syncedRevision"]?.stringValue == mesh.initial)
        #expect(status["us-chicago-1"]?["lastResult"]?.stringValue == "synced")
        #expect(status["us-chicago-1"]?["syncedRevision"]?.stringValue == mesh.initial)
    }

    @Test func aFailedMetricGateRollsThePrimaryBackAndTheSecondaryNeverSeesTheRevision() async throws {
        let gates = SyncMesh.seedGates
        let mesh = try await SyncMesh(gates: gates, withPrometheus: true)
        let first = try await mesh.syncagent(["sync"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("us-sanjose-1: gate passed: all checks held for 6s"), "\(first.stdout)")

        let bad = try mesh.commit("reviews-v3: new release", file: "base/10-bookinfo.yaml") {
            try SyncMesh.editReviewsV3($0, annotations: "kubesim.io/error-rate: \"0.2\"")
        }
        let mark = try mesh.auditMark()
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 1, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("us-sanjose-1: gate failed: check error-rate"), "\(sync.stdout)")
        #expect(sync.stdout.contains("us-sanjose-1  rolled-back"), "\(sync.stdout)")
        #expect(sync.stdout.contains("us-chicago-1  not-reached"), "\(sync.stdout)")
        let chicagoWrites = try mesh.audit().dropFirst(mark).filter { $0.region == "us-chicago-1" && $0.isStoredWrite }
        #expect(chicagoWrites.isEmpty, "\(chicagoWrites.map(\.uri))")
        for region in SyncMesh.regionNames {
            let live = try #require(try await mesh.deployment("reviews-v3", region: region))
            #expect(
                live[path: ["spec", "template", "metadata", "annotations", "kubesim.io/error-rate"]] == nil, "\(region)"
            )
        }
        // The status keeps every value the gate saw, the failing one last.
        let status = try await mesh.status()
        let observations = status["us-sanjose-1"]?[path: ["gate", "observations"]]?.arrayValue ?? []
        #expect(observations.last?["check"]?.stringValue == "error-rate")
        #expect(observations.last?["held"]?.boolValue == false)
        #expect((observations.last?["value"].flatMap(Self.number) ?? 0) >= 0.05)
        #expect(status["us-sanjose-1"]?["failedRevision"]?.stringValue == bad)

        // The failed revision is not retried until the branch moves: a revert is a new revision and syncs.
        let revert = try await mesh.syncagent(["rollback"])
        #expect(revert.status == 0, "\(revert.stdout)\(revert.stderr)")
        let fixed = try await mesh.syncagent(["sync"])
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        let head = try await runChecked(["git", "--git-dir", mesh.origin, "rev-parse", "main"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let synced = try await mesh.status()
        for region in SyncMesh.regionNames {
            #expect(synced[region]?["syncedRevision"]?.stringValue == head, "\(region)")
            #expect(synced[region]?["lastResult"]?.stringValue == "synced", "\(region)")
        }
    }

    @Test func prometheusUnreachableFailsTheGateClosedUnlessToldToPass() async throws {
        let closed = try freePort()
        let gates = """
              readinessTimeout: 120s
              prometheus:
                url: http://127.0.0.1:\(closed)
                bakeTime: 0s
                requestTimeout: 2s
                checks:
                  - {name: error-rate, query: "sum(rate(istio_requests_total[1m]))", threshold: 0.05}

            """
        let mesh = try await SyncMesh(gates: gates)
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 1, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("us-sanjose-1: gate failed"), "\(sync.stdout)")
        #expect(sync.stdout.contains("us-chicago-1  not-reached"), "\(sync.stdout)")
        // First sync ever: nothing earlier to restore, so the region is reported as failed and left as it is.
        #expect(sync.stdout.contains("no earlier good revision"), "\(sync.stdout)")

        let open = gates.replacingOccurrences(
            of: "requestTimeout: 2s", with: "requestTimeout: 2s\n    onUnreachable: pass")
        try mesh.work.write(
            "syncagent.yaml",
            try String(contentsOfFile: mesh.configPath, encoding: .utf8)
                .replacingOccurrences(of: gates, with: open))
        let passing = try await mesh.syncagent(["sync", "--force"])
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
    }

    @Test func aSecondRegionThatIsDownIsReportedAndRetriedNeverHalfApplied() async throws {
        let mesh = try await SyncMesh()
        try await mesh.cluster.metricsRequest("POST", "/faults/down", region: "us-chicago-1")
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 3, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("us-sanjose-1  synced"), "\(sync.stdout)")
        #expect(sync.stdout.contains("us-chicago-1  unavailable"), "\(sync.stdout)")
        #expect(!sync.stdout.contains("rolled-back"), "\(sync.stdout)")
        let chicagoWrites = try mesh.audit().filter { $0.region == "us-chicago-1" && $0.isStoredWrite }
        #expect(chicagoWrites.isEmpty)

        try await mesh.cluster.metricsRequest("POST", "/faults/up", region: "us-chicago-1")
        let retry = try await mesh.syncagent(["sync"])
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
        #expect(retry.stdout.contains("us-sanjose-1  unchanged"), "\(retry.stdout)")
        #expect(retry.stdout.contains("us-chicago-1  synced        \(SyncMesh.objectCount) created"), "\(retry.stdout)")
    }

    @Test func pruneDeletesOnlyInventoryObjectsAndNeverProtectedOnes() async throws {
        let mesh = try await SyncMesh()
        try mesh.commit("feature flags", file: "base/60-flags.yaml") { _ in
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: feature-flags, namespace: bookinfo}
            data: {newReviews: "false"}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: keep-me
              namespace: bookinfo
              annotations: {syncagent.io/prune: disabled}
            data: {a: b}
            """
        }
        #expect(try await mesh.syncagent(["sync"]).status == 0)
        // Someone else's object in the same namespace.
        let handMade = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hand-made","namespace":"bookinfo"}}"#
        let created = try await mesh.cluster.request("POST", "/api/v1/namespaces/bookinfo/configmaps", body: handMade)
        #expect(created.status == 201, "\(created.body)")

        try mesh.commit("drop the flags and the ratings route", file: "base/60-flags.yaml") { _ in "" }
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("1 pruned, 1 skipped"), "\(sync.stdout)")
        for region in SyncMesh.regionNames {
            let path = "/api/v1/namespaces/bookinfo/configmaps/"
            #expect(try await mesh.get(path + "feature-flags", region: region) == nil, "\(region)")
            #expect(try await mesh.get(path + "keep-me", region: region) != nil, "\(region)")
            let inventory = try #require(try await mesh.inventory(region: region))
            #expect(!inventory.objects.contains { $0.name == "feature-flags" || $0.name == "keep-me" })
            #expect(inventory.objects.count == SyncMesh.objectCount)
        }
        #expect(try await mesh.get("/api/v1/namespaces/bookinfo/configmaps/hand-made", region: "us-sanjose-1") != nil)
    }

    @Test func rollingBackByGitPrunesWhatTheRevertedCommitAdded() async throws {
        let mesh = try await SyncMesh()
        #expect(try await mesh.syncagent(["sync"]).status == 0)
        try mesh.commit("add a canary route config", file: "base/60-canary.yaml") { _ in
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: canary, namespace: bookinfo}\ndata: {weight: \"5\"}\n"
        }
        try mesh.commit("reviews-v1: 2 replicas", file: "base/10-bookinfo.yaml") {
            $0.replacingOccurrences(
                of:
                    "name: reviews-v1\n  namespace: bookinfo\n  labels:\n    app: reviews\n    version: v1\nspec:\n  replicas: 1",
                with:
                    "name: reviews-v1\n  namespace: bookinfo\n  labels:\n    app: reviews\n    version: v1\nspec:\n  replicas: 2"
            )
        }
        #expect(try await mesh.syncagent(["sync"]).status == 0)
        #expect(try await mesh.get("/api/v1/namespaces/bookinfo/configmaps/canary", region: "us-chicago-1") != nil)

        // Back to the first commit in one step: a commit of its tree, pushed over file://.
        let rollback = try await mesh.syncagent(["rollback", "--to", mesh.initial])
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        #expect(rollback.stdout.contains("Roll back to \"Bookinfo mesh for two regions\""), "\(rollback.stdout)")
        #expect(rollback.stdout.contains("pushed"), "\(rollback.stdout)")
        let head = try await runChecked(["git", "--git-dir", mesh.origin, "rev-parse", "main"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        await #expect(try runChecked(["git", "--git-dir", mesh.origin, "diff", mesh.initial, head, "--stat"]).isEmpty)

        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        for region in SyncMesh.regionNames {
            #expect(try await mesh.get("/api/v1/namespaces/bookinfo/configmaps/canary", region: region) == nil)
            let reviews = try #require(try await mesh.deployment("reviews-v1", region: region))
            #expect(reviews[path: ["spec", "replicas"]]?.intValue == 1)
            #expect(try await mesh.inventory(region: region)?.revision == head)
        }

        // --no-push writes the commit and prints the command that publishes it.
        try mesh.commit("touch", file: "base/60-note.yaml") { _ in
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: note, namespace: bookinfo}\n"
        }
        let local = try await mesh.syncagent(["rollback", "--no-push"])
        #expect(local.status == 1, "\(local.stdout)\(local.stderr)")
        #expect(local.stdout.contains("git --git-dir"), "\(local.stdout)")
    }

    @Test func anInvalidRevisionAppliesNothingAnywhereAndNamesEveryProblem() async throws {
        // With allowedNamespaces set, the mesh's CRDs (cluster-scoped) pass only when allowedKinds names them.
        let mesh = try await SyncMesh(
            extra:
                "sync: {allowedNamespaces: [bookinfo], allowedKinds: [apiextensions.k8s.io/CustomResourceDefinition, "
                + "Namespace, ServiceAccount, Service, ConfigMap, apps/Deployment, \"networking.istio.io/*\", "
                + "monitoring.coreos.com/PrometheusRule]}\n")
        let first = try await mesh.syncagent(["sync"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        try mesh.commit("two mistakes", file: "base/60-bad.yaml") { _ in
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"
        }
        try mesh.commit("an object outside the allowed namespaces", file: "base/61-other.yaml") { _ in
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: kube-system}\n"
        }
        let mark = try mesh.auditMark()
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 2, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("refused before any apply; nothing was changed"), "\(sync.stdout)")
        #expect(sync.stdout.contains("mesh/base/60-bad.yaml:5:3"), "\(sync.stdout)")
        let writes = try mesh.audit().dropFirst(mark).filter(\.isStoredWrite)
        #expect(writes.isEmpty, "\(writes.map(\.uri))")

        try mesh.commit("fix the YAML", file: "base/60-bad.yaml") { _ in "" }
        let policy = try await mesh.syncagent(["sync"])
        #expect(policy.status == 2, "\(policy.stdout)\(policy.stderr)")
        #expect(
            policy.stdout.contains(
                "mesh/base/61-other.yaml:1:1: v1/ConfigMap kube-system/x: namespace kube-system is not in "
                    + "sync.allowedNamespaces"), "\(policy.stdout)")
        #expect(try mesh.audit().dropFirst(mark).filter(\.isStoredWrite).isEmpty)
    }

    @Test func aDryRunPredictsEveryChangeAndStoresNothing() async throws {
        let mesh = try await SyncMesh()
        #expect(try await mesh.syncagent(["sync"]).status == 0)
        try mesh.commit("reviews-v3: annotate", file: "base/10-bookinfo.yaml") {
            try SyncMesh.editReviewsV3($0, annotations: "team: reviews")
        }
        let mark = try mesh.auditMark()
        let dry = try await mesh.syncagent(["sync", "--dry-run", "--region", "us-chicago-1"])
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(
            dry.stdout.contains("us-chicago-1:   would be apps/v1/Deployment bookinfo/reviews-v3 configured"),
            "\(dry.stdout)")
        #expect(dry.stdout.contains("would be v1/Service bookinfo/details unchanged"), "\(dry.stdout)")
        #expect(!dry.stdout.contains("us-sanjose-1"), "\(dry.stdout)")
        #expect(try mesh.audit().dropFirst(mark).filter(\.isStoredWrite).isEmpty)
    }

    @Test func readOnlyCredentialsCanDiffClientSideButNeverSync() async throws {
        let mesh = try await SyncMesh()
        #expect(try await mesh.syncagent(["sync"]).status == 0)
        // The same regions through kubesim's read-only user (every write, dry runs included, is 403 Forbidden).
        let viewer = try String(contentsOfFile: mesh.configPath, encoding: .utf8)
            .replacingOccurrences(of: "context: us-sanjose-1}", with: "context: us-sanjose-1-viewer}")
            .replacingOccurrences(of: "context: us-chicago-1}", with: "context: us-chicago-1-viewer}")
        try mesh.work.write("viewer.yaml", viewer)
        let config = mesh.work.path + "/viewer.yaml"
        let inSync = try await run([mesh.syncagent, "diff", "--read-only", "--config", config])
        #expect(inSync.status == 0, "\(inSync.stdout)\(inSync.stderr)")
        try mesh.commit("reviews-v3: annotate", file: "base/10-bookinfo.yaml") {
            try SyncMesh.editReviewsV3($0, annotations: "team: reviews")
        }
        let readOnly = try await run([mesh.syncagent, "diff", "--read-only", "--config", config])
        #expect(readOnly.status == 1, "\(readOnly.stdout)\(readOnly.stderr)")
        #expect(readOnly.stdout.contains("modified apps/v1/Deployment bookinfo/reviews-v3"), "\(readOnly.stdout)")
        // Server-side mode needs a dry-run apply for the changed object, which the read-only user may not send.
        let serverSide = try await run([mesh.syncagent, "diff", "--config", config])
        #expect(serverSide.status == 2)
        #expect(serverSide.stderr.contains(#"User "kubesim-viewer" cannot patch resource"#), "\(serverSide.stderr)")
        let mark = try mesh.auditMark()
        // The preflight's dry run is refused (403) before the first write: nothing applied, exit 2.
        let sync = try await run([mesh.syncagent, "sync", "--config", config])
        #expect(sync.status == 2, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("refused before any apply"), "\(sync.stdout)")
        #expect(sync.stdout.contains(#"User "kubesim-viewer" cannot patch resource"#), "\(sync.stdout)")
        #expect(try mesh.audit().dropFirst(mark).filter(\.isStoredWrite).isEmpty)
    }

    @Test func aLocalFolderSyncsWithoutGitAndStatusSaysSo() async throws {
        let mesh = try await SyncMesh()
        let sync = try await mesh.syncagent(["sync", "--dir", mesh.clone + "/mesh", "--region", "us-chicago-1"])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("us-chicago-1  synced        \(SyncMesh.objectCount) created"), "\(sync.stdout)")
        #expect(!sync.stdout.contains("us-sanjose-1  "), "\(sync.stdout)")
        let status = try await mesh.status()
        #expect(status["us-chicago-1"]?["lastResult"] == "synced")
        #expect(status["us-chicago-1"]?["syncedRevision"]?.stringValue?.hasPrefix("local-") == true)
        #expect(status["us-chicago-1"]?["error"] == nil, "\(status)")
        #expect(status["us-sanjose-1"]?["lastResult"] == nil)  // never synced
        // A folder is no rollback target: none is recorded, so reading the record back warns of nothing.
        #expect(status["us-chicago-1"]?["lastGoodRevision"] == nil, "\(status)")
        let again = try await mesh.syncagent(["sync", "--dir", mesh.clone + "/mesh", "--region", "us-chicago-1"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(!again.stderr.contains("commit id"), "\(again.stderr)")
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .double(let number): return number
        case .int(let number): return Double(number)
        default: return nil
        }
    }
}
