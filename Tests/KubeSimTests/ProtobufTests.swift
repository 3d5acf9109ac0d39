import Foundation
import SyncCore
import Testing
import TestSupport

/// kubectl's typed clients send built-in kinds as protobuf (`kubectl create ...`); kubesim reads them.
@Suite struct ProtobufTests {
    /// `kubectl create configmap x --from-literal=a=b`'s body, as kubectl 1.32 sent it (`-v=9`).
    static let configMap: [UInt8] = [
        0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, 0x43, 0x6f, 0x6e, 0x66,
        0x69, 0x67, 0x4d, 0x61, 0x70, 0x12, 0x1b, 0x0a, 0x11, 0x0a, 0x01, 0x78, 0x12, 0x00, 0x1a, 0x00,
        0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x06, 0x0a, 0x01, 0x61, 0x12,
        0x01, 0x62, 0x1a, 0x00, 0x22, 0x00,
    ]

    /// POSTs raw bytes with curl; status and body.
    static func post(_ sim: KubeSimCluster, _ path: String, _ bytes: [UInt8]) throws -> (Int, String) {
        let file = try sim.directory.write("body-\(UUID().uuidString).bin", "")
        try Data(bytes).write(to: file)
        let port = sim.apiPorts["us-sanjose-1"] ?? 0
        let output = try runChecked([
            "curl", "-sS", "--cacert", sim.caPath, "-X", "POST", "-w", "\n%{http_code}",
            "-H", "Authorization: Bearer \(try sim.token())", "-H", "Content-Type: application/vnd.kubernetes.protobuf",
            "--data-binary", "@\(file.path)", "https://127.0.0.1:\(port)\(path)",
        ])
        let newline = try #require(output.lastIndex(of: "\n"))
        return (Int(output[output.index(after: newline)...]) ?? 0, String(output[..<newline]))
    }

    @Test func kubectlsOwnProtobufBodyCreatesTheObjectAndBadOnesAreRefused() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let (status, body) = try Self.post(sim, "/api/v1/namespaces/default/configmaps", Self.configMap)
        #expect(status == 201, "\(body)")
        let created = try Value(json: body)
        #expect(created[path: ["metadata", "name"]] == "x")
        #expect(created["data"] == ["a": "b"])
        #expect(created[path: ["metadata", "creationTimestamp"]]?.stringValue?.isEmpty == false)

        // A kind kubesim has no table for is 415, as a server without protobuf answers.
        let lease = Self.envelope(apiVersion: "coordination.k8s.io/v1", kind: "Lease", raw: [])
        let (leaseStatus, leaseBody) = try Self.post(
            sim, "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)
        #expect(leaseStatus == 415, "\(leaseBody)")
        #expect(try Value(json: leaseBody)["reason"] == "UnsupportedMediaType")
        // No k8s\0 prefix, or a message cut short: 400.
        let (plain, _) = try Self.post(sim, "/api/v1/namespaces/default/configmaps", Array(Self.configMap.dropFirst(4)))
        #expect(plain == 400)
        let (cut, cutBody) = try Self.post(
            sim, "/api/v1/namespaces/default/configmaps", Array(Self.configMap.prefix(30)))
        #expect(cut == 400, "\(cutBody)")
    }

    /// A `runtime.Unknown` envelope around `raw`.
    static func envelope(apiVersion: String, kind: String, raw: [UInt8]) -> [UInt8] {
        func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(bytes.count)] + bytes }
        let typeMeta = field(1, Array(apiVersion.utf8)) + field(2, Array(kind.utf8))
        return [0x6b, 0x38, 0x73, 0x00] + field(1, typeMeta) + field(2, raw) + field(3, []) + field(4, [])
    }

    @Test
    func kubectlCreateWorksForEveryKindItSendsAsProtobuf() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"], rolloutSeconds: 0.3)
        let commands: [[String]] = [
            ["create", "namespace", "team"],
            ["create", "configmap", "settings", "--from-literal=mode=blue", "-n", "team"],
            ["create", "secret", "generic", "db", "--from-literal=password=hunter2", "-n", "team"],
            ["create", "serviceaccount", "robot", "-n", "team"],
            ["create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80", "-n", "team"],
            ["create", "deployment", "idle", "--image=nginx:1.27", "--replicas=0", "-n", "team"],
            ["create", "service", "clusterip", "web", "--tcp=80:8080", "-n", "team"],
            ["create", "role", "reader", "--verb=get,list", "--resource=configmaps", "-n", "team"],
            ["create", "rolebinding", "reader", "--role=reader", "--serviceaccount=team:robot", "-n", "team"],
            ["create", "clusterrole", "auditor", "--verb=get", "--resource=secrets"],
            ["create", "clusterrolebinding", "auditor", "--clusterrole=auditor", "--user=alice"],
        ]
        for command in commands {
            let output = try await sim.kubectlChecked(command)
            #expect(output.contains("created"), "\(command): \(output)")
        }
        func get(_ what: [String]) throws -> Value {
            try Value(json: try sim.kubectlChecked(["get"] + what + ["-o", "json"]))
        }
        let web = try get(["deployment", "web", "-n", "team"])
        #expect(web[path: ["spec", "replicas"]] == 2)
        let container = web[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container?["image"] == "nginx:1.27")
        #expect(container?["ports"] == [["containerPort": 80, "protocol": "TCP"]])
        #expect(web[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] == "25%")  // defaulted as from JSON
        #expect(web[path: ["spec", "selector", "matchLabels", "app"]] == "web")
        let shown = try get(["deployment", "web", "-n", "team", "--show-managed-fields"])
        let managers = shown[path: ["metadata", "managedFields"]]?.arrayValue?.compactMap { $0["manager"]?.stringValue }
        #expect(managers?.contains("kubectl-create") == true, "\(managers ?? [])")
        // A pointer field set to zero stays zero (not taken for "unset").
        #expect(try get(["deployment", "idle", "-n", "team"])[path: ["spec", "replicas"]] == 0)
        let secret = try get(["secret", "db", "-n", "team"])
        #expect(secret[path: ["data", "password"]] == .string(Data("hunter2".utf8).base64EncodedString()))
        #expect(secret["type"] == "Opaque")
        let service = try get(["service", "web", "-n", "team"])
        #expect(
            service[path: ["spec", "ports"]] == [
                ["name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080]
            ])
        #expect(service[path: ["spec", "clusterIP"]]?.stringValue?.isEmpty == false)
        let binding = try get(["rolebinding", "reader", "-n", "team"])
        #expect(binding["subjects"] == [["kind": "ServiceAccount", "name": "robot", "namespace": "team"]])
        #expect(binding[path: ["roleRef", "name"]] == "reader")
        let role = try get(["clusterrole", "auditor"])
        #expect(role["rules"] == [["apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]]])
        #expect(try get(["configmap", "settings", "-n", "team"])["data"] == ["mode": "blue"])
        try await sim.kubectlChecked([
            "wait", "--for=condition=Available", "deployment/web", "-n", "team", "--timeout=30s",
        ])
    }
}
