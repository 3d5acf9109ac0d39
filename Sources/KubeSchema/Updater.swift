import SyncCore

/// The fields one manager owns, at the API version it wrote them in.
public struct VersionedFieldSet: Sendable, Hashable {
    /// The owned paths.
    public var fields: FieldSet
    /// The API version the paths are written in.
    public var apiVersion: String
    /// Whether the manager's last write was an apply.
    public var applied: Bool

    /// A manager's set from its parts.
    public init(fields: FieldSet, apiVersion: String, applied: Bool) {
        self.fields = fields
        self.apiVersion = apiVersion
        self.applied = applied
    }
}

/// Every manager's owned fields, by manager identity. Identities are opaque: Kubernetes builds one from the
/// manager's name, operation and subresource, so an `Update` and an `Apply` by the same name are two managers.
public typealias ManagerSets = [String: VersionedFieldSet]

/// A field an apply would change that another manager owns.
public struct FieldConflict: Sendable, Hashable {
    /// The manager identity that owns the field.
    public var manager: String
    /// The field.
    public var path: FieldPath

    /// A conflict from its parts.
    public init(manager: String, path: FieldPath) {
        self.manager = manager
        self.path = path
    }
}

/// Why an update or apply failed.
public enum UpdaterError: Error, Sendable, CustomStringConvertible {
    /// The apply changes fields other managers own (and was not forced).
    case conflicts([FieldConflict])
    /// The object or configuration is not valid under the schema (each message names its path).
    case invalid([String])
    /// A conversion between versions failed.
    case conversion(String)

    public var description: String {
        switch self {
        case .conflicts(let conflicts): return Updater.conflictMessage(conflicts)
        case .invalid(let errors): return errors.joined(separator: "\n")
        case .conversion(let message): return message
        }
    }
}

/// A version the converter does not serve (an obsolete version): managers recorded at it are dropped.
public struct MissingVersionError: Error, Sendable {
    /// The version.
    public var version: String

    /// The error for `version`.
    public init(version: String) { self.version = version }
}

/// Converts objects between API versions.
public protocol VersionConverter: Sendable {
    /// `value`, written in `from`, as version `to`.
    func convert(_ value: Value, from: String, to: String) throws(MissingVersionError) -> Value
}

/// Every version is the same object.
public struct IdentityConverter: VersionConverter {
    /// The identity converter.
    public init() {}

    public func convert(_ value: Value, from: String, to: String) throws(MissingVersionError) -> Value { value }
}

/// Server-side apply and field ownership as structured-merge-diff's `merge.Updater` does them: an update gives its
/// manager the fields it changed and takes them from the others; an apply merges a configuration into the live
/// object, conflicts where it would change another manager's fields, and removes the fields its manager applied
/// before but no longer applies unless another manager owns them.
public struct Updater: Sendable {
    /// The schema of the object at each API version.
    public var schema: @Sendable (String) -> Schema
    /// Converts objects between versions.
    public var converter: any VersionConverter
    /// Paths no manager owns at a version (and everything below them): they cause no conflicts and change no
    /// ownership, though the object still carries them.
    public var ignored: @Sendable (String, FieldPath) -> Bool
    /// Whether the schema may have changed since managers' sets were recorded (a CRD's schema can; a built-in
    /// kind's cannot), so that sets are reconciled with it before each write.
    public var schemaMayChange: Bool

    /// An updater with these parts.
    public init(
        schema: @escaping @Sendable (String) -> Schema, converter: any VersionConverter = IdentityConverter(),
        ignored: @escaping @Sendable (String, FieldPath) -> Bool = { _, _ in false }, schemaMayChange: Bool = true
    ) {
        self.schema = schema
        self.converter = converter
        self.ignored = ignored
        self.schemaMayChange = schemaMayChange
    }

    /// The outcome of an update or apply.
    public struct Result: Sendable {
        /// The new object.
        public var object: Value
        /// The managers' sets after the write.
        public var managers: ManagerSets
        /// Whether the object differs from the live one (false for a no-op apply).
        public var changed: Bool
    }

    /// A whole-object write (create, update, non-apply patch) of `new` by `manager`.
    public func update(
        live: Value?, new: Value, apiVersion: String, managers: ManagerSets, manager: String
    ) throws(UpdaterError) -> Result {
        let live = live ?? .null
        var managers = reconciled(live, apiVersion, managers)
        let comparison = try record(live, new, apiVersion, &managers, acting: manager, force: true)
        var set = (managers[manager]?.fields.paths ?? []).subtracting(comparison.removed)
        set.formUnion(comparison.modified)
        set.formUnion(comparison.added)
        set = set.filter { !ignored(apiVersion, $0) }
        managers[manager] =
            set.isEmpty ? nil : VersionedFieldSet(fields: FieldSet(set), apiVersion: apiVersion, applied: false)
        return Result(object: new, managers: managers, changed: !live.contentEquals(new))
    }

    /// Server-side apply of `config` by `manager`, forced or not.
    public func apply(
        live: Value?, config: Value, apiVersion: String, managers: ManagerSets, manager: String, force: Bool
    ) throws(UpdaterError) -> Result {
        let schema = self.schema(apiVersion)
        let errors = Typed.validate(config, schema: schema, allowDuplicates: false)
        if !errors.isEmpty { throw .invalid(errors) }
        let live = live ?? .null
        var managers = reconciled(live, apiVersion, managers)
        var merged = Typed.merge(live, config, schema: schema) ?? .null
        let last = managers[manager]
        let set = Typed.fieldSet(config, schema: schema).paths.filter { !ignored(apiVersion, $0) }
        managers[manager] = VersionedFieldSet(fields: FieldSet(set), apiVersion: apiVersion, applied: true)
        merged = try prune(merged, apiVersion, managers, manager, last)
        _ = try record(live, merged, apiVersion, &managers, acting: manager, force: force)
        if live.contentEquals(merged) { return Result(object: live, managers: managers, changed: false) }
        return Result(object: merged, managers: managers, changed: true)
    }

    /// The conflicts of a set of managers' fields, as an apply reports them.
    public static func conflicts(_ managers: [String: FieldSet]) -> [FieldConflict] {
        managers.keys.sorted().flatMap { manager in
            (managers[manager]?.paths ?? []).sorted(by: setOrder).map { FieldConflict(manager: manager, path: $0) }
        }
    }

    /// structured-merge-diff's text for conflicts: `conflict with "m": .path` for one, else per manager a line
    /// `conflicts with "m":` and a `- .path` line per field.
    public static func conflictMessage(_ conflicts: [FieldConflict]) -> String {
        let sorted = conflicts.sorted { a, b in
            a.manager != b.manager ? a.manager < b.manager : setOrder(a.path, b.path)
        }
        if sorted.count == 1 { return "conflict with \"\(sorted[0].manager)\": \(sorted[0].path.pathString)" }
        var lines: [String] = []
        var current: String? = nil
        for conflict in sorted {
            if conflict.manager != current {
                lines.append("conflicts with \"\(conflict.manager)\":")
                current = conflict.manager
            }
            lines.append("- \(conflict.path.pathString)")
        }
        return lines.joined(separator: "\n")
    }

    /// The order structured-merge-diff lists a set's paths in: at each node the members ending there first, then the
    /// subtrees; elements ordered fields, keys, values, indices.
    public static func setOrder(_ a: FieldPath, _ b: FieldPath) -> Bool {
        var index = 0
        while index < a.count && index < b.count && a[index] == b[index] { index += 1 }
        if index == a.count || index == b.count { return a.count < b.count }
        let aEnds = a.count == index + 1
        let bEnds = b.count == index + 1
        if aEnds != bEnds { return aEnds }
        return elementOrder(a[index], b[index]) < 0
    }

    /// Compares path elements as structured-merge-diff does (negative when `a` comes first).
    static func elementOrder(_ a: FieldPathElement, _ b: FieldPathElement) -> Int {
        func rank(_ e: FieldPathElement) -> Int {
            switch e {
            case .field: return 0
            case .key: return 1
            case .value: return 2
            case .index: return 3
            }
        }
        if rank(a) != rank(b) { return rank(a) - rank(b) }
        switch (a, b) {
        case (.field(let x), .field(let y)):
            return x == y ? 0 : (Array(x.utf8).lexicographicallyPrecedes(y.utf8) ? -1 : 1)
        case (.index(let x), .index(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.value(let x), .value(let y)): return valueOrder(x, y)
        case (.key(let x), .key(let y)):
            for (f, g) in zip(x, y) {
                if f.name != g.name { return Array(f.name.utf8).lexicographicallyPrecedes(g.name.utf8) ? -1 : 1 }
                let c = valueOrder(f.value, g.value)
                if c != 0 { return c }
            }
            return x.count - y.count
        default: return 0
        }
    }

    private static func valueOrder(_ a: Value, _ b: Value) -> Int {
        func rank(_ v: Value) -> Int {
            switch v {
            case .int, .uint, .double: return 0
            case .string: return 1
            case .bool: return 2
            case .array: return 3
            case .object: return 4
            case .null: return 5
            }
        }
        if rank(a) != rank(b) { return rank(a) - rank(b) }
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        default:
            if let x = a.numeric, let y = b.numeric { return x == y ? 0 : (x < y ? -1 : 1) }
            return a.jsonString < b.jsonString ? -1 : (a.jsonString == b.jsonString ? 0 : 1)
        }
    }

    // MARK: Internals

    private func convert(_ value: Value, from: String, to: String) throws(MissingVersionError) -> Value {
        try converter.convert(value, from: from, to: to)
    }

    /// Managers' sets brought in line with schema changes (granular fields that became atomic); managers at versions
    /// the converter no longer serves are dropped.
    private func reconciled(_ live: Value, _ version: String, _ managers: ManagerSets) -> ManagerSets {
        guard schemaMayChange else { return managers }
        var out = managers
        for (manager, set) in managers {
            guard (try? convert(live, from: version, to: set.apiVersion)) != nil else {
                out[manager] = nil
                continue
            }
            if let fields = Typed.reconcile(set.fields, schema: schema(set.apiVersion)) {
                out[manager]?.fields = fields
            }
        }
        return out
    }

    /// Ownership changes of a write from `old` to `new` at `version` by `acting`: other managers lose the fields
    /// that were removed, and those that changed (or conflict when not forced).
    private func record(
        _ old: Value, _ new: Value, _ version: String, _ managers: inout ManagerSets, acting: String, force: Bool
    ) throws(UpdaterError) -> Typed.Comparison {
        var comparisons: [String: Typed.Comparison] = [:]
        func comparison(at target: String) throws(MissingVersionError) -> Typed.Comparison {
            if let done = comparisons[target] { return done }
            let from = try convert(old, from: version, to: target)
            let to = try convert(new, from: version, to: target)
            let result = Typed.compare(from, to, schema: schema(target)).excluding { ignored(target, $0) }
            comparisons[target] = result
            return result
        }
        let own: Typed.Comparison
        do { own = try comparison(at: version) } catch { throw .conversion("failed to convert to \(error.version)") }
        var conflicts: [String: FieldSet] = [:]
        var removed: [String: Set<FieldPath>] = [:]
        for (manager, set) in managers where manager != acting {
            let changes: Typed.Comparison
            do { changes = try comparison(at: set.apiVersion) } catch {
                managers[manager] = nil
                continue
            }
            let conflicting = set.fields.paths.filter { changes.modified.contains($0) || changes.added.contains($0) }
            if !conflicting.isEmpty { conflicts[manager] = FieldSet(conflicting) }
            if !changes.removed.isEmpty { removed[manager] = changes.removed }
        }
        if !force && !conflicts.isEmpty { throw .conflicts(Self.conflicts(conflicts)) }
        for (manager, set) in conflicts { managers[manager]?.fields.subtract(set) }
        for (manager, paths) in removed { managers[manager]?.fields.subtract(FieldSet(paths)) }
        for (manager, set) in managers where set.fields.isEmpty { managers[manager] = nil }
        return own
    }

    /// Removes what `applying` applied last time (`last`) and no longer applies, unless a manager owns it.
    private func prune(
        _ merged: Value, _ version: String, _ managers: ManagerSets, _ applying: String, _ last: VersionedFieldSet?
    ) throws(UpdaterError) -> Value {
        guard let last, !last.fields.isEmpty else { return merged }
        let lastVersion = last.apiVersion
        // Fast path: when every manager is at this version and each field applied last time is still owned by some
        // manager (the applier's new configuration included), everything pruned would be added back.
        if lastVersion == version, managers.values.allSatisfy({ $0.apiVersion == version }) {
            let sets = [managers[applying]?.fields ?? FieldSet()] + managers.values.map(\.fields)
            if last.fields.paths.allSatisfy({ path in sets.contains { $0.contains(path) } }) { return merged }
        }
        let convertedMerged: Value
        do { convertedMerged = try convert(merged, from: version, to: lastVersion) } catch { return merged }
        let lastSchema = schema(lastVersion)
        var pruned =
            Typed.removing(
                Typed.ensureNamedFieldsAreMembers(last.fields, schema: lastSchema), from: convertedMerged,
                schema: lastSchema) ?? .null
        // Add back what any manager (the applier's new configuration included) owns, version by version.
        var managedAt: [String: Set<FieldPath>] = [:]
        for set in managers.values { managedAt[set.apiVersion, default: []].formUnion(set.fields.paths) }
        var order = managedAt.keys.sorted()
        if let at = order.firstIndex(of: lastVersion) { order.insert(order.remove(at: at), at: 0) }
        var mergedNow = convertedMerged
        var mergedVersion = lastVersion
        var prunedVersion = lastVersion
        for target in order {
            guard let managed = managedAt[target] else { continue }
            guard let m = try? convert(mergedNow, from: mergedVersion, to: target),
                let p = try? convert(pruned, from: prunedVersion, to: target)
            else { continue }
            mergedNow = m
            mergedVersion = target
            pruned = p
            prunedVersion = target
            let s = schema(target)
            let mergedSet = Typed.ensureNamedFieldsAreMembers(Typed.fieldSet(m, schema: s), schema: s)
            let prunedSet = Typed.ensureNamedFieldsAreMembers(Typed.fieldSet(p, schema: s), schema: s)
            let owned = Typed.ensureNamedFieldsAreMembers(FieldSet(managed), schema: s)
            pruned = Typed.removing(mergedSet.subtracting(prunedSet.union(owned)), from: m, schema: s) ?? .null
        }
        // Put back what was removed but the applier never owned (it belongs to updaters or nobody).
        let prunedAtLast: Value
        do { prunedAtLast = try convert(pruned, from: prunedVersion, to: lastVersion) } catch {
            throw .conversion("failed to convert to \(error.version)")
        }
        let prunedSet = Typed.ensureNamedFieldsAreMembers(
            Typed.fieldSet(prunedAtLast, schema: lastSchema), schema: lastSchema)
        let mergedSet = Typed.ensureNamedFieldsAreMembers(
            Typed.fieldSet(convertedMerged, schema: lastSchema), schema: lastSchema)
        let lastSet = Typed.ensureNamedFieldsAreMembers(last.fields, schema: lastSchema)
        let result =
            Typed.removing(
                mergedSet.subtracting(prunedSet).intersection(lastSet), from: convertedMerged, schema: lastSchema)
            ?? .null
        let target = managers[applying]?.apiVersion ?? version
        do { return try convert(result, from: lastVersion, to: target) } catch {
            throw .conversion("failed to convert to \(error.version)")
        }
    }
}
