import Applier
import Foundation
import Logging
import SyncCore
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The Applier suites' kubesim: TestSupport's shared fixture, plus helpers that need the Applier module.
typealias KubeSim = KubeSimCluster

extension KubeSimCluster {
    /// A client of a region through kubesim's own kubeconfig (bearer token).
    func client(
        _ region: String = "us-sanjose-1", retry: RetryPolicy = RetryPolicy(maxAttempts: 4, initialBackoff: 0.05),
        logger: Logger = Logger(label: "test")
    ) throws -> KubeClient {
        try KubeClient(
            kubeconfig: try Kubeconfig.load(file: kubeconfigPath), context: region,
            options: KubeClientOptions(retry: retry), logger: logger)
    }

    /// A kubeconfig file for `region` with the given user entry (YAML lines under `user:`) and CA file.
    func kubeconfig(user: String, region: String = "us-sanjose-1", caFile: String? = nil) throws -> String {
        let name = "config-\(UUID().uuidString)"
        let indented = user.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: sim
              cluster:
                server: https://127.0.0.1:\(apiPorts[region] ?? 0)
                certificate-authority: \(caFile ?? caPath)
            users:
            - name: tester
              user:
            \(indented)
            contexts:
            - name: sim
              context: {cluster: sim, user: tester}
            current-context: sim
            """
        return try folder.write(name, text).path
    }

    /// Sets a fault on a region's control port: `errors?rate=1&code=503`, `down`, `up`, `reset`, `latency?ms=N`.
    func fault(_ control: String, region: String = "us-sanjose-1") async throws {
        let transport = try HTTPTransport()
        let response = try await transport.send(
            HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(metricsPorts[region] ?? 0)/faults/\(control)", body: []))
        guard response.status == 200 else {
            throw TestSupportError("fault \(control): \(response.status) \(response.text)")
        }
    }
}

/// A ConfigMap in `namespace` with `data`.
func configMap(
    _ name: String, namespace: String = "default", data: [String: String] = ["a": "1"], labels: [String: String] = [:]
)
    throws -> Resource
{
    var metadata: Value = ["name": .string(name), "namespace": .string(namespace)]
    if !labels.isEmpty {
        metadata["labels"] = .object(
            .init(uniqueKeysWithValues: labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }
    let body: Value = [
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
        "data": .object(
            .init(uniqueKeysWithValues: data.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
    ]
    return try Resource(body: body)
}
