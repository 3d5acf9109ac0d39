import KubeSchema
import SyncCore

/// Server-side mode's shortcut: whether a live object is certainly in sync without asking the server for a dry-run
/// apply. True only when
///
/// - webhook mutations are ignored (``DiffOptions/ignoreMutationWebhook``: only a dry-run shows them);
/// - `fieldManager` has an Apply entry in live's managedFields whose fields the manifest still sets (so the apply
///   would remove nothing: every owned field is a field the manifest sets), and no `kubectl apply` last-applied
///   annotation speaks for other removals; or the manifest sets no field at all (a Namespace by its name) and live
///   has managedFields (so the apply would record nothing either);
/// - every field the manifest sets already has its value live (client-side comparison, defaults applied).
///
/// An apply that sets only fields that already hold those values and removes none leaves the object as it is, so
/// the dry-run would predict live. Anything else (a changed value, a field the manifest stopped setting, an object
/// syncagent never applied fields to) returns false, and the caller confirms with the dry-run, which also removes
/// false drift from server defaulting and mutation. Ignore rules are not consulted: a false here only costs a
/// dry-run.
public func isInSyncWithoutDryRun(desired: Resource, live: Value, options: DiffOptions = DiffOptions()) -> Bool {
    diffWithoutDryRun(desired: desired, live: live, options: options, ownership: .everything) != nil
}

/// The comparison of `desired` with `live` when ``isInSyncWithoutDryRun(desired:live:options:)`` holds (no
/// changes, compared client-side, classed by `ownership`); nil when the object needs the server's dry-run.
///
/// `bookkeepingWrites` answers a diff's question (would an apply change a value?) rather than the settle check's
/// (would it write at all?): it also takes a manifest that sets no field (a Namespace by its name alone) on an
/// object where this manager applied none, even when live has no managedFields. Such an apply changes no value:
/// the server only records the fields live already has, as `before-first-apply`, and the dry-run shows nothing
/// else. The settle check never takes it, since that record is a write.
public func diffWithoutDryRun(
    desired: Resource, live: Value, options: DiffOptions, ownership: Ownership, bookkeepingWrites: Bool = false
) -> ResourceDiff? {
    // Webhook mutations asked to be shown (`ignoreMutationWebhook` off) are only visible in a dry-run.
    guard options.ignoreMutationWebhook, Bookkeeping.lastAppliedConfiguration(of: live) == nil else { return nil }
    guard
        appliesNothingNew(desired: desired, live: live, fieldManager: options.fieldManager)
            || (bookkeepingWrites && setsNoField(desired: desired, live: live, fieldManager: options.fieldManager))
    else { return nil }
    var clientSide = options
    clientSide.mode = .clientSide
    clientSide.ignore = []  // a change an ignore rule would hide still goes to the server: the cautious side
    let result = diff(desired: desired, live: live, predicted: nil, options: clientSide, ownership: ownership)
    return result.changes.isEmpty ? result : nil
}

/// Whether the manifest sets no field and `fieldManager` owns none by an apply: the apply would neither set nor
/// remove a value (Secrets excluded: their data is compared in two forms).
func setsNoField(desired: Resource, live: Value, fieldManager: String) -> Bool {
    guard !SecretMasking.applies(to: desired.key) else { return false }
    let applied = ManagedFieldsEntry.fieldsV1(of: live) { $0 == fieldManager && $1 == "Apply" }
    guard !applied.contains(where: { FieldSets.hasPaths(fieldsV1: $0) }) else { return false }
    let schema = BuiltinSchemas.schema(for: desired.body)
    return FieldSets.of(Bookkeeping.strip(desired.body), schema: schema, hasStatusSubresource: true).isEmpty
}

/// Whether `fieldManager` has applied this object before (an Apply entry with fields) and every field it owns by
/// those entries is one the manifest still sets: the apply would then remove nothing.
func appliesNothingNew(desired: Resource, live: Value, fieldManager: String) -> Bool {
    let schema = BuiltinSchemas.schema(for: desired.body)
    let stripped = Bookkeeping.strip(desired.body)
    if SecretMasking.applies(to: desired.key) {
        // stringData.K is owned as written; data.K is what the manifest sets once the server converts it: the
        // union of two sets, which the walk below does not take.
        let applied = Attribution(live: live, fieldManager: fieldManager).appliedFields
        guard !applied.isEmpty else { return false }
        var converted = stripped
        Defaulting.secret(&converted)
        var manifestFields = FieldSets.of(stripped, schema: schema, hasStatusSubresource: true)
        manifestFields.formUnion(FieldSets.of(converted, schema: schema, hasStatusSubresource: true))
        return applied.subtracting(manifestFields).isEmpty
    }
    // The raw entries, walked beside the manifest: no field set is built on either side.
    let applied = ManagedFieldsEntry.fieldsV1(of: live) { $0 == fieldManager && $1 == "Apply" }
    guard applied.contains(where: { FieldSets.hasPaths(fieldsV1: $0) }) else {
        // Never applied with a field. An apply that sets none either (a Namespace by its name alone) stores
        // nothing: the server keeps no empty managedFields entry. Unless live has no managedFields at all: the
        // server would then record the fields it has as `before-first-apply`, a write.
        let managed = live[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        return !managed.isEmpty && FieldSets.of(stripped, schema: schema, hasStatusSubresource: true).isEmpty
    }
    return applied.allSatisfy {
        FieldSets.covers(fieldsV1: $0, of: stripped, schema: schema, hasStatusSubresource: true)
    }
}
