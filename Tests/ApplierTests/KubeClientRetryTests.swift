import Applier
import Foundation
import SyncCore
import TestSupport
import Testing

/// Retries against kubesim's injected faults: 503 and 429 (with Retry-After), giving up after the limit, a region
/// that is down; and that nothing secret reaches the logs on the way.
@Suite struct KubeClientRetryTests {
    private let ref = ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "flaky")

    @Test func retriesInjected503UntilTheFaultClears() async throws {
        let sim = try await KubeSim()
        let capture = LogCapture()
        let client = try sim.client(
            retry: RetryPolicy(maxAttempts: 50, initialBackoff: 0.05, maxBackoff: 0.2), logger: capture.logger())
        _ = try await client.resource(for: ref.gvk)  // discovery before the fault
        try await sim.fault("errors?rate=1&code=503")
        let apply = Task { try await client.apply(try configMap("flaky")) }
        try await waitUntil(timeout: 300, "a retry to be logged") { capture.text.contains("retrying request") }
        try await sim.fault("reset")
        #expect(try await apply.value.created)
        let retries = capture.all.filter { $0.hasPrefix("debug retrying request") }
        #expect(!retries.isEmpty)
        #expect(retries.allSatisfy { $0.contains("ServiceUnavailable (503)") && $0.contains("http.method=PATCH") })
    }

    @Test func honoursRetryAfterOn429() async throws {
        let sim = try await KubeSim()
        let capture = LogCapture()
        let client = try sim.client(retry: RetryPolicy(maxAttempts: 3, initialBackoff: 0.01), logger: capture.logger())
        _ = try await client.resource(for: ref.gvk)
        try await sim.fault("errors?rate=1&code=429")
        let started = Date()
        await #expect {
            _ = try await client.get(ref)
        } throws: { error in
            guard case .retriesExhausted(let attempts, let last) = error as? ApplierError else { return false }
            return attempts == 3 && last.status?.reason == .tooManyRequests
        }
        // kubesim asks for one second; the policy's own backoff would be 10 ms.
        #expect(Date().timeIntervalSince(started) >= 1.9)
        #expect(capture.all.filter { $0.contains("retrying request") }.allSatisfy { $0.contains("delay=1.000s") })
    }

    @Test func givesUpAfterTheLimitAndNeverRetries4xx() async throws {
        let sim = try await KubeSim()
        let capture = LogCapture()
        let client = try sim.client(retry: RetryPolicy(maxAttempts: 4, initialBackoff: 0.01), logger: capture.logger())
        _ = try await client.resource(for: ref.gvk)
        await #expect {
            _ = try await client.get(ref)  // 404: no retry
        } throws: { error in
            (error as? ApplierError)?.status?.reason == .notFound
        }
        #expect(!capture.text.contains("retrying"))
        try await sim.fault("errors?rate=1&code=500")
        await #expect {
            _ = try await client.apply(try configMap("never"))
        } throws: { error in
            guard case .retriesExhausted(4, let last) = error as? ApplierError else { return false }
            return last.status?.code == 500 && "\(error)".hasSuffix("(gave up after 4 attempts)")
        }
        #expect(capture.all.filter { $0.contains("retrying request") }.count == 3)
        try await sim.fault("reset")
        #expect(
            try await client.getIfPresent(
                ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "never")) == nil)
    }

    @Test func aRegionThatIsDown() async throws {
        let sim = try await KubeSim()
        let capture = LogCapture()
        let client = try sim.client(
            "us-chicago-1", retry: RetryPolicy(maxAttempts: 3, initialBackoff: 0.05), logger: capture.logger())
        _ = try await client.serverVersion()
        try await sim.fault("down", region: "us-chicago-1")
        try await waitUntil(timeout: 300, "the API port to close") {
            !isListening(port: sim.apiPorts["us-chicago-1"] ?? 0)
        }
        await #expect {
            _ = try await client.list(GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"))
        } throws: { error in
            guard case .retriesExhausted(3, let last) = error as? ApplierError, case .transport(_, let code, _) = last
            else {
                return false
            }
            return code == 7 || code == 56 || code == 52  // refused, or cut while the port closed
        }
        #expect(capture.text.contains("retrying request"))
        // The other region is unaffected, and the region serves again once it is back.
        _ = try await sim.client("us-sanjose-1").serverVersion()
        try await sim.fault("up", region: "us-chicago-1")
        try await waitUntil(timeout: 300, "the API port to open") {
            isListening(port: sim.apiPorts["us-chicago-1"] ?? 0)
        }
        _ = try await client.serverVersion()
    }

    @Test func noSecretInLogsOrErrors() async throws {
        let sim = try await KubeSim()
        let capture = LogCapture()
        let token = try sim.token()
        let client = try sim.client(
            retry: RetryPolicy(maxAttempts: 2, initialBackoff: 0.01), logger: capture.logger(level: .trace))
        _ = try await client.apply(try configMap("visible"))
        try await sim.fault("errors?rate=1&code=503")
        var errors: [String] = []
        do { _ = try await client.get(ref) } catch { errors.append("\(error)") }
        try await sim.fault("reset")
        do { _ = try await client.get(ref) } catch { errors.append("\(error)") }
        let key = try String(contentsOfFile: sim.dataPath + "/client.key", encoding: .utf8)
        let keyLine = key.split(separator: "\n")[1]
        for text in [
            capture.text, errors.joined(separator: "\n"), "\(client.context)", String(reflecting: client.context),
        ] {
            #expect(!text.contains(token))
            #expect(!text.contains(keyLine))
            #expect(!text.lowercased().contains("authorization"))
            #expect(!text.contains("Bearer"))
        }
        #expect(errors.count == 2)
    }
}
