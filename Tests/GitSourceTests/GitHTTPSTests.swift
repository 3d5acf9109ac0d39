import Foundation
import GitSource
import SyncCore
import TestSupport
import Testing

/// HTTPS: TLS verification, certificate pinning, tokens from a file or the environment, and their errors, against
/// `git http-backend` behind a small Python HTTPS server on 127.0.0.1 that demands HTTP basic authentication.
@Suite struct GitHTTPSTests {
    let fixture: GitFixture
    let server: HTTPSGitServer

    init() async throws {
        fixture = try GitFixture()
        server = try await HTTPSGitServer(serving: fixture, user: "deploy", token: "t0ken-from-file")
    }

    private func remote(_ credentials: GitCredentials, pinned: Bool = true) -> GitRemote {
        GitRemote(url: server.url, credentials: credentials, pinnedCertificate: pinned ? server.certificate : nil)
    }

    @Test func fetchesAndPushesWithAPinnedCertificateAndAToken() throws {
        #expect(GitSourceModule.supportsHTTPS, "\(GitSourceModule.featureSummary)")
        let cache = try GitRepository(
            cacheAt: fixture.cachePath(), remote: remote(.token(.file(server.tokenFile), username: "deploy")))
        let result = try cache.fetchIfMoved(branch: "main", knownSHA: nil)
        #expect(result.head == fixture.commits[3])
        #expect(result.fetched)
        #expect(try !cache.fetchIfMoved(branch: "main", knownSHA: result.head).fetched)
        #expect(try cache.files(at: result.head, under: "mesh/base", extensions: ["yaml"]).count == 1)

        let signer = Signature(name: "syncagent", email: "syncagent@example.com", time: Date())
        let revert = try cache.revert(result.head, onBranch: "main", signature: signer)
        #expect(try cache.push(branch: "main") == revert.sha)
        #expect(try fixture.servedHead() == revert.sha)
    }

    @Test func anUntrustedCertificateIsRefused() throws {
        let cache = try GitRepository(
            cacheAt: fixture.cachePath(),
            remote: remote(.token(.file(server.tokenFile), username: "deploy"), pinned: false))
        let error = #expect(throws: GitSourceError.self) { try cache.remoteHead(branch: "main") }
        guard case .hostVerificationFailed(_, let host, let reason) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(host == "127.0.0.1")
        #expect(reason.contains("not trusted"))

        // Pinning another certificate does not help.
        let other = try server.makeCertificate(name: "other")
        let pinnedOther = GitRemote(
            url: server.url, credentials: .token(.file(server.tokenFile), username: "deploy"), pinnedCertificate: other)
        let cache2 = try GitRepository(cacheAt: fixture.cachePath("other"), remote: pinnedOther)
        #expect(throws: GitSourceError.self) { try cache2.remoteHead(branch: "main") }
    }

    @Test func aRefusedTokenIsNamedButNeverShown() throws {
        // HOME's value is not the token. (Tests never set environment variables: other tests read them at once.)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        let cache = try GitRepository(
            cacheAt: fixture.cachePath(), remote: remote(.token(.environment("HOME"), username: "deploy")))
        let error = #expect(throws: GitSourceError.self) { try cache.remoteHead(branch: "main") }
        #expect(
            error
                == .authenticationFailed(
                    remote: server.url, reason: "the server refused the token from environment variable HOME"))
        #expect(error?.description.contains(home) == false)

        let unset = "GITSOURCE_TEST_UNSET_\(UUID().uuidString.prefix(8))"
        let missing = try GitRepository(
            cacheAt: fixture.cachePath("unset"), remote: remote(.token(.environment(unset))))
        let unsetError = #expect(throws: GitSourceError.self) { try missing.remoteHead(branch: "main") }
        #expect(unsetError?.description.contains("environment variable \(unset) is not set") == true)
    }

    @Test func missingCredentialsAreExplained() async throws {
        let none = try GitRepository(cacheAt: fixture.cachePath("none"), remote: remote(.none))
        #expect(
            throws: GitSourceError.authenticationFailed(
                remote: server.url, reason: "the server asks for credentials and none are configured")
        ) { try none.remoteHead(branch: "main") }

        let path = "\(fixture.directory.path)/no-such-token"
        let missing = try GitRepository(cacheAt: fixture.cachePath("missing"), remote: remote(.token(.file(path))))
        let error = #expect(throws: GitSourceError.self) { try missing.remoteHead(branch: "main") }
        #expect(error?.description.contains("cannot read the secret in \(path)") == true)
    }
}

/// `git http-backend` behind Python's HTTPS server on 127.0.0.1, with a self-signed certificate, requiring HTTP
/// basic authentication with one user and token.
final class HTTPSGitServer {
    let process: ChildProcess
    let port: Int
    /// The server's certificate (PEM).
    let certificate: String
    /// A file holding the token.
    let tokenFile: String
    private let directory: URL

    /// `https://127.0.0.1:<port>/config.git`.
    var url: String { "https://127.0.0.1:\(port)/config.git" }

    init(serving fixture: GitFixture, user: String, token: String) async throws {
        let python = try requireTool("python3")
        _ = try requireTool("openssl")
        directory = fixture.directory.url.appendingPathComponent("https")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("server.py")
        try Data(Self.script.utf8).write(to: script)
        tokenFile = directory.appendingPathComponent("token").path
        try Data("\(token)\n".utf8).write(to: URL(fileURLWithPath: tokenFile))
        let key = directory.appendingPathComponent("key.pem").path
        certificate = directory.appendingPathComponent("cert.pem").path
        try Self.makeCertificate(certificate: certificate, key: key)
        // Pushing over HTTP needs receive-pack enabled for the served repository.
        try await runChecked(["git", "--git-dir", fixture.served.path, "config", "http.receivepack", "true"])
        port = try freePort()
        process = try ChildProcess(
            [python, script.path, fixture.servedRoot.path, String(port), certificate, key, user, token],
            environment: GitFixture.environment)
        let port = port
        let process = process
        try await waitUntil(timeout: 300, "the HTTPS git server to listen on 127.0.0.1:\(port)") {
            if !process.isRunning { throw TestSupportError("HTTPS git server exited: \(process.log())") }
            return isListening(port: port)
        }
    }

    /// A new self-signed certificate for 127.0.0.1; returns its PEM path.
    func makeCertificate(name: String) throws -> String {
        let path = directory.appendingPathComponent("\(name).pem").path
        try Self.makeCertificate(certificate: path, key: directory.appendingPathComponent("\(name)-key.pem").path)
        return path
    }

    private static func makeCertificate(certificate: String, key: String) throws {
        try runChecked([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
    }

    deinit { process.stop() }

    /// The server: HTTP basic authentication, then the request handed to `git http-backend` as CGI.
    static let script = #"""
        import base64, http.server, os, ssl, subprocess, sys

        root, port, certificate, key, user, token = sys.argv[1:7]
        expected = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


        class GitHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.serve()

            def do_POST(self):
                self.serve()

            def log_message(self, format, *args):
                sys.stderr.write("%s %s\n" % (self.command, self.path))

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def serve(self):
                body = self.body()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                environment = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                                   QUERY_STRING=query, REQUEST_METHOD=self.command, REMOTE_USER=user,
                                   REMOTE_ADDR="127.0.0.1", CONTENT_TYPE=self.headers.get("Content-Type", ""),
                                   CONTENT_LENGTH=str(len(body)))
                output = subprocess.run(["git", "http-backend"], input=body, env=environment,
                                        capture_output=True).stdout
                separator = b"\r\n\r\n" if b"\r\n\r\n" in output else b"\n\n"
                head, _, content = output.partition(separator)
                status, headers = 200, []
                for line in head.decode().splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)


        server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), GitHandler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """#
}
