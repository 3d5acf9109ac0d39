import Foundation
import GitSource
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every Git network operation ends by its deadline, whatever the server does (issue 13: a hung remote).
@Suite struct GitDeadlineTests {
    /// How long the operation took, and what it threw.
    private func timed(_ body: () throws -> Void) -> (seconds: Double, error: (any Error)?) {
        let start = ContinuousClock.now
        var caught: (any Error)?
        do { try body() } catch { caught = error }
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, caught)
    }

    @Test(arguments: ["git", "https", "ssh"])
    func aSilentServerEndsInATimeout(scheme: String) throws {
        if scheme == "https" && !GitSourceModule.supportsHTTPS { return }
        if scheme == "ssh" && !GitSourceModule.supportsSSH { return }
        let server = try SilentServer()
        let directory = try TemporaryDirectory()
        let url =
            switch scheme {
            case "ssh": "ssh://git@127.0.0.1:\(server.port)/config.git"
            default: "\(scheme)://127.0.0.1:\(server.port)/config.git"
            }
        let credentials: GitCredentials =
            scheme == "ssh"
            ? .sshKey(username: "git", privateKey: "/nonexistent/id_ed25519", knownHosts: "/dev/null") : .none
        let cache = try GitRepository(
            cacheAt: directory.url.appendingPathComponent("cache").path,
            remote: GitRemote(url: url, credentials: credentials, timeout: .seconds(1)))

        let (seconds, error) = timed { _ = try cache.fetchIfMoved(branch: "main", knownSHA: nil) }

        let gitError = try #require(error as? GitSourceError)
        guard case .timedOut(let operation, let remote, let limit) = gitError else {
            Issue.record("expected a timeout, got: \(gitError)")
            return
        }
        #expect(operation == "fetch main")
        #expect(remote.contains("127.0.0.1:\(server.port)"))
        #expect(limit == 1)
        #expect("\(gitError)".contains("did not finish within 1s"))
        // Bounded by the deadline, not by TCP (which, on a silent connection, never gives up). The bound is loose:
        // the assertion is that it ended at all, with the timeout error.
        #expect(seconds < 30)
    }

    @Test func aClosedPortFailsAtOnceAndIsNotATimeout() throws {
        let port: Int
        do {
            let server = try SilentServer()
            port = server.port
        }  // closed again: nothing listens there now
        let directory = try TemporaryDirectory()
        let cache = try GitRepository(
            cacheAt: directory.url.appendingPathComponent("cache").path,
            remote: GitRemote(url: "git://127.0.0.1:\(port)/config.git", timeout: .seconds(60)))
        let (_, error) = timed { _ = try cache.remoteHead(branch: "main") }
        let gitError = try #require(error as? GitSourceError)
        if case .timedOut = gitError { Issue.record("a refused connection is not a timeout: \(gitError)") }
        #expect("\(gitError)".contains("127.0.0.1:\(port)"))
        #expect("\(gitError)".lowercased().contains("refused"))
    }
}
