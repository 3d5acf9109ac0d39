import Foundation
import SyncCore
import TestSupport
import Testing

/// A revision the clusters would refuse is found before the first write anywhere: kinds not served, objects the API
/// rejects, custom resources that do not fit their CRD, immutable fields, objects another tool created. The release
/// binary against two kubesim regions; kubesim's audit log is the witness that nothing was written.
@Suite(.serialized)
struct SyncPreflightTests {
    /// The mesh's CRD file without the PrometheusRule CRD (a cluster where the Prometheus Operator is not installed).
    static func withoutPrometheusRuleCRD(_ text: String) -> String {
        text.components(separatedBy: "\n---\n").filter { !$0.contains("prometheusrules.monitoring.coreos.com") }
            .joined(separator: "\n---\n")
    }

    static func writes(_ mesh: SyncMesh, after mark: Int) throws -> [String] {
        try mesh.audit().dropFirst(mark).filter(\.isStoredWrite).map { "\($0.region) \($0.verb) \($0.uri)" }
    }

    /// Applies a file of the clone with kubectl (client-side apply, as a team before syncagent did) in both regions.
    static func kubectlApply(_ mesh: SyncMesh, _ file: String) async throws {
        let text = try String(contentsOfFile: mesh.clone + "/mesh/" + file, encoding: .utf8)
        for region in SyncMesh.regionNames {
            _ = try await mesh.cluster.kubectlChecked(["apply", "-f", "-"], region: region, input: text)
        }
    }

    /// The issue's migration: Bookinfo and the Istio CRDs applied with kubectl, no PrometheusRule CRD anywhere.
    @Test func aTeamMigratingFromKubectlIsRefusedBeforeAnyWriteWithEveryObjectNamed() async throws {
        let mesh = try await SyncMesh()
        try mesh.commit("no Prometheus Operator CRD", file: "base/00-crds.yaml", Self.withoutPrometheusRuleCRD)
        for file in ["base/00-crds.yaml", "base/00-namespace.yaml", "base/10-bookinfo.yaml"] {
            try await Self.kubectlApply(mesh, file)
        }
        let mark = try mesh.auditMark()
        let refused = try await mesh.syncagent(["sync"])
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stdout.contains("refused before any apply; nothing was changed"), "\(refused.stdout)")
        for region in SyncMesh.regionNames {
            #expect(
                refused.stdout.contains(
                    "region \(region): mesh/base/50-alerts.yaml:2:1: monitoring.coreos.com/v1/PrometheusRule "
                        + "bookinfo/mesh-alerts: the cluster does not serve monitoring.coreos.com/v1 PrometheusRule"),
                "\(refused.stdout)")
            #expect(
                refused.stdout.contains(
                    "region \(region): mesh/base/10-bookinfo.yaml:25:1: apps/v1/Deployment bookinfo/details-v1: "
                        + "exists in the cluster (written by kubectl-client-side-apply) but syncagent did not create it"
                ),
                "\(refused.stdout)")
        }
        let written = try Self.writes(mesh, after: mark)
        #expect(written.isEmpty, "\(written)")

        // Adopting what kubectl created leaves only the unserved kind: still nothing applied.
        try SyncSafetyTests.reconfigure(mesh) { $0 + "sync: {adopt: true}\n" }
        let adopted = try await mesh.syncagent(["sync"])
        #expect(adopted.status == 2, "\(adopted.stdout)\(adopted.stderr)")
        #expect(!adopted.stdout.contains("did not create it"), "\(adopted.stdout)")
        #expect(adopted.stdout.contains("does not serve monitoring.coreos.com/v1 PrometheusRule"), "\(adopted.stdout)")
        #expect(try Self.writes(mesh, after: mark).isEmpty)

        // `diff` reports the unserved object as its own class and still compares everything else.
        let diff = try await mesh.syncagent(["diff", "-o", "json"])
        #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
        let report = try Value(json: diff.stdout)
        for region in report["regions"]?.arrayValue ?? [] {
            let classes = Dictionary(
                (region["resources"]?.arrayValue ?? []).map {
                    (
                        "\($0["kind"]?.stringValue ?? "")/\($0["name"]?.stringValue ?? "")",
                        $0["class"]?.stringValue ?? ""
                    )
                }, uniquingKeysWith: { first, _ in first })
            #expect(classes["PrometheusRule/mesh-alerts"] == "kind-not-served", "\(classes)")
            #expect(classes["Deployment/details-v1"] == "unmanaged-conflict", "\(classes)")
            #expect(classes["VirtualService/reviews"] == "missing-live", "\(classes)")
        }

        // With the Operator's CRD installed, the same revision syncs and takes the kubectl objects over.
        let crds = try SyncMesh.meshCRDs()
        for region in SyncMesh.regionNames {
            _ = try await mesh.cluster.kubectlChecked(["apply", "-f", "-"], region: region, input: crds)
        }
        // As on a real cluster, a new CRD's kind is served once it is Established, a moment after its create: until
        // then the sync refuses the kind (and the agent tries again). kubectl waits as an operator would.
        for region in SyncMesh.regionNames {
            _ = try await mesh.cluster.kubectlChecked(
                ["wait", "--for=condition=Established", "--timeout=60s", "crd/prometheusrules.monitoring.coreos.com"],
                region: region)
        }
        let synced = try await mesh.syncagent(["sync"])
        #expect(synced.status == 0, "\(synced.stdout)\(synced.stderr)")
    }

    /// One object the API refuses (422) and one custom resource that does not fit the CRD in the same revision:
    /// both listed, nothing written in either region.
    @Test func aRevisionTheAPIRefusesAppliesNothingAnywhereAndListsEveryRefusal() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        try mesh.commit("bad port, bad route", file: "base/70-broken.yaml") { _ in
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: harmless, namespace: bookinfo}
            data: {a: b}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: metrics, namespace: bookinfo}
            spec:
              selector: {app: metrics}
              ports: [{name: http, port: 70000}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: broken, namespace: bookinfo}
            spec: "not a mapping"

            """
        }
        let mark = try mesh.auditMark()
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status == 2, "\(sync.stdout)\(sync.stderr)")
        for region in SyncMesh.regionNames {
            #expect(
                sync.stdout.contains(
                    "region \(region): mesh/base/70-broken.yaml:6:1: v1/Service bookinfo/metrics: Invalid (422)"),
                "\(sync.stdout)")
            #expect(sync.stdout.contains("spec.ports[0].port: Invalid value: 70000"), "\(sync.stdout)")
            #expect(
                sync.stdout.contains(
                    "region \(region): mesh/base/70-broken.yaml:13:1: networking.istio.io/v1/VirtualService "
                        + "bookinfo/broken: spec: must be an object, found string"),
                "\(sync.stdout)")
        }
        let written = try Self.writes(mesh, after: mark)
        #expect(written.isEmpty, "\(written)")
        #expect(try await mesh.get("/api/v1/namespaces/bookinfo/configmaps/harmless", region: "us-sanjose-1") == nil)
    }

    /// A Deployment's selector cannot change: refused naming the field, unless the object asks to be recreated.
    @Test func anImmutableFieldIsRefusedUnlessTheObjectAsksToBeRecreated() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let before = try await mesh.deployment("details-v1", region: "us-sanjose-1")
        let selector = "    matchLabels:\n      app: details\n      version: v1\n"
        let labels = "      labels:\n        app: details\n        version: v1\n"
        try mesh.commit("details: new selector", file: "base/10-bookinfo.yaml") { text in
            text.replacingOccurrences(of: selector, with: selector + "      track: stable\n")
                .replacingOccurrences(of: labels, with: labels + "        track: stable\n")
        }
        let mark = try mesh.auditMark()
        let refused = try await mesh.syncagent(["sync"])
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(
            refused.stdout.contains(
                "apps/v1/Deployment bookinfo/details-v1: spec.selector cannot be changed on a live object"),
            "\(refused.stdout)")
        #expect(refused.stdout.contains(#"annotate it syncagent.io/recreate: "true""#), "\(refused.stdout)")
        #expect(try Self.writes(mesh, after: mark).isEmpty)

        try mesh.commit("details: recreate", file: "base/10-bookinfo.yaml") { text in
            text.replacingOccurrences(
                of: "  name: details-v1\n  namespace: bookinfo\n",
                with: "  name: details-v1\n  namespace: bookinfo\n  annotations: {syncagent.io/recreate: \"true\"}\n")
        }
        let recreated = try await mesh.syncagent(["sync"])
        #expect(recreated.status == 0, "\(recreated.stdout)\(recreated.stderr)")
        #expect(recreated.stdout.contains("apps/v1/Deployment bookinfo/details-v1 → recreated"), "\(recreated.stdout)")
        for region in SyncMesh.regionNames {
            let after = try await mesh.deployment("details-v1", region: region)
            #expect(after?[path: ["spec", "selector", "matchLabels", "track"]]?.stringValue == "stable", "\(region)")
            #expect(after?[path: ["metadata", "uid"]] != before?[path: ["metadata", "uid"]], "\(region)")
        }
    }

    /// An object another tool created is taken over only when it says so.
    @Test func anObjectSyncagentDidNotCreateIsAdoptedOnlyWithTheAnnotation() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let existing =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tuning, namespace: bookinfo}\ndata: {level: \"1\"}\n"
        _ = try await mesh.cluster.kubectlChecked(["apply", "-f", "-"], region: "us-chicago-1", input: existing)
        try mesh.commit("tuning", file: "base/60-tuning.yaml") { _ in
            existing.replacingOccurrences(of: "level: \"1\"", with: "level: \"2\"")
        }
        let mark = try mesh.auditMark()
        let refused = try await mesh.syncagent(["sync"])
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(
            refused.stdout.contains(
                "region us-chicago-1: mesh/base/60-tuning.yaml:1:1: v1/ConfigMap bookinfo/tuning: exists in the cluster"
            ),
            "\(refused.stdout)")
        #expect(!refused.stdout.contains("region us-sanjose-1: mesh/base/60-tuning.yaml"), "\(refused.stdout)")
        #expect(try Self.writes(mesh, after: mark).isEmpty)

        try mesh.commit("tuning: adopt", file: "base/60-tuning.yaml") { text in
            text.replacingOccurrences(
                of: "namespace: bookinfo}", with: "namespace: bookinfo, annotations: {syncagent.io/adopt: \"true\"}}")
        }
        let adopted = try await mesh.syncagent(["sync"])
        #expect(adopted.status == 0, "\(adopted.stdout)\(adopted.stderr)")
        let live = try await mesh.get("/api/v1/namespaces/bookinfo/configmaps/tuning", region: "us-chicago-1")
        #expect(live?[path: ["data", "level"]]?.stringValue == "2")
        let inventory = try await mesh.inventory(region: "us-chicago-1")
        #expect(
            inventory?.contains(ObjectKey(group: "", kind: "ConfigMap", namespace: "bookinfo", name: "tuning")) == true)
    }
}
