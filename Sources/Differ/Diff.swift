import KubeSchema
import SyncCore

/// Compares one desired object with its live counterpart; pure (values in, a value out).
///
/// - `live`: the object as the cluster returns it; nil when it does not exist (missing live).
/// - `predicted`: the server's dry-run apply of `desired` (server-side mode); nil to normalise client-side.
/// - `ownership`: tells an object syncagent created from one it would take over (unmanaged conflict).
///
/// Always ignored: `status`, server-written metadata, the last-applied annotation, fields another manager owns
/// that the manifest does not set, and whatever `options.ignore` names. Each change names the live field's last
/// writer (managedFields). Secret values are masked in everything returned.
public func diff(
    desired: Resource, live: Value?, predicted: Value? = nil, options: DiffOptions = DiffOptions(),
    ownership: Ownership = .fromManagedFields
) -> ResourceDiff {
    let key = desired.key
    let masking = SecretMasking.applies(to: key)
    func mask(_ value: Value) -> Value { masking ? SecretMasking.masked(value) : value }
    guard let live, !live.isNull else {
        let target = Bookkeeping.strip(desired.body)
        return ResourceDiff(
            ref: desired.ref, drift: .missingLive, changes: [], mode: options.mode, live: nil, target: mask(target))
    }
    let schema = BuiltinSchemas.schema(for: desired.body)
    let fieldManager = options.fieldManager
    let liveSide = Bookkeeping.strip(KnownTypes.normalize(live, key: key, desired: desired.body, options: options))
    // Who owns what, read from the raw entries as the walk asks (``FieldMembership``); the parsed entries
    // (``Attribution``) only when a change needs its writer named or the last-applied annotation is in play.
    let applied = FieldMembership(
        fieldsV1: ManagedFieldsEntry.fieldsV1(of: live) { $0 == fieldManager && $1 == "Apply" })
    let othersOwn = FieldMembership(
        fieldsV1: ManagedFieldsEntry.fieldsV1(of: live) { manager, _ in manager != fieldManager })

    var comparison: FieldComparison
    let mode: DiffOptions.Mode
    let desiredSide: Value
    if options.mode == .serverSide, var predicted, !predicted.isNull {
        mode = .serverSide
        if options.ignoreMutationWebhook {
            predicted = MutationWebhook.revert(
                predicted: predicted, live: live, fieldManager: options.fieldManager, schema: schema)
        }
        desiredSide = Bookkeeping.strip(
            KnownTypes.normalize(predicted, key: key, desired: desired.body, options: options))
        comparison = FieldComparison(subset: false, previous: applied, others: othersOwn)
    } else {
        mode = .clientSide
        var written = Bookkeeping.strip(desired.body)
        if masking { Defaulting.secret(&written) }  // stringData is written as data
        var previous = applied
        var others = othersOwn
        if let lastApplied = Bookkeeping.lastAppliedConfiguration(of: live) {
            let attribution = Attribution(live: live, fieldManager: options.fieldManager)
            var previousSet = attribution.appliedFields
            var othersSet = attribution.othersFields
            let applied = FieldSets.of(Bookkeeping.strip(lastApplied), schema: schema, hasStatusSubresource: true)
            previousSet.formUnion(applied)
            // kubectl's client-side apply is the writer the annotation speaks for, not "another manager".
            for entry in attribution.entries where entry.manager == "kubectl-client-side-apply" {
                othersSet.subtract(entry.fields.intersection(applied))
            }
            previous = FieldMembership(set: previousSet)
            others = FieldMembership(set: othersSet)
        }
        let defaulted = ClientDefaults.apply(written, key: key)
        desiredSide = Bookkeeping.strip(
            KnownTypes.normalize(defaulted, key: key, desired: desired.body, options: options))
        comparison = FieldComparison(subset: true, written: written, schema: schema, previous: previous, others: others)
    }
    comparison.compare(desiredSide, liveSide, schema: schema, path: [])
    let attribution = comparison.changes.isEmpty ? nil : Attribution(live: live, fieldManager: options.fieldManager)

    let rules = options.ignore.filter { $0.selects(key) }
    var changes: [FieldChange] = []
    var target = liveSide
    for var change in comparison.changes {
        let owner = attribution?.owner(of: change.path)
        if rules.contains(where: { $0.ignores(change.path, manager: owner?.manager) }) { continue }
        change.manager = owner?.manager
        change.time = owner.flatMap { $0.time.isEmpty ? nil : $0.time }
        target = target.setting(change.desired, at: change.path, schema: schema)
        changes.append(masking ? SecretMasking.masked(change) : change)
    }
    changes.sort { $0.pathString < $1.pathString }

    let drift: DriftClass
    if !ownership.manages(key, live: live, fieldManager: options.fieldManager) {
        drift = .unmanagedConflict
    } else {
        drift = changes.isEmpty ? .inSync : .modified
    }
    var shownTarget = mask(target)
    if masking { shownTarget = SecretMasking.markChanged(shownTarget, changes: changes) }
    return ResourceDiff(
        ref: desired.ref, drift: drift, changes: changes, mode: mode, live: mask(liveSide), target: shownTarget)
}

/// Compares a region: every desired object with its live counterpart (matched by identity; a desired object
/// without a namespace matches a live one of the same group, kind and name), and every inventory object no longer
/// desired (extra). Live objects neither desired nor in the inventory are not syncagent's business.
///
/// - `live`: the live objects that were found (desired ones and inventory ones).
/// - `predicted`: dry-run results by the desired object's identity.
/// - `compared`: results already made by the desired object's identity (``diffWithoutDryRun(desired:live:options:ownership:)``),
///   used as they are.
public func diff(
    region: String, desired: [Resource], live: [Value], predicted: [ObjectKey: Value] = [:],
    options: DiffOptions = DiffOptions(), ownership: Ownership = .fromManagedFields,
    compared: [ObjectKey: ResourceDiff] = [:], notServed: Set<ObjectKey> = []
) -> RegionDiff {
    let index = LiveIndex(live)
    var results: [ResourceDiff] = []
    var matched: Set<ObjectKey> = []
    for resource in desired {
        if notServed.contains(resource.key) {
            let target = Bookkeeping.strip(resource.body)
            let masked = SecretMasking.applies(to: resource.key) ? SecretMasking.masked(target) : target
            results.append(
                ResourceDiff(
                    ref: resource.ref, drift: .kindNotServed, changes: [], mode: options.mode, live: nil,
                    target: masked))
            continue
        }
        let found = index.match(resource.key)
        if let found { matched.insert(found.key) }
        if let done = compared[resource.key] {
            results.append(done)
            continue
        }
        results.append(
            diff(
                desired: resource, live: found?.body, predicted: predicted[resource.key], options: options,
                ownership: ownership))
    }
    for ref in ownership.inventory?.objects ?? [] where !matched.contains(ref.key) {
        guard let found = index.match(ref.key), !matched.contains(found.key) else { continue }
        let masking = SecretMasking.applies(to: ref.key)
        let body = Bookkeeping.strip(found.body)
        let shown = (try? Resource(body: found.body).ref) ?? ref
        results.append(
            ResourceDiff(
                ref: shown, drift: .extra, changes: [], mode: options.mode,
                live: masking ? SecretMasking.masked(body) : body, target: nil))
    }
    return RegionDiff(region: region, resources: results)
}

/// Live objects by identity, with the namespace-free fallback.
struct LiveIndex {
    private var byKey: [ObjectKey: Value] = [:]
    private var byName: [ObjectKey: [ObjectKey]] = [:]

    init(_ objects: [Value]) {
        for object in objects {
            guard let resource = try? Resource(body: object) else { continue }
            byKey[resource.key] = object
            byName[Self.nameKey(resource.key), default: []].append(resource.key)
        }
    }

    private static func nameKey(_ key: ObjectKey) -> ObjectKey {
        ObjectKey(group: key.group, kind: key.kind, namespace: "", name: key.name)
    }

    /// The live object with this identity; or, when either side has no namespace, the only one of that name.
    func match(_ key: ObjectKey) -> (key: ObjectKey, body: Value)? {
        if let body = byKey[key] { return (key, body) }
        let candidates = byName[Self.nameKey(key)] ?? []
        let usable = candidates.filter { key.namespace.isEmpty || $0.namespace.isEmpty }
        guard usable.count == 1, let only = usable.first, let body = byKey[only] else { return nil }
        return (only, body)
    }
}
