import Synchronization

/// The Lease fence on one client: while armed, every request that could change the cluster (any method but `GET`,
/// dry runs aside) first asks whether this process may still write to the region, and fails with
/// ``ApplierError/notHolder(operation:message:)`` — before anything is sent — when it may not. Requests to the
/// Lease itself are the elector's, which uses a client of its own (never armed).
///
/// Unarmed (one agent, no leader election), it costs one lock per write and refuses nothing.
public final class WriteFence: Sendable {
    /// Answers nil when a write may go on, or why not ("the Lease of region X is held by Y").
    public typealias Check = @Sendable () -> String?

    /// Seconds a write starting now may take: until another replica could hold the Lease. nil: no bound.
    public typealias Remaining = @Sendable () -> Double?

    private let check = Mutex<(check: Check, remaining: Remaining?)?>(nil)

    public init() {}

    /// Makes every later write ask `check` first, and end (its transfer cut) within `remaining`: a write cannot
    /// land after the Lease could have passed to another replica.
    public func arm(_ check: @escaping Check, remaining: Remaining? = nil) {
        self.check.withLock { $0 = (check, remaining) }
    }

    /// Why a write may not go now; nil when it may (or when the fence is not armed).
    public func refusal() -> String? {
        check.withLock { $0 }?.check()
    }

    /// How long a write starting now may take; nil when unbounded.
    public func remaining() -> Double? {
        check.withLock { $0 }?.remaining?()
    }

    /// Whether a request changes the cluster: any method but `GET`, and not a dry run.
    static func changesCluster(method: String, path: String) -> Bool {
        guard method != "GET" else { return false }
        guard let query = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return true }
        return !query.split(separator: "&").contains("dryRun=All")
    }
}
