import Foundation
import Hummingbird
import NIOCore
import SyncCore
import Synchronization

/// One change to a stored object, as a watch streams it.
struct WatchEvent: Sendable {
    /// The event type of the watch protocol.
    enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// Not a change: the watch's periodic bookmark (only the resourceVersion counts).
        case bookmark = "BOOKMARK"
    }

    /// Whether the object was added, modified or deleted.
    var kind: Kind
    /// The storage key ("apps/deployments") of the changed object.
    var key: String
    /// The object's namespace ("" for cluster-scoped objects).
    var namespace: String
    /// The object after the change; for a deletion, the last state with the deletion's resourceVersion.
    var object: StoredObject
    /// For a modification, the object before it: a watch with a selector sees an object that stops matching as
    /// DELETED and one that starts matching as ADDED, as the real server's watch cache reports them.
    var previous: Value? = nil
}

/// Fans a region's object changes out to its open watches, and keeps the latest events so that a watch started from
/// a recent resourceVersion (right after a list) misses nothing.
///
/// Changes are published under the region's lock, so a watch subscribed under that lock sees exactly the changes
/// after the snapshot it took. The hub's own lock is never held while taking the region's.
final class WatchHub: Sendable {
    private struct Subscriber {
        var key: String
        var continuation: AsyncStream<WatchEvent>.Continuation
    }

    private struct State {
        /// The newest resourceVersion published (or restored).
        var latest: UInt64 = 0
        var subscribers: [UUID: Subscriber] = [:]
        var history: [WatchEvent] = []
        /// Every change newer than this resourceVersion is still in `history`.
        var replayableAfter: UInt64 = 0
    }

    /// How many recent events are kept for watches that start from a resourceVersion.
    static let historyLimit = 2000
    private let state = Mutex(State())

    /// The storage keys of the workloads the controllers roll out.
    static let workloadKeys = Set(Controllers.workloadKinds.map(\.0))
    /// Counts every change to a workload (the controllers look at workloads again only when it moved, or while a
    /// rollout is under way).
    let workloadChanges = Atomic<UInt64>(0)
    /// Counts the workload changes a controller acts on at once, as an informer's event handler would: a workload
    /// added or deleted, or its spec changed (a new `metadata.generation`); not the controllers' own status writes.
    let workloadSpecChanges = Atomic<UInt64>(0)
    /// Rung on each of those.
    let workloadDoorbell = Doorbell()

    /// Records `event` and hands it to every watch of its resource.
    func publish(_ event: WatchEvent) {
        if Self.workloadKeys.contains(event.key) {
            workloadChanges.add(1, ordering: .releasing)
            let generation = { (value: Value?) in value?[path: ["metadata", "generation"]]?.intValue }
            if event.kind != .modified || generation(event.previous) != generation(event.object.value) {
                workloadSpecChanges.add(1, ordering: .releasing)
                workloadDoorbell.ring()
            }
        }
        state.withLock { state in
            state.latest = max(state.latest, event.object.resourceVersion)
            state.history.append(event)
            if state.history.count > 2 * WatchHub.historyLimit {
                let dropped = state.history.count - WatchHub.historyLimit
                state.replayableAfter = state.history[dropped - 1].object.resourceVersion
                state.history.removeFirst(dropped)
            }
            for subscriber in state.subscribers.values where subscriber.key == event.key {
                subscriber.continuation.yield(event)
            }
        }
    }

    /// Forgets the changes up to `resourceVersion` (those before a restart): a watch from there must list again.
    func expire(through resourceVersion: UInt64) {
        state.withLock {
            $0.replayableAfter = max($0.replayableAfter, resourceVersion)
            $0.latest = max($0.latest, resourceVersion)
        }
    }

    /// The newest resourceVersion the hub has seen: what a bookmark sends.
    var latest: UInt64 { state.withLock { $0.latest } }

    /// Subscribes to the changes of `key`, first replaying the kept events newer than `resourceVersion` (nil: none).
    /// Finishing the returned continuation ends the stream (and the subscription). Nil when the changes after
    /// `resourceVersion` are no longer kept (the client gets 410 Expired and lists again).
    func subscribe(key: String, after resourceVersion: UInt64?) -> (
        AsyncStream<WatchEvent>, AsyncStream<WatchEvent>.Continuation
    )? {
        let id = UUID()
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream(bufferingPolicy: .unbounded)
        let kept = state.withLock { state -> Bool in
            if let resourceVersion, resourceVersion < state.replayableAfter { return false }
            if let resourceVersion {
                for event in state.history where event.key == key && event.object.resourceVersion > resourceVersion {
                    continuation.yield(event)
                }
            }
            state.subscribers[id] = Subscriber(key: key, continuation: continuation)
            return true
        }
        guard kept else { return nil }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return (stream, continuation)
    }
}

/// An open watch: the initial events (current objects as ADDED, maybe a closing bookmark) and the live changes of
/// one resource, filtered by namespace and selectors, streamed one JSON event a line until `timeout`.
struct WatchStream: Sendable {
    /// The watched resource, in the version the client asked for.
    let type: ResourceType
    /// The watched namespace; nil for all.
    let namespace: String?
    /// The `labelSelector` filter, if any.
    let labels: LabelSelector?
    /// The `fieldSelector` filter, if any (`metadata.name=X` for kubectl wait and rollout status).
    let fields: FieldSelector?
    /// Lines sent before any live change.
    var initial: [[UInt8]]
    /// The live changes of the watched resource (all namespaces, unfiltered).
    let events: AsyncStream<WatchEvent>
    /// Ends `events` (at the timeout, or when the client is gone).
    let continuation: AsyncStream<WatchEvent>.Continuation
    /// When the server ends the watch (`timeoutSeconds`).
    let timeout: Duration
    /// The request, when it asks for Tables (`kubectl get -w`): each event's object is then a one-row Table.
    var tableRequest: APIRequest? = nil
    /// With `allowWatchBookmarks=true`: how often a BOOKMARK with the newest resourceVersion is sent, and where
    /// that version comes from.
    var bookmarks: (every: Duration, hub: WatchHub)? = nil

    /// Whether an object belongs to this watch.
    func matches(_ namespace: String, _ value: Value) -> Bool {
        if let ns = self.namespace, ns != namespace { return false }
        if let labels, !labels.matches(value[path: ["metadata", "labels"]]?.stringMap ?? [:]) { return false }
        if let fields, !fields.matches(value) { return false }
        return true
    }

    /// How this watch sees a change, or nil when it does not see it. A modification that moves an object out of the
    /// watch's selectors is DELETED (with the previous state at the new resourceVersion), one that moves it in is
    /// ADDED: a client's cache of "objects matching X" stays exact.
    func visible(_ event: WatchEvent) -> (WatchEvent.Kind, StoredObject)? {
        let now = matches(event.namespace, event.object.value)
        guard event.kind == .modified, let previous = event.previous else {
            return now ? (event.kind, event.object) : nil
        }
        switch (matches(event.namespace, previous), now) {
        case (true, true): return (.modified, event.object)
        case (false, true): return (.added, event.object)
        case (true, false):
            var last = previous
            last["metadata"]?["resourceVersion"] = .string(String(event.object.resourceVersion))
            return (.deleted, StoredObject(value: last, resourceVersion: event.object.resourceVersion))
        case (false, false): return nil
        }
    }

    /// An object of an event as the client asked for it: the object itself, or a one-row Table of it.
    func render(_ object: [UInt8]) -> [UInt8] {
        guard let tableRequest else { return object }
        return Tables.table(fromObject: APIResponse(status: 200, body: object), type: type, request: tableRequest).body
    }

    /// One line of the watch protocol: `{"type":"ADDED","object":{...}}`.
    static func line(_ type: String, _ object: [UInt8]) -> [UInt8] {
        Array("{\"type\":\"\(type)\",\"object\":".utf8) + object + Array("}\n".utf8)
    }

    /// Writes the events until the timeout, the client going away, or the server stopping.
    func write(to writer: inout any ResponseBodyWriter) async throws {
        let continuation = self.continuation
        let timeout = self.timeout
        // Ends the event stream at the timeout; cancelled as soon as the stream ends otherwise.
        let timer = Task {
            try? await Task.sleep(for: timeout)
            continuation.finish()
        }
        let bookmarker = bookmarks.map { bookmarks in
            Task {
                while (try? await Task.sleep(for: bookmarks.every)) != nil {
                    continuation.yield(
                        WatchEvent(
                            kind: .bookmark, key: type.storageKey, namespace: "",
                            object: StoredObject(value: .null, resourceVersion: bookmarks.hub.latest)))
                }
            }
        }
        defer {
            timer.cancel()
            bookmarker?.cancel()
            continuation.finish()
        }
        for line in initial { try await writer.write(ByteBuffer(bytes: line)) }
        for await event in events {
            if event.kind == .bookmark {
                let bookmark: Value = [
                    "kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                    "metadata": ["resourceVersion": .string(String(event.object.resourceVersion))],
                ]
                try await writer.write(ByteBuffer(bytes: WatchStream.line("BOOKMARK", bookmark.jsonBytes)))
                continue
            }
            guard let (kind, object) = visible(event) else { continue }
            let rendered = render(RegionState.render(object, as: type))
            try await writer.write(ByteBuffer(bytes: WatchStream.line(kind.rawValue, rendered)))
        }
        try await writer.finish(nil)
    }
}

extension RegionState {
    /// `GET ...?watch=true`: the current matching objects as ADDED (without a resourceVersion, or with "0", or with
    /// `sendInitialEvents=true`), then every later change, ending at `timeoutSeconds` (30 minutes by default).
    func watch(_ type: ResourceType, namespace: String?, request: APIRequest) throws(APIError) -> APIResponse {
        let query = request.query
        let labels = try query["labelSelector"].map { (text) throws(APIError) in try LabelSelector(text) }
        let fields = try query["fieldSelector"].map { (text) throws(APIError) in
            try FieldSelector(text, kind: type.kind)
        }
        let versionText = query["resourceVersion"] ?? ""
        var from: UInt64? = nil
        if !versionText.isEmpty && versionText != "0" {
            guard let version = UInt64(versionText) else {
                throw .badRequest("invalid resource version: \(versionText)")
            }
            from = version
        }
        let sendInitialEvents = query["sendInitialEvents"] == "true"
        var timeout = Duration.seconds(1800)
        if let text = query["timeoutSeconds"], let seconds = Int64(text), seconds > 0 { timeout = .seconds(seconds) }
        guard
            let (events, continuation) = store.watchHub.subscribe(
                key: type.storageKey, after: sendInitialEvents ? nil : from)
        else {
            // As the real server answers a watch from a compacted revision: one ERROR event, then the end.
            let expired = APIError(
                code: 410, reason: "Expired",
                message: "too old resource version: \(versionText) (\(store.resourceVersion))")
            return APIResponse(status: 200, body: WatchStream.line("ERROR", expired.status.jsonBytes))
        }
        var stream = WatchStream(
            type: type, namespace: namespace, labels: labels, fields: fields, initial: [], events: events,
            continuation: continuation, timeout: timeout)
        if request.accept.contains("as=Table") { stream.tableRequest = request }
        if query["allowWatchBookmarks"] == "true" {
            stream.bookmarks = (.milliseconds(Int64(watchBookmarkSeconds * 1000)), store.watchHub)
        }
        var initial: [[UInt8]] = []
        if from == nil || sendInitialEvents {
            for object in store.list(type.storageKey, namespace: namespace) {
                let ns = object.value[path: ["metadata", "namespace"]]?.stringValue ?? ""
                guard stream.matches(ns, object.value) else { continue }
                initial.append(WatchStream.line("ADDED", stream.render(RegionState.render(object, as: type))))
            }
        }
        if sendInitialEvents {
            // The bookmark that tells a watch-list client its initial state is complete.
            let bookmark: Value = [
                "kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                "metadata": [
                    "resourceVersion": .string(String(store.resourceVersion)),
                    "annotations": ["k8s.io/initial-events-end": "true"],
                ],
            ]
            initial.append(WatchStream.line("BOOKMARK", bookmark.jsonBytes))
        }
        stream.initial = initial
        var response = APIResponse(status: 200, body: [])
        response.watch = stream
        return response
    }
}

/// Wakes one waiting task: `ring()` ends the current (or the next) `wait(timeout:)` at once.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var lastID: UInt64 = 0
    }
    private let state = Mutex(State())

    /// Wakes the waiter, or the next one to wait when none is waiting.
    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns when rung (since the last wait returned) or after `timeout`, whichever comes first. One waiter at a
    /// time.
    func wait(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = state.withLock { state -> UInt64? in
                if state.rung {
                    state.rung = false
                    return nil
                }
                state.lastID += 1
                state.waiter = (state.lastID, continuation)
                return state.lastID
            }
            guard let id else {
                continuation.resume()
                return
            }
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                self?.timeOut(id)
            }
        }
    }

    /// Ends wait `id` when it still waits.
    private func timeOut(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }
}
