import Foundation
import Synchronization
import SyncCore

extension RegionApplier {
    /// The objects to prune for a sync of `desired`: those in the region's inventory that are no longer desired
    /// (none when the region has no inventory yet). Feed them to ``RegionPlan/init(region:desired:pruneRefs:)``.
    public func pruneCandidates(desired: [Resource]) async throws -> [ObjectRef] {
        guard let inventory = try await readInventory() else { return [] }
        let wanted = Set(desired.map(\.key))
        return inventory.objects.filter { !wanted.contains($0.key) }
    }

    /// The region's inventory, or nil when it has none.
    public func readInventory() async throws -> Inventory? {
        let configMap = try await client.getIfPresent(Inventory.configMapRef)
        records.observe(Inventory.configMapRef, configMap)
        guard let configMap else { return nil }
        return try lastInventory.parse(configMap.body)
    }

    /// Records `objects` as applied at `revision` now (with `pendingRevision`, a sync that has begun), creating
    /// namespace `syncagent-system` when missing. The write is fenced (``RecordFence``): another writer since this
    /// pass read the inventory makes it fail with ``RecordWriteError/conflict(_:)``.
    func writeInventory(revision: String, objects: [ObjectRef], pendingRevision: String? = nil) async throws
        -> Inventory
    {
        try await ensureSystemNamespace()
        let time = Date().formatted(.iso8601)
        let inventory = Inventory(revision: revision, time: time, objects: objects, pendingRevision: pendingRevision)
        do {
            try await writeRecord(try Resource(body: inventory.configMap))
            return inventory
        } catch let error as RecordWriteError {
            guard case .conflict(let conflict) = error else { throw error }
            // Another pass wrote the inventory, but this pass holds the region (it wrote the status record last):
            // the other pass stops at its next status write. Take the inventory over, keeping every object the
            // other pass recorded (an object it created and this revision does not want is pruned by a later pass,
            // never left unrecorded).
            guard await records.holdsClaim(with: client) else { throw RecordWriteError.conflict(conflict) }
            records.forget(Inventory.configMapRef)
            let now = try await readInventory()
            let mine = Set(objects.map(\.key))
            let kept = objects + (now?.objects ?? []).filter { !mine.contains($0.key) }
            let merged = Inventory(revision: revision, time: time, objects: kept, pendingRevision: pendingRevision)
            logger.warning(
                "another syncagent wrote the inventory; this pass holds the region and takes it over",
                metadata: ["objectsKept": "\(kept.count - objects.count)"])
            try await writeRecord(try Resource(body: merged.configMap))
            return merged
        }
    }

    /// Writes one of syncagent's own records (a ConfigMap in `syncagent-system`) through the pass's fence.
    public func writeRecord(_ record: Resource) async throws(RecordWriteError) {
        let clock = ContinuousClock()
        let start = clock.now
        defer { records.account(clock.now - start) }
        do throws(ApplierError) {
            try await ensureSystemNamespace()
        } catch {
            throw .api(error)
        }
        try await records.write(record, with: client)
    }

    /// Creates namespace `syncagent-system` (where the inventory and the status records live) when it is missing.
    public func ensureSystemNamespace() async throws(ApplierError) {
        if records.systemNamespaceKnown { return }
        let namespace = ObjectRef(apiVersion: "v1", kind: "Namespace", name: Inventory.namespace)
        guard try await client.getIfPresent(namespace) == nil else {
            records.systemNamespaceKnown = true
            return
        }
        let body: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(Inventory.namespace)]]
        guard let resource = try? Resource(body: body) else { return }
        do throws(ApplierError) {
            _ = try await client.create(resource)
        } catch {
            if error.status?.reason != .alreadyExists { throw error }
        }
        records.systemNamespaceKnown = true
    }
}

/// The last inventory ConfigMap parsed (``RegionApplier/lastInventory``), kept by its uid and resourceVersion:
/// the server gives a changed object a new resourceVersion, so one that has both as before holds the same list.
final class ParsedInventory: Sendable {
    private let last = Mutex<(version: String, inventory: Inventory)?>(nil)

    /// The inventory `configMap` holds, parsed unless it is the one parsed last.
    func parse(_ configMap: Value) throws -> Inventory {
        guard let uid = configMap[path: ["metadata", "uid"]]?.stringValue,
            let resourceVersion = configMap[path: ["metadata", "resourceVersion"]]?.stringValue,
            !uid.isEmpty, !resourceVersion.isEmpty
        else { return try Inventory(configMap: configMap) }
        let version = uid + "/" + resourceVersion
        if let known = last.withLock({ $0 }), known.version == version { return known.inventory }
        let inventory = try Inventory(configMap: configMap)
        last.withLock { $0 = (version, inventory) }
        return inventory
    }
}
