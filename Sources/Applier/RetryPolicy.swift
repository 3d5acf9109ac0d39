/// When and how long to wait before trying a request again.
///
/// Retried: connection failures (refused, reset, timed out, nothing received), 429 and every 5xx. Never retried:
/// other 4xx, TLS failures, cancellation. The wait doubles from ``initialBackoff`` up to ``maxBackoff``, with
/// "equal jitter" (half fixed, half random) so that many clients do not retry in step; a `Retry-After` from the
/// server replaces it, up to ``maxRetryAfter``.
public struct RetryPolicy: Sendable, Hashable {
    /// Tries in all, the first included; 1 means no retry.
    public var maxAttempts: Int
    /// Seconds before the first retry (before jitter).
    public var initialBackoff: Double
    /// The longest computed wait, in seconds.
    public var maxBackoff: Double
    /// The longest `Retry-After` honoured, in seconds.
    public var maxRetryAfter: Double

    public init(maxAttempts: Int = 5, initialBackoff: Double = 0.2, maxBackoff: Double = 10, maxRetryAfter: Double = 30)
    {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(0, initialBackoff)
        self.maxBackoff = max(self.initialBackoff, maxBackoff)
        self.maxRetryAfter = max(0, maxRetryAfter)
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Seconds to wait after failed attempt number `attempt` (from 1); `retryAfter` is the server's request.
    public func delay(afterAttempt attempt: Int, retryAfter: Double? = nil) -> Double {
        if let retryAfter, retryAfter > 0 { return min(retryAfter, maxRetryAfter) }
        let exponent = Double(min(max(attempt - 1, 0), 30))
        let base = min(maxBackoff, initialBackoff * pow2(exponent))
        return base / 2 + Double.random(in: 0...(base / 2))
    }

    private func pow2(_ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= 2 }
        return result
    }

    /// Whether a transport failure is worth another try: the connection never happened, broke, or timed out.
    static func isRetryable(_ error: ApplierError) -> Bool {
        guard case .transport(_, let code, _) = error else { return false }
        // COULDNT_RESOLVE_PROXY, COULDNT_RESOLVE_HOST, COULDNT_CONNECT, HTTP2, PARTIAL_FILE, OPERATION_TIMEDOUT,
        // GOT_NOTHING, SEND_ERROR, RECV_ERROR, HTTP2_STREAM.
        return [5, 6, 7, 16, 18, 28, 52, 55, 56, 92].contains(code)
    }
}
