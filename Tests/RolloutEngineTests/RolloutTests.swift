import Differ
import Foundation
import Logging
import RolloutEngine
import SyncCore
import TestSupport
import Testing

/// The rollout engine in process (no syncagent binary): two kubesim regions over HTTPS, a snapshot built in memory.
@Suite
struct RolloutTests {
    static func revision(_ n: Int) -> Revision {
        let who = Signature(name: "Dana Developer", email: "dana@example.invalid", time: Date())
        let sha = String(repeating: String(n % 10), count: 40)
        return Revision(sha: sha, author: who, committer: who, message: "revision \(n)", parents: [])
    }

    static func snapshot(_ n: Int, _ files: [String: String]) -> Snapshot {
        Snapshot(
            revision: revision(n), files: files.map { ManifestFile(path: "mesh/" + $0.key, text: $0.value) },
            root: "mesh")
    }

    static let namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
    static func settings(_ mode: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: \(mode)}\n"
    }

    static func config(_ cluster: KubeSimCluster) -> RolloutConfig {
        RolloutConfig(
            regions: cluster.regions.map {
                RegionTarget(
                    name: $0.name, kubeconfig: cluster.kubeconfigPath, context: $0.name,
                    gates: RegionGates(readinessTimeout: .seconds(120)))
            })
    }

    @Test func aRevisionGoesRegionByRegionAndEachRecordSaysSynced() async throws {
        let cluster = try await KubeSimCluster()
        let rollout = Rollout(config: Self.config(cluster), logger: Logger(label: "test"))
        let refuse: SnapshotLoader = { sha in throw TestSupportError("no snapshot \(sha)") }
        let first = await rollout.sync(
            Self.snapshot(1, ["ns.yaml": Self.namespace, "cm.yaml": Self.settings("blue")]), loadSnapshot: refuse)
        #expect(first.exitCode == 0, "\(first.text)")
        #expect(first.regions.map(\.region) == ["us-sanjose-1", "us-chicago-1"])
        #expect(first.regions.allSatisfy { $0.records.writes == 4 }, "applying, inventory twice, synced")

        // A bare Namespace (only its name) applies no field, so the server keeps no managedFields entry for it, and at the next apply records the fields it defaulted under `before-first-apply` (kube-apiserver's skip-non-applied manager): that apply changes the object once.
        let settle = await rollout.sync(
            Self.snapshot(1, ["ns.yaml": Self.namespace, "cm.yaml": Self.settings("blue")]), loadSnapshot: refuse)
        #expect(settle.exitCode == 0, "\(settle.text)")
        // The same revision again: nothing changed, nothing written.
        let again = await rollout.sync(
            Self.snapshot(1, ["ns.yaml": Self.namespace, "cm.yaml": Self.settings("blue")]), loadSnapshot: refuse)
        #expect(again.regions.map(\.result) == [.unchanged, .unchanged], "\(again.text)")
        #expect(again.regions.allSatisfy { $0.records.writes == 0 })

        for region in ["us-sanjose-1", "us-chicago-1"] {
            let (status, body) = try await blocking {
                try cluster.request(
                    "GET", "/api/v1/namespaces/syncagent-system/configmaps/syncagent-status", region: region)
            }
            #expect(status == 200)
            let data = try Value(json: body)["data"]
            #expect(data?["result"]?.stringValue == "synced")
            #expect(data?["lastGoodRevision"]?.stringValue == Self.revision(1).sha)
        }
    }

    @Test func aRevisionOneClusterRefusesIsNotWrittenAnywhere() async throws {
        let cluster = try await KubeSimCluster()
        let rollout = Rollout(config: Self.config(cluster), logger: Logger(label: "test"))
        let refuse: SnapshotLoader = { sha in throw TestSupportError("no snapshot \(sha)") }
        let unserved = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n"
        let report = await rollout.sync(
            Self.snapshot(2, ["ns.yaml": Self.namespace, "cm.yaml": Self.settings("blue"), "w.yaml": unserved]),
            loadSnapshot: refuse)
        #expect(report.exitCode == 2)
        #expect(report.regions.isEmpty)
        #expect(
            report.invalid == [
                "region us-sanjose-1: mesh/w.yaml:1:1: example.com/v1/Widget shop/w: the cluster does not serve "
                    + "example.com/v1 Widget, and no CustomResourceDefinition in the revision defines it (install its "
                    + "CRD first, or add the CRD to the revision)",
                "region us-chicago-1: mesh/w.yaml:1:1: example.com/v1/Widget shop/w: the cluster does not serve "
                    + "example.com/v1 Widget, and no CustomResourceDefinition in the revision defines it (install its "
                    + "CRD first, or add the CRD to the revision)",
            ])
        for region in ["us-sanjose-1", "us-chicago-1"] {
            let (status, _) = try await blocking {
                try cluster.request("GET", "/api/v1/namespaces/shop", region: region)
            }
            #expect(status == 404, "nothing was created in \(region)")
        }
    }
}
