import Foundation
import SyncCore
import TestSupport

/// The example mesh (`config/mesh`) synced to two kubesim regions as syncagent would leave them: Istio and
/// PrometheusRule CRDs, each region's overlay applied server-side by field manager `syncagent`, an inventory
/// ConfigMap naming every object at the commit of a local Git repository, and a `syncagent.yaml` pointing at it.
final class DiffMesh: Sendable {
    static let regionNames = ["us-sanjose-1", "us-chicago-1"]
    let cluster: KubeSimCluster
    let work: TemporaryDirectory
    /// The commit the inventory records.
    let revision: String
    let syncagent = productPath("syncagent")

    var repoPath: String { work.path + "/repo" }
    /// The mesh folder inside the Git repository's work tree.
    var meshPath: String { repoPath + "/mesh" }
    var configPath: String { work.path + "/syncagent.yaml" }

    /// The minimal PrometheusRule CRD the mesh's alert rules need.
    static let prometheusRuleCRD = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: prometheusrules.monitoring.coreos.com}
        spec:
          group: monitoring.coreos.com
          scope: Namespaced
          names: {kind: PrometheusRule, listKind: PrometheusRuleList, plural: prometheusrules, singular: prometheusrule}
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema:
                  type: object
                  properties:
                    spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """

    init(configExtra: String = "") async throws {
        cluster = try await KubeSimCluster(regions: Self.regionNames)
        let work = try TemporaryDirectory(prefix: "diff-mesh")
        self.work = work
        let repoPath = work.path + "/repo"
        let meshPath = repoPath + "/mesh"
        try FileManager.default.createDirectory(atPath: repoPath, withIntermediateDirectories: true)
        try await runChecked(["cp", "-R", packageRoot.appendingPathComponent("config/mesh").path, meshPath])
        let git = ["git", "-C", repoPath, "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
        try await runChecked(["git", "init", "-q", "-b", "main", repoPath])
        try await runChecked(git + ["add", "-A"])
        try await runChecked(git + ["commit", "-qm", "mesh"])
        let revision = try await runChecked(["git", "-C", repoPath, "rev-parse", "HEAD"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        self.revision = revision
        var config = "repo: {url: \"file://\(repoPath)\", branch: main, path: mesh}\nregions:\n"
        for name in Self.regionNames {
            config += "  - {name: \(name), kubeconfig: \(cluster.kubeconfigPath), context: \(name)}\n"
        }
        try work.write("syncagent.yaml", config + configExtra)
        let cluster = self.cluster
        try await blocking { try Self.sync(cluster: cluster, meshPath: meshPath, revision: revision) }
    }

    private static func sync(cluster: KubeSimCluster, meshPath: String, revision: String) throws {
        let syncagent = productPath("syncagent")

        for region in regionNames {
            try cluster.kubectlChecked(
                ["apply", "--server-side", "-f", sharedRoot.path + "/corpus/istio-crds/crd-all.gen.yaml"],
                region: region)
            try cluster.kubectlChecked(["apply", "--server-side", "-f", "-"], region: region, input: prometheusRuleCRD)
            // As on a real cluster, a CRD's kind is served once it is established.
            try cluster.kubectlChecked(
                ["wait", "--for", "condition=established", "crd", "--all", "--timeout=60s"], region: region)
            let rendered = try runChecked([syncagent, "render", "--dir", meshPath, "--region", region, "-o", "json"])
            try cluster.kubectlChecked(
                ["apply", "--server-side", "--field-manager", "syncagent", "-f", "-"], region: region, input: rendered)
            let items = try Value(json: rendered)["items"]?.arrayValue ?? []
            let refs = try items.map { try Resource(body: $0).ref }
            try writeInventory(
                Inventory(revision: revision, time: "2025-01-01T00:00:00Z", objects: refs), cluster: cluster,
                region: region)
        }
    }

    /// Writes the region's inventory ConfigMap (creating its namespace) as the sync does.
    static func writeInventory(_ inventory: Inventory, cluster: KubeSimCluster, region: String) throws {
        let namespace: Value = [
            "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(Inventory.namespace)],
        ]
        try cluster.kubectlChecked(
            ["apply", "--server-side", "--field-manager", "syncagent", "-f", "-"], region: region,
            input: namespace.jsonString + "\n" + inventory.configMap.jsonString)
    }

    /// Adds an object to a region's inventory, as a sync that applied it would.
    func addToInventory(_ ref: ObjectRef, region: String) async throws {
        let cluster = cluster
        try await blocking {
            let saved = try Value(
                json: try cluster.kubectlChecked(
                    ["get", "configmap", Inventory.configMapName, "-n", Inventory.namespace, "-o", "json"],
                    region: region))
            var inventory = try Inventory(configMap: saved)
            inventory.objects.append(ref)
            try Self.writeInventory(inventory, cluster: cluster, region: region)
        }
    }

    /// Runs `syncagent ARGS --config <the test's config>` (off the cooperative pool).
    func syncagent(_ arguments: [String]) async throws -> ProcessOutput {
        let command = [syncagent] + arguments + ["--config", configPath]
        return try await blocking { try run(command) }
    }

    /// kubectl against a region that must succeed (off the cooperative pool); returns stdout.
    @discardableResult
    func kubectl(_ arguments: [String], region: String = "us-sanjose-1", input: String? = nil) async throws -> String {
        let cluster = cluster
        return try await blocking { try cluster.kubectlChecked(arguments, region: region, input: input) }
    }

    /// A copy of the mesh folder to edit (the extra / unmanaged cases).
    func meshCopy() throws -> String {
        let copy = work.path + "/copy-\(UUID().uuidString)"
        try runChecked(["cp", "-R", meshPath, copy])
        return copy
    }
}

extension Value {
    /// The resource of a `-o json` diff report's region with this kind and name.
    func resource(region: String, kind: String, name: String) -> Value? {
        let regions = self["regions"]?.arrayValue ?? []
        let found = regions.first { $0["region"]?.stringValue == region }
        return found?["resources"]?.arrayValue?.first {
            $0["kind"]?.stringValue == kind && $0["name"]?.stringValue == name
        }
    }

    /// A region's summary counts.
    func summary(region: String) -> Value? {
        (self["regions"]?.arrayValue ?? []).first { $0["region"]?.stringValue == region }?["summary"]
    }
}
