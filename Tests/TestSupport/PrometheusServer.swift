import Foundation

/// A running Debian `prometheus` scraping loopback targets every second, on a free port with a temporary TSDB;
/// stopped on `stop()` or when it goes away.
public final class PrometheusServer: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The scraped targets, `host:port`.
    public let targets: [String]
    private let directory: TemporaryDirectory
    private let process: ChildProcess

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Starts prometheus scraping `targets` (`127.0.0.1:PORT`, path `/metrics`; itself when empty) every
    /// `scrapeInterval` seconds; waits for `/-/ready` and for every target to be up. Throws loudly when prometheus
    /// is not installed.
    public init(targets: [String] = [], scrapeInterval: Int = 1, timeout: Double = 300) async throws {
        let binary = try requireTool("prometheus")
        _ = try requireTool("curl")
        let port = try freePort()
        let targets = targets.isEmpty ? ["127.0.0.1:\(port)"] : targets
        self.port = port
        self.targets = targets
        directory = try TemporaryDirectory(prefix: "prometheus")
        let list = targets.map { "'\($0)'" }.joined(separator: ", ")
        let config = try directory.write(
            "prometheus.yml",
            """
            global:
              scrape_interval: \(scrapeInterval)s
              scrape_timeout: \(scrapeInterval)s
              evaluation_interval: \(scrapeInterval)s
            scrape_configs:
              - job_name: kubesim
                static_configs:
                  - targets: [\(list)]
            """)
        process = try ChildProcess([
            binary, "--config.file=\(config.path)", "--web.listen-address=127.0.0.1:\(port)",
            "--storage.tsdb.path=\(directory.path)/data", "--log.level=warn",
        ])
        let process = process
        let url = "http://127.0.0.1:\(port)"
        do {
            try await waitUntil(timeout: timeout, "prometheus \(url)/-/ready; log:\n\(process.log())") {
                if !process.isRunning { throw TestSupportError("prometheus exited early; log:\n\(process.log())") }
                return try await blocking { try run(["curl", "-sf", "\(url)/-/ready"]).status == 0 }
            }
            let expected = targets.count
            try await waitUntil(timeout: timeout, "prometheus targets \(targets) to be up") {
                let body = try await blocking { try run(["curl", "-sf", "\(url)/api/v1/targets"]).stdout }
                return body.components(separatedBy: "\"health\":\"up\"").count - 1 >= expected
            }
        } catch {
            process.stop()
            throw error
        }
    }

    /// Runs an instant query with curl; the raw JSON answer.
    public func query(_ promQL: String) async throws -> String {
        let url = self.url
        return try await blocking {
            try runChecked(["curl", "-sS", "-f", "-G", "\(url)/api/v1/query", "--data-urlencode", "query=\(promQL)"])
        }
    }

    /// Waits until `promQL` returns at least one sample (scraped data is there to compute it).
    public func waitForData(_ promQL: String, timeout: Double = 300) async throws {
        try await waitUntil(timeout: timeout, "prometheus to have data for \(promQL)") {
            let body = try await self.query(promQL)
            return body.contains("\"value\":[")
        }
    }

    /// SIGTERM (SIGKILL after a grace period); returns the exit status.
    @discardableResult
    public func stop() -> Int32 { process.stop() }

    /// What prometheus printed so far.
    public func log() -> String { process.log() }

    deinit {
        process.stop()
    }
}
