import RolloutEngine
import AgentWebhook
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The agent's HTTP endpoint (hummingbird): `/metrics`, `/healthz`, `/readyz`, `/status`, `POST /hooks/git`.
enum AgentHTTP {
    /// Largest webhook body read (GitHub caps deliveries at 25 MB).
    static let maxBody = 25 << 20

    static func router(
        config: AgentConfig, state: AgentState, metrics: AgentMetrics, wakeup: Wakeup, secret: [UInt8]?,
        logger: Logger
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            if await state.ready { return text(.ok, "ready\n") }
            let reason = await state.lastPollError.map { "not ready: cannot read the config repository: \($0)\n" }
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
            let body = await state.lastRollout ?? "{}"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
        }
        let branch = config.repo?.branch ?? "main"
        router.post("/hooks/git") { request, _ -> Response in
            guard let secret else {
                metrics.countWebhook("refused")
                return text(.notFound, "webhooks are off: set agent.webhookSecretFile\n")
            }
            var request = request
            let buffer = try await request.collectBody(upTo: maxBody)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            switch Webhook.verify(
                headers: headers, body: Array(buffer.readableBytesView), secret: secret, branch: branch)
            {
            case .refused(let why):
                metrics.countWebhook("refused")
                logger.warning("webhook refused", metadata: ["reason": "\(why)"])
                return text(.unauthorized, "refused: \(why)\n")
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

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
