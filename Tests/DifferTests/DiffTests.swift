import Differ
import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// Classes, attribution, masking and the stable text of results.
@Suite struct DiffTests {
    static func object(_ yaml: String) throws -> Value { try YAML.loadValue(yaml) }

    static let vsDesired = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: bookinfo}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 70
            - destination: {host: reviews, subset: v2}
              weight: 30
        """

    static let vsLive = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
          namespace: bookinfo
          resourceVersion: "42"
          managedFields:
          - {manager: syncagent, operation: Apply, apiVersion: networking.istio.io/v1, time: "2025-01-01T09:00:00Z",
             fieldsType: FieldsV1, fieldsV1: {"f:spec": {"f:hosts": {}, "f:http": {}}}}
          - {manager: kubectl-edit, operation: Update, apiVersion: networking.istio.io/v1, time: "2025-01-01T10:00:00Z",
             fieldsType: FieldsV1, fieldsV1: {"f:spec": {"f:http": {}}}}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 40
            - destination: {host: reviews, subset: v2}
              weight: 60
        status: {}
        """

    @Test func weightChangedByAnotherManagerIsAttributed() throws {
        let desired = try Resource(body: Self.object(Self.vsDesired))
        let result = diff(desired: desired, live: try Self.object(Self.vsLive), options: DiffOptions(mode: .clientSide))
        #expect(result.drift == .modified)
        let change = try #require(result.changes.last)
        #expect(change.pathString == ".spec.http[0].route[1].weight")
        #expect(change.manager == "kubectl-edit")
        #expect(
            change.attribution == "kubectl-edit changed .spec.http[0].route[1].weight 30 → 60 at 2025-01-01T10:00:00Z")
        try assertGolden("vs-weight", result.description)
    }

    @Test func ignoreRulesByPathAndManager() throws {
        let desired = try Resource(body: Self.object(Self.vsDesired))
        let byPath = try IgnoreRule(kind: "VirtualService", paths: [".spec.http[*].route"])
        let byManager = try IgnoreRule(managedFieldsManagers: ["kubectl-edit"])
        for rule in [byPath, byManager] {
            let result = diff(
                desired: desired, live: try Self.object(Self.vsLive),
                options: DiffOptions(mode: .clientSide, ignore: [rule]))
            #expect(result.drift == .inSync)
        }
        #expect(throws: IgnoreRuleError.self) { try IgnoreRule(paths: ["spec.x"]) }
    }

    @Test func classesFollowTheInventory() throws {
        let desired = try Resource(body: Self.object(Self.vsDesired))
        var live = try Self.object(Self.vsLive)
        live["metadata"]?["managedFields"] = nil
        // No inventory and no syncagent manager: someone else's object.
        #expect(diff(desired: desired, live: live).drift == .unmanagedConflict)
        #expect(diff(desired: desired, live: nil).drift == .missingLive)
        let extra: Value = [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "old", "namespace": "bookinfo"],
        ]
        let inventory = Inventory(
            revision: "abc", time: "", objects: [desired.ref, try Resource(body: extra).ref])
        let region = diff(
            region: "r", desired: [desired], live: [live, extra], options: DiffOptions(mode: .clientSide),
            ownership: Ownership(inventory: inventory))
        #expect(region.resources.map(\.drift) == [.extra, .modified])
        // Not in the inventory: unmanaged, even if present live.
        let other = diff(
            region: "r", desired: [desired], live: [live],
            ownership: Ownership(inventory: Inventory(revision: "a", time: "", objects: [])))
        #expect(other.resources.map(\.drift) == [.unmanagedConflict])
    }

    @Test func secretValuesAreMaskedEverywhere() throws {
        let desired = try Resource(
            body: Self.object(
                """
                apiVersion: v1
                kind: Secret
                metadata: {name: db, namespace: bookinfo}
                stringData: {password: hunter2, user: admin}
                """))
        let live = try Self.object(
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              namespace: bookinfo
              managedFields: [{manager: syncagent, operation: Apply, fieldsType: FieldsV1, fieldsV1: {"f:data": {"f:password": {}, "f:user": {}}}}]
            type: Opaque
            data: {password: c2VjcmV0, user: YWRtaW4=}
            """)
        let result = diff(desired: desired, live: live, options: DiffOptions(mode: .clientSide))
        #expect(result.drift == .modified)
        #expect(result.changes.map(\.pathString) == [".data.password"])
        let report = DiffReport(regions: [RegionDiff(region: "r", resources: [result])])
        for text in [report.text, report.json.jsonString, result.description] {
            #expect(!text.contains("hunter2") && !text.contains("c2VjcmV0") && !text.contains("aHVudGVyMg"))
            #expect(text.contains("password"))
        }
        try assertGolden("secret-masked", report.text)
    }

    @Test func defaultsNeverShow() throws {
        let desired = try Resource(
            body: Self.object(
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
                """))
        var live = desired.body
        live["metadata"]?["managedFields"] = [["manager": "syncagent", "operation": "Apply", "fieldsV1": [:]]]
        var spec = live["spec"] ?? .emptyObject
        spec["replicas"] = 3  // an HPA's, not in the manifest
        spec["revisionHistoryLimit"] = 10
        live["spec"] = spec
        live["status"] = ["replicas": 3]
        let result = diff(desired: desired, live: live, options: DiffOptions(mode: .clientSide))
        #expect(result.drift == .inSync, "\(result)")
    }
}

/// Compares text with `Fixtures/golden/<name>.txt`; `RECORD_SNAPSHOTS=1` re-records it.
func assertGolden(_ name: String, _ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let url = packageRoot.appendingPathComponent("Tests/DifferTests/Fixtures/golden/\(name).txt")
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"
        || !FileManager.default.fileExists(atPath: url.path)
    {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(
        text == expected, "golden \(name) differs; RECORD_SNAPSHOTS=1 re-records it", sourceLocation: sourceLocation)
}
