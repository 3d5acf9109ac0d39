import Applier
import Differ
import Foundation
import Logging
import RolloutEngine
import ServiceLifecycle
import Synchronization
import SyncCore

/// The drift checker: follows every region's live-state cache (``RegionConnections``, kept by watches) and
/// compares what changes with the revision the region's inventory records. A hand edit is reported as the watch
/// delivers it, with its author (log, `syncagent_drifted_resources`, the DriftDetected alert); with self-heal on
/// the reconciler is asked to re-apply (at most once a drift interval).
///
/// What one check costs: the first check of a revision compares every object, read from the cache (no list);
/// after that, a watch event re-compares only the object it names, client-side (one server-side dry run only for
/// an object that looks changed). The drift interval re-checks the objects found drifted; a cycle in which
/// nothing changed sends no request. While a pass applies, changes are the pass's own: the region is compared
/// again in full once the pass has ended.
struct DriftChecker: Service {
    let config: AgentConfig
    let repository: ConfigRepository
    let connections: RegionConnections
    let wakeup: Wakeup
    let state: AgentState
    let metrics: AgentMetrics
    let notifier: Notifier
    /// Leader election: a region is checked and reported by the replica that holds its Lease (the secondary's
    /// holder keeps reporting it while the primary is down); nil checks every region.
    let leases: LeaseCoordinator?
    let logger: Logger

    /// How long changes are gathered after the first one before they are compared (a burst is compared once).
    static let settle = Duration.milliseconds(50)
    /// The revision's objects, shared by the regions.
    private let shared = SharedObjects()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for region in config.regions {
                    group.addTask { await follow(region) }
                }
            }
        }
        logger.info("drift checker stopped")
    }

    /// The keys changed since the last look, and a doorbell rung for each change and each second.
    private final class Inbox: Sendable {
        let changed = Mutex<Set<ObjectKey>>([])
        let (bell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

        func take() -> Set<ObjectKey> {
            changed.withLock { changed in
                defer { changed = [] }; return changed
            }
        }
    }

    /// One region, for the life of the agent.
    private func follow(_ region: RegionTarget) async {
        var logger = logger
        logger[metadataKey: "region"] = "\(region.name)"
        let connection: RegionConnections.Connection
        do {
            connection = try connections.connection(region)
        } catch {
            logger.error("drift check cannot start", metadata: ["error": "\(error)"])
            return
        }
        let inbox = Inbox()
        let changes = connection.live.changes()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await key in changes {
                    inbox.changed.withLock { _ = $0.insert(key) }
                    inbox.ring.yield()
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { break }
                    inbox.ring.yield()
                }
            }
            var drift = RegionDrift(
                region: region, client: RegionClient(region, client: connection.client), live: connection.live,
                options: options, retryDelay: config.agent.driftInterval, shared: shared, logger: logger)
            let clock = ContinuousClock()
            var nextInterval = clock.now + config.agent.driftInterval
            var lastHeal: ContinuousClock.Instant?
            for await _ in inbox.bell {
                if Task.isCancelled { break }
                if let leases, !leases.holds(region.name) {
                    drift.needsFull = true  // another replica reports this region; compare in full on taking over
                    _ = inbox.take()
                    continue
                }
                if await state.syncing {
                    drift.needsFull = true  // the pass's own writes: compare everything once it has ended
                    _ = inbox.take()
                    continue
                }
                var changed = inbox.take()
                if !changed.isEmpty {
                    // A burst (a rollout's status updates, a script editing several objects) is compared once.
                    try? await Task.sleep(for: Self.settle)
                    changed.formUnion(inbox.take())
                }
                let interval = clock.now >= nextInterval
                if interval { nextInterval = clock.now + config.agent.driftInterval }
                let trigger: String
                if (drift.needsFull || drift.cacheRelisted) && drift.retryAt.map({ clock.now >= $0 }) ?? true {
                    trigger = "full"
                    await drift.checkAll(sources: repository)
                    HeapTrim.now()
                } else if !changed.isEmpty || interval {
                    trigger = changed.isEmpty ? "interval" : "watch"
                    await drift.check(changed.union(interval ? drift.drifted : []), sources: repository)
                    // A new revision recorded (the pass's own inventory write) was rendered for the check.
                    if drift.takeRendered() { HeapTrim.now() }
                } else {
                    continue
                }
                metrics.countDriftCheck(region: region.name, trigger: trigger)
                metrics.setLiveCache(region: region.name, connection.live.statistics)
                guard let count = drift.report() else { continue }
                metrics.setDrifted(region: region.name, count: count)
                await notifier.drift(region: region.name, count: count)
                if count > 0 && config.sync.selfHeal
                    && lastHeal.map({ clock.now - $0 >= config.agent.driftInterval }) ?? true
                {
                    lastHeal = clock.now
                    logger.info("self-heal: re-applying the synced revision")
                    await wakeup.wake(.heal)
                }
            }
            group.cancelAll()
        }
    }

    private var options: DiffOptions {
        var options = DiffOptions(mode: .serverSide)
        options.ignore = config.ignore
        return options
    }
}

/// What the drift checker knows of one region: the revision its inventory records, that revision's objects, and
/// the objects drifted from it (only those: an object in sync costs no memory here).
struct RegionDrift {
    let region: RegionTarget
    let client: RegionClient
    let live: LiveCache
    let options: DiffOptions
    let logger: Logger
    /// How long after a failed check the next full one comes (the drift interval, at most 30 s).
    let retryDelay: Duration
    var needsFull = true
    /// After a failed check, the full one is tried again from here (not at every change or second).
    private(set) var retryAt: ContinuousClock.Instant?
    /// The inventory compared against, and the revision's objects for the region.
    private var inventory: Inventory?
    private var revision = ""
    /// The revision's objects for the region, each as its JSON (a parsed tree takes several times the memory; a
    /// watch event needs only the objects it names).
    private var desired: [ObjectKey: ArraySlice<UInt8>] = [:]
    private let shared: SharedObjects
    private var desiredKinds: Set<GroupVersionKind> = []
    /// A revision was rendered since ``takeRendered()`` was last asked (a pass's worth of garbage to trim).
    private var renderedSinceAsked = false
    private var watched: Set<ObjectKey> = []
    /// Drifted objects by key, with what was reported of each.
    private(set) var found: [ObjectKey: ResourceDiff] = [:]
    /// nil when the last check could not compare (no revision recorded, or an error).
    private var compared = false
    private var reported: Set<String> = []
    private var lists = 0

    init(
        region: RegionTarget, client: RegionClient, live: LiveCache, options: DiffOptions, retryDelay: Duration,
        shared: SharedObjects = SharedObjects(), logger: Logger
    ) {
        self.shared = shared
        self.retryDelay = retryDelay
        self.region = region
        self.client = client
        self.live = live
        self.options = options
        self.logger = logger
    }

    var drifted: Set<ObjectKey> { Set(found.keys) }

    /// The cache listed a kind again (a 410, a re-sync, a reconnect): events may have been missed.
    var cacheRelisted: Bool { live.statistics.lists != lists }

    /// Compares every object of the recorded revision.
    mutating func checkAll(sources repository: ConfigRepository) async {
        lists = live.statistics.lists
        retryAt = nil
        do {
            guard try await load(repository) else { return }
            let diff = try await client.diff(
                desired: resources(nil), options: options, inventory: inventory, cache: live)
            found = [:]
            for resource in diff.resources where resource.drift.isDrift { found[resource.ref.key] = resource }
            compared = true
            needsFull = false
        } catch {
            failed(error)
        }
    }

    /// Compares the objects among `keys` that the revision or the inventory names; the inventory itself changing
    /// means a new revision: everything is compared.
    mutating func check(_ keys: Set<ObjectKey>, sources repository: ConfigRepository) async {
        if keys.contains(Inventory.configMapRef.key) {
            await checkAll(sources: repository)
            return
        }
        let relevant = keys.intersection(watched)
        guard !relevant.isEmpty else { return }
        do {
            let diff = try await client.diff(
                desired: resources(relevant), options: options, inventory: inventory, cache: live, only: relevant)
            for key in relevant { found[key] = nil }
            for resource in diff.resources where resource.drift.isDrift { found[resource.ref.key] = resource }
        } catch {
            failed(error)
        }
    }

    /// Reads the inventory and renders its revision when it changed; false when there is nothing to compare (no
    /// inventory, or a sync from a local folder that records no Git revision).
    private mutating func load(_ repository: ConfigRepository) async throws -> Bool {
        let record: Resource?
        if let cached = live.objects([Inventory.configMapRef]) {
            record = cached[Inventory.configMapRef.key]
        } else {
            record = try await client.client.getIfPresent(Inventory.configMapRef)
        }
        guard let record, let inventory = try? Inventory(configMap: record.body), !inventory.revision.isEmpty,
            !inventory.revision.hasPrefix(Snapshot.localPrefix)
        else {
            compared = false
            found = [:]
            needsFull = false
            return false
        }
        if inventory.revision != revision {
            let snapshot = try await repository.loader(inventory.revision)
            let rendered = try snapshot.render(region: region.name)
            desired = shared.share(rendered.map { ($0.key, $0.body.jsonBytes) }, holder: region.name)
            renderedSinceAsked = true
            shared.prune()
            // Built by inserting: a Set made from the 5,000 refs would keep room for 5,000 kinds.
            desiredKinds = []
            for resource in rendered { desiredKinds.insert(resource.ref.gvk) }
            revision = inventory.revision
        }
        self.inventory = inventory
        watched = Set(desired.keys).union(inventory.objects.map(\.key))
        // The cache keeps every kind the revision and the inventory name; the first check waits for them.
        let kinds = desiredKinds.union(inventory.objects.map(\.gvk))
        live.track(kinds)
        if let unserved = try? await client.client.unservedKinds(kinds) {
            _ = await live.waitUntilCurrent(kinds.subtracting(unserved), timeout: .seconds(30))
        }
        return true
    }

    /// The revision's objects among `keys` (all when nil), parsed again.
    private func resources(_ keys: Set<ObjectKey>?) -> [Resource] {
        let selected: [(key: ObjectKey, value: ArraySlice<UInt8>)] =
            keys.map { keys in keys.compactMap { key in desired[key].map { (key, $0) } } }
            ?? desired.map { ($0.key, $0.value) }
        return selected.sorted { $0.key < $1.key }.compactMap { _, bytes in
            (try? Value(json: bytes)).flatMap { try? Resource(body: $0) }
        }
    }

    /// Whether a revision was rendered since the last call.
    mutating func takeRendered() -> Bool {
        defer { renderedSinceAsked = false }
        return renderedSinceAsked
    }

    private mutating func failed(_ error: any Error) {
        logger.warning("drift check failed", metadata: ["error": "\(error)"])
        compared = false
        needsFull = true
        retryAt = ContinuousClock.now + min(retryDelay, .seconds(30))
    }

    /// Logs each drifted field once, when it is first seen, and when drift is gone; the count, or nil when the
    /// region could not be compared.
    mutating func report() -> Int? {
        guard compared else { return nil }
        var seen: Set<String> = []
        for (_, resource) in found.sorted(by: { $0.key < $1.key }) {
            let changes = resource.changes.map(\.attribution).joined(separator: "; ")
            let key = "\(resource.ref) \(resource.drift.rawValue) \(changes)"
            seen.insert(key)
            if reported.contains(key) { continue }
            logger.warning(
                "drift",
                metadata: [
                    "object": "\(resource.ref)", "class": "\(resource.drift.rawValue)", "changes": "\(changes)",
                ])
        }
        if !reported.isEmpty && seen.isEmpty { logger.info("no drift left") }
        reported = seen
        return found.count
    }
}

/// The revision's objects as JSON, shared by the regions' drift states: an object that renders to the same bytes in
/// several regions (most do: the common layer) is kept once, under one key. An entry no region holds any more is
/// dropped at the next ``prune()``.
///
/// Nothing here is allocated per object: the bytes are slices of one block per revision (``ByteBlock``), and the
/// regions' dictionaries reuse the store's keys. Thousands of small long-lived allocations made while a pass churns
/// through memory would each keep a heap page resident at rest.
final class SharedObjects: Sendable {
    private struct State {
        var entries: [ObjectKey: ArraySlice<UInt8>] = [:]
        /// The keys each holder (a region) was last handed.
        var held: [String: Set<ObjectKey>] = [:]
    }

    private let state = Mutex(State())

    /// Each object's kept copy when one with the same bytes is kept; the others are kept from now on, in one block.
    /// The first of two objects with one key wins. `holder` (a region) holds these and no longer what it was
    /// handed before.
    func share(_ objects: [(key: ObjectKey, bytes: [UInt8])], holder: String) -> [ObjectKey: ArraySlice<UInt8>] {
        state.withLock { state in
            var result: [ObjectKey: ArraySlice<UInt8>] = [:]
            result.reserveCapacity(objects.count)
            var fresh: [(key: ObjectKey, bytes: [UInt8])] = []
            var taken: Set<ObjectKey> = []
            for object in objects where taken.insert(object.key).inserted {
                if let index = state.entries.index(forKey: object.key),
                    state.entries[index].value.elementsEqual(object.bytes)
                {
                    let (key, bytes) = state.entries[index]
                    result[key] = bytes
                } else {
                    fresh.append(object)
                }
            }
            // The fresh keys share their group and kind strings (a few distinct ones among thousands of keys).
            var strings: [String: String] = [:]
            func shared(_ text: String) -> String {
                if let kept = strings[text] { return kept }
                strings[text] = text
                return text
            }
            for (object, slice) in zip(fresh, ByteBlock.pack(fresh.map(\.bytes))) {
                var key = object.key
                key.group = shared(key.group)
                key.kind = shared(key.kind)
                state.entries[key] = slice
                let index = state.entries.index(forKey: key)!
                result[state.entries[index].key] = slice
            }
            state.held[holder] = Set(result.keys)
            return result
        }
    }

    /// Drops the entries no holder was handed in its last ``share(_:holder:)``.
    func prune() {
        state.withLock { state in
            let held = Array(state.held.values)
            state.entries = state.entries.filter { entry in held.contains { $0.contains(entry.key) } }
        }
    }

    /// How many objects are kept (for tests).
    var count: Int { state.withLock { $0.entries.count } }
}
