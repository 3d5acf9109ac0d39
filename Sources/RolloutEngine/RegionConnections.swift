import Applier
import Foundation
import Logging
import Synchronization
import SyncCore

/// One client and one live-state cache per region for the life of a process (the agent): connections, TLS
/// sessions and discovery are kept between passes, and the watches keep the cache current. A one-shot command
/// has none (it reads the cluster directly).
public final class RegionConnections: Sendable {
    /// A region's long-lived client and its cache.
    public struct Connection: Sendable {
        public let client: KubeClient
        public let live: LiveCache
        /// What earlier passes proved settled here (kept in a file under ``ledgerFolder`` when there is one).
        public let ledger: SettledLedger
    }

    /// The check whose proofs the ledgers keep: the client-side settle check of this build's Differ, in
    /// server-side mode, for the field manager `syncagent`. Bump its revision whenever that check changes what it
    /// calls settled: a ledger written by another checker is not read.
    public static let settleChecker = "Differ.isInSyncWithoutDryRun/1 serverSide syncagent"

    private let logger: Logger
    private let options: LiveCache.Options
    private let userAgent: String
    private let leases: LeaseCoordinator?
    /// Where each region's settled ledger is kept between processes; nil keeps it in memory.
    public let ledgerFolder: String?
    private let made = Mutex<[String: Connection]>([:])
    /// The regions a ``warm(_:timeout:)`` is under way for.
    private let warming = Mutex<Set<String>>([])

    /// With `leases` (leader election), every write of a region's client first asks whether this process holds
    /// the region's Lease, and must end before another replica could take it (``WriteFence``); the User-Agent
    /// names the replica to the API servers.
    public init(
        logger: Logger, options: LiveCache.Options = LiveCache.Options(), leases: LeaseCoordinator? = nil,
        ledgerFolder: String? = nil
    ) {
        self.ledgerFolder = ledgerFolder
        self.logger = logger
        self.options = options
        self.userAgent = leases.map { LeaseCoordinator.userAgent($0.identity) } ?? "syncagent"
        self.leases = leases
    }

    deinit {
        stop()
    }

    /// The region's connection, made on first use. The cache always keeps the ConfigMaps of `syncagent-system`
    /// (syncagent's own records).
    public func connection(_ region: RegionTarget) throws -> Connection {
        if let existing = made.withLock({ $0[region.name] }) { return existing }
        var logger = logger
        logger[metadataKey: "region"] = "\(region.name)"
        let client = try RegionClient(
            region, logger: logger, options: KubeClientOptions(maxConcurrentRequests: 32, userAgent: userAgent)
        ).client
        if let leases {
            let name = region.name
            client.fence.arm({ leases.refusal(for: name) }, remaining: { leases.remaining(for: name) })
        }
        let fresh = Connection(
            client: client, live: LiveCache(client: client, options: options, logger: logger),
            ledger: SettledLedger(
                file: ledgerFolder.map { Self.ledgerFile(in: $0, for: region, server: client.context.server) },
                checker: Self.settleChecker))
        let connection = made.withLock { made -> Connection in
            if let existing = made[region.name] { return existing }
            made[region.name] = fresh
            return fresh
        }
        if connection.live === fresh.live {
            // In syncagent-system only (a revision with ConfigMaps widens it): its RBAC grants no more.
            fresh.live.track([Inventory.configMapRef.gvk], namespace: Inventory.namespace)
        } else {
            fresh.live.stop()
        }
        return connection
    }

    /// The region's ledger file in `folder`: named by the region, its server, kubeconfig and context, so that a
    /// region pointed at another cluster starts afresh.
    public static func ledgerFile(in folder: String, for region: RegionTarget, server: String) -> String {
        let identity = [region.name, server, region.kubeconfig ?? "", region.context ?? ""].joined(separator: "\u{0}")
        let hash = StableHash.of(identity)
        let safe = String(region.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        return "\(folder)/\(safe)-\(String(hash, radix: 16)).json"
    }

    /// Tracks `kinds` in the region's cache and waits (up to `timeout`) until those the cluster serves are current;
    /// whether they are. Kinds not served yet (a CRD in the same revision) are tracked but not waited for.
    @discardableResult
    public func prepare(_ region: RegionTarget, kinds: Set<GroupVersionKind>, timeout: Duration) async -> Bool {
        guard let connection = try? connection(region) else { return false }
        connection.live.track(kinds)
        guard let unserved = try? await connection.client.unservedKinds(kinds) else { return false }
        return await connection.live.waitUntilCurrent(kinds.subtracting(unserved), timeout: timeout)
    }

    /// Gets the region ready while the revision renders: its connection (TLS, discovery) and its records'
    /// ConfigMaps, then the kinds its inventory names (the last revision's: most of the next one's), tracked so
    /// that their lists are under way before the plan needs them. Only reads; bounded by `timeout`; ends at once
    /// when cancelled. A kind the inventory names that the revision no longer has is read all the same (its objects
    /// are prune candidates).
    /// A region already being warmed is left to that call. Its settled ledger is read meanwhile, off the
    /// cooperative pool.
    public func warm(_ region: RegionTarget, timeout: Duration = .seconds(10)) async {
        guard warming.withLock({ $0.insert(region.name).inserted }) else { return }
        defer { _ = warming.withLock { $0.remove(region.name) } }
        guard let connection = try? connection(region) else { return }
        let ledger = connection.ledger
        Task { await offThePool { ledger.load() } }
        guard await connection.live.waitUntilCurrent([Inventory.configMapRef.gvk], timeout: timeout),
            let record = connection.live.objects([Inventory.configMapRef])?[Inventory.configMapRef.key],
            let inventory = try? Inventory(configMap: record.body)
        else { return }
        var kinds: Set<GroupVersionKind> = []
        for ref in inventory.objects { kinds.insert(ref.gvk) }
        guard !Task.isCancelled, let unserved = try? await connection.client.unservedKinds(kinds) else { return }
        connection.live.track(kinds.subtracting(unserved))
    }

    /// Every region's cache statistics, by region name.
    public var statistics: [String: LiveCache.Statistics] {
        made.withLock { $0.mapValues(\.live.statistics) }
    }

    /// Stops every watch.
    public func stop() {
        for connection in made.withLock({ Array($0.values) }) { connection.live.stop() }
    }
}
