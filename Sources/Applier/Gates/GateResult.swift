import Foundation

/// What a ``MetricGate`` saw: whether it passed, why, and every value observed, in order.
public struct GateResult: Sendable, Hashable, CustomStringConvertible {
    /// Whether every check and probe held for the whole bake time (or the gate failed open).
    public var passed: Bool
    /// Why: "all checks held for 30s", or the violation, "no data" or the unreachable Prometheus.
    public var reason: String
    /// Every value seen, in the order seen.
    public var observations: [Observation]

    /// A result from its parts.
    public init(passed: Bool, reason: String, observations: [Observation] = []) {
        self.passed = passed
        self.reason = reason
        self.observations = observations
    }

    /// `gate passed: <reason>` (or `failed`), then one line per observation:
    ///
    /// ```
    /// gate passed: all checks held for 3s (4 rounds)
    ///   t+0s error-rate 0.0000 < 0.05 ✓
    ///   t+0s probe http://127.0.0.1:8080/healthz 200 == 200 ✓
    /// ```
    public var description: String {
        var lines = ["gate \(passed ? "passed" : "failed"): \(reason)"]
        lines += observations.map { "  \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One value seen by one check or probe at one round.
    public struct Observation: Sendable, Hashable, CustomStringConvertible {
        /// What was observed.
        public enum Source: Sendable, Hashable {
            /// A metric check's value compared with its threshold.
            case check(name: String, comparison: MetricCheck.Comparison, threshold: Double)
            /// A probe's status code compared with the expected one.
            case probe(url: String, expectedStatus: Int)
        }

        /// The check or probe.
        public var source: Source
        /// When, from the start of the bake time: the round's scheduled time, so descriptions are stable.
        public var time: Duration
        /// The value (a probe's status code).
        public var value: Double
        /// Whether it held.
        public var held: Bool

        /// An observation from its parts.
        public init(source: Source, time: Duration, value: Double, held: Bool) {
            self.source = source
            self.time = time
            self.value = value
            self.held = held
        }

        /// The check's name, or `probe <url>`.
        public var check: String {
            switch source {
            case .check(let name, _, _): return name
            case .probe(let url, _): return "probe \(url)"
            }
        }

        /// `t+2s error-rate 0.4871 < 0.05 ✗` or `t+0s probe http://h/healthz 503 == 200 ✗`.
        public var description: String {
            let mark = held ? "✓" : "✗"
            switch source {
            case .check(let name, let comparison, let threshold):
                return "t+\(time.formattedSeconds) \(name) \(String(format: "%.4f", value)) \(comparison) "
                    + "\(threshold.compactDescription) \(mark)"
            case .probe(let url, let expectedStatus):
                return "t+\(time.formattedSeconds) probe \(url) \(Int(value)) == \(expectedStatus) \(mark)"
            }
        }
    }
}

extension Double {
    /// `0.05`, `1000` (no trailing `.0`).
    public var compactDescription: String {
        if self == rounded(), abs(self) < 1e15 { return String(Int64(self)) }
        return "\(self)"
    }
}

extension Duration {
    /// Seconds as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }

    /// `3s`, `0.5s`.
    public var formattedSeconds: String { "\(seconds.compactDescription)s" }
}
