import Synchronization
import SyncCore

/// Optimistic concurrency for syncagent's own records (the inventory and the status ConfigMaps in
/// `syncagent-system`): each record is written with the `resourceVersion` this pass first read it at, or last wrote
/// it at, as a precondition (an update, `PUT`; a create, `POST`, when the pass found none). Another writer in between
/// (a second agent, a `syncagent sync` run by hand) makes the server answer 409, and the write fails with
/// ``RecordConflict`` instead of silently replacing that writer's record.
///
/// Reads after the first never move the fence: a pass that read a record at version 7 and finds it at 9 later did
/// not write 8 and 9, so its next write must fail. One fence per pass and region, shared by every copy of the
/// region's ``RegionApplier``. Leases for several replicas build on this (a later issue).
public final class RecordFence: Sendable {
    private enum Seen: Sendable, Hashable {
        case absent
        case version(String)
    }

    private let seen = Mutex<[ObjectKey: Seen]>([:])
    private let namespaceKnown = Mutex(false)

    public init() {}

    /// Notes `record` as read: its `resourceVersion`, or absent (nil). Only the first read of a record counts.
    public func observe(_ ref: ObjectRef, _ record: Resource?) {
        let state: Seen =
            record.flatMap { $0.body[path: ["metadata", "resourceVersion"]]?.stringValue }.map(Seen.version)
            ?? .absent
        seen.withLock { known in
            if known[ref.key] == nil { known[ref.key] = state }
        }
    }

    /// Whether the pass has read (or written) `ref`.
    public func knows(_ ref: ObjectRef) -> Bool { seen.withLock { $0[ref.key] != nil } }

    /// Writes `record` (an object syncagent owns outright) with the precondition: created when the pass found none,
    /// replaced at the version the pass holds otherwise. The version the server answers becomes the next
    /// precondition. Reads the record first when the pass never did.
    func write(_ record: Resource, with client: KubeClient) async throws(RecordWriteError) {
        if !knows(record.ref) {
            do throws(ApplierError) {
                observe(record.ref, try await client.getIfPresent(record.ref))
            } catch {
                throw .api(error)
            }
        }
        let state = seen.withLock { $0[record.ref.key] } ?? .absent
        var versioned = record
        if case .version(let version) = state, var metadata = record.body["metadata"] {
            metadata["resourceVersion"] = .string(version)
            versioned.body["metadata"] = metadata
        }
        let stored: Resource
        do throws(ApplierError) {
            switch state {
            case .absent: stored = try await client.create(record)
            case .version: stored = try await client.update(versioned)
            }
        } catch {
            let reason = error.status?.reason
            if reason == .conflict || reason == .alreadyExists {
                let expected: String? =
                    switch state {
                    case .absent: nil
                    case .version(let version): version
                    }
                throw .conflict(RecordConflict(record: record.ref, expectedVersion: expected))
            }
            throw .api(error)
        }
        observeWrite(stored)
    }

    private func observeWrite(_ stored: Resource) {
        let version = stored.body[path: ["metadata", "resourceVersion"]]?.stringValue
        seen.withLock { $0[stored.ref.key] = version.map(Seen.version) ?? .absent }
    }

    /// Whether namespace `syncagent-system` is known to exist (checked once a pass).
    var systemNamespaceKnown: Bool {
        get { namespaceKnown.withLock { $0 } }
        set { namespaceKnown.withLock { $0 = newValue } }
    }
}

/// A record another writer changed since this pass read it: the write was refused (409) and nothing was stored.
public struct RecordConflict: Error, Sendable, Hashable, CustomStringConvertible {
    /// The record (a ConfigMap in `syncagent-system`).
    public var record: ObjectRef
    /// The `resourceVersion` this pass held; nil when it found no record and another writer created one.
    public var expectedVersion: String?

    public var description: String {
        let what = "ConfigMap \(record.namespace)/\(record.name)"
        if let expectedVersion {
            return "another syncagent is writing this region: \(what) changed since this pass read it "
                + "(at resourceVersion \(expectedVersion)); nothing was written"
        }
        return "another syncagent is writing this region: \(what) was created since this pass found none; "
            + "nothing was written"
    }
}

/// Why a record write failed: another writer (``RecordConflict``) or the API.
public enum RecordWriteError: Error, Sendable, CustomStringConvertible {
    case conflict(RecordConflict)
    case api(ApplierError)

    public var description: String {
        switch self {
        case .conflict(let conflict): "\(conflict)"
        case .api(let error): "\(error)"
        }
    }
}
