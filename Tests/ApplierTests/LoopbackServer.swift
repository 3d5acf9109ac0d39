import Foundation
import Logging
import Synchronization
import TestSupport

/// A CA, a server certificate for 127.0.0.1 / localhost / kube.test, a client certificate signed by the CA, and a
/// second, unrelated CA, made with the `openssl` tool in a temporary folder.
struct TestPKI {
    let folder: TemporaryDirectory
    var caPath: String { folder.path + "/ca.crt" }
    var otherCAPath: String { folder.path + "/other-ca.crt" }
    var serverCertificatePath: String { folder.path + "/server.crt" }
    var serverKeyPath: String { folder.path + "/server.key" }
    var clientCertificatePath: String { folder.path + "/client.crt" }
    var clientKeyPath: String { folder.path + "/client.key" }

    init() throws {
        let openssl = try requireTool("openssl")
        folder = try TemporaryDirectory(prefix: "applier-pki")
        let dir = folder.path
        func ssl(_ arguments: [String]) throws { try runChecked([openssl] + arguments, cwd: folder.url) }
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try ssl(
            ["req", "-x509"] + curve + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test-ca"])
        try ssl(
            ["req", "-x509"] + curve + [
                "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj",
                "/CN=other-ca",
            ])
        try folder.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kube.test\n")
        try folder.write("client.ext", "extendedKeyUsage=clientAuth\n")
        for (name, subject) in [("server", "/CN=loopback"), ("client", "/O=system:masters/CN=test-admin")] {
            try ssl(["req", "-new"] + curve + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
            try ssl(
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out",
                    "\(name).crt", "-days", "2", "-extfile", "\(dir)/\(name).ext",
                ])
        }
    }

    func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}

/// A small HTTPS server in Python on 127.0.0.1 that answers the ways the client must cope with: echo, any status
/// with a Status body, failures that stop after N tries, slow answers (counting how many run at once), bearer
/// tokens checked against a file, and a client certificate's subject.
final class LoopbackServer: Sendable {
    let port: Int
    let pki: TestPKI
    let tokenFile: String
    private let folder: TemporaryDirectory
    private let process: ChildProcess

    var url: String { "https://127.0.0.1:\(port)" }

    /// Starts it; `token` (when given) is required as a bearer token on `/api/...` and `/version` paths.
    init(pki: TestPKI, token: String? = nil) async throws {
        let python = try requireTool("python3")
        self.pki = pki
        folder = try TemporaryDirectory(prefix: "applier-server")
        try folder.write("server.py", loopbackServerScript)
        tokenFile = folder.path + "/expected-token"
        try folder.write("expected-token", token ?? "")
        port = try freePort()
        process = try ChildProcess([
            python, folder.path + "/server.py", String(port), pki.serverCertificatePath, pki.serverKeyPath, pki.caPath,
            tokenFile,
        ])
        let port = port
        let process = process
        try await waitUntil(timeout: 300, "the loopback server on \(port); log: \(process.log())") {
            if !process.isRunning { throw TestSupportError("loopback server exited: \(process.log())") }
            return isListening(port: port)
        }
    }

    /// Changes the token the server accepts.
    func acceptToken(_ token: String) throws {
        try Data(token.utf8).write(to: URL(fileURLWithPath: tokenFile))
    }

    func log() -> String { process.log() }

    deinit { process.stop() }
}

/// Every log line a logger made, for tests that read what was logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    /// A logger at `level` writing here.
    func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = level
        return logger
    }

    var all: [String] { lines.withLock { $0 } }
    var text: String { all.joined(separator: "\n") }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }
}

private struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(event.message) \(fields)")
    }
}

private let loopbackServerScript = #"""
    import json, ssl, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlparse, parse_qs

    port, cert, key, ca, token_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    lock = threading.Lock()
    hits = {}
    stats = {"inFlight": 0, "maxInFlight": 0, "connections": 0}

    def status_body(code, reason, message):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            with lock:
                stats["connections"] += 1

        def log_message(self, *args):
            pass

        def reply(self, code, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = [p for p in url.path.split("/") if p]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            if url.path.startswith("/api") or url.path == "/version":
                expected = open(token_file).read().strip()
                if expected and self.headers.get("Authorization") != "Bearer " + expected:
                    return self.reply(401, status_body(401, "Unauthorized", "Unauthorized"))
            if parts[:1] == ["echo"] or url.path == "/version":
                peer = self.connection.getpeercert() or {}
                subject = dict(x[0] for x in peer.get("subject", ()))
                return self.reply(200, {"method": self.command, "path": self.path, "body": body,
                                        "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "clientCN": subject.get("commonName", ""), "gitVersion": "v0.0.0-loopback"})
            if parts[:1] == ["status"]:
                code = int(parts[1])
                headers = {"Retry-After": query["retryAfter"]} if "retryAfter" in query else {}
                return self.reply(code, status_body(code, query.get("reason", "InternalError"), "status " + str(code)), headers)
            if parts[:1] == ["flaky"]:
                name, failures, code = parts[1], int(parts[2]), int(parts[3])
                with lock:
                    hits[name] = hits.get(name, 0) + 1
                    count = hits[name]
                if count <= failures:
                    headers = {"Retry-After": query["retryAfter"]} if "retryAfter" in query else {}
                    return self.reply(code, status_body(code, "ServiceUnavailable", "try " + str(count)), headers)
                return self.reply(200, {"hits": count})
            if parts[:1] == ["hits"]:
                with lock:
                    return self.reply(200, {"hits": hits.get(parts[1], 0)})
            if parts[:1] == ["slow"]:
                with lock:
                    stats["inFlight"] += 1
                    stats["maxInFlight"] = max(stats["maxInFlight"], stats["inFlight"])
                time.sleep(int(parts[1]) / 1000)
                with lock:
                    stats["inFlight"] -= 1
                return self.reply(200, {"slept": int(parts[1])})
            if parts[:1] == ["stats"]:
                with lock:
                    return self.reply(200, dict(stats))
            return self.reply(404, status_body(404, "NotFound", "the server could not find the requested resource"))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(ca)
    context.verify_mode = ssl.CERT_OPTIONAL
    server = Server(("127.0.0.1", port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("loopback ready", flush=True)
    server.serve_forever()
    """#
