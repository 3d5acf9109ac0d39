import Applier
import Foundation
import Logging
import Synchronization
import SyncCore

/// Leader election across regions: one Lease per region, in the region's own cluster (no single cluster holds the
/// only lock). Every `retryPeriod` the Leases are tried; a replica tries a region's Lease only when it holds, or
/// cannot reach, every region before it in rollout order, so that the replica holding the first reachable region comes
/// to hold the regions after it too. A replica that holds an earlier region asks the holder of a later one to hand
/// it over (a holder cut off from the earlier regions by a partition would otherwise keep it); the holder does when
/// it holds no region as early.
///
/// The rollout runs on the leader: the holder of the first region it can reach. Writes to a region leave only while
/// its Lease is held (the regions' clients are fenced by ``refusal(for:)``).
public final class LeaseCoordinator: Sendable {
    /// The regions' Leases, in rollout order.
    public let leases: [RegionLease]
    public let identity: String
    public let timing: LeaseTiming
    private let logger: Logger
    private let leading = Mutex(false)

    /// Leases for `regions` (in rollout order), each through a client of its own: a request deadline of one retry
    /// period (at least 2 s), no retries (the next round is the retry), and `identity` in its User-Agent.
    public init(
        regions: [RegionTarget], identity: String, timing: LeaseTiming, name: String = "syncagent",
        logger: Logger
    ) throws {
        self.identity = identity
        self.timing = timing
        self.logger = logger
        // One retry period, at least 2 s: a round (the regions side by side) ends in time for the next, and a
        // renewal that timed out is tried again well within the renew deadline.
        let seconds = max(
            2, Double(timing.retryPeriod.components.seconds) + Double(timing.retryPeriod.components.attoseconds) / 1e18)
        let options = KubeClientOptions(
            maxConcurrentRequests: 2, connectTimeout: seconds, requestTimeout: seconds,
            retry: RetryPolicy(maxAttempts: 1), userAgent: Self.userAgent(identity))
        leases = try regions.map { region in
            RegionLease(
                region: region.name, client: try RegionClient(region, logger: logger, options: options).client,
                identity: identity, timing: timing, name: name, logger: logger)
        }
    }

    /// The User-Agent of every request of a replica: `syncagent/<identity>`, so that an audit log names the writer.
    public static func userAgent(_ identity: String) -> String { "syncagent/\(identity)" }

    /// `<hostname>-<pid>`: the default identity.
    public static var defaultIdentity: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The region's Lease.
    public func lease(of region: String) -> RegionLease? { leases.first { $0.region == region } }

    /// Whether this process may write to `region` now.
    public func holds(_ region: String) -> Bool { lease(of: region)?.held ?? false }

    /// Why this process may not write to `region` now; nil when it may. The regions' clients ask this before
    /// every write.
    public func refusal(for region: String) -> String? {
        guard let lease = lease(of: region) else { return "region \(region) has no Lease" }
        return lease.refusal()
    }

    /// Seconds a write to `region` starting now may take (until another replica could take its Lease); nil when
    /// this process does not hold it.
    public func remaining(for region: String) -> Double? { lease(of: region)?.remaining }

    /// Whether this replica runs the rollout: it holds the Lease of the first region it can reach.
    public var isLeader: Bool {
        guard let first = leases.first(where: { $0.view.reachable != false }) else { return false }
        return first.held
    }

    /// Every region's Lease as last seen, in rollout order.
    public var views: [(region: String, view: LeaseView)] { leases.map { ($0.region, $0.view) } }

    /// One round: every region's Lease at once (a region that does not answer holds up no other's renewal),
    /// each judged by what the round before found of the regions before it; then, in rollout order, the regions
    /// whose turn came in this round (the one before was just taken) are tried again at once.
    public func round() async {
        var views = leases.map(\.view)
        let judged = Self.judge(views)
        await withTaskGroup(of: (Int, LeaseView).self) { group in
            for (index, lease) in leases.enumerated() {
                let (eligible, seniority, claim) = judged[index]
                group.addTask { (index, await lease.step(eligible: eligible, seniority: seniority, claim: claim)) }
            }
            for await (index, view) in group { views[index] = view }
        }
        for index in leases.indices {
            let now = Self.judge(views)[index]
            let before = judged[index]
            guard (now.eligible && !before.eligible) || (now.claim != nil && before.claim == nil) else { continue }
            views[index] = await leases[index].step(eligible: now.eligible, seniority: now.seniority, claim: now.claim)
        }
    }

    /// For each region, from what is known of the regions before it: whether this replica may take its Lease
    /// (it holds, or cannot reach, every region before), its rank there (its earliest region held), and the rank
    /// it claims the region with (when it holds an earlier region).
    static func judge(_ views: [LeaseView]) -> [(eligible: Bool, seniority: Int, claim: Int?)] {
        var earliestHeld: Int?
        var eligible = true
        var judged: [(eligible: Bool, seniority: Int, claim: Int?)] = []
        for (index, view) in views.enumerated() {
            judged.append((eligible, earliestHeld ?? index, eligible ? earliestHeld : nil))
            if view.held && earliestHeld == nil { earliestHeld = index }
            eligible = eligible && (view.held || view.reachable == false)
        }
        return judged
    }

    /// Rounds every `retryPeriod` until the task is cancelled; `afterRound` is called after each, and `changed`
    /// when this replica becomes the leader or stops being it. Releases every Lease it holds when it ends (a
    /// graceful stop hands over at once instead of after `leaseDuration`).
    public func run(
        afterRound: @escaping @Sendable () -> Void, changed: @escaping @Sendable (Bool) async -> Void
    ) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let start = clock.now
            await round()
            afterRound()
            await report(changed)
            try? await Task.sleep(until: start + timing.retryPeriod, clock: clock)
        }
        // Not cancelled itself: the release must reach the servers.
        await Task { await self.releaseAll() }.value
        afterRound()
        await report(changed)
    }

    private func report(_ changed: @Sendable (Bool) async -> Void) async {
        let now = isLeader
        let was = leading.withLock { value -> Bool in
            let was = value
            value = now
            return was
        }
        guard now != was else { return }
        logger.info(
            now ? "leading: this replica runs the rollout" : "standing by: another replica runs the rollout",
            metadata: ["lease.identity": "\(identity)"])
        await changed(now)
    }

    /// Hands over every Lease this process holds.
    public func releaseAll() async {
        for lease in leases.reversed() { await lease.release() }
    }
}
