import Foundation
import Logging
import Synchronization
import SyncCore

/// What one cluster holds of the kinds syncagent manages, kept current by list + watch, as client-go's informers
/// do, for the life of the process. The plan, the readiness waits and the drift checker read it instead of
/// listing: a cycle in which nothing changed sends no request at all, and a hand edit is seen as the watch
/// delivers it.
///
/// Per kind (group, version and kind, across all namespaces): one list (paged), then a watch from the list's
/// `resourceVersion` with bookmarks, resumed from the last version seen whenever the server ends it (each watch
/// asks for a random 5–10 minute timeout). A 410 Expired (the version was compacted) lists again; so does a
/// watch older than ``Options/resync`` (a bounded re-sync, against any event a broken stream might have lost). A
/// failure (the cluster down, the kind not served yet) is retried with backoff up to 30 s; meanwhile the kind is
/// not *current* and readers fall back to reading the cluster themselves.
///
/// Objects are kept as their JSON bytes (a third of a parsed tree's memory), deflated with
/// ``Options/packObjects`` (a third again), and parsed when read.
public final class LiveCache: Sendable {
    /// Timings of the cache.
    public struct Options: Sendable {
        /// The watch timeout asked of the server, picked at random in this range for each watch.
        public var watchTimeoutSeconds: ClosedRange<Int>
        /// A kind is listed again when its last list is older than this, at the end of a watch.
        public var resync: Duration
        /// The longest wait between two tries after a failure.
        public var maxBackoff: Duration
        /// Keep each object deflated (zlib level 1): about a third of its JSON bytes, for the CPU of deflating
        /// what is listed or watched and inflating what is read. For a process that keeps the cache for good (the
        /// agent); a command that keeps it for one pass gains nothing by it.
        public var packObjects: Bool

        public init(
            watchTimeoutSeconds: ClosedRange<Int> = 300...600, resync: Duration = .seconds(1800),
            maxBackoff: Duration = .seconds(30), packObjects: Bool = false
        ) {
            self.watchTimeoutSeconds = watchTimeoutSeconds
            self.resync = resync
            self.maxBackoff = maxBackoff
            self.packObjects = packObjects
        }
    }

    /// How many requests the cache made, and what it saw (for metrics and tests).
    public struct Statistics: Sendable, Hashable {
        /// Lists (first lists, re-lists after 410 or for the re-sync), one per kind each.
        public var lists = 0
        /// Watch requests started.
        public var watches = 0
        /// Lists made because the server answered 410 Expired.
        public var expired = 0
        /// Object events applied (added, modified, deleted).
        public var events = 0
        /// Bookmarks received (a newer resourceVersion to resume from, without a change).
        public var bookmarks = 0
        /// Failed lists or watches.
        public var failures = 0
    }

    private struct Stored: Sendable {
        var json: PackedJSON
        var resourceVersion: String
        var uid: OpaqueID
    }

    private struct Kind: Sendable {
        var objects: [ObjectKey: Stored] = [:]
        /// Listed at least once.
        var synced = false
        /// A watch is open (or about to be re-opened after a normal end).
        var watching = false
        /// The last list or watch failed (the kind is not served, RBAC forbids it, the cluster is down).
        var failing = false
        var resourceVersion = ""
        var task: Task<Void, Never>?
        /// Kept in this namespace only (syncagent's records, before a revision asks for the kind everywhere: its
        /// RBAC may allow no more); nil: every namespace.
        var namespace: String?
        /// Which ``keep(_:epoch:)`` task feeds the kind: one made for an earlier scope changes nothing.
        var epoch: UInt64 = 0
    }

    private struct State: Sendable {
        var kinds: [GroupVersionKind: Kind] = [:]
        var subscribers: [UInt64: AsyncStream<ObjectKey>.Continuation] = [:]
        var lastSubscriber: UInt64 = 0
        var statistics = Statistics()
        /// Moves on every change of any object; readers that wait compare it.
        var generation: UInt64 = 0
        /// Moves on every ``nudge()``: kinds waiting to try again try now.
        var nudges: UInt64 = 0
        var stopped = false
        var epochs: UInt64 = 0
    }

    public let client: KubeClient
    public let options: Options
    private let logger: Logger
    private let state = Mutex(State())
    /// Rung after every change a waiter may look for (objects, a kind listed, watched or failing, a stop).
    private let changed = ChangeSignal()

    /// A cache of `client`'s cluster; nothing is read until ``track(_:)``.
    public init(client: KubeClient, options: Options = Options(), logger: Logger) {
        self.client = client
        self.options = options
        self.logger = logger
    }

    deinit {
        stop()
    }

    /// Starts keeping the kinds not kept yet (a list, then a watch, in the background): in `namespace` only, or
    /// everywhere when nil. A kind kept in one namespace and asked for everywhere (or in another) is kept
    /// everywhere from then on: listed again, across namespaces.
    public func track(_ kinds: some Sequence<GroupVersionKind>, namespace: String? = nil) {
        let (new, stale) = state.withLock { state -> ([(GroupVersionKind, UInt64)], [Task<Void, Never>]) in
            guard !state.stopped else { return ([], []) }
            var new: [(GroupVersionKind, UInt64)] = []
            var stale: [Task<Void, Never>] = []
            for gvk in kinds {
                if let kept = state.kinds[gvk] {
                    guard let scope = kept.namespace, scope != namespace else { continue }
                    if let task = kept.task { stale.append(task) }
                }
                state.epochs += 1
                state.kinds[gvk] = Kind(namespace: state.kinds[gvk] == nil ? namespace : nil, epoch: state.epochs)
                new.append((gvk, state.epochs))
            }
            return (new, stale)
        }
        for task in stale { task.cancel() }
        for (gvk, epoch) in new {
            let task = Task.detached { [weak self] () -> Void in await self?.keep(gvk, epoch: epoch) }
            state.withLock { state in
                if state.kinds[gvk]?.epoch == epoch { state.kinds[gvk]?.task = task }
            }
        }
    }

    /// Tracks the kinds not tracked at all yet (everywhere); a kind kept in one namespace stays so.
    private func trackUnknown(_ kinds: Set<GroupVersionKind>) {
        let unknown = state.withLock { state in kinds.filter { state.kinds[$0] == nil } }
        if !unknown.isEmpty { track(unknown) }
    }

    /// Whether a kind among `refs` is kept in one namespace and a ref lies outside it: then it is widened (kept
    /// everywhere from now on) and the caller reads the cluster meanwhile.
    private func outsideScope(_ refs: [ObjectRef]) -> Bool {
        let scopes = state.withLock { state in state.kinds.compactMapValues(\.namespace) }
        guard !scopes.isEmpty else { return false }
        let outside = Set(
            refs.filter { ref in scopes[ref.gvk].map { $0 != ref.namespace } ?? false }.map(\.gvk))
        if outside.isEmpty { return false }
        track(outside)
        return true
    }

    /// Stops every watch; the cache keeps what it has but is no longer current.
    public func stop() {
        let (tasks, subscribers) = state.withLock { state in
            state.stopped = true
            let tasks = state.kinds.values.compactMap(\.task)
            for gvk in state.kinds.keys { state.kinds[gvk]?.watching = false }
            let subscribers = Array(state.subscribers.values)
            state.subscribers = [:]
            return (tasks, subscribers)
        }
        for task in tasks { task.cancel() }
        for subscriber in subscribers { subscriber.finish() }
        changed.ring()
    }

    /// Whether every kind of `kinds` is tracked, listed, and watched now.
    public func isCurrent(_ kinds: some Sequence<GroupVersionKind>) -> Bool {
        state.withLock { state in
            kinds.allSatisfy { state.kinds[$0].map { $0.synced && $0.watching } ?? false }
        }
    }

    /// Waits until every kind of `kinds` is current (tracking those that are not), or `timeout` passes, or a kind
    /// that is not current failed to list or watch (no use waiting: readers fall back to the cluster); whether
    /// they are all current.
    public func waitUntilCurrent(_ kinds: Set<GroupVersionKind>, timeout: Duration) async -> Bool {
        trackUnknown(kinds)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let ticket = changed.ticket
            if isCurrent(kinds) { return true }
            let failing = state.withLock { state in
                kinds.contains { state.kinds[$0].map { !($0.synced && $0.watching) && $0.failing } ?? false }
            }
            guard clock.now < deadline, !failing, !Task.isCancelled else { return false }
            await changed.wait(after: ticket, timeout: clock.now.duration(to: deadline))
        }
    }

    /// Whether the cache can answer for `refs`: every kind current, every namespace kept (what is not starts
    /// being tracked).
    private func answers(_ refs: [ObjectRef]) -> Bool {
        if outsideScope(refs) { return false }
        let kinds = Set(refs.map(\.gvk))
        guard isCurrent(kinds) else {
            trackUnknown(kinds)
            return false
        }
        return true
    }

    /// The live objects among `refs` (absent when the cluster has none), or nil when a kind among them is not
    /// current (the caller reads the cluster instead); kinds not tracked yet start being tracked.
    public func objects(_ refs: [ObjectRef]) -> [ObjectKey: Resource]? {
        guard answers(refs) else { return nil }
        let found = state.withLock { state -> [(ObjectKey, PackedJSON)] in
            refs.compactMap { ref in state.kinds[ref.gvk]?.objects[ref.key].map { (ref.key, $0.json) } }
        }
        var inflater: Inflater?
        var result: [ObjectKey: Resource] = [:]
        result.reserveCapacity(found.count)
        for (key, json) in found {
            // Bytes that do not inflate are not "absent": the caller reads the cluster instead.
            guard let bytes = json.bytes(&inflater) else { return nil }
            if let value = try? Value(json: bytes), let resource = try? Resource(body: value) {
                result[key] = resource
            }
        }
        return result
    }

    /// The uid and resourceVersion of each live object among `refs` (absent when the cluster has none), without
    /// decoding any of them; nil when a kind among them is not current, as ``objects(_:)``.
    public func versions(_ refs: [ObjectRef]) -> [ObjectKey: LiveVersion]? {
        guard answers(refs) else { return nil }
        return state.withLock { state in
            var versions: [ObjectKey: LiveVersion] = [:]
            versions.reserveCapacity(refs.count)
            for ref in refs {
                guard let stored = state.kinds[ref.gvk]?.objects[ref.key] else { continue }
                versions[ref.key] = LiveVersion(uid: stored.uid, resourceVersion: OpaqueID(stored.resourceVersion))
            }
            return versions
        }
    }

    /// Every object of a kind the cache holds (nil when the kind is not current).
    public func objects(of gvk: GroupVersionKind) -> [Resource]? {
        if state.withLock({ $0.kinds[gvk]?.namespace != nil }) {
            track([gvk])  // every object: kept everywhere from now on
            return nil
        }
        guard isCurrent([gvk]) else {
            track([gvk])
            return nil
        }
        let all = state.withLock { $0.kinds[gvk]?.objects.values.map(\.json) ?? [] }
        var inflater: Inflater?
        var resources: [Resource] = []
        resources.reserveCapacity(all.count)
        for json in all {
            guard let bytes = json.bytes(&inflater) else { return nil }
            if let resource = (try? Value(json: bytes)).flatMap({ try? Resource(body: $0) }) {
                resources.append(resource)
            }
        }
        return resources
    }

    /// A stream of the keys of objects that changed (added, modified, deleted, or found different by a re-list),
    /// from now on; it ends when the cache stops.
    public func changes() -> AsyncStream<ObjectKey> {
        let (stream, continuation) = AsyncStream.makeStream(of: ObjectKey.self, bufferingPolicy: .unbounded)
        let id = state.withLock { state -> UInt64? in
            guard !state.stopped else { return nil }
            state.lastSubscriber += 1
            state.subscribers[state.lastSubscriber] = continuation
            return state.lastSubscriber
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// A number that moves whenever any object changes.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Returns once ``generation`` moved past `generation`, or after `timeout`: woken by the change itself; it sends
    /// nothing to the cluster. Throws when the task is cancelled.
    public func waitForChange(after generation: UInt64, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            try Task.checkCancellation()
            let ticket = changed.ticket
            if self.generation != generation || clock.now >= deadline { return }
            await changed.wait(after: ticket, timeout: clock.now.duration(to: deadline))
        }
    }

    /// The requests made and events seen so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// What the cache holds: its objects, their JSON bytes, and the bytes kept for them (fewer with
    /// ``Options/packObjects``).
    public struct Holding: Sendable, Hashable {
        public var objects = 0
        public var jsonBytes = 0
        public var storedBytes = 0
    }

    /// What the cache holds now (it looks at every object: for tests and occasional reports).
    public var holding: Holding {
        state.withLock { state in
            var holding = Holding()
            for kind in state.kinds.values {
                for stored in kind.objects.values {
                    holding.objects += 1
                    holding.jsonBytes += stored.json.count
                    holding.storedBytes += stored.json.storedCount
                }
            }
            return holding
        }
    }

    // MARK: - Keeping one kind

    /// List, then watch from the list's version, again and again, until stopped.
    private func keep(_ gvk: GroupVersionKind, epoch: UInt64) async {
        var logger = logger
        logger[metadataKey: "kind"] = "\(gvk)"
        let namespace = state.withLock { $0.kinds[gvk]?.epoch == epoch ? $0.kinds[gvk]?.namespace : nil }
        /// Runs `change` on the kind while this task still feeds it.
        func mine(_ change: (inout Kind) -> Void) {
            state.withLock { state in
                guard state.kinds[gvk]?.epoch == epoch, var kind = state.kinds[gvk] else { return }
                change(&kind)
                state.kinds[gvk] = kind
            }
            changed.ring()
        }
        let clock = ContinuousClock()
        var mustList = true
        var listedAt = clock.now
        var backoff = Duration.milliseconds(250)
        while !Task.isCancelled {
            do throws(ApplierError) {
                if mustList {
                    count { $0.lists += 1 }
                    let list = try await client.listRaw(gvk, namespace: namespace)
                    replace(gvk, epoch: epoch, with: list)
                    mustList = false
                    listedAt = clock.now
                }
                let version = state.withLock { $0.kinds[gvk]?.epoch == epoch ? $0.kinds[gvk]?.resourceVersion : nil }
                guard let version else { return }  // another scope's task feeds the kind now
                let expired = Mutex(false)
                let events = Mutex(0)
                count { $0.watches += 1 }
                setWatching(gvk, epoch: epoch, true)
                let started = clock.now
                mine { $0.failing = false }
                try await client.watch(
                    gvk, namespace: namespace, resourceVersion: version,
                    timeoutSeconds: Int.random(in: options.watchTimeoutSeconds)
                ) { [weak self] event in
                    events.withLock { $0 += 1 }
                    if event.kind == .error {
                        if event.errorCode == 410 { expired.withLock { $0 = true } }
                        return
                    }
                    self?.apply(event, to: gvk, epoch: epoch)
                }
                if expired.withLock({ $0 }) {
                    logger.debug("watch expired (410): listing again")
                    count { $0.expired += 1 }
                    // Events were missed: readers read the cluster until the list lands.
                    setWatching(gvk, epoch: epoch, false)
                    mustList = true
                } else if clock.now - listedAt > options.resync {
                    mustList = true
                }
                // A watch the server ends at once, with nothing in it, is not retried in a tight loop.
                if clock.now - started < .seconds(1) && events.withLock({ $0 }) == 0 && !mustList {
                    try await pause(backoff)
                    backoff = min(backoff * 2, options.maxBackoff)
                } else {
                    backoff = .milliseconds(250)
                }
            } catch {
                setWatching(gvk, epoch: epoch, false)
                if Task.isCancelled { return }
                count { $0.failures += 1 }
                mine { $0.failing = true }
                logger.debug("cannot list or watch; trying again", metadata: ["error": "\(error)"])
                do { try await pause(backoff) } catch { return }
                backoff = min(backoff * 2, options.maxBackoff)
            }
        }
        setWatching(gvk, epoch: epoch, false)
    }

    /// Waits `duration`, or less when ``nudge()`` is called meanwhile.
    private func pause(_ duration: Duration) async throws(ApplierError) {
        let nudged = state.withLock { $0.nudges }
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline && state.withLock({ $0.nudges }) == nudged {
            do {
                try await Task.sleep(for: min(.milliseconds(50), deadline - ContinuousClock.now))
            } catch {
                throw .cancelled(url: client.context.server)
            }
        }
    }

    /// Kinds waiting to try again (not served yet, a failure) try at once: the applier calls it when new
    /// CustomResourceDefinitions are established.
    public func nudge() {
        state.withLock { $0.nudges += 1 }
    }

    private func count(_ change: (inout Statistics) -> Void) {
        state.withLock { change(&$0.statistics) }
    }

    private func setWatching(_ gvk: GroupVersionKind, epoch: UInt64, _ watching: Bool) {
        state.withLock { state in
            guard !state.stopped || !watching, state.kinds[gvk]?.epoch == epoch else { return }
            state.kinds[gvk]?.watching = watching
        }
        changed.ring()
    }

    /// A list's objects replace the kind's; what differs is announced.
    private func replace(_ gvk: GroupVersionKind, epoch: UInt64, with list: RawResourceList) {
        var objects: [ObjectKey: Stored] = [:]
        objects.reserveCapacity(list.items.count)
        let packed =
            options.packObjects
            ? PackedJSON.packing(list.items.map(\.bytes), deflater: Deflater())
            : list.items.map { PackedJSON($0.bytes, deflater: nil) }
        for (item, json) in zip(list.items, packed) {
            objects[item.key.sharingStrings(of: gvk)] = Stored(
                json: json, resourceVersion: item.resourceVersion, uid: OpaqueID(item.uid))
        }
        let (changed, subscribers) = state.withLock { state -> ([ObjectKey], [AsyncStream<ObjectKey>.Continuation]) in
            guard state.kinds[gvk]?.epoch == epoch else { return ([], []) }
            let old = state.kinds[gvk]?.objects ?? [:]
            var changed: [ObjectKey] = []
            for (key, stored) in objects where old[key]?.resourceVersion != stored.resourceVersion {
                changed.append(key)
            }
            for key in old.keys where objects[key] == nil { changed.append(key) }
            state.kinds[gvk]?.objects = objects
            state.kinds[gvk]?.resourceVersion = list.resourceVersion
            state.kinds[gvk]?.synced = true
            if !changed.isEmpty { state.generation += 1 }
            return (changed, Array(state.subscribers.values))
        }
        self.changed.ring()
        for subscriber in subscribers {
            for key in changed { subscriber.yield(key) }
        }
    }

    /// One watch event applied.
    private func apply(_ event: WatchEvent, to gvk: GroupVersionKind, epoch: UInt64) {
        let version = event.resourceVersion
        guard event.kind != .bookmark else {
            state.withLock { state in
                guard state.kinds[gvk]?.epoch == epoch else { return }
                state.statistics.bookmarks += 1
                if !version.isEmpty { state.kinds[gvk]?.resourceVersion = version }
            }
            return
        }
        guard let resource = try? Resource(body: event.object) else { return }
        let key = resource.key.sharingStrings(of: gvk)
        let json =
            event.kind == .deleted
            ? nil : PackedJSON(event.object.jsonBytes, deflater: options.packObjects ? Deflater() : nil)
        let subscribers = state.withLock { state -> [AsyncStream<ObjectKey>.Continuation] in
            guard state.kinds[gvk]?.epoch == epoch else { return [] }
            if let json {
                state.kinds[gvk]?.objects[key] = Stored(
                    json: json, resourceVersion: version,
                    uid: OpaqueID(event.object[path: ["metadata", "uid"]]?.stringValue ?? ""))
            } else {
                state.kinds[gvk]?.objects[key] = nil
            }
            if !version.isEmpty { state.kinds[gvk]?.resourceVersion = version }
            state.statistics.events += 1
            state.generation += 1
            return Array(state.subscribers.values)
        }
        changed.ring()
        for subscriber in subscribers { subscriber.yield(key) }
    }
}

/// Wakes those waiting for a change: a waiter takes a ``ticket`` before it looks, and ``wait(after:timeout:)``
/// returns at once when a ring came since, so a change between the look and the wait is never missed.
final class ChangeSignal: Sendable {
    private struct State {
        var rings: UInt64 = 0
        var next: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits released before their waiter was registered (it then returns at once).
        var released: Set<UInt64> = []
    }

    private let state = Mutex(State())

    /// How many rings so far.
    var ticket: UInt64 { state.withLock { $0.rings } }

    /// Wakes every waiter.
    func ring() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.rings += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns at the first ring after `ticket` (at once if one came already), after `timeout`, or when the task
    /// is cancelled.
    func wait(after ticket: UInt64, timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.next += 1
            return state.next
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.state.withLock { state -> Bool in
                        if state.rings != ticket || state.released.contains(id) { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.release(id)
            }
            await group.next()
            group.cancelAll()
            release(id)
        }
        _ = state.withLock { $0.released.remove(id) }
    }

    /// Resumes waiter `id` if it still waits.
    private func release(_ id: UInt64) {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.released.insert(id)
            return nil
        }?.resume()
    }
}
