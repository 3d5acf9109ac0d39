import Hummingbird
import Logging
import NIOCore
import SyncCore

/// A region's plain-HTTP side port: the simulated mesh metrics and the fault controls.
///
/// - `GET /metrics` — Istio metrics (`istio_requests_total`, `istio_request_duration_milliseconds`).
/// - `GET /faults` — the current fault settings as JSON.
/// - `POST /faults/latency?ms=N` — add N ms to every API request (0 clears).
/// - `POST /faults/errors?rate=R&code=C` — fail a fraction R (0..1) of API requests with C (500, 429 or 503).
/// - `POST /faults/down` / `POST /faults/up` — close the region's API port (connections refused) / reopen it.
/// - `POST /faults/partition?userAgent=S` / `POST /faults/heal?userAgent=S` — cut off (and restore) the clients
///   whose User-Agent contains S: their requests are answered 503 before anything is served, as a network
///   partition between one replica and the region looks to it (its calls fail; other clients go on).
/// - `POST /faults/reset` — all of the above off.
struct MetricsServer: Sendable {
    let region: Region
    /// Called once the port listens.
    var onListen: @Sendable () async -> Void = {}

    func run() async throws {
        guard let port = region.metricsPort else { return }
        let router = Router()
        let region = self.region
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: region.telemetry.exposition(region: region.name))))
        }
        router.get("healthz") { _, _ in "ok" }
        router.get("faults") { _, _ in MetricsServer.json(MetricsServer.describe(region.faults.current)) }
        router.post("faults/latency") { request, _ in
            guard let ms = request.uri.queryParameters.get("ms", as: Int.self), ms >= 0 else {
                return MetricsServer.json(["error": "ms must be a non-negative integer"], status: .badRequest)
            }
            region.faults.update { $0.latencyMilliseconds = ms }
            return MetricsServer.json(MetricsServer.describe(region.faults.current))
        }
        router.post("faults/errors") { request, _ in
            let rate = request.uri.queryParameters.get("rate", as: Double.self) ?? -1
            let code = request.uri.queryParameters.get("code", as: Int.self) ?? 500
            guard rate >= 0, rate <= 1, [500, 429, 503].contains(code) else {
                return MetricsServer.json(
                    ["error": "rate must be in 0..1 and code one of 500, 429, 503"], status: .badRequest)
            }
            region.faults.update {
                $0.errorRate = rate
                $0.errorCode = code
            }
            return MetricsServer.json(MetricsServer.describe(region.faults.current))
        }
        router.post("faults/down") { _, _ in
            region.faults.update { $0.down = true }
            return MetricsServer.json(MetricsServer.describe(region.faults.current))
        }
        router.post("faults/up") { _, _ in
            region.faults.update { $0.down = false }
            return MetricsServer.json(MetricsServer.describe(region.faults.current))
        }
        router.post("faults/partition") { request, _ in
            guard let agent = request.uri.queryParameters.get("userAgent"), !agent.isEmpty else {
                return MetricsServer.json(["error": "userAgent is required"], status: .badRequest)
            }
            region.faults.update { $0.partitioned.insert(String(agent)) }
            return MetricsServer.json(MetricsServer.describe(region.faults.current))
        }
        router.post("faults/heal") { request, _ in
            let agent = request.uri.queryParameters.get("userAgent").map { String($0) }
            region.faults.update { settings in
                if let agent { settings.partitioned.remove(agent) } else { settings.partitioned = [] }
            }
            return MetricsServer.json(MetricsServer.describe(region.faults.current))
        }
        router.post("faults/reset") { _, _ in
            region.faults.update { $0 = Faults.Settings() }
            return MetricsServer.json(MetricsServer.describe(region.faults.current))
        }
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in await onListen() },
            logger: quietLogger(region.logger))
        try await app.runService(gracefulShutdownSignals: [])
    }

    static func describe(_ s: Faults.Settings) -> Value {
        [
            "latencyMs": .int(Int64(s.latencyMilliseconds)), "errorRate": .double(s.errorRate),
            "errorCode": .int(Int64(s.errorCode)), "down": .bool(s.down),
            "partitioned": .array(s.partitioned.sorted().map { Value.string($0) }),
        ]
    }

    static func json(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonString)))
    }
}
