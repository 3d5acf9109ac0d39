import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The agent with a Git remote that accepts connections and then says nothing (black-holed): libgit2 1.5 alone
/// would wait forever. The release binary, as users run it.
@Suite struct AgentGitFaultTests {
    /// A config whose repository is `git://` on the silent server, with `timeout`; one region whose API is never
    /// reached (the agent never gets past the moved-check).
    private func config(_ work: TemporaryDirectory, port: Int, timeout: String) throws -> String {
        try work.write(
            "kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
            users: [{name: u, user: {token: not-used}}]
            contexts: [{name: us-sanjose-1, context: {cluster: c, user: u}}]
            current-context: us-sanjose-1

            """)
        return try work.write(
            "syncagent.yaml",
            """
            repo: {url: "git://127.0.0.1:\(port)/config.git", branch: main, path: mesh, pollInterval: 1s, \
            timeout: \(timeout)}
            regions:
              - {name: us-sanjose-1, kubeconfig: \(work.path)/kubeconfig, context: us-sanjose-1}
            agent: {cache: \(work.path)/cache}

            """
        ).path
    }

    private func get(_ port: Int, _ path: String) throws -> (status: Int, body: String) {
        let output = try run(["curl", "-sS", "-m", "10", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        guard let newline = output.stdout.lastIndex(of: "\n"),
            let code = Int(output.stdout[output.stdout.index(after: newline)...])
        else { throw TestSupportError("curl \(path) failed: \(output.stderr)") }
        return (code, String(output.stdout[..<newline]))
    }

    @Test func aSilentRemoteIsReportedAndTheAgentKeepsServing() async throws {
        let server = try SilentServer()
        let work = try TemporaryDirectory(prefix: "git-fault")
        let configPath = try config(work, port: server.port, timeout: "1s")
        let port = try freePort()
        let agent = try ChildProcess([
            productPath("syncagent"), "run", "--config", configPath, "--listen", "127.0.0.1:\(port)",
        ])
        defer { _ = agent.stop() }
        try await waitUntil(timeout: 300, "two failed moved-checks; log:\n\(agent.log())") {
            let metrics = try get(port, "/metrics").body
            let line = metrics.split(separator: "\n").first {
                $0.hasPrefix("syncagent_git_polls_total") && $0.contains("result=\"error\"")
            }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 2 } ?? false
        }
        // Each moved-check ended at its deadline and the next one started: the server saw several connections.
        #expect(server.accepted >= 2)
        let ready = try get(port, "/readyz")
        #expect(ready.status == 503)
        #expect(ready.body.contains("cannot read the config repository"))
        #expect(ready.body.contains("did not finish within 1s"))
        #expect(try get(port, "/healthz").status == 200)
        #expect(agent.log().contains("cannot read the config repository"))
    }

    @Test func sigtermEndsAFetchInFlight() async throws {
        let server = try SilentServer()
        let work = try TemporaryDirectory(prefix: "git-fault")
        // An hour: only the abort at shutdown can end this moved-check.
        let configPath = try config(work, port: server.port, timeout: "1h")
        let port = try freePort()
        let agent = try ChildProcess([
            productPath("syncagent"), "run", "--config", configPath, "--listen", "127.0.0.1:\(port)",
        ])
        defer { _ = agent.stop() }
        try await waitUntil(timeout: 300, "the agent to connect to the silent remote; log:\n\(agent.log())") {
            server.accepted >= 1
        }
        agent.signal(SIGTERM)
        // The safety net is far from the hour the fetch would otherwise hold the process.
        try await waitUntil(timeout: 300, "the agent to exit on SIGTERM; log:\n\(agent.log())") { !agent.isRunning }
        #expect(agent.stop() == 0, "\(agent.log())")
        #expect(agent.log().contains("reconciler stopped"))
        // Stopped by the abort of its sockets, not by the last-resort bounds (ServiceGroup's, or the 10 s thread
        // join before _exit).
        #expect(!agent.log().contains("did not stop"))
        #expect(!agent.log().contains("cancel"))
    }
}
