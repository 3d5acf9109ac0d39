import SyncCore

/// How a region's rollout is judged before the next region begins: Prometheus checks that must hold for the whole
/// bake time, and HTTP probes that must answer as expected.
///
/// Rules of the gate (see ``MetricGate``): every check and probe is evaluated once per ``interval``, from the start
/// of the bake time to its end (both included); the first violation fails the gate at once; a check whose query
/// returns no sample (an empty vector or NaN) fails with "no data" unless it has a ``MetricCheck/valueWhenEmpty``;
/// when Prometheus cannot be reached or rejects a query, the gate fails closed unless ``failOpen`` is set.
public struct GateConfig: Sendable, Hashable {
    /// Prometheus' base URL, e.g. `http://prometheus.istio-system:9090`; queries go to `<url>/api/v1/query`.
    /// Printed redacted: credentials in it never reach a message.
    public var prometheusURL: RedactedURL
    /// The named PromQL checks, evaluated in order each interval.
    public var checks: [MetricCheck]
    /// HTTP probes, checked each interval after the checks.
    public var probes: [HTTPProbe]
    /// How long the checks must hold.
    public var bakeTime: Duration
    /// Time between two evaluations of every check and probe.
    public var interval: Duration
    /// How long one query or probe may take (connection included) before it counts as unreachable.
    public var requestTimeout: Duration
    /// Pass instead of failing when Prometheus is unreachable or rejects a query; false (fail closed) by default,
    /// since a gate that cannot see must not let a bad revision through.
    public var failOpen: Bool

    /// A gate from its parts; `failOpen` false (fail closed) unless said otherwise.
    public init(
        prometheusURL: String, checks: [MetricCheck], probes: [HTTPProbe] = [], bakeTime: Duration,
        interval: Duration, requestTimeout: Duration = .seconds(5), failOpen: Bool = false
    ) {
        self.prometheusURL = RedactedURL(prometheusURL)
        self.checks = checks
        self.probes = probes
        self.bakeTime = bakeTime
        self.interval = interval
        self.requestTimeout = requestTimeout
        self.failOpen = failOpen
    }
}

/// One named PromQL check: the query's value compared with a threshold, e.g. `error-rate < 0.05`.
public struct MetricCheck: Sendable, Hashable {
    /// A short name shown in reports and logs, e.g. `error-rate`.
    public var name: String
    /// An instant PromQL query returning a scalar or a vector; every sample of a vector must hold.
    public var query: String
    /// How the value must compare with ``threshold``.
    public var comparison: Comparison
    /// The bound.
    public var threshold: Double
    /// The value to use when the query returns no sample; nil (the default) fails the gate with "no data".
    ///
    /// Why it exists: a ratio such as `sum(rate(5xx)) / sum(rate(all))` has no sample at all while nothing has
    /// failed yet, which for an error rate means 0, not "unknown".
    public var valueWhenEmpty: Double?

    /// A check from its parts.
    public init(
        name: String, query: String, comparison: Comparison, threshold: Double, valueWhenEmpty: Double? = nil
    ) {
        self.name = name
        self.query = query
        self.comparison = comparison
        self.threshold = threshold
        self.valueWhenEmpty = valueWhenEmpty
    }

    /// How a value is compared with a threshold.
    public enum Comparison: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case lessThan = "<"
        case lessThanOrEqual = "<="
        case greaterThan = ">"
        case greaterThanOrEqual = ">="

        /// Whether `value` compared with `threshold` holds; never for NaN.
        public func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .lessThan: return value < threshold
            case .lessThanOrEqual: return value <= threshold
            case .greaterThan: return value > threshold
            case .greaterThanOrEqual: return value >= threshold
            }
        }

        /// The operator: `<`, `<=`, `>` or `>=`.
        public var description: String { rawValue }
    }
}

/// An HTTP GET that must answer with one status code, e.g. a service's `/healthz` answering 200.
public struct HTTPProbe: Sendable, Hashable {
    /// The URL fetched; printed redacted.
    public var url: RedactedURL
    /// The status it must answer with.
    public var expectedStatus: Int

    /// A probe from its parts.
    public init(url: String, expectedStatus: Int = 200) {
        self.url = RedactedURL(url)
        self.expectedStatus = expectedStatus
    }
}
