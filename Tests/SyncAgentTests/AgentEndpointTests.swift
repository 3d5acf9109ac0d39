import AgentWebhook
import Foundation
import SyncCore
import TestSupport
import Testing

@testable import SyncAgent

/// The agent's HTTP endpoint against hostile clients, end to end: the release binary, raw sockets on loopback. Each
/// test starts an agent of its own with the limits it needs (``EndpointAgent``: no kubesim).
// Serialized: the tests measure how soon the agent answers or closes; run side by side on a 2-core machine they would
// measure each other.
@Suite(.serialized)
struct AgentEndpointTests {
    /// `syncagent run` with only its HTTP endpoint in play: a one-commit repository and one region whose API server
    /// is not there, so an agent starts in a moment.
    final class EndpointAgent: Sendable {
        static let secret = "s3cret-hook"
        let work: TemporaryDirectory
        let process: ChildProcess
        let port: Int

        /// - Parameters:
        ///   - agent: more `agent:` keys, e.g. `idleTimeout: 1s`.
        ///   - repoURL: the repository (default: a local bare one with one commit).
        ///   - kubeServer: the region's API server URL (default: a closed loopback port).
        init(agent: String = "", repoURL: String? = nil, kubeServer: String? = nil) async throws {
            let work = try TemporaryDirectory(prefix: "endpoint")
            self.work = work
            let origin = work.path + "/origin.git"
            let clone = work.path + "/clone"
            try await runChecked(["git", "init", "-q", "--bare", "-b", "main", origin])
            try await runChecked(["git", "clone", "-q", origin, clone])
            try work.write(
                "clone/mesh/base/flags.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: default}\n")
            try await blocking { try SyncMesh.commitAll(clone: clone, message: "One ConfigMap") }
            try work.write("hook-secret", Self.secret + "\n")
            let server = try kubeServer ?? "http://127.0.0.1:\(freePort())"
            try work.write(
                "kubeconfig",
                """
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "\(server)"}}]
                users: [{name: u, user: {token: kube-token-not-shown}}]
                contexts: [{name: r1, context: {cluster: c, user: u}}]
                current-context: r1

                """)
            let extra = agent.isEmpty ? "" : ", " + agent
            try work.write(
                "syncagent.yaml",
                """
                repo: {url: "\(repoURL ?? "file://" + origin)", branch: main, path: mesh, pollInterval: 1h}
                regions:
                  - {name: r1, kubeconfig: \(work.path)/kubeconfig}
                agent: {cache: \(work.path)/cache, webhookSecretFile: \(work.path)/hook-secret\(extra)}

                """)
            port = try freePort()
            process = try ChildProcess([
                productPath("syncagent"), "run", "--config", work.path + "/syncagent.yaml", "--listen",
                "127.0.0.1:\(port)",
            ])
            let port = port
            let process = process
            try await waitUntil(timeout: 300, "the agent to listen on \(port); log:\n\(process.log())") {
                isListening(port: port)
            }
        }

        deinit { process.stop() }

        /// A new connection.
        func connect() throws -> RawConnection { try RawConnection(port: port) }

        /// GET `path` on a connection of its own.
        func get(_ path: String) async throws -> (status: Int, body: String)? {
            let connection = try connect()
            return try await blocking { connection.request("GET", path) }
        }

        /// The exposition line of `metric` in `/metrics`, if there is one.
        func metric(_ metric: String) async throws -> String? {
            let text = try await get("/metrics")?.body ?? ""
            return text.split(separator: "\n").first { $0.hasPrefix(metric + " ") || $0.hasPrefix(metric + "{") }
                .map(String.init)
        }
    }

    /// A signed push delivery of `body` with `Content-Length`.
    static func signedPush(_ body: String) -> String {
        let signature = Webhook.signature(body: Array(body.utf8), secret: Array(EndpointAgent.secret.utf8))
        return "POST /hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "X-GitHub-Event: push\r\nX-Hub-Signature-256: \(signature)\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            + body
    }

    static let pushPayload = #"{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}"#

    /// `body` in HTTP/1.1 chunks of 64 KiB, then the last chunk.
    static func chunked(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset < body.count {
            let end = min(offset + 65536, body.count)
            out += Array((String(end - offset, radix: 16) + "\r\n").utf8) + body[offset..<end] + Array("\r\n".utf8)
            offset = end
        }
        return out + Array("0\r\n\r\n".utf8)
    }

    @Test func aDeclaredBodyOverTheLimitIsRefusedWith413BeforeAnyOfItIsRead() async throws {
        // The idle timeout is far beyond the test's wait: a close can only be the agent's answer to the 413.
        let agent = try await EndpointAgent(agent: "idleTimeout: 600s")
        let connection = try agent.connect()
        let started = ContinuousClock.now
        let answer = try await blocking {
            connection.send(
                "POST /hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=\(String(repeating: "0", count: 64))\r\n"
                    + "Content-Length: \(50 << 20)\r\n\r\n{\"ref\":")
            return connection.read(timeout: 120)  // a safety net: the agent closes the connection long before
        }
        let elapsed = ContinuousClock.now - started
        #expect(RawConnection.status(answer.text) == 413, "\(answer.text)")
        #expect(answer.text.lowercased().contains("connection: close"), "\(answer.text)")
        #expect(answer.text.contains("a body of 52428800 bytes is over the limit of 1048576"), "\(answer.text)")
        #expect(answer.closed, "the agent waited for the 50 MiB body")
        print("413 and close for Content-Length 50 MiB after \(elapsed)")
        // Still serving; the delivery counted as refused.
        #expect(try await agent.get("/healthz")?.status == 200)
        #expect(try await agent.metric("syncagent_webhooks_total") == #"syncagent_webhooks_total{result="refused"} 1"#)
    }

    @Test func aChunkedBodyOneByteOverTheLimitIsRefusedWith413AndOneAtTheLimitIsRead() async throws {
        let agent = try await EndpointAgent(agent: "idleTimeout: 600s")
        let limit = 1 << 20
        let head =
            "POST /hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\n"
            + "Transfer-Encoding: chunked\r\n"
        // At the limit: a signed push padded with JSON whitespace to exactly 1 MiB is read, verified and accepted.
        let atLimit =
            Array(Self.pushPayload.utf8) + [UInt8](repeating: 0x20, count: limit - Self.pushPayload.utf8.count)
        let signature = Webhook.signature(body: atLimit, secret: Array(EndpointAgent.secret.utf8))
        let first = try agent.connect()
        let accepted = try await blocking {
            first.send(head + "X-Hub-Signature-256: \(signature)\r\n\r\n")
            first.send(Self.chunked(atLimit))
            return first.read(timeout: 120) { RawConnection.completeResponse($0) != nil }
        }
        #expect(RawConnection.status(accepted.text) == 202, "\(accepted.text)")
        // One byte more: refused once the limit is passed.
        let overLimit = atLimit + [0x20]
        let second = try agent.connect()
        let refused = try await blocking {
            second.send(head + "X-Hub-Signature-256: \(Webhook.signature(body: overLimit, secret: [1]))\r\n\r\n")
            second.send(Self.chunked(overLimit))
            return second.read(timeout: 120) { RawConnection.completeResponse($0) != nil }
        }
        #expect(RawConnection.status(refused.text) == 413, "\(refused.text)")
        #expect(refused.text.contains("the body is over the limit of 1048576 bytes"), "\(refused.text)")

        // A chunked body that would go on to 50 MiB: refused at the limit, and the agent reads no more of it (the
        // client's sends stop succeeding once the socket buffers are full), closing the connection.
        let third = try agent.connect()
        let stream = try await blocking { () -> (sent: Int, text: String, closed: Bool) in
            third.send(head + "X-Hub-Signature-256: sha256=00\r\n\r\n")
            let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x20, count: 65536) + Array("\r\n".utf8)
            var sent = 0
            while sent < 50 << 20, third.send(chunk) { sent += 65536 }
            let answer = third.read(timeout: 120)
            return (sent, answer.text, answer.closed)
        }
        #expect(RawConnection.status(stream.text) == 413, "\(stream.text)")
        #expect(stream.closed)
        #expect(stream.sent < 50 << 20, "the agent read the whole 50 MiB")
        print("a 50 MiB chunked body: the client got \(stream.sent >> 10) KiB out before the agent closed")
    }

    @Test func aSignedPushIsStillAcceptedAndWakesTheReconciler() async throws {
        let agent = try await EndpointAgent()
        // The first pass reads the repository once ("moved").
        try await waitUntil(timeout: 300, "the first poll; log:\n\(agent.process.log())") {
            try await agent.metric("syncagent_git_polls_total") != nil
        }
        let connection = try agent.connect()
        let forged = try await blocking { () -> (status: Int, body: String)? in
            connection.send(Self.signedPush(Self.pushPayload).replacingOccurrences(of: "sha256=", with: "sha256=00"))
            return RawConnection.completeResponse(
                connection.read(timeout: 120) { RawConnection.completeResponse($0) != nil }.text)
        }
        #expect(forged?.status == 401, "\(String(describing: forged))")
        let delivered = try await blocking { () -> (status: Int, body: String)? in
            connection.send(Self.signedPush(Self.pushPayload))
            return RawConnection.completeResponse(
                connection.read(timeout: 120) { RawConnection.completeResponse($0) != nil }.text)
        }
        #expect(delivered?.status == 202, "\(String(describing: delivered))")
        #expect(delivered?.body == "sync started\n")
        // Woken: the poll interval is an hour, so a second read of the repository is the webhook's.
        try await waitUntil(timeout: 300, "a second poll after the webhook; log:\n\(agent.process.log())") {
            try await agent.metric("syncagent_git_polls_total{result=\"unchanged\"}") != nil
        }
        #expect(
            try await agent.metric("syncagent_webhooks_total{result=\"accepted\"}")
                == #"syncagent_webhooks_total{result="accepted"} 1"#)
    }

    @Test func aConnectionThatSendsNothingOrItsHeadSlowlyIsClosedAfterTheIdleTimeout() async throws {
        let agent = try await EndpointAgent(agent: "idleTimeout: 1s")
        let silent = try agent.connect()
        let started = ContinuousClock.now
        let read = try await blocking { silent.read(timeout: 120) }  // a safety net, never the assertion
        let silentFor = ContinuousClock.now - started
        #expect(read.closed && read.text.isEmpty, "\(read.text)")
        #expect(silentFor >= .milliseconds(900), "closed before the idle timeout: \(silentFor)")
        print("a silent connection closed after \(silentFor)")

        // Slowloris: a header line every 200 ms never completes the head, so it never counts as activity.
        let slow = try agent.connect()
        let slowStarted = ContinuousClock.now
        let closed = try await blocking { () -> Bool in
            guard slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n") else { return true }
            for index in 0..<600 {  // two minutes: a safety net
                if !slow.send("X-Slow-\(index): x\r\n") { return true }
                if slow.read(timeout: 0.2).closed { return true }
            }
            return false
        }
        let slowFor = ContinuousClock.now - slowStarted
        #expect(closed, "a slowloris head kept its connection for \(slowFor)")
        #expect(slowFor >= .milliseconds(900))
        print("a slowloris head closed after \(slowFor)")
        #expect(try await agent.get("/healthz")?.status == 200)
    }

    @Test func aWebhookBodySentByteByByteIsRefusedWith408AfterTheRequestTimeout() async throws {
        // Each byte keeps the connection from going idle: only the request timeout ends it.
        let agent = try await EndpointAgent(agent: "idleTimeout: 600s, requestTimeout: 1s")
        let connection = try agent.connect()
        let started = ContinuousClock.now
        let answer = try await blocking { () -> (text: String, closed: Bool) in
            connection.send(
                "POST /hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\nContent-Length: 5000\r\n\r\n")
            var text = ""
            for _ in 0..<1200 {  // two minutes: a safety net
                if !connection.send(" ") { break }
                let read = connection.read(timeout: 0.1)
                text += read.text
                if read.closed || RawConnection.status(text) != nil { break }
            }
            let rest = connection.read(timeout: 120)
            return (text + rest.text, rest.closed)
        }
        let elapsed = ContinuousClock.now - started
        #expect(RawConnection.status(answer.text) == 408, "\(answer.text)")
        #expect(answer.text.contains("the body did not arrive within 1s"), "\(answer.text)")
        #expect(answer.closed)
        #expect(elapsed >= .milliseconds(900))
        print("a byte-by-byte webhook body answered 408 after \(elapsed)")
    }

    @Test func connectionsBeyondTheCapAreClosedAndTheAgentServesAgainOnceTheyGo() async throws {
        let agent = try await EndpointAgent(agent: "idleTimeout: 600s, maxConnections: 4")
        var held: [RawConnection] = []
        for _ in 0..<4 {
            let connection = try agent.connect()
            #expect(try await blocking { connection.request("GET", "/healthz") }?.status == 200)
            held.append(connection)
        }
        // Three more are accepted by the kernel and closed by the agent at once, with nothing read or answered.
        for _ in 0..<3 {
            let extra = try agent.connect()
            let read = try await blocking { extra.read(timeout: 120) }  // a safety net
            #expect(read.closed && read.text.isEmpty, "\(read.text)")
        }
        // The connections already open are served meanwhile.
        let first = held[0]
        #expect(try await blocking { first.request("GET", "/healthz") }?.status == 200)
        held.removeAll()  // closes them
        try await waitUntil(timeout: 120, "a new connection to be served once the others closed") {
            try await agent.get("/healthz")?.status == 200
        }
        let refused = try #require(try await agent.metric("syncagent_http_connections_refused_total"))
        #expect((Int(refused.split(separator: " ").last ?? "") ?? 0) >= 3, "\(refused)")
        #expect(agent.process.log().contains("connection refused: too many open"), "\(agent.process.log())")
    }

    @Test func statusAndReadyzCarryNoCredentials() async throws {
        // The region's API server URL carries a password and a token in its query: the transport error quoting it
        // becomes the region's message on /status.
        let token = "glpat-Zx81kQ2mN7vB4cD9eF3g"
        let agent = try await EndpointAgent(
            kubeServer: "http://admin:hunter2@127.0.0.1:\(try freePort())/?access_token=\(token)")
        var status = ""
        try await waitUntil(timeout: 300, "a rollout on /status; log:\n\(agent.process.log())") {
            status = try await agent.get("/status")?.body ?? ""
            return status.contains("\"region\": \"r1\"") && status.contains("\"message\"")
        }
        #expect(!status.contains("hunter2"), "\(status)")
        #expect(!status.contains(token), "\(status)")
        #expect(status.contains("admin:***@127.0.0.1"), "\(status)")
        #expect(status.contains("access_token=***"), "\(status)")

        // A repository that cannot be read: /readyz says why, without the password.
        let unreadable = try await EndpointAgent(
            repoURL: "http://deploy:hunter2@127.0.0.1:\(try freePort())/mesh.git?private_token=\(token)")
        var readyz: (status: Int, body: String)?
        try await waitUntil(timeout: 300, "/readyz to give the repository error") {
            readyz = try await unreadable.get("/readyz")
            return readyz?.body.contains("cannot read the config repository") ?? false
        }
        #expect(readyz?.status == 503)
        #expect(readyz?.body.contains("hunter2") == false, "\(String(describing: readyz))")
        #expect(readyz?.body.contains(token) == false, "\(String(describing: readyz))")
    }
}
