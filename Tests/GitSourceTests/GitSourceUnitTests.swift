import SyncCore
import Foundation
import Testing

@testable import GitSource

/// The small pure parts: URL redaction, transports, known_hosts matching, error messages.
@Suite struct GitSourceUnitTests {
    @Test(arguments: [
        ("https://user:s3cret@example.com/repo.git", "https://user:***@example.com/repo.git"),
        ("https://ghp_0123456789abcdefghijABCDEF@github.com/o/r", "https://***@github.com/o/r"),
        ("https://git@example.com/o/r", "https://git@example.com/o/r"),
        ("ssh://git@example.com:2222/o/r", "ssh://git@example.com:2222/o/r"),
        (
            "failed to fetch 'https://a:b@h/x' and 'http://c:d@i/y'",
            "failed to fetch 'https://a:***@h/x' and 'http://c:***@i/y'"
        ),
        ("/srv/git/config.git", "/srv/git/config.git"),
    ])
    func redactsCredentialsInURLs(text: String, expected: String) {
        #expect(Redaction.scrub(text) == expected)
    }

    @Test func transportsAndHosts() {
        #expect(GitTransport(url: "file:///srv/x.git") == .local)
        #expect(GitTransport(url: "/srv/x.git") == .local)
        #expect(GitTransport(url: "./x.git") == .local)
        #expect(GitTransport(url: "git://127.0.0.1:9418/x.git") == .git)
        #expect(GitTransport(url: "https://example.com/x.git") == .https)
        #expect(GitTransport(url: "ssh://git@example.com/x.git") == .ssh)
        #expect(GitTransport(url: "git@example.com:org/x.git") == .ssh)
        #expect(GitURLHost(url: "ssh://git@example.com:2222/x.git") == GitURLHost(url: "ssh://example.com:2222/y"))
        #expect(GitURLHost(url: "ssh://git@example.com:2222/x.git")?.port == 2222)
        #expect(GitURLHost(url: "git@example.com:org/x.git")?.host == "example.com")
        #expect(GitURLHost(url: "ssh://[::1]:22/x")?.host == "::1")
        #expect(GitSourceModule.libgit2Version.hasPrefix("1."))
        #expect(GitSourceModule.supportsThreads)
    }

    @Test func knownHostsVerdicts() {
        let file = KnownHosts(
            text: """
                # comment
                git.example.com,10.0.0.7 ssh-ed25519 AAAAKEY1 ops@example
                [git.example.com]:2222 ssh-ed25519 AAAAKEY2
                *.internal ssh-rsa AAAAKEY3
                !bad.internal,*.internal ssh-ed25519 AAAAKEY4
                @revoked git.example.com ssh-rsa AAAAOLD
                |1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAHASHED
                @cert-authority *.example.com ssh-rsa AAAACA
                """)
        #expect(file.entries.count == 5)
        #expect(file.verdict(host: "git.example.com", port: nil, base64Key: "AAAAKEY1") == .trusted)
        #expect(file.verdict(host: "10.0.0.7", port: 22, base64Key: "AAAAKEY1") == .trusted)
        #expect(file.verdict(host: "git.example.com", port: 2222, base64Key: "AAAAKEY2") == .trusted)
        #expect(
            file.verdict(host: "git.example.com", port: 2222, base64Key: "AAAAKEY1")
                == .mismatch(listedTypes: ["ssh-ed25519"]))
        #expect(file.verdict(host: "git.example.com", port: nil, base64Key: "AAAAOLD") == .revoked)
        #expect(file.verdict(host: "build.internal", port: nil, base64Key: "AAAAKEY3") == .trusted)
        #expect(
            file.verdict(host: "bad.internal", port: nil, base64Key: "AAAAKEY4") == .mismatch(listedTypes: ["ssh-rsa"]))
        #expect(file.verdict(host: "unknown.example.org", port: nil, base64Key: "AAAAKEY1") == .unknownHost)
        #expect(KnownHosts.glob("g?t.*.com", "git.example.com"))
        #expect(!KnownHosts.glob("*.com", "example.org"))
    }

    @Test func errorMessagesSayWhatWhyAndWhatToDo() {
        let conflict = GitSourceError.revertConflict(
            commit: "0123456789abcdef", branch: "main", paths: ["mesh/base/deployment.yaml"])
        #expect(
            conflict.description
                == "revert of 0123456789abcdef onto main conflicts in mesh/base/deployment.yaml; nothing was written: "
                + "revert by hand, or roll back to an earlier commit")
        let escape = GitSourceError.symlinkEscapes(path: "mesh/a.yaml", target: "../../x", commit: "abc")
        #expect(escape.description.hasPrefix("abc: mesh/a.yaml: symlink to '../../x' points outside the repository"))
        let transport = GitSourceError.transportUnsupported(scheme: "ssh", remote: "ssh://h/x")
        #expect(transport.description.contains("libgit2 1."))
    }
}
