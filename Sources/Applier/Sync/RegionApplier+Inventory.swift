import Foundation
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
        guard let configMap = try await client.getIfPresent(Inventory.configMapRef) else { return nil }
        return try Inventory(configMap: configMap.body)
    }

    /// Records `objects` as applied at `revision` now (with `pendingRevision`, a sync that has begun), creating
    /// namespace `syncagent-system` when missing.
    func writeInventory(revision: String, objects: [ObjectRef], pendingRevision: String? = nil) async throws
        -> Inventory
    {
        try await ensureSystemNamespace()
        let time = Date().formatted(.iso8601)
        let inventory = Inventory(revision: revision, time: time, objects: objects, pendingRevision: pendingRevision)
        _ = try await client.apply(try Resource(body: inventory.configMap), options: ApplyOptions(force: true))
        return inventory
    }

    /// Creates namespace `syncagent-system` (where the inventory and the status records live) when it is missing.
    public func ensureSystemNamespace() async throws(ApplierError) {
        let namespace = ObjectRef(apiVersion: "v1", kind: "Namespace", name: Inventory.namespace)
        guard try await client.getIfPresent(namespace) == nil else { return }
        let body: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(Inventory.namespace)]]
        guard let resource = try? Resource(body: body) else { return }
        do throws(ApplierError) {
            _ = try await client.create(resource)
        } catch {
            if error.status?.reason != .alreadyExists { throw error }
        }
    }
}
