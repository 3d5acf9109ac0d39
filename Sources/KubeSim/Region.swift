import Foundation
import Logging
import Synchronization
import SyncCore

/// One simulated region: its API state (under a lock), its credentials, its fault settings, and its ports.
final class Region: Sendable {
    let name: String
    let index: Int
    let apiPort: Int
    let metricsPort: Int?
    /// The bearer token its kubeconfig user presents (user `kubesim-admin`: every verb).
    let token: String
    /// The token of its read-only user `kubesim-viewer` (get, list, watch; every write is 403 Forbidden).
    let viewerToken: String
    let state: Mutex<RegionState>
    let faults = Faults()
    /// The simulated mesh metrics of this region.
    let telemetry = Telemetry()
    let logger: Logger
    /// Where every answered request is recorded, when `--audit-log` is given.
    let audit: AuditLog?

    init(
        name: String, index: Int, apiPort: Int, metricsPort: Int?, token: String, viewerToken: String = "",
        dataDirectory: String?, audit: AuditLog? = nil, crdEstablishSeconds: Double = 0.2,
        watchBookmarkSeconds: Double = 60, logger: Logger
    ) throws {
        self.viewerToken = viewerToken
        self.audit = audit
        self.name = name
        self.index = index
        self.apiPort = apiPort
        self.metricsPort = metricsPort
        self.token = token
        self.logger = logger
        var journal: Journal? = nil
        var entries: [Journal.Entry] = []
        if let dataDirectory {
            let path = "\(dataDirectory)/objects.jsonl"
            entries = Journal.replay(path: path)
            journal = try Journal(path: path)
        }
        var store = ObjectStore(journal: journal)
        store.restore(entries)
        if let journal { try journal.compact(store.allEntries) }
        var state = RegionState(store: store, regionIndex: index)
        state.crdEstablishSeconds = crdEstablishSeconds
        state.watchBookmarkSeconds = watchBookmarkSeconds
        state.rebuildIndexes()
        state.bootstrap()
        self.state = Mutex(state)
    }

    /// Runs `body` with the state locked. Keep it short: no awaiting, no I/O but the journal's append.
    func withState<T>(_ body: (inout RegionState) throws(APIError) -> T) throws(APIError) -> T {
        try state.withLock { (state: inout RegionState) throws(APIError) -> T in try body(&state) }
    }

    /// Runs a non-failing `body` with the state locked.
    func withState<T>(_ body: (inout RegionState) -> T) -> T {
        state.withLock { (state: inout RegionState) -> T in body(&state) }
    }
}

/// Fault injection for one region, set over its metrics port: API latency, a fraction of failed requests, and
/// the region being down (its API port closed).
final class Faults: Sendable {
    struct Settings: Sendable, Equatable {
        var latencyMilliseconds: Int = 0
        var errorRate: Double = 0
        var errorCode: Int = 500
        var down: Bool = false
        /// User-Agent substrings whose clients are cut off (answered 503).
        var partitioned: Set<String> = []
    }

    private let settings = Mutex(Settings())
    /// Wakes the region's server task when `down` changes.
    private let changes = Mutex<[UUID: AsyncStream<Bool>.Continuation]>([:])

    var current: Settings { settings.withLock { $0 } }

    func update(_ body: (inout Settings) -> Void) {
        let (before, after) = settings.withLock { s -> (Settings, Settings) in
            let before = s
            body(&s)
            return (before, s)
        }
        if before.down != after.down {
            for continuation in changes.withLock({ Array($0.values) }) { continuation.yield(after.down) }
        }
    }

    /// A stream of `down` values, starting with the current one.
    func downStates() -> AsyncStream<Bool> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingNewest(4))
        changes.withLock { $0[id] = continuation }
        continuation.yield(current.down)
        continuation.onTermination = { [weak self] _ in self?.changes.withLock { _ = $0.removeValue(forKey: id) } }
        return stream
    }

    /// The error for a client cut off by a partition (its User-Agent contains a partitioned substring); nil
    /// when it is not.
    func partitionError(userAgent: String) -> APIError? {
        let cut = current.partitioned
        guard !cut.isEmpty, cut.contains(where: { userAgent.contains($0) }) else { return nil }
        return APIError(
            code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request")
    }

    /// The error to answer instead of serving, drawn at the configured rate; nil to serve normally.
    func injectedError() -> APIError? {
        let s = current
        guard s.errorRate > 0, Double.random(in: 0..<1) < s.errorRate else { return nil }
        switch s.errorCode {
        case 429:
            var error = APIError(
                code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.")
            error.retryAfter = 1
            return error
        case 503:
            return APIError(
                code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request"
            )
        default:
            return APIError(
                code: 500, reason: "InternalError", message: "Internal error occurred: injected fault (kubesim)")
        }
    }
}
