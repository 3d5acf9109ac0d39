import Foundation
import TestSupport

/// A running kubesim with two regions on free ports, a temporary data folder and kubeconfig; stopped on deinit.
final class KubeSimFixture: @unchecked Sendable {
    // @unchecked: fields are set in init and only read afterwards, except `process`, replaced by `restart()`
    // which tests call from one task.
    let directory: TemporaryDirectory
    let regions: [(name: String, api: Int, metrics: Int)]
    var process: ChildProcess
    let extraArguments: [String]

    var dataPath: String { directory.path + "/data" }
    var kubeconfigPath: String { directory.path + "/kubeconfig" }
    var caPath: String { dataPath + "/ca.crt" }

    init(rolloutSeconds: Double = 0.5, extraArguments: [String] = []) async throws {
        directory = try TemporaryDirectory(prefix: "kubesim-test")
        regions = [
            ("us-sanjose-1", try freePort(), try freePort()),
            ("us-chicago-1", try freePort(), try freePort()),
        ]
        self.extraArguments = ["--rollout-seconds", String(rolloutSeconds)] + extraArguments
        process = try KubeSimFixture.start(directory: directory, regions: regions, extra: self.extraArguments)
        try await process.waitForLog("kubesim ready", timeout: 60)
    }

    private static func start(directory: TemporaryDirectory, regions: [(name: String, api: Int, metrics: Int)], extra: [String]) throws -> ChildProcess {
        var arguments = [productPath("kubesim")]
        for region in regions { arguments += ["--region", "\(region.name)=\(region.api):\(region.metrics)"] }
        arguments += ["--data", directory.path + "/data", "--kubeconfig", directory.path + "/kubeconfig"] + extra
        return try ChildProcess(arguments)
    }

    /// SIGTERM, then start again on the same ports and data (the "control-plane failover" drill).
    func restart() async throws {
        let status = process.stop()
        guard status == 0 else { throw TestSupportError("kubesim exited \(status) on SIGTERM") }
        process = try KubeSimFixture.start(directory: directory, regions: regions, extra: extraArguments)
        try await process.waitForLog("kubesim ready", timeout: 60)
    }

    func token(_ region: String = "us-sanjose-1") throws -> String {
        try String(contentsOfFile: "\(dataPath)/regions/\(region)/token", encoding: .utf8)
    }

    /// Runs kubectl against a region's context, with a private discovery cache.
    func kubectl(_ arguments: [String], region: String = "us-sanjose-1", input: String? = nil) throws -> ProcessOutput {
        try run(
            ["kubectl", "--context", region, "--cache-dir", directory.path + "/cache"] + arguments,
            environment: ["KUBECONFIG": kubeconfigPath], input: input)
    }

    /// kubectl that must succeed; returns stdout.
    @discardableResult
    func kubectlChecked(_ arguments: [String], region: String = "us-sanjose-1", input: String? = nil) throws -> String {
        let output = try kubectl(arguments, region: region, input: input)
        guard output.status == 0 else {
            throw TestSupportError("kubectl \(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)\(output.stdout)")
        }
        return output.stdout
    }

    /// An HTTPS request with curl: returns the status code and body. `token: false` sends no credentials.
    func request(
        _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json",
        token: Bool = true, region: String = "us-sanjose-1"
    ) throws -> (status: Int, body: String) {
        guard let port = regions.first(where: { $0.name == region })?.api else { throw TestSupportError("no region \(region)") }
        var arguments = ["curl", "-sS", "--cacert", caPath, "-X", method, "-w", "\n%{http_code}", "-H", "Content-Type: \(contentType)"]
        if token { arguments += ["-H", "Authorization: Bearer \(try self.token(region))"] }
        if body != nil { arguments += ["--data-binary", "@-"] }
        arguments.append("https://127.0.0.1:\(port)\(path)")
        let output = try run(arguments, input: body)
        guard output.status == 0 else { throw TestSupportError("curl failed (\(output.status)): \(output.stderr)") }
        let text = output.stdout
        guard let newline = text.lastIndex(of: "\n"), let code = Int(text[text.index(after: newline)...]) else {
            throw TestSupportError("curl printed no status: \(text)")
        }
        return (code, String(text[..<newline]))
    }

    /// A plain-HTTP request to a region's metrics/fault port.
    func metricsRequest(_ method: String, _ path: String, region: String = "us-sanjose-1") throws -> String {
        guard let port = regions.first(where: { $0.name == region })?.metrics else { throw TestSupportError("no region \(region)") }
        return try runChecked(["curl", "-sS", "-f", "-X", method, "http://127.0.0.1:\(port)\(path)"])
    }

    deinit {
        process.stop()
    }
}

/// Whether kubectl is installed; tests that drive kubectl are skipped (loudly, by their condition) without it.
let kubectlAvailable = which("kubectl") != nil

/// The shared corpus's Istio CRDs and Bookinfo samples.
let istioCRDs = sharedRoot.appendingPathComponent("corpus/istio-crds/crd-all.gen.yaml").path
let bookinfo = sharedRoot.appendingPathComponent("corpus/istio-bookinfo").path
