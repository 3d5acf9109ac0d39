import SyncCore
import Foundation
import Logging

/// Judges a region after its rollout: queries Prometheus and fetches the probes of a ``GateConfig`` once per
/// interval over the bake time and fails at the first violation.
///
/// Rules:
/// - Rounds run at t = 0, interval, 2 × interval, … and a last one at the end of the bake time, so the checks are
///   seen to hold over the whole of it. Between rounds the gate only waits for the next round's time.
/// - Each check's every sample must hold; the first that does not fails the gate with the check's name, value and
///   threshold.
/// - No sample (an empty vector, or NaN such as 0/0) is "no data", a failure, unless the check has a
///   ``MetricCheck/valueWhenEmpty``: a gate must not pass on traffic it never saw.
/// - Prometheus unreachable, answering non-2xx or an error status, or sending what is not a query result: the gate
///   fails closed, saying so; with ``GateConfig/failOpen`` that check is skipped for the round (logged) and the
///   gate goes on.
/// - A probe that cannot connect or answers another status fails the gate (``GateConfig/failOpen`` concerns
///   Prometheus only).
/// - Every request has the config's timeout; cancelling the calling task fails the gate ("cancelled").
public enum MetricGate {
    /// Runs the gate to its end (pass) or first failure; never throws: every outcome is a ``GateResult``.
    public static func evaluate(_ config: GateConfig, logger: Logger) async -> GateResult {
        let transport: HTTPTransport
        do {
            transport = try HTTPTransport(options: .init(maxConcurrentTransfers: 4))
        } catch {
            return GateResult(passed: false, reason: "cannot start the HTTP transport: \(error)")
        }
        var logger = logger
        logger[metadataKey: "prometheus.url"] = "\(config.prometheusURL)"
        let clock = ContinuousClock()
        let start = clock.now
        let interval = config.interval > .zero ? config.interval : .seconds(1)
        var observations: [GateResult.Observation] = []
        var skipped = 0
        var rounds = 0
        var scheduled = Duration.zero
        while true {
            rounds += 1
            let round = await evaluateRound(config, at: scheduled, transport: transport, logger: logger)
            observations += round.observations
            skipped += round.skipped
            if let failure = round.failure {
                logger.warning("gate failed", metadata: ["gate.reason": "\(failure)"])
                return GateResult(passed: false, reason: failure, observations: observations)
            }
            if scheduled >= config.bakeTime { break }
            scheduled = min(scheduled + interval, config.bakeTime)
            do {
                try await clock.sleep(until: start + scheduled)
            } catch {
                return GateResult(
                    passed: false, reason: "cancelled after \(scheduled.formattedSeconds)", observations: observations)
            }
        }
        let plural = rounds == 1 ? "" : "s"
        var reason = "all checks held for \(config.bakeTime.formattedSeconds) (\(rounds) round\(plural))"
        if skipped > 0 { reason += "; \(skipped) queries got no answer from Prometheus, failing open" }
        logger.info("gate passed", metadata: ["gate.reason": "\(reason)"])
        return GateResult(passed: true, reason: reason, observations: observations)
    }

    /// What one round saw: its observations, the queries skipped (failing open) and the failure, if any.
    private struct Round {
        var observations: [GateResult.Observation] = []
        var skipped = 0
        var failure: String?
    }

    private static func evaluateRound(
        _ config: GateConfig, at time: Duration, transport: HTTPTransport, logger: Logger
    ) async -> Round {
        var round = Round()
        let timeout = max(config.requestTimeout.seconds, 0.1)
        for check in config.checks {
            if Task.isCancelled {
                round.failure = "cancelled at t+\(time.formattedSeconds)"
                return round
            }
            let source = GateResult.Observation.Source.check(
                name: check.name, comparison: check.comparison, threshold: check.threshold)
            let values: [Double]
            do {
                values = try await query(check.query, config.prometheusURL, timeout: timeout, transport: transport)
            } catch {
                if config.failOpen {
                    logger.warning(
                        "Prometheus query failed; failing open",
                        metadata: ["gate.check": "\(check.name)", "error": "\(error)"])
                    round.skipped += 1
                    continue
                }
                round.failure = "check \(check.name) at t+\(time.formattedSeconds): \(error); failing closed"
                return round
            }
            let samples = values.filter { !$0.isNaN }
            if samples.isEmpty {
                guard let fallback = check.valueWhenEmpty else {
                    round.failure =
                        "check \(check.name) at t+\(time.formattedSeconds): no data (query returned no sample): "
                        + check.query
                    return round
                }
                round.observations.append(
                    .init(
                        source: source, time: time, value: fallback,
                        held: check.comparison.holds(fallback, check.threshold)))
            } else {
                for value in samples {
                    round.observations.append(
                        .init(
                            source: source, time: time, value: value,
                            held: check.comparison.holds(value, check.threshold)))
                }
            }
            if let bad = round.observations.last(where: { !$0.held }) {
                round.failure =
                    "check \(check.name) at t+\(time.formattedSeconds): \(String(format: "%.4f", bad.value)) "
                    + "is not \(check.comparison) \(check.threshold.compactDescription)"
                return round
            }
            logger.debug("gate check held", metadata: ["gate.check": "\(check.name)", "gate.values": "\(samples)"])
        }
        for probe in config.probes {
            let source = GateResult.Observation.Source.probe(
                url: probe.url.description, expectedStatus: probe.expectedStatus)
            let response: HTTPResponse
            do {
                response = try await transport.send(
                    HTTPRequest(url: probe.url.unredacted, connectTimeout: timeout, timeout: timeout))
            } catch {
                round.failure = "probe \(probe.url) at t+\(time.formattedSeconds): \(Redaction.scrub("\(error)"))"
                return round
            }
            let held = response.status == probe.expectedStatus
            round.observations.append(.init(source: source, time: time, value: Double(response.status), held: held))
            if !held {
                round.failure =
                    "probe \(probe.url) at t+\(time.formattedSeconds): status \(response.status), "
                    + "expected \(probe.expectedStatus)"
                return round
            }
        }
        return round
    }

    /// Runs one instant query; the samples' values.
    private static func query(
        _ promQL: String, _ baseURL: RedactedURL, timeout: Double, transport: HTTPTransport
    ) async throws(GateQueryError) -> [Double] {
        var base = baseURL.unredacted
        while base.hasSuffix("/") { base.removeLast() }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = promQL.addingPercentEncoding(withAllowedCharacters: allowed) ?? promQL
        let url = "\(base)/api/v1/query?query=\(encoded)"
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(url: url, connectTimeout: timeout, timeout: timeout))
        } catch {
            throw .unreachable(url: baseURL.description, message: Redaction.scrub("\(error)"))
        }
        return try parseQueryResponse(status: response.status, body: response.body)
    }

    /// The sample values of a Prometheus `/api/v1/query` answer: a vector's samples or a scalar; throws for an
    /// error status or body, a matrix or string result, or what is not JSON.
    public static func parseQueryResponse(status: Int, body: [UInt8]) throws(GateQueryError) -> [Double] {
        let json = try? JSONSerialization.jsonObject(with: Data(body))
        guard let object = json as? [String: Any] else {
            throw .invalidResponse(
                "HTTP \(status), not a JSON object: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        if object["status"] as? String != "success" || !(200..<300).contains(status) {
            let kind = object["errorType"] as? String ?? "HTTP \(status)"
            throw .queryFailed("\(kind): \(object["error"] as? String ?? "no error message")")
        }
        guard let data = object["data"] as? [String: Any], let type = data["resultType"] as? String else {
            throw .invalidResponse("no data.resultType")
        }
        func sampleValue(_ pair: Any?) throws(GateQueryError) -> Double {
            guard let pair = pair as? [Any], pair.count == 2, let text = pair[1] as? String else {
                throw .invalidResponse("a sample is not [time, \"value\"]")
            }
            switch text {
            case "+Inf": return .infinity
            case "-Inf": return -.infinity
            default:
                guard let value = Double(text) else {
                    throw .invalidResponse("sample value \"\(text)\" is not a number")
                }
                return value
            }
        }
        switch type {
        case "scalar":
            return [try sampleValue(data["result"])]
        case "vector":
            guard let samples = data["result"] as? [Any] else { throw .invalidResponse("vector result is not a list") }
            var values: [Double] = []
            for sample in samples {
                values.append(try sampleValue((sample as? [String: Any])?["value"]))
            }
            return values
        default:
            throw .invalidResponse("result type \(type), expected vector or scalar")
        }
    }
}

/// Why a Prometheus query gave no value to compare.
public enum GateQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Prometheus could not be reached (refused, timed out).
    case unreachable(url: String, message: String)
    /// Prometheus answered with an error (bad PromQL, timeout, …).
    case queryFailed(String)
    /// The answer is not a query result.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .unreachable(let url, let message): return "Prometheus at \(url) unreachable: \(message)"
        case .queryFailed(let message): return "Prometheus query failed: \(message)"
        case .invalidResponse(let message): return "Prometheus answer unreadable: \(message)"
        }
    }
}
