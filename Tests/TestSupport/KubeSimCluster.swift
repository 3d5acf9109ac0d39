import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A running kubesim shared by every integration suite: named regions on free API and metrics ports, a temporary
/// data folder and kubeconfig (one context per region), kubectl and curl helpers; stopped when it goes away.
public final class KubeSimCluster: @unchecked Sendable {
    // @unchecked: everything is set in init and only read afterwards, except `current`, guarded by `lock`.
    private let lock = NSLock()
    private var current: ChildProcess
    /// The temporary folder holding `data/`, `kubeconfig` and kubectl's cache.
    public let directory: TemporaryDirectory
    /// Every region with its API and metrics ports, in the order given.
    public let regions: [(name: String, api: Int, metrics: Int)]
    private let arguments: [String]

    /// The same folder under the Applier suite's name.
    public var folder: TemporaryDirectory { directory }
    public var dataPath: String { directory.path + "/data" }
    public var kubeconfigPath: String { directory.path + "/kubeconfig" }
    public var caPath: String { dataPath + "/ca.crt" }
    /// API ports by region.
    public var apiPorts: [String: Int] { Dictionary(uniqueKeysWithValues: regions.map { ($0.name, $0.api) }) }
    /// Metrics/fault-control ports by region.
    public var metricsPorts: [String: Int] { Dictionary(uniqueKeysWithValues: regions.map { ($0.name, $0.metrics) }) }
    /// The running process (replaced by `restart()`).
    public var process: ChildProcess { lock.withLock { current } }

    /// Starts kubesim with `regions` and waits for `kubesim ready`. `rolloutSeconds` nil keeps kubesim's default.
    public init(
        regions names: [String] = ["us-sanjose-1", "us-chicago-1"], rolloutSeconds: Double? = 0.5,
        extraArguments: [String] = []
    ) async throws {
        let binary = productPath("kubesim")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestSupportError("kubesim is not built at \(binary): run `swift build --build-tests`")
        }
        directory = try TemporaryDirectory(prefix: "kubesim")
        regions = try names.map { ($0, try freePort(), try freePort()) }
        var arguments = [binary]
        for region in regions { arguments += ["--region", "\(region.name)=\(region.api):\(region.metrics)"] }
        arguments += ["--data", directory.path + "/data", "--kubeconfig", directory.path + "/kubeconfig"]
        if let rolloutSeconds { arguments += ["--rollout-seconds", String(rolloutSeconds)] }
        self.arguments = arguments + extraArguments
        current = try ChildProcess(self.arguments)
        try await current.waitForLog("kubesim ready", timeout: 300)
    }

    /// SIGTERM, then start again on the same ports and data (the "control-plane failover" drill).
    public func restart() async throws {
        let status = stop()
        guard status == 0 else { throw TestSupportError("kubesim exited \(status) on SIGTERM; log:\n\(log())") }
        let process = try ChildProcess(arguments)
        lock.withLock { current = process }
        try await process.waitForLog("kubesim ready", timeout: 300)
    }

    /// SIGTERM (SIGKILL after a grace period); returns the exit status.
    @discardableResult
    public func stop() -> Int32 { process.stop() }

    /// What kubesim printed so far.
    public func log() -> String { process.log() }

    /// The region's bearer token, as kubesim wrote it.
    public func token(_ region: String = "us-sanjose-1") throws -> String {
        try String(contentsOfFile: "\(dataPath)/regions/\(region)/token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs kubectl against a region's context (KUBECONFIG set), with a private discovery cache.
    public func kubectl(_ arguments: [String], region: String = "us-sanjose-1", input: String? = nil) throws
        -> ProcessOutput
    {
        try run(
            [try requireTool("kubectl"), "--context", region, "--cache-dir", directory.path + "/cache"] + arguments,
            environment: ["KUBECONFIG": kubeconfigPath], input: input)
    }

    /// kubectl that must succeed; returns stdout.
    @discardableResult
    public func kubectlChecked(_ arguments: [String], region: String = "us-sanjose-1", input: String? = nil) throws
        -> String
    {
        let output = try kubectl(arguments, region: region, input: input)
        guard output.status == 0 else {
            throw TestSupportError(
                "kubectl \(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)\(output.stdout)")
        }
        return output.stdout
    }

    /// An HTTPS request with curl: the status code and body. `token: false` sends no credentials; `accept` is the
    /// `Accept` header (none by default).
    public func request(
        _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json",
        token: Bool = true, region: String = "us-sanjose-1", accept: String? = nil
    ) throws -> (status: Int, body: String) {
        guard let port = apiPorts[region] else { throw TestSupportError("no region \(region)") }
        var arguments = [
            "curl", "-sS", "--cacert", caPath, "-X", method, "-w", "\n%{http_code}", "-H",
            "Content-Type: \(contentType)",
        ]
        if let accept { arguments += ["-H", "Accept: \(accept)"] }
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

    /// A plain-HTTP request to a region's metrics/fault port (`POST /faults/down`, `/faults/up`, ...).
    @discardableResult
    public func metricsRequest(_ method: String, _ path: String, region: String = "us-sanjose-1") throws -> String {
        guard let port = metricsPorts[region] else { throw TestSupportError("no region \(region)") }
        return try runChecked(["curl", "-sS", "-f", "-X", method, "http://127.0.0.1:\(port)\(path)"])
    }

    /// ``kubectl(_:region:input:)`` from async code, off the cooperative pool.
    public func kubectl(_ arguments: [String], region: String = "us-sanjose-1", input: String? = nil) async throws
        -> ProcessOutput
    {
        try await blocking { try self.kubectl(arguments, region: region, input: input) }
    }

    /// ``kubectlChecked(_:region:input:)`` from async code, off the cooperative pool.
    @discardableResult
    public func kubectlChecked(_ arguments: [String], region: String = "us-sanjose-1", input: String? = nil)
        async throws -> String
    {
        try await blocking { try self.kubectlChecked(arguments, region: region, input: input) }
    }

    /// ``request(_:_:body:contentType:token:region:accept:)`` from async code, off the cooperative pool.
    public func request(
        _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json",
        token: Bool = true, region: String = "us-sanjose-1", accept: String? = nil
    ) async throws -> (status: Int, body: String) {
        try await blocking {
            try self.request(
                method, path, body: body, contentType: contentType, token: token, region: region, accept: accept)
        }
    }

    /// ``metricsRequest(_:_:region:)`` from async code, off the cooperative pool.
    @discardableResult
    public func metricsRequest(_ method: String, _ path: String, region: String = "us-sanjose-1") async throws
        -> String
    {
        try await blocking { try self.metricsRequest(method, path, region: region) }
    }

    deinit {
        process.stop()
    }
}
