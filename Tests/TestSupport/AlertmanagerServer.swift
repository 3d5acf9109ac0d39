import Foundation

/// A running Debian `prometheus-alertmanager` on a free loopback port, with a temporary data folder and a route to a
/// receiver that notifies nobody; stopped on `stop()` or when it goes away.
public final class AlertmanagerServer: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let directory: TemporaryDirectory
    private let process: ChildProcess

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Starts alertmanager and waits for `/-/ready`. Throws loudly when it is not installed.
    public init(timeout: Double = 300) async throws {
        let binary = try requireTool("prometheus-alertmanager")
        _ = try requireTool("curl")
        let port = try freePort()
        self.port = port
        directory = try TemporaryDirectory(prefix: "alertmanager")
        let config = try directory.write(
            "alertmanager.yml",
            """
            route:
              receiver: nobody
              group_wait: 1s
            receivers:
              - name: nobody
            """)
        process = try ChildProcess([
            binary, "--config.file=\(config.path)", "--web.listen-address=127.0.0.1:\(port)",
            "--storage.path=\(directory.path)/data", "--cluster.listen-address=", "--log.level=warn",
        ])
        let process = process
        let url = "http://127.0.0.1:\(port)"
        do {
            try await waitUntil(timeout: timeout, "alertmanager \(url)/-/ready; log:\n\(process.log())") {
                if !process.isRunning { throw TestSupportError("alertmanager exited early; log:\n\(process.log())") }
                return try await blocking { try run(["curl", "-sf", "\(url)/-/ready"]).status == 0 }
            }
        } catch {
            process.stop()
            throw error
        }
    }

    /// `GET /api/v2/alerts`: the alerts Alertmanager holds now (resolved ones are not listed), as JSON text.
    public func alerts() async throws -> String {
        let url = self.url
        return try await blocking { try runChecked(["curl", "-sS", "-f", "\(url)/api/v2/alerts"]) }
    }

    /// SIGTERM (SIGKILL after a grace period); returns the exit status.
    @discardableResult
    public func stop() -> Int32 { process.stop() }

    /// What alertmanager printed so far.
    public func log() -> String { process.log() }

    deinit {
        process.stop()
    }
}
