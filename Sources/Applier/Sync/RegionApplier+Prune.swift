import SyncCore

extension RegionApplier {
    /// Deletes one object no longer in Git: `pruned`, or `skipped` with the reason when it is not in the region's
    /// inventory (syncagent never created it), carries `syncagent.io/prune: disabled`, or is already gone.
    /// With `dryRun`, nothing is deleted and a deletable object reads `pruned`.
    func prune(_ ref: ObjectRef, inventory: Inventory?, dryRun: Bool = false) async throws(ApplierError)
        -> ObjectChange
    {
        guard let inventory, inventory.contains(ref.key) else {
            return ObjectChange(ref, .skipped, reason: "not in the inventory")
        }
        guard let live = try await client.getIfPresent(ref) else {
            return ObjectChange(ref, .skipped, reason: "already gone")
        }
        if live.annotations[Self.pruneAnnotation] == "disabled" {
            return ObjectChange(ref, .skipped, reason: "\(Self.pruneAnnotation): disabled")
        }
        if dryRun { return ObjectChange(ref, .pruned) }
        let deleted = try await client.delete(ref)
        return deleted ? ObjectChange(ref, .pruned) : ObjectChange(ref, .skipped, reason: "already gone")
    }
}
