import Foundation
import Logging
import Synchronization
import SyncCore

/// Leader election's timing; client-go's defaults.
public struct LeaseTiming: Sendable, Hashable {
    /// How long a Lease stays valid after its holder last renewed it, as another replica sees it (from the moment it
    /// saw the renewal, on its own clock).
    public var leaseDuration: Duration
    /// How long the holder goes on writing without a successful renewal; shorter than `leaseDuration`, so that the
    /// holder has stopped before anyone else may take the Lease.
    public var renewDeadline: Duration
    /// How often the Lease is read, renewed or tried.
    public var retryPeriod: Duration

    public init(
        leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
        retryPeriod: Duration = .seconds(2)
    ) {
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// What is wrong with the timing, or nil; client-go's rules.
    public var problem: String? {
        if retryPeriod <= .zero { return "retryPeriod must be positive" }
        if renewDeadline <= retryPeriod { return "renewDeadline must be longer than retryPeriod" }
        if leaseDuration <= renewDeadline { return "leaseDuration must be longer than renewDeadline" }
        return nil
    }
}

/// What a replica knows of one region's Lease.
public struct LeaseView: Sendable, Hashable {
    /// The region's cluster answered the last read of the Lease: nil before the first try.
    public var reachable: Bool?
    /// This process holds the Lease and may write to the region (renewed within the renew deadline).
    public var held: Bool
    /// The holder the Lease names (this process included); nil when none, or not read.
    public var holder: String?
    /// Why the last read or write of the Lease failed.
    public var error: String?
}

/// A handover asked of a Lease's holder by a replica that holds a region earlier in the rollout order (`rank`,
/// the index of its earliest region): proof that the earlier region is up, and that the asker, not a holder cut
/// off from it, should run the rollout. Kept in an annotation of the Lease.
public struct HandoverRequest: Sendable, Hashable {
    public var rank: Int
    public var identity: String
    /// Seconds since 1970, the asker's clock: a request older than a Lease duration is stale (its asker is gone).
    public var time: Int

    static let annotation = "syncagent.io/handover-to"

    var text: String { "\(rank) \(time) \(identity)" }

    init(rank: Int, identity: String, time: Int) {
        self.rank = rank
        self.identity = identity
        self.time = time
    }

    init?(_ text: String) {
        let parts = text.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, let rank = Int(parts[0]), let time = Int(parts[1]) else { return nil }
        self.init(rank: rank, identity: String(parts[2]), time: time)
    }
}

/// One region's Lease (`coordination.k8s.io/v1`, `syncagent-system/syncagent` by default, in the region's own
/// cluster), acquired and renewed as client-go's leader election does: read, then a write with the
/// `resourceVersion` read as precondition, so two replicas never both win; another holder's Lease is taken only
/// after it went unrenewed for `leaseDuration` on this replica's own clock (no clock is compared with another's).
///
/// ``held`` is the fence: true only while the last successful renewal started less than `renewDeadline` ago, so a
/// holder that cannot renew stops writing before any other replica may take the Lease. It uses a client of its
/// own (short deadline, no retries, never fenced) so that a Lease request never waits behind a rollout's.
public final class RegionLease: Sendable {
    public let region: String
    public let identity: String
    public let timing: LeaseTiming
    public let ref: ObjectRef
    let client: KubeClient
    let logger: Logger

    private struct State {
        /// When the last successful acquisition or renewal by this process started; nil when not holding.
        var renewedAt: ContinuousClock.Instant?
        /// The Lease's record as last read, and when it was first seen so (this process's clock).
        var record: [String]?
        var observedAt: ContinuousClock.Instant?
        var view = LeaseView(held: false)
        /// No acquisition before this (after handing the Lease over).
        var yieldedUntil: ContinuousClock.Instant?
        /// The Lease as this process last wrote it: the holder renews from it with one request.
        var stored: Resource?
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// The Lease of `region` through `client` (one made for it alone); `name`/`namespace` of the Lease object.
    public init(
        region: String, client: KubeClient, identity: String, timing: LeaseTiming, name: String = "syncagent",
        namespace: String = Inventory.namespace, logger: Logger
    ) {
        self.region = region
        self.client = client
        self.identity = identity
        self.timing = timing
        self.ref = ObjectRef(apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: namespace, name: name)
        var logger = logger
        logger[metadataKey: "region"] = "\(region)"
        self.logger = logger
    }

    /// Whether this process may write to the region now: it holds the Lease, renewed less than `renewDeadline` ago.
    public var held: Bool {
        let renewedAt = state.withLock { $0.renewedAt }
        guard let renewedAt else { return false }
        return clock.now < renewedAt + timing.renewDeadline
    }

    /// Seconds until another replica could take the Lease (a Lease duration after the start of this process's
    /// last renewal: every other replica saw that renewal later, on its own clock); nil when not held.
    public var remaining: Double? {
        guard held, let renewedAt = state.withLock({ $0.renewedAt }) else { return nil }
        let left = renewedAt + timing.leaseDuration - clock.now
        return Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
    }

    /// What the last try found (``LeaseView/held`` as of now).
    public var view: LeaseView {
        var view = state.withLock { $0.view }
        view.held = held
        return view
    }

    /// Why a write to the region may not go now, or nil: the fence's check.
    public func refusal() -> String? {
        if held { return nil }
        let holder = state.withLock { $0.view.holder }
        if let holder, holder != identity {
            return "the Lease of region \(region) is held by \(holder), not by this replica (\(identity))"
        }
        return "this replica (\(identity)) does not hold the Lease of region \(region)"
    }

    /// One round: reads the Lease and renews it when held, takes it when it is free or expired and `eligible`,
    /// asks its holder to hand it over when `claim` (this replica's rank) is given, and hands it over when a valid
    /// request comes from a replica of lower rank than `seniority` (this replica's own rank). Never throws: what
    /// failed is in the view.
    public func step(eligible: Bool, seniority: Int, claim: Int?) async -> LeaseView {
        let start = clock.now
        // The holder renews with one request, at the version it wrote last; a conflict (another writer, such as a
        // handover request) sends it to read the Lease.
        if let stored = state.withLock({ $0.renewedAt != nil ? $0.stored : nil }),
            let lease = try? Resource(body: body(from: stored, holder: identity, acquiring: false))
        {
            do throws(ApplierError) {
                took(try await client.update(lease), start: start, acquired: false)
                return view
            } catch  where error.status?.reason == .conflict {
                state.withLock { $0.stored = nil }
            } catch {
                failed("\(error)", reachable: error.pointsAtCluster ? false : nil)
                return view
            }
        }
        let current: Resource?
        do throws(ApplierError) {
            current = try await client.getIfPresent(ref)
        } catch {
            failed("\(error)", reachable: false)
            return view
        }
        guard let current else {
            state.withLock {
                $0.record = nil
                $0.view.holder = nil
                $0.view.reachable = true
                $0.view.error = nil
                if $0.renewedAt != nil { $0.renewedAt = nil }
            }
            if eligible && !yielding { await create(start: start) }
            return view
        }
        let spec = current.body["spec"]
        let holder = spec?["holderIdentity"]?.stringValue ?? ""
        let seconds =
            spec?["leaseDurationSeconds"]?.intValue.map(Int.init) ?? Int(timing.leaseDuration.components.seconds)
        let record = Self.record(spec)
        let now = clock.now
        let observedAt = state.withLock { s -> ContinuousClock.Instant in
            if s.record != record || s.observedAt == nil {
                s.record = record
                s.observedAt = now
            }
            s.view.reachable = true
            s.view.error = nil
            s.view.holder = holder.isEmpty ? nil : holder
            return s.observedAt ?? now
        }
        let request = current.body[path: ["metadata", "annotations", HandoverRequest.annotation]]?.stringValue
            .flatMap(HandoverRequest.init)
        if holder == identity {
            if let request, request.identity != identity, request.rank < seniority, isFresh(request) {
                logger.info(
                    "handing the Lease over to a replica that holds an earlier region",
                    metadata: ["lease.to": "\(request.identity)", "lease.rank": "\(request.rank)"])
                await release(current)
                return view
            }
            await write(current, start: start, acquiring: false)
            return view
        }
        if state.withLock({ $0.renewedAt != nil }) {
            state.withLock { $0.renewedAt = nil }
            logger.warning("lost the Lease", metadata: ["lease.holder": "\(holder)"])
        }
        let valid = !holder.isEmpty && now < observedAt + .seconds(seconds)
        if valid {
            if let claim, eligible, request?.identity != identity || !(request.map(isFresh) ?? false) {
                await ask(current, rank: claim)
            }
            return view
        }
        if eligible && !yielding { await write(current, start: start, acquiring: true) }
        return view
    }

    /// Hands the Lease over if this process holds it (at shutdown): stops writing first, then clears the holder
    /// so that another replica takes it at once instead of after `leaseDuration`.
    public func release() async {
        guard state.withLock({ $0.renewedAt != nil }) else { return }
        state.withLock { $0.renewedAt = nil }
        guard let current = try? await client.getIfPresent(ref),
            current.body[path: ["spec", "holderIdentity"]]?.stringValue == identity
        else { return }
        await release(current)
    }

    private var yielding: Bool {
        state.withLock { s in s.yieldedUntil.map { clock.now < $0 } ?? false }
    }

    private func isFresh(_ request: HandoverRequest) -> Bool {
        abs(Int(Date().timeIntervalSince1970) - request.time) < Int(timing.leaseDuration.components.seconds) + 1
    }

    private func failed(_ error: String, reachable: Bool?) {
        let lost = state.withLock { s -> Bool in
            s.view.error = error
            if let reachable { s.view.reachable = reachable }
            guard let renewedAt = s.renewedAt, clock.now >= renewedAt + timing.renewDeadline else { return false }
            s.renewedAt = nil
            return true
        }
        if lost {
            logger.warning(
                "could not renew the Lease within the renew deadline: stopped writing to the region",
                metadata: ["error": "\(error)"])
        }
    }

    /// The Lease's body with this process as holder (or none, when `holder` is empty).
    private func body(from current: Resource?, holder: String, acquiring: Bool) -> Value {
        let now = Self.microTime(Date())
        var body: Value = current?.body ?? ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease"]
        var metadata = body["metadata"] ?? [:]
        metadata["name"] = .string(ref.name)
        metadata["namespace"] = .string(ref.namespace)
        if var annotations = metadata["annotations"], annotations[HandoverRequest.annotation] != nil, acquiring {
            annotations[HandoverRequest.annotation] = nil
            metadata["annotations"] = annotations
        }
        metadata["managedFields"] = nil
        body["metadata"] = metadata
        var spec = body["spec"] ?? [:]
        let previous = spec["holderIdentity"]?.stringValue ?? ""
        spec["holderIdentity"] = .string(holder)
        spec["leaseDurationSeconds"] =
            .int(holder.isEmpty ? 1 : timing.leaseDuration.components.seconds)
        spec["renewTime"] = .string(now)
        if acquiring {
            spec["acquireTime"] = .string(now)
            let transitions = spec["leaseTransitions"]?.intValue ?? 0
            spec["leaseTransitions"] = .int(current == nil ? 0 : previous == holder ? transitions : transitions + 1)
        }
        body["spec"] = spec
        return body
    }

    private func create(start: ContinuousClock.Instant) async {
        guard let lease = try? Resource(body: body(from: nil, holder: identity, acquiring: true)) else { return }
        do throws(ApplierError) {
            let stored: Resource
            do throws(ApplierError) {
                stored = try await client.create(lease)
            } catch  where error.status?.reason == .notFound {
                // No namespace yet (a cluster syncagent never wrote to).
                try await createNamespace()
                stored = try await client.create(lease)
            }
            took(stored, start: start, acquired: true)
        } catch {
            if error.status?.reason != .alreadyExists { failed("\(error)", reachable: nil) }
        }
    }

    private func createNamespace() async throws(ApplierError) {
        let body: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ref.namespace)]]
        guard let namespace = try? Resource(body: body) else { return }
        do throws(ApplierError) {
            _ = try await client.create(namespace)
        } catch  where error.status?.reason == .alreadyExists {}
    }

    /// Renews (`acquiring` false) or takes the Lease, with the `resourceVersion` read as precondition.
    private func write(_ current: Resource, start: ContinuousClock.Instant, acquiring: Bool) async {
        guard let lease = try? Resource(body: body(from: current, holder: identity, acquiring: acquiring)) else {
            return
        }
        do throws(ApplierError) {
            took(try await client.update(lease), start: start, acquired: acquiring)
        } catch {
            // A conflict: another replica wrote first; it holds the Lease now (or renewed it).
            failed("\(error)", reachable: error.pointsAtCluster ? false : nil)
        }
    }

    private func took(_ stored: Resource, start: ContinuousClock.Instant, acquired: Bool) {
        let spec = stored.body["spec"]
        let record = Self.record(spec)
        let wasHeld = state.withLock { s -> Bool in
            let was = s.renewedAt != nil
            s.renewedAt = start
            s.stored = stored
            s.record = record
            s.observedAt = clock.now
            s.view.holder = identity
            s.view.error = nil
            s.view.reachable = true
            return was
        }
        if acquired && !wasHeld { logger.info("acquired the Lease", metadata: ["lease.holder": "\(identity)"]) }
    }

    /// Asks the holder for the Lease (an annotation, with the `resourceVersion` read as precondition).
    private func ask(_ current: Resource, rank: Int) async {
        var body = current.body
        let request = HandoverRequest(rank: rank, identity: identity, time: Int(Date().timeIntervalSince1970))
        var metadata = body["metadata"] ?? [:]
        var annotations = metadata["annotations"] ?? [:]
        annotations[HandoverRequest.annotation] = .string(request.text)
        metadata["annotations"] = annotations
        metadata["managedFields"] = nil
        body["metadata"] = metadata
        guard let lease = try? Resource(body: body) else { return }
        do throws(ApplierError) {
            _ = try await client.update(lease)
            logger.info(
                "asked the Lease's holder to hand it over (this replica holds an earlier region)",
                metadata: ["lease.holder": "\(current.body[path: ["spec", "holderIdentity"]]?.stringValue ?? "")"])
        } catch {
            logger.debug("could not ask for the Lease", metadata: ["error": "\(error)"])
        }
    }

    /// Clears the holder (writing stopped before), and keeps off the Lease for a Lease duration so that the
    /// replica it was handed to takes it.
    private func release(_ current: Resource) async {
        state.withLock {
            $0.renewedAt = nil
            $0.stored = nil
            $0.yieldedUntil = clock.now + timing.leaseDuration
        }
        guard let lease = try? Resource(body: body(from: current, holder: "", acquiring: false)) else { return }
        do throws(ApplierError) {
            _ = try await client.update(lease)
            logger.info("released the Lease")
        } catch {
            logger.warning("could not release the Lease; it expires by itself", metadata: ["error": "\(error)"])
        }
    }

    /// What identifies one renewal of the Lease (holder, duration, renew time, transitions): a new record
    /// restarts the Lease duration as this replica counts it.
    static func record(_ spec: Value?) -> [String] {
        [
            spec?["holderIdentity"]?.stringValue ?? "", spec?["leaseDurationSeconds"].map { "\($0)" } ?? "",
            spec?["renewTime"]?.stringValue ?? "", spec?["leaseTransitions"].map { "\($0)" } ?? "",
        ]
    }

    /// A `MicroTime`: RFC 3339 in UTC with microseconds.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
            Int((seconds - whole) * 1_000_000))
    }
}
