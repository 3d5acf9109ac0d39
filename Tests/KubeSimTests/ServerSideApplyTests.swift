import Foundation
import SyncCore
import Testing
import TestSupport

/// Server-side apply as the real server does it (structured-merge-diff), with kubectl as the client: removing list
/// items, maps compared by content, manager identities, managedFields times and where new list items go.
@Suite
struct ServerSideApplyTests {
    static func deployment(containers: String, nodeSelector: String = "") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: default
        spec:
          replicas: 1
          selector:
            matchLabels:
              app: web
              tier: front
          template:
            metadata:
              labels:
                app: web
                tier: front
            spec:
        \(nodeSelector)      containers:
        \(containers)
        """
    }

    static let appAndSidecar = """
              - name: app
                image: nginx:1.27
                env:
                - name: A
                  value: "1"
                - name: B
                  value: "2"
                ports:
                - containerPort: 80
                - containerPort: 9090
              - name: sidecar
                image: envoy:1.30
        """

    static let appOnly = """
              - name: app
                image: nginx:1.27
                env:
                - name: A
                  value: "1"
                ports:
                - containerPort: 80
        """

    func get(_ sim: KubeSimCluster, _ kind: String, _ name: String) async throws -> Value {
        try Value(json: try await sim.kubectlChecked(["get", kind, name, "-o", "json", "--show-managed-fields"]))
    }

    /// Waits for the Deployment's rollout to finish, so that its status (and resourceVersion) stops moving.
    func settled(_ sim: KubeSimCluster) async throws {
        try await sim.kubectlChecked(["rollout", "status", "deployment/web", "--timeout=20s"])
    }

    @Test func applyWithoutAContainerEnvOrPortRemovesExactlyThose() async throws {
        let sim = try await KubeSimCluster()
        try await sim.kubectlChecked(
            ["apply", "--server-side", "-f", "-"], input: Self.deployment(containers: Self.appAndSidecar))
        let removed = try await sim.kubectl(
            ["apply", "--server-side", "-f", "-"], input: Self.deployment(containers: Self.appOnly))
        #expect(removed.status == 0, "\(removed.stderr)")
        let object = try await get(sim, "deployment", "web")
        let containers = object[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
        #expect(containers.map { $0["name"] } == ["app"])
        #expect(containers.first?["env"] == [["name": "A", "value": "1"]])
        #expect(containers.first?["ports"]?.arrayValue?.map { $0["containerPort"] } == [80])
        let fields = object[path: ["metadata", "managedFields"]]?.arrayValue?.first { $0["manager"] == "kubectl" }
        let spec = fields?[path: ["fieldsV1", "f:spec", "f:template", "f:spec", "f:containers"]]
        #expect(spec?[#"k:{"name":"sidecar"}"#] == nil && spec?[#"k:{"name":"app"}"#] != nil)

        let service = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: default
            spec:
              selector:
                app: web
              ports:
              - name: http
                port: 80
                targetPort: 8080
            """
        let twoPorts = service + "\n  - name: admin\n    port: 9090\n"
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: twoPorts)
        let onePort = try await sim.kubectl(["apply", "--server-side", "-f", "-"], input: service)
        #expect(onePort.status == 0, "\(onePort.stderr)")
        let svc = try await get(sim, "service", "web")
        #expect(svc[path: ["spec", "ports"]]?.arrayValue?.map { $0["port"] } == [80])
    }

    @Test func aSecondManagerApplyingTheSameMapsInAnotherOrderSharesThem() async throws {
        let sim = try await KubeSimCluster()
        let nodeSelector = "      nodeSelector:\n        disk: ssd\n        zone: a\n"
        try await sim.kubectlChecked(
            ["apply", "--server-side", "-f", "-"],
            input: Self.deployment(containers: Self.appOnly, nodeSelector: nodeSelector))
        try await settled(sim)
        let before = try await get(sim, "deployment", "web")
        func reordered(_ first: String, _ second: String) -> String {
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: default
            spec:
              selector:
                matchLabels:
                  \(first)
                  \(second)
              template:
                spec:
                  nodeSelector:
                    zone: a
                    disk: ssd
            """
        }
        let shared = try await sim.kubectl(
            ["apply", "--server-side", "--field-manager", "second", "-f", "-"],
            input: reordered("tier: front", "app: web"))
        #expect(shared.status == 0, "no conflict: \(shared.stderr)")
        let after = try await get(sim, "deployment", "web")
        #expect(after["spec"] == before["spec"])
        let entries = after[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        for manager in ["kubectl", "second"] {
            let entry = entries.first { $0["manager"] == .string(manager) && $0["operation"] == "Apply" }
            #expect(entry?[path: ["fieldsV1", "f:spec", "f:selector"]] != nil, "\(manager) owns the selector")
            // nodeSelector is an atomic map (`+mapType=atomic`): owned as a whole, by both.
            #expect(
                entry?[path: ["fieldsV1", "f:spec", "f:template", "f:spec", "f:nodeSelector"]] == .emptyObject,
                "\(manager) owns nodeSelector")
        }
        // Applying the same content again, in yet another order, changes nothing: no new resourceVersion.
        try await sim.kubectlChecked(
            ["apply", "--server-side", "--field-manager", "second", "-f", "-"],
            input: reordered("app: web", "tier: front"))
        let again = try await get(sim, "deployment", "web")
        #expect(again[path: ["metadata", "resourceVersion"]] == after[path: ["metadata", "resourceVersion"]])
    }

    @Test func anUpdateAndAnApplyBySameNameAreDifferentManagers() async throws {
        let sim = try await KubeSimCluster()
        try await sim.kubectlChecked(
            ["create", "--field-manager", "deployer", "-f", "-"], input: Self.deployment(containers: Self.appOnly))
        let scaled = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: default
            spec:
              replicas: 3
            """
        let conflict = try await sim.kubectl(
            ["apply", "--server-side", "--field-manager", "deployer", "-f", "-"], input: scaled)
        #expect(conflict.status != 0)
        #expect(
            conflict.stderr.contains(#"conflict with "deployer" using apps/v1: .spec.replicas"#), "\(conflict.stderr)")
        let object = try await get(sim, "deployment", "web")
        #expect(object[path: ["spec", "replicas"]] == 1)
        // The create recorded an Update entry: structs are not themselves owned, maps and list items it created are.
        let update = object[path: ["metadata", "managedFields"]]?.arrayValue?.first {
            $0["manager"] == "deployer" && $0["operation"] == "Update"
        }
        let fields = update?["fieldsV1"]
        #expect(fields?[path: ["f:spec", "f:replicas"]] == .emptyObject)
        #expect(fields?[path: ["f:spec", "."]] == nil && fields?[path: ["f:spec", "f:template", "."]] == nil)
        #expect(fields?[path: ["f:spec", "f:template", "f:metadata", "f:labels", "."]] == .emptyObject)
        #expect(
            fields?[path: ["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"app"}"#, "."]] == .emptyObject
        )
    }

    @Test func aChangingReapplyMovesItsTimeAndANoOpKeepsTimeAndVersion() async throws {
        let sim = try await KubeSimCluster()
        let first = Self.deployment(containers: Self.appOnly)
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: first)
        try await settled(sim)
        let created = try await get(sim, "deployment", "web")
        func time(_ object: Value) -> Value? {
            object[path: ["metadata", "managedFields"]]?.arrayValue?.first { $0["manager"] == "kubectl" }?["time"]
        }
        try await Task.sleep(for: .milliseconds(1100))
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: first)
        let same = try await get(sim, "deployment", "web")
        #expect(time(same) == time(created))
        #expect(same[path: ["metadata", "resourceVersion"]] == created[path: ["metadata", "resourceVersion"]])
        try await sim.kubectlChecked(
            ["apply", "--server-side", "-f", "-"],
            input: first.replacingOccurrences(of: "nginx:1.27", with: "nginx:1.28"))
        let changed = try await get(sim, "deployment", "web")
        #expect(time(changed) != nil && time(changed) != time(created))
        #expect(changed[path: ["metadata", "resourceVersion"]] != created[path: ["metadata", "resourceVersion"]])
    }

    @Test func newItemsOfKeyedListsGoWhereTheAppliedListHasThem() async throws {
        let sim = try await KubeSimCluster()
        func containers(_ names: [String]) -> String {
            names.map { "      - name: \($0)\n        image: busybox:1.36\n        env:\n        - name: X\n" }.joined()
        }
        try await sim.kubectlChecked(
            ["apply", "--server-side", "-f", "-"], input: Self.deployment(containers: containers(["a", "c"])))
        try await sim.kubectlChecked(
            ["apply", "--server-side", "-f", "-"], input: Self.deployment(containers: containers(["a", "b", "c"])))
        let object = try await get(sim, "deployment", "web")
        let names = object[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.map { $0["name"] }
        #expect(names == ["a", "b", "c"])
    }
}
