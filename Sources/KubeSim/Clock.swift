import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock helpers: RFC 3339 timestamps as Kubernetes writes them (`2026-01-02T03:04:05Z`).
enum WallClock {
    /// Seconds since the epoch.
    static func now() -> Double { Date().timeIntervalSince1970 }

    /// RFC 3339 in UTC, seconds precision.
    static func timestamp(_ seconds: Double = now()) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Parses an RFC 3339 UTC timestamp written by ``timestamp(_:)``.
    static func parse(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int32($0) }
        guard fields.count == 6 else { return nil }
        var parts = tm()
        parts.tm_year = fields[0] - 1900
        parts.tm_mon = fields[1] - 1
        parts.tm_mday = fields[2]
        parts.tm_hour = fields[3]
        parts.tm_min = fields[4]
        parts.tm_sec = fields[5]
        return Double(timegm(&parts))
    }
}
