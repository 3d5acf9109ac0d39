import Foundation
import GitSource
import SyncCore
import TestSupport
import Testing

/// SSH: key authentication and host-key checks against a known_hosts file, with OpenSSH's sshd on 127.0.0.1
/// (its own config, host key and authorized_keys in a temporary folder) running git-upload-pack/receive-pack.
@Suite struct GitSSHTests {
    let fixture: GitFixture
    let server: SSHGitServer

    init() async throws {
        fixture = try GitFixture()
        server = try await SSHGitServer(serving: fixture)
    }

    @Test func fetchesAndPushesWithAKeyAndAKnownHost() throws {
        #expect(GitSourceModule.supportsSSH, "\(GitSourceModule.featureSummary)")
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: server.remote())
        let result = try cache.fetchIfMoved(branch: "main", knownSHA: nil)
        #expect(result.head == fixture.commits[3])
        #expect(try cache.files(at: result.head, under: "mesh/regions", extensions: ["yaml"]).count == 2)
        let signer = Signature(name: "syncagent", email: "syncagent@example.com", time: Date())
        let revert = try cache.revert(result.head, onBranch: "main", signature: signer)
        #expect(try cache.push(branch: "main") == revert.sha)
        #expect(try fixture.servedHead() == revert.sha)
    }

    @Test func anUnknownOrChangedHostKeyIsRefused() throws {
        let empty = try server.writeKnownHosts(name: "empty", lines: [])
        let unknown = try GitRepository(cacheAt: fixture.cachePath("unknown"), remote: server.remote(knownHosts: empty))
        let error = #expect(throws: GitSourceError.self) { try unknown.remoteHead(branch: "main") }
        guard case .hostVerificationFailed(_, let host, let reason) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(host == "127.0.0.1")
        #expect(reason == "it is not listed in \(empty)")

        let otherKey = try server.makeKey(name: "impostor")
        let changed = try server.writeKnownHosts(
            name: "changed", lines: ["[127.0.0.1]:\(server.port) \(otherKey.publicKey)"])
        let cache = try GitRepository(cacheAt: fixture.cachePath("changed"), remote: server.remote(knownHosts: changed))
        let mismatch = #expect(throws: GitSourceError.self) { try cache.remoteHead(branch: "main") }
        #expect(mismatch?.description.contains("its key differs from the ssh-ed25519 key listed") == true)
    }

    @Test func anUnauthorisedKeyIsRefused() async throws {
        let stranger = try server.makeKey(name: "stranger")
        let cache = try GitRepository(
            cacheAt: fixture.cachePath(), remote: server.remote(privateKey: stranger.privateKey))
        let error = #expect(throws: GitSourceError.self) { try cache.remoteHead(branch: "main") }
        guard case .authenticationFailed(_, let reason) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(reason.contains(stranger.privateKey))
    }
}

/// OpenSSH's sshd on 127.0.0.1 with a config, host key and authorized key of its own, for the current user.
final class SSHGitServer {
    let process: ChildProcess
    let port: Int
    let directory: URL
    let servedPath: String
    /// The authorised client key.
    let clientKey: (privateKey: String, publicKey: String)
    /// A known_hosts file listing the server's real host key.
    let knownHosts: String
    let user: String

    init(serving fixture: GitFixture) async throws {
        let sshd = try requireTool("sshd")
        _ = try requireTool("ssh-keygen")
        directory = fixture.directory.url.appendingPathComponent("ssh")
        servedPath = fixture.served.path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        user = try await runChecked(["id", "-un"]).trimmingCharacters(in: .whitespacesAndNewlines)
        // sshd insists on its privilege separation folder.
        if !FileManager.default.fileExists(atPath: "/run/sshd") {
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }
        let hostKey = directory.appendingPathComponent("host_ed25519").path
        try await runChecked(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey])
        let client = directory.appendingPathComponent("client_ed25519").path
        try await runChecked(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", client])
        clientKey = (client, try String(contentsOfFile: client + ".pub", encoding: .utf8))
        let authorized = directory.appendingPathComponent("authorized_keys").path
        try Data(clientKey.publicKey.utf8).write(to: URL(fileURLWithPath: authorized))
        port = try freePort()
        let hostPublic = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8)
        knownHosts = directory.appendingPathComponent("known_hosts").path
        try Data("[127.0.0.1]:\(port) \(hostPublic)".utf8).write(to: URL(fileURLWithPath: knownHosts))
        let config = directory.appendingPathComponent("sshd_config").path
        try Data(
            """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(hostKey)
            PidFile \(directory.appendingPathComponent("sshd.pid").path)
            AuthorizedKeysFile \(authorized)
            AllowUsers \(user)
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            UsePAM no
            StrictModes no

            """.utf8
        ).write(to: URL(fileURLWithPath: config))
        process = try ChildProcess([sshd, "-D", "-e", "-f", config])
        let port = port
        let process = process
        try await waitUntil(timeout: 300, "sshd to listen on 127.0.0.1:\(port)") {
            if !process.isRunning { throw TestSupportError("sshd exited: \(process.log())") }
            return isListening(port: port)
        }
    }

    /// `ssh://<user>@127.0.0.1:<port>/<served path>`.
    var url: String { "ssh://\(user)@127.0.0.1:\(port)\(servedPath)" }

    /// The remote with the authorised key (or `privateKey`) and the real known_hosts (or `knownHosts`).
    func remote(privateKey: String? = nil, knownHosts: String? = nil) -> GitRemote {
        GitRemote(
            url: url,
            credentials: .sshKey(
                username: user, privateKey: privateKey ?? clientKey.privateKey,
                knownHosts: knownHosts ?? self.knownHosts),
            timeout: .seconds(30))
    }

    /// A new key pair in the test folder.
    func makeKey(name: String) throws -> (privateKey: String, publicKey: String) {
        let path = directory.appendingPathComponent(name).path
        try runChecked(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path])
        return (path, try String(contentsOfFile: path + ".pub", encoding: .utf8))
    }

    /// Writes a known_hosts file; returns its path.
    func writeKnownHosts(name: String, lines: [String]) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    deinit { process.stop() }
}
