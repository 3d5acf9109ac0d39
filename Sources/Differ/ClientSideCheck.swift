import KubeSchema
import SyncCore

/// Server-side mode's shortcut: whether a live object is certainly in sync without asking the server for a dry-run
/// apply. True only when
///
/// - webhook mutations are ignored (``DiffOptions/ignoreMutationWebhook``: only a dry-run shows them);
/// - `fieldManager` has an Apply entry in live's managedFields whose fields the manifest still sets (so the apply
///   would remove nothing: every owned field is a field the manifest sets), and no `kubectl apply` last-applied
///   annotation speaks for other removals;
/// - every field the manifest sets already has its value live (client-side comparison, defaults applied).
///
/// An apply that sets only fields that already hold those values and removes none leaves the object as it is, so
/// the dry-run would predict live. Anything else (a changed value, a field the manifest stopped setting, an object
/// syncagent never applied) returns false, and the caller confirms with the dry-run, which also removes false drift
/// from server defaulting and mutation. Ignore rules are not consulted: a false here only costs a dry-run.
public func isInSyncWithoutDryRun(desired: Resource, live: Value, options: DiffOptions = DiffOptions()) -> Bool {
    diffWithoutDryRun(desired: desired, live: live, options: options, ownership: .everything) != nil
}

/// The comparison of `desired` with `live` when ``isInSyncWithoutDryRun(desired:live:options:)`` holds (no
/// changes, compared client-side, classed by `ownership`); nil when the object needs the server's dry-run.
public func diffWithoutDryRun(desired: Resource, live: Value, options: DiffOptions, ownership: Ownership)
    -> ResourceDiff?
{
    // Webhook mutations asked to be shown (`ignoreMutationWebhook` off) are only visible in a dry-run.
    guard options.ignoreMutationWebhook, Bookkeeping.lastAppliedConfiguration(of: live) == nil else { return nil }
    let attribution = Attribution(live: live, fieldManager: options.fieldManager)
    let applied = attribution.appliedFields
    guard !applied.isEmpty else { return nil }
    let schema = BuiltinSchemas.schema(for: desired.body)
    let stripped = Bookkeeping.strip(desired.body)
    var manifestFields = FieldSets.of(stripped, schema: schema, hasStatusSubresource: true)
    if SecretMasking.applies(to: desired.key) {
        // stringData.K is owned as written; data.K is what the manifest sets once the server converts it.
        var converted = stripped
        Defaulting.secret(&converted)
        manifestFields.formUnion(FieldSets.of(converted, schema: schema, hasStatusSubresource: true))
    }
    guard applied.subtracting(manifestFields).isEmpty else { return nil }
    var clientSide = options
    clientSide.mode = .clientSide
    clientSide.ignore = []  // a change an ignore rule would hide still goes to the server: the cautious side
    let result = diff(desired: desired, live: live, predicted: nil, options: clientSide, ownership: ownership)
    return result.changes.isEmpty ? result : nil
}
