import RolloutEngine
import Applier
import AgentWebhook
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import SyncCore

/// The agent's HTTP endpoint (hummingbird): `/metrics`, `/healthz`, `/readyz`, `/status`, `POST /hooks/git`.
///
/// Hostile clients are bounded (`agent.*`, README "The agent"): at most `maxConnections` connections, each closed
/// after `idleTimeout` without a request (one that sends nothing, or its head too slowly, or stalls); a webhook body
/// of at most `webhookBodyLimit` bytes, refused by its `Content-Length` before it is read, arriving within
/// `requestTimeout`; a response sent before its request's body arrived closes the connection rather than reading
/// the rest. Error text on `/status` and `/readyz` is scrubbed of credentials where it is rendered.
enum AgentHTTP {
    /// The routes; `secret` nil turns webhooks off (404).
    static func router(
        config: AgentConfig, state: AgentState, metrics: AgentMetrics, wakeup: Wakeup, secret: [UInt8]?,
        logger: Logger
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            if await state.ready {
                // A standby replica is ready (it takes over when the leader goes); it says so.
                if let standby = await state.standby { return text(.ok, "ready (\(standby))\n") }
                return text(.ok, "ready\n")
            }
            let reason = await state.lastPollError.map {
                "not ready: cannot read the config repository: \(Redaction.scrubCredentials($0))\n"
            }
            return text(.serviceUnavailable, reason ?? "not ready: the first sync pass has not finished\n")
        }
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emit())))
        }
        router.get("/status") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let body = await state.lastStatus ?? "{}"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
        }
        let branch = config.repo?.branch ?? "main"
        let bodyLimit = config.agent.webhookBodyLimit
        let requestTimeout = config.agent.requestTimeout
        router.post("/hooks/git") { request, _ -> Response in
            guard let secret else {
                metrics.countWebhook("refused")
                return text(.notFound, "webhooks are off: set agent.webhookSecretFile\n")
            }
            func refuse(_ status: HTTPResponse.Status, _ why: String) -> Response {
                metrics.countWebhook("refused")
                logger.warning("webhook refused", metadata: ["reason": "\(Redaction.scrubCredentials(why))"])
                return text(status, "refused: \(why)\n")
            }
            // A declared length over the limit is refused before a byte of the body is read.
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > bodyLimit {
                return refuse(.contentTooLarge, "a body of \(length) bytes is over the limit of \(bodyLimit)")
            }
            let body: ByteBuffer
            switch try await readBody(request.body, limit: bodyLimit, timeout: requestTimeout) {
            case .complete(let buffer): body = buffer
            case .tooLarge: return refuse(.contentTooLarge, "the body is over the limit of \(bodyLimit) bytes")
            case .timedOut:
                return refuse(.requestTimeout, "the body did not arrive within \(requestTimeout.formattedSeconds)")
            }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            switch Webhook.verify(
                headers: headers, body: Array(body.readableBytesView), secret: secret, branch: branch)
            {
            case .refused(let why):
                return refuse(.unauthorized, why)
            case .ignored(let why):
                metrics.countWebhook("ignored")
                return text(.ok, "ignored: \(why)\n")
            case .push(let ref, let after):
                metrics.countWebhook("accepted")
                logger.info("webhook: push", metadata: ["ref": "\(ref)", "git.revision": "\(after ?? "?")"])
                await wakeup.wake(.webhook)
                return text(.accepted, "sync started\n")
            }
        }
        return router
    }

    /// The HTTP service on `host:port`: `router` behind hummingbird's HTTP/1 server with `agent.idleTimeout`,
    /// `agent.maxConnections` (``ConnectionLimiter``) and ``EarlyResponseCloser``.
    static func application(
        router: Router<BasicRequestContext>, agent: AgentConfig.Agent, host: String, port: Int,
        metrics: AgentMetrics, logger: Logger
    ) -> some Service {
        let connections = OpenConnections(limit: agent.maxConnections, logger: logger) {
            metrics.countRefusedConnection()
        }
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionLimiter(connections), EarlyResponseCloser()],
            idleTimeout: TimeAmount(agent.idleTimeout))
        return Application(
            router: router, server: .http1(configuration: http1),
            configuration: .init(address: .hostname(host, port: port), serverName: "syncagent"),
            onServerRunning: { channel in
                logger.info("listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            },
            logger: logger)
    }

    /// What became of a request body.
    enum BodyRead: Sendable {
        /// All of it, within the limit.
        case complete(ByteBuffer)
        /// More than the limit arrived; the rest was not read.
        case tooLarge
        /// It had not all arrived in time; the rest was not read.
        case timedOut
    }

    /// Reads `body`, at most `limit` bytes, for at most `timeout` (a client that sends slowly, byte by byte, keeps
    /// its connection from going idle, so the idle timeout alone would not end it).
    static func readBody(_ body: RequestBody, limit: Int, timeout: Duration) async throws -> BodyRead {
        try await withThrowingTaskGroup(of: BodyRead.self) { group in
            group.addTask {
                do {
                    return .complete(try await body.collect(upTo: limit))
                } catch is NIOTooManyBytesError {
                    return .tooLarge
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            return try await group.next() ?? .timedOut
        }
    }

    /// `/status`'s body: the last rollout as `sync -o json` prints it, every string scrubbed of credentials
    /// (``Redaction/scrubCredentials(_:)``): its messages and problems quote errors from Git, clusters and gates.
    static func statusJSON(_ rollout: Value) -> String {
        func scrubbed(_ value: Value) -> Value {
            switch value {
            case .string(let text): return .string(Redaction.scrubCredentials(text))
            case .array(let items): return .array(items.map(scrubbed))
            case .object(var members):
                for (key, member) in members { members[key] = scrubbed(member) }
                return .object(members)
            default: return value
            }
        }
        return scrubbed(rollout).prettyJSONString
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
