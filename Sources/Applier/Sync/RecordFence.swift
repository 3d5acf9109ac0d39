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
    /// The record whose latest writer holds the region (the status record): a pass that wrote it last, and that
    /// finds another record changed, takes that record over instead of stopping (``holdsClaim(with:)``). nil:
    /// every conflict stops the pass.
    public let claim: ObjectRef?

    /// A fence; `claim` is the record that says which pass holds the region.
    public init(claim: ObjectRef? = nil) {
        self.claim = claim
    }

    /// Notes `record` as read: its `resourceVersion`, or absent (nil). Only the first read of a record counts.
    public func observe(_ ref: ObjectRef, _ record: Resource?) {
        let state: Seen =
            record.flatMap { $0.body[path: ["metadata", "resourceVersion"]]?.stringValue }.map(Seen.version)
            ?? .absent
        seen.withLock { known in
            if known[ref.key] == nil { known[ref.key] = state }
        }
        // A record lives in its namespace: found, it needs no look of its own before the first write.
        if record != nil { systemNamespaceKnown = true }
    }

    /// Whether this pass wrote ``claim`` last: the server still has it at the version this pass wrote. Then a
    /// conflict on another record came from a pass that has lost the region (it stops at its next write of the
    /// claim), and this pass may take that record over.
    public func holdsClaim(with client: KubeClient) async -> Bool {
        guard let claim, case .version(let held)? = seen.withLock({ $0[claim.key] }), wrote(claim) else { return false }
        guard let current = try? await client.getIfPresent(claim) else { return false }
        return current.body[path: ["metadata", "resourceVersion"]]?.stringValue == held
    }

    /// Forgets what the pass knew of `ref`, so that the next read sets its precondition again (a record taken
    /// over after ``holdsClaim(with:)``).
    public func forget(_ ref: ObjectRef) {
        seen.withLock { $0[ref.key] = nil }
    }

    private let written = Mutex<Set<ObjectKey>>([])
    private let spent = Mutex<(writes: Int, time: Duration)>((0, .zero))

    /// How many record writes this pass made and the time they took (namespace check included): what keeping
    /// the records costs a pass.
    public var cost: (writes: Int, time: Duration) { spent.withLock { $0 } }

    func account(_ time: Duration) {
        spent.withLock { $0 = ($0.writes + 1, $0.time + time) }
    }

    private func wrote(_ ref: ObjectRef) -> Bool { written.withLock { $0.contains(ref.key) } }

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
        written.withLock { _ = $0.insert(stored.ref.key) }
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
