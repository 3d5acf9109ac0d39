import KubeSchema
import SyncCore

/// The field-by-field walk of two normalised objects, schema-aware: maps member by member, keyed lists
/// (containers by `name`, ports by `containerPort`+`protocol`, ...) item by item whatever their order, sets as
/// sets, atomic lists position by position when their lengths agree and as a whole otherwise.
///
/// A field only live has is a change only when this manager applied it before (``previous``: its managedFields,
/// or the last-applied annotation) and no other manager also owns it (``others``): only then would a sync remove
/// it (except that in server-side mode a keyed list item the prediction drops is always a change: the apply
/// removes it). Fields the other side has are changes when they differ, with one more rule in **subset** (client-side)
/// mode: the desired manifest must set the field (``written``), so defaults filled in here never show alone.
///
/// Everywhere, null, absent, `""`, `[]` and `{}` are the same (Go's `omitempty` drops them), whole numbers equal
/// whatever their JSON spelling, and resource quantities compare by value (`"0.5"` = `"500m"`).
struct FieldComparison {
    var subset: Bool
    var written: Value = .null
    var writtenSchema: Schema = .anything
    var previous: FieldMembership = FieldMembership()
    var others: FieldMembership = FieldMembership()
    private(set) var changes: [FieldChange] = []
    /// What the manifest sets, and every prefix of it: built when a difference first needs them (an object in sync
    /// never does, and building them was most of the cost of comparing one).
    private var desiredSets: (set: FieldSet, prefixes: Set<FieldPath>)?

    init(
        subset: Bool, written: Value = .null, schema: Schema = .anything, previous: FieldMembership,
        others: FieldMembership
    ) {
        self.subset = subset
        self.written = FieldComparison.withoutEmpties(written)
        self.writtenSchema = schema
        self.previous = previous
        self.others = others
    }

    /// Compares `desired` with `live` at `path` (empty for a whole object).
    mutating func compare(_ desired: Value?, _ live: Value?, schema: Schema, path: FieldPath) {
        var path = path
        walk(desired, live, schema: schema, path: &path)
    }

    /// ``compare(_:_:schema:path:)`` with the path grown and shrunk in place: a node costs no path of its own
    /// unless it is recorded as a change.
    private mutating func walk(_ desired: Value?, _ live: Value?, schema: Schema, path: inout FieldPath) {
        let desiredEmpty = FieldComparison.isEmpty(desired)
        let liveEmpty = FieldComparison.isEmpty(live)
        if desiredEmpty && liveEmpty { return }
        guard let desired, !desiredEmpty else {
            if let live { removals(live, schema: schema, path: &path) }
            return
        }
        guard let live, !liveEmpty else {
            if subset, case .object(let members) = desired, !schema.atomic {
                // Field by field, so that defaults under a missing node do not count as written.
                for (key, value) in members {
                    path.append(.field(key))
                    walk(value, nil, schema: schema.child(key) ?? .anything, path: &path)
                    path.removeLast()
                }
            } else {
                record(path, live: nil, desired: desired)
            }
            return
        }
        switch (desired, live) {
        case (.object(let d), .object(let l)) where !schema.atomic:
            for (key, value) in d {
                path.append(.field(key))
                walk(value, l[key], schema: schema.child(key) ?? .anything, path: &path)
                path.removeLast()
            }
            for (key, value) in l where d[key] == nil {
                path.append(.field(key))
                walk(nil, value, schema: schema.child(key) ?? .anything, path: &path)
                path.removeLast()
            }
        case (.array(let d), .array(let l)):
            switch schema.listType {
            case .map: keyed(d, l, schema: schema, path: &path)
            case .set: set(d, l, path: path)
            case .atomic:
                if d.count == l.count {
                    let element = schema.element ?? .anything
                    for index in d.indices {
                        path.append(.index(index))
                        walk(d[index], l[index], schema: element, path: &path)
                        path.removeLast()
                    }
                } else {
                    record(path, live: live, desired: desired)
                }
            }
        default:
            if !FieldComparison.equal(desired, live, quantity: FieldComparison.isQuantity(path)) {
                record(path, live: live, desired: desired)
            }
        }
    }

    private mutating func keyed(_ desired: [Value], _ live: [Value], schema: Schema, path: inout FieldPath) {
        let element = schema.element ?? .anything
        var liveByKey: [FieldPathElement: Value] = [:]
        for (index, item) in live.enumerated() {
            liveByKey[FieldSets.element(for: item, in: schema, index: index)] = item
        }
        var seen: Set<FieldPathElement> = []
        for (index, item) in desired.enumerated() {
            let name = FieldSets.element(for: item, in: schema, index: index)
            seen.insert(name)
            path.append(name)
            walk(item, liveByKey[name], schema: element, path: &path)
            path.removeLast()
        }
        for (index, item) in live.enumerated() {
            let name = FieldSets.element(for: item, in: schema, index: index)
            guard !seen.contains(name) else { continue }
            if subset {
                path.append(name)
                walk(nil, item, schema: element, path: &path)
                path.removeLast()
            } else {
                // The prediction dropped the item: the apply removes it.
                record(path + [name], live: item, desired: nil)
            }
        }
    }

    private mutating func set(_ desired: [Value], _ live: [Value], path: FieldPath) {
        for item in desired where !live.contains(item) { record(path + [.value(item)], live: nil, desired: item) }
        for item in live where !desired.contains(item) {
            var itemPath = path + [.value(item)]
            removals(item, schema: .anything, path: &itemPath)
        }
    }

    /// A field only live has: a change in full mode; in subset mode only where a sync would remove it.
    private mutating func removals(_ live: Value, schema: Schema, path: inout FieldPath) {
        if FieldComparison.isEmpty(live) { return }
        if previous.contains(path) {
            if !others.contains(path) { record(path, live: live, desired: nil) }
            return
        }
        switch live {
        case .object(let members) where !schema.atomic:
            for (key, value) in members {
                path.append(.field(key))
                removals(value, schema: schema.child(key) ?? .anything, path: &path)
                path.removeLast()
            }
        case .array(let items):
            if case .map = schema.listType {
                for (index, item) in items.enumerated() {
                    path.append(FieldSets.element(for: item, in: schema, index: index))
                    removals(item, schema: schema.element ?? .anything, path: &path)
                    path.removeLast()
                }
            }
        default: break
        }
    }

    private mutating func record(_ path: FieldPath, live: Value?, desired: Value?) {
        if subset && desired != nil && !isSetByDesired(path) {
            // A default filled in here, not written in the manifest: a change only where a sync would reset a
            // field this manager applied before and nobody else owns.
            guard previous.contains(path), !others.contains(path) else { return }
        }
        changes.append(FieldChange(path: path, live: live, desired: desired))
    }

    /// Whether the manifest sets this field, something under it, or the atomic node (a field, not a list item)
    /// holding it.
    private mutating func isSetByDesired(_ path: FieldPath) -> Bool {
        if desiredSets == nil {
            let set = FieldSets.of(written, schema: writtenSchema, hasStatusSubresource: true)
            desiredSets = (set, Set(set.paths.flatMap { path in (0...path.count).map { Array(path.prefix($0)) } }))
        }
        guard let (setByDesired, desiredPrefixes) = desiredSets else { return false }
        if desiredPrefixes.contains(path) { return true }
        if FieldSets.lookup(written, path, schema: writtenSchema).map({ !FieldComparison.isEmpty($0) }) == true {
            return true  // fields the schema does not know are not in the field set, but are written
        }
        for length in stride(from: path.count - 1, through: 1, by: -1) {
            let prefix = Array(path.prefix(length))
            if case .field? = prefix.last, setByDesired.contains(prefix) { return true }
        }
        return false
    }

    /// The value without null, `""`, `[]` and `{}` members, which set nothing.
    static func withoutEmpties(_ value: Value) -> Value {
        switch value {
        case .object(let members):
            var kept = members
            for (key, member) in members {
                let pruned = withoutEmpties(member)
                if isEmpty(pruned) { kept.removeValue(forKey: key) } else { kept[key] = pruned }
            }
            return .object(kept)
        case .array(let items):
            return .array(items.map(withoutEmpties))
        default:
            return value
        }
    }

    // MARK: Equality

    static func isEmpty(_ value: Value?) -> Bool {
        switch value {
        case nil, .null?: return true
        case .string(let s)?: return s.isEmpty
        case .array(let a)?: return a.isEmpty
        case .object(let o)?: return o.isEmpty
        default: return false
        }
    }

    /// Deep equality with the empty values alike, numbers by value, and (under resource maps) quantities by value.
    static func equal(_ a: Value, _ b: Value, quantity: Bool = false) -> Bool {
        if isEmpty(a) && isEmpty(b) { return true }
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for (key, value) in x where !equal(value, y[key] ?? .null, quantity: quantity) { return false }
            for (key, value) in y where x[key] == nil && !isEmpty(value) { return false }
            return true
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1, quantity: quantity) }
        case (.int, _), (.uint, _), (.double, _):
            if let x = number(a), let y = number(b) { return x == y }
            if quantity, let x = Quantity.value(a), let y = Quantity.value(b) { return x == y }
            return a == b
        case (.string, _):
            if quantity, let x = Quantity.value(a), let y = Quantity.value(b) { return x == y }
            return a == b
        default:
            return a == b
        }
    }

    private static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }

    /// `resources.limits.cpu`, `requests.memory`, `overhead.*`, `hard.*`: values are quantities.
    static func isQuantity(_ path: FieldPath) -> Bool {
        guard path.count >= 2, case .field(let parent) = path[path.count - 2] else { return false }
        return ["limits", "requests", "overhead", "hard", "capacity", "allocatable"].contains(parent)
    }
}

/// Kubernetes resource quantities (`500m`, `1Gi`, `1e3`, `2`), read as numbers for comparison.
enum Quantity {
    static func value(_ value: Value) -> Double? {
        switch value {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        case .string(let s): return parse(s)
        default: return nil
        }
    }

    static func parse(_ text: String) -> Double? {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
            ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976), ("n", 1e-9), ("u", 1e-6), ("m", 1e-3),
            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
        ]
        for (suffix, factor) in suffixes where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)) else { return nil }
            return number * factor
        }
        return Double(text)
    }
}
