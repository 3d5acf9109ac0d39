import OrderedCollections
import SyncCore

/// The operations structured-merge-diff performs on a value under a schema: its field set, the comparison of two
/// values, the merge of an applied configuration, removing and extracting the items of a field set, validation and
/// reconciling a field set with a changed schema. ``Updater`` builds server-side apply on them.
public enum Typed {
    /// What a value is under a schema node: a leaf, a map (struct or map) or a list.
    enum Kind { case scalar, map, list }

    /// The kind a node takes for `value`: a deduced node takes the value's kind (a null or absent value a map's).
    static func kind(_ schema: Schema, _ value: Value?) -> Kind {
        switch schema.shape {
        case .scalar: return .scalar
        case .object: return .map
        case .list: return .list
        case .deduced:
            switch value {
            case .array?: return .list
            case .object?, .null?, nil: return .map
            default: return .scalar
            }
        }
    }

    /// Whether a list node is replaced and owned whole.
    static func listIsAtomic(_ schema: Schema) -> Bool {
        if schema.atomic { return true }
        switch schema.shape {
        case .list(_, let type): return type == .atomic
        default: return true
        }
    }

    /// The schema of member `key` of a map node (deduced when undeclared and not allowed).
    static func child(_ schema: Schema, _ key: String) -> Schema { schema.child(key) ?? .anything }

    /// The element schema of a list node.
    static func element(_ schema: Schema) -> Schema { schema.element ?? .anything }

    /// Whether a map node is a loosely modelled struct (any members, owned as a struct's fields).
    static func isLooseStruct(_ schema: Schema) -> Bool {
        if case .object(let fields, let additional) = schema.shape {
            return fields.isEmpty && additional == nil && schema.preserveUnknown
        }
        return false
    }

    /// Whether member `key` of a map node holding `value` is itself a member of the node's field set.
    static func ownsMember(_ schema: Schema, _ key: String, _ value: Value) -> Bool {
        if value.isNull || value.objectValue?.isEmpty == true { return true }
        if schema.declares(key) { return false }
        if isLooseStruct(schema), case .object = value { return false }
        return true
    }

    /// A value's path element in a keyed list or set; nil and a reason when it has none.
    static func itemElement(_ item: Value, list: Schema) -> Result<FieldPathElement, ItemError> {
        switch list.listType {
        case .map(let keys):
            guard case .object(let members) = item else {
                return .failure(
                    ItemError(
                        item.isNull
                            ? "associative list with keys may not have a null element"
                            : "associative list with keys may not have non-map elements"))
            }
            let defaults = element(list).fieldDefaults
            var fields: [FieldPathElement.KeyField] = []
            for key in keys {
                if let value = members[key] {
                    fields.append(.init(name: key, value: value.canonicalKey))
                } else if let value = defaults[key] {
                    fields.append(.init(name: key, value: value.canonicalKey))
                }
            }
            if fields.isEmpty {
                return .failure(
                    ItemError(
                        "associative list with keys has an element that omits all key fields (and doesn't have "
                            + "default values for any key fields)"))
            }
            return .success(.key(fields.sorted { $0.name < $1.name }))
        case .set:
            switch item {
            case .object: return .failure(ItemError("associative list without keys has an element that's a map type"))
            case .array: return .failure(ItemError("not supported: associative list with lists as elements"))
            case .null:
                return .failure(ItemError("associative list without keys has an element that's an explicit null"))
            default: return .success(.value(item.canonicalKey))
            }
        case .atomic:
            return .failure(ItemError("invalid indexing of non-associative list"))
        }
    }

    /// Why a list item has no path element.
    struct ItemError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    // MARK: Field sets

    /// The set of fields `value` sets: what an applier of this configuration owns.
    public static func fieldSet(_ value: Value, schema: Schema) -> FieldSet {
        var out: Set<FieldPath> = []
        var path: FieldPath = []
        collect(value, schema, &path, &out)
        return FieldSet(out)
    }

    private static func collect(_ value: Value, _ schema: Schema, _ path: inout FieldPath, _ out: inout Set<FieldPath>)
    {
        switch kind(schema, value) {
        case .scalar:
            if !path.isEmpty { out.insert(path) }
        case .list:
            if listIsAtomic(schema) {
                if !path.isEmpty { out.insert(path) }
                return
            }
            guard case .array(let items) = value else { return }
            let elementSchema = element(schema)
            for item in items {
                guard case .success(let pe) = itemElement(item, list: schema) else { continue }
                path.append(pe)
                collect(item, elementSchema, &path, &out)
                out.insert(path)
                path.removeLast()
            }
        case .map:
            if schema.atomic {
                if !path.isEmpty { out.insert(path) }
                return
            }
            guard case .object(let members) = value else { return }
            for (key, member) in members {
                path.append(.field(key))
                collect(member, child(schema, key), &path, &out)
                if ownsMember(schema, key, member) { out.insert(path) }
                path.removeLast()
            }
        }
    }

    /// Adds the named (struct) fields on the way to every member, which field sets leave out: `.spec` of
    /// `.spec.replicas`, but not a map's `.labels` of `.labels.app`.
    static func ensureNamedFieldsAreMembers(_ set: FieldSet, schema: Schema) -> FieldSet {
        var out = set.paths
        for path in set.paths where path.count > 1 {
            var node = schema
            for index in 0..<(path.count - 1) {
                switch path[index] {
                case .field(let name):
                    if case .object = node.shape, node.declares(name) { out.insert(Array(path[...index])) }
                    node = child(node, name)
                case .key:
                    node = element(node)
                case .value, .index:
                    node = .anything
                }
            }
        }
        return FieldSet(out)
    }

    // MARK: Comparison

    /// What changed between two values: paths added, modified (leaves whose value differs) and removed.
    public struct Comparison: Sendable {
        /// Paths in the new value only.
        public var added: Set<FieldPath> = []
        /// Leaves whose value changed.
        public var modified: Set<FieldPath> = []
        /// Paths in the old value only.
        public var removed: Set<FieldPath> = []

        /// Drops every path under an ignored prefix.
        func excluding(_ ignored: (FieldPath) -> Bool) -> Comparison {
            var copy = self
            copy.added = added.filter { !ignored($0) }
            copy.modified = modified.filter { !ignored($0) }
            copy.removed = removed.filter { !ignored($0) }
            return copy
        }
    }

    /// Compares an old and a new value of a type.
    public static func compare(_ old: Value?, _ new: Value?, schema: Schema) -> Comparison {
        var comparison = Comparison()
        var path: FieldPath = []
        compare(old, new, schema, &path, &comparison)
        return comparison
    }

    private static func compare(
        _ lhs: Value?, _ rhs: Value?, _ schema: Schema, _ path: inout FieldPath, _ c: inout Comparison
    ) {
        guard lhs != nil || rhs != nil else { return }
        var inLeaf = false
        let left = lhs.map { kind(schema, $0) }
        let right = rhs.map { kind(schema, $0) }
        if let left, let right, left != right {
            var scratch = false
            compareAs(left, lhs, rhs, schema, &path, &c, &scratch)
            compareAs(right, lhs, rhs, schema, &path, &c, &inLeaf)
        } else {
            compareAs(right ?? left ?? .map, lhs, rhs, schema, &path, &c, &inLeaf)
        }
        if !inLeaf && !path.isEmpty {
            if lhs == nil {
                c.added.insert(path)
            } else if rhs == nil {
                c.removed.insert(path)
            }
        }
    }

    private static func compareLeaf(
        _ lhs: Value?, _ rhs: Value?, _ path: FieldPath, _ c: inout Comparison, _ inLeaf: inout Bool
    ) {
        if inLeaf { return }
        inLeaf = true
        if path.isEmpty { return }
        if lhs == nil {
            c.added.insert(path)
        } else if rhs == nil {
            c.removed.insert(path)
        } else if let lhs, let rhs, !lhs.contentEquals(rhs) {
            c.modified.insert(path)
        }
    }

    private static func compareAs(
        _ kind: Kind, _ lhs: Value?, _ rhs: Value?, _ schema: Schema, _ path: inout FieldPath, _ c: inout Comparison,
        _ inLeaf: inout Bool
    ) {
        switch kind {
        case .scalar:
            compareLeaf(lhs, rhs, path, &c, &inLeaf)
        case .list:
            let left = lhs?.arrayValue
            let right = rhs?.arrayValue
            if listIsAtomic(schema) || ((left?.isEmpty ?? true) && (right?.isEmpty ?? true)) {
                compareLeaf(lhs, rhs, path, &c, &inLeaf)
                return
            }
            compareItems(schema, left ?? [], right ?? [], &path, &c)
        case .map:
            let left = lhs?.objectValue
            let right = rhs?.objectValue
            if schema.atomic || ((left?.isEmpty ?? true) && (right?.isEmpty ?? true)) {
                compareLeaf(lhs, rhs, path, &c, &inLeaf)
                return
            }
            for (key, value) in left ?? [:] {
                path.append(.field(key))
                compare(value, right?[key], child(schema, key), &path, &c)
                path.removeLast()
            }
            for (key, value) in right ?? [:] where left?[key] == nil {
                path.append(.field(key))
                compare(nil, value, child(schema, key), &path, &c)
                path.removeLast()
            }
        }
    }

    private static func compareItems(
        _ schema: Schema, _ lhs: [Value], _ rhs: [Value], _ path: inout FieldPath, _ c: inout Comparison
    ) {
        var all: [FieldPathElement] = []
        var left: [FieldPathElement: [Value]] = [:]
        var right: [FieldPathElement: [Value]] = [:]
        for item in lhs {
            guard case .success(let pe) = itemElement(item, list: schema) else { continue }
            if left[pe] == nil { all.append(pe) }
            left[pe, default: []].append(item)
        }
        for item in rhs {
            guard case .success(let pe) = itemElement(item, list: schema) else { continue }
            if right[pe] == nil && left[pe] == nil { all.append(pe) }
            right[pe, default: []].append(item)
        }
        let elementSchema = element(schema)
        for pe in all {
            let l = left[pe] ?? []
            let r = right[pe] ?? []
            path.append(pe)
            defer { path.removeLast() }
            if l.count <= 1 && r.count <= 1 {
                compare(l.first, r.first, elementSchema, &path, &c)
            } else if l.count >= 2 && r.count >= 2 {
                if l.count != r.count || zip(l, r).contains(where: { !$0.contentEquals($1) }) {
                    c.modified.insert(path)
                }
            } else if l.count >= 2 {
                if let first = r.first { compare(nil, first, elementSchema, &path, &c) }
                c.removed.insert(path)
            } else {
                if let first = l.first { compare(first, nil, elementSchema, &path, &c) }
                c.added.insert(path)
            }
        }
    }

    // MARK: Merge

    /// Merges an applied configuration (`rhs`) into a live value (`lhs`): maps member by member, keyed lists and
    /// sets item by item (new items placed where the configuration has them), everything else replaced.
    public static func merge(_ lhs: Value?, _ rhs: Value?, schema: Schema) -> Value? {
        guard lhs != nil || rhs != nil else { return nil }
        switch kind(schema, rhs ?? lhs) {
        case .scalar:
            return rhs ?? lhs
        case .list:
            let left = lhs?.arrayValue
            let right = rhs?.arrayValue
            if listIsAtomic(schema) || ((left?.isEmpty ?? true) && (right?.isEmpty ?? true)) { return rhs ?? lhs }
            let out = mergeItems(schema, left ?? [], right ?? [])
            return out.isEmpty ? nil : .array(out)
        case .map:
            let left = lhs?.objectValue
            let right = rhs?.objectValue
            if schema.atomic || ((left?.isEmpty ?? true) && (right?.isEmpty ?? true)) { return rhs ?? lhs }
            var out: OrderedDictionary<String, Value> = [:]
            for (key, value) in left ?? [:] {
                if let merged = merge(value, right?[key], schema: child(schema, key)) { out[key] = merged }
            }
            for (key, value) in right ?? [:] where left?[key] == nil {
                if let merged = merge(nil, value, schema: child(schema, key)) { out[key] = merged }
            }
            return out.isEmpty ? nil : .object(out)
        }
    }

    private static func mergeItems(_ schema: Schema, _ lhs: [Value], _ rhs: [Value]) -> [Value] {
        var rightPEs: [FieldPathElement] = []
        var right: [FieldPathElement: Value] = [:]
        for item in rhs {
            guard case .success(let pe) = itemElement(item, list: schema), right[pe] == nil else { continue }
            right[pe] = item
            rightPEs.append(pe)
        }
        var leftPEs: [FieldPathElement] = []
        var leftItems: [Value] = []
        var left: [FieldPathElement: Value] = [:]
        for item in lhs {
            guard case .success(let pe) = itemElement(item, list: schema) else { continue }
            // Duplicated live items are not merged with the configuration's.
            left[pe] = left[pe] == nil ? item : .null
            leftPEs.append(pe)
            leftItems.append(item)
        }
        let elementSchema = element(schema)
        let shared = rightPEs.filter { left[$0] != nil }
        var sharedIndex = 0
        var nextShared: FieldPathElement? = nil
        func advance() {
            nextShared = sharedIndex < shared.count ? shared[sharedIndex] : nil
            sharedIndex += 1
        }
        advance()
        var merged: Set<FieldPathElement> = []
        var out: [Value] = []
        var l = 0
        var r = 0
        while l < leftPEs.count || r < rightPEs.count {
            if l < leftPEs.count && r < rightPEs.count {
                let pe = leftPEs[l]
                if pe == rightPEs[r] {
                    merged.insert(pe)
                    if let item = merge(left[pe], right[pe], schema: elementSchema) { out.append(item) }
                    l += 1
                    r += 1
                    advance()
                    continue
                }
                if right[pe] != nil, let next = nextShared, next != pe {
                    l += 1
                    continue
                }
            }
            if l < leftPEs.count {
                let pe = leftPEs[l]
                if right[pe] == nil {
                    if let item = merge(leftItems[l], nil, schema: elementSchema) { out.append(item) }
                    l += 1
                    continue
                } else if merged.contains(pe) {
                    l += 1
                    continue
                }
            }
            if r < rightPEs.count {
                let pe = rightPEs[r]
                merged.insert(pe)
                if let item = merge(left[pe], right[pe], schema: elementSchema) { out.append(item) }
                r += 1
                if nextShared == pe { advance() }
            }
        }
        return out
    }

    // MARK: Removing and extracting items

    /// The value without the members of `set` (map members, list items); nil when nothing is left.
    public static func removing(_ set: FieldSet, from value: Value, schema: Schema) -> Value? {
        walkRemoving(value, PathTrie(set.paths), schema, extract: false)
    }

    /// Only the members of `set` of the value (what a manager's leaves hold); nil when nothing is left.
    public static func extracting(_ set: FieldSet, from value: Value, schema: Schema) -> Value? {
        walkRemoving(value, PathTrie(set.paths), schema, extract: true)
    }

    private static func isAtomic(_ value: Value, _ schema: Schema) -> Bool {
        switch kind(schema, value) {
        case .scalar: return true
        case .list: return listIsAtomic(schema)
        case .map: return schema.atomic
        }
    }

    private static func walkRemoving(_ value: Value, _ trie: PathTrie, _ schema: Schema, extract: Bool) -> Value? {
        switch kind(schema, value) {
        case .scalar:
            return value
        case .list:
            guard case .array(let items) = value, !items.isEmpty, !listIsAtomic(schema) else { return nil }
            let elementSchema = element(schema)
            var out: [Value] = []
            for item in items {
                guard case .success(let pe) = itemElement(item, list: schema) else { continue }
                let node = trie.children[pe]
                if node?.member == true {
                    if extract {
                        var kept = item
                        if !isAtomic(item, elementSchema), case .object(let members) = item,
                            case .map(let keys) = schema.listType
                        {
                            kept = .object(members.filter { keys.contains($0.key) })
                        }
                        out.append(kept)
                    } else {
                        continue
                    }
                }
                var current = item
                if let node, !node.children.isEmpty {
                    current = walkRemoving(item, node, elementSchema, extract: extract) ?? .null
                } else if extract {
                    continue
                }
                out.append(current)
            }
            return out.isEmpty ? nil : .array(out)
        case .map:
            guard case .object(let members) = value, !members.isEmpty, !schema.atomic else { return nil }
            var out: OrderedDictionary<String, Value> = [:]
            for (key, member) in members {
                let node = trie.children[.field(key)]
                let memberSchema = child(schema, key)
                if node?.member == true {
                    if extract {
                        let container: Bool
                        switch member {
                        case .object, .array: container = true
                        default: container = false
                        }
                        out[key] = !isAtomic(member, memberSchema) && container ? .null : member
                    }
                    continue
                }
                var current = member
                if let node, !node.children.isEmpty {
                    current = walkRemoving(member, node, memberSchema, extract: extract) ?? .null
                } else if extract {
                    continue
                }
                out[key] = current
            }
            return out.isEmpty ? nil : .object(out)
        }
    }

    // MARK: Validation

    /// Problems of a value under a schema: scalars of the wrong type, undeclared fields, list items without keys,
    /// and (unless allowed) duplicated keys or set values. Each names its path.
    public static func validate(_ value: Value, schema: Schema, allowDuplicates: Bool) -> [String] {
        var errors: [String] = []
        var path: FieldPath = []
        validate(value, schema, allowDuplicates, &path, &errors)
        return errors
    }

    private static func validate(
        _ value: Value, _ schema: Schema, _ allowDuplicates: Bool, _ path: inout FieldPath, _ errors: inout [String]
    ) {
        if value.isNull { return }
        var here: String { path.isEmpty ? "" : path.pathString + ": " }
        switch schema.shape {
        case .scalar(let type):
            let ok: Bool
            switch (type, value) {
            case (.any, _): ok = true
            case (.string, .string), (.boolean, .bool), (.intOrString, .string), (.intOrString, .int),
                (.intOrString, .uint):
                ok = true
            case (.integer, .int), (.integer, .uint), (.number, .int), (.number, .uint), (.number, .double): ok = true
            case (.integer, .double(let d)): ok = d == d.rounded()
            default: ok = false
            }
            if !ok { errors.append("\(here)expected \(type), got \(value.typeName)") }
            return
        case .object:
            guard case .object(let members) = value else {
                errors.append("\(here)expected map, got \(value.typeName)")
                return
            }
            for (key, member) in members {
                path.append(.field(key))
                if let memberSchema = schema.child(key) {
                    validate(member, memberSchema, allowDuplicates, &path, &errors)
                } else {
                    errors.append("\(path.pathString): field not declared in schema")
                }
                path.removeLast()
            }
        case .list:
            guard case .array(let items) = value else {
                errors.append("\(here)expected list, got \(value.typeName)")
                return
            }
            let elementSchema = element(schema)
            var seen: Set<FieldPathElement> = []
            for (index, item) in items.enumerated() {
                if listIsAtomic(schema) {
                    path.append(.index(index))
                    validate(item, elementSchema, allowDuplicates, &path, &errors)
                    path.removeLast()
                    continue
                }
                switch itemElement(item, list: schema) {
                case .failure(let error):
                    errors.append("\(here)element \(index): \(error.message)")
                case .success(let pe):
                    if !seen.insert(pe).inserted && !allowDuplicates {
                        errors.append("\(here)duplicate entries for key \(pe.pathString)")
                    }
                    path.append(pe)
                    validate(item, elementSchema, allowDuplicates, &path, &errors)
                    path.removeLast()
                }
            }
        case .deduced:
            if schema.atomic { return }
            if case .object(let members) = value {
                for (key, member) in members {
                    path.append(.field(key))
                    validate(member, .anything, allowDuplicates, &path, &errors)
                    path.removeLast()
                }
            }
        }
    }

    // MARK: Schema changes

    /// A manager's set brought in line with a schema that made granular fields atomic: the manager then owns the
    /// atomic field itself instead of its members. Nil when nothing changes.
    public static func reconcile(_ set: FieldSet, schema: Schema) -> FieldSet? {
        var remove: Set<FieldPath> = []
        var add: Set<FieldPath> = []
        var path: FieldPath = []
        reconcile(PathTrie(set.paths), schema, isAtomic: false, &path, &remove, &add)
        if remove.isEmpty && add.isEmpty { return nil }
        var out = set.paths.filter { p in !remove.contains { p.starts(with: $0) } }
        out.formUnion(add)
        return FieldSet(out)
    }

    private static func reconcile(
        _ node: PathTrie, _ schema: Schema, isAtomic: Bool, _ path: inout FieldPath, _ remove: inout Set<FieldPath>,
        _ add: inout Set<FieldPath>
    ) {
        switch schema.shape {
        case .scalar, .deduced:
            return
        case .list:
            if !isAtomic && listIsAtomic(schema) {
                remove.insert(path)
                add.insert(path)
                return
            }
            for (pe, childNode) in node.children {
                path.append(pe)
                reconcile(
                    childNode, element(schema), isAtomic: childNode.member && childNode.children.isEmpty, &path,
                    &remove, &add)
                path.removeLast()
            }
        case .object(let fields, let additional):
            if fields.isEmpty, let additional, case .deduced = additional.shape, !additional.atomic { return }
            if !isAtomic && schema.atomic {
                if !node.children.isEmpty {
                    remove.insert(path)
                    add.insert(path)
                }
                return
            }
            for (pe, childNode) in node.children {
                guard case .field(let name) = pe, let childSchema = schema.child(name) else { continue }
                path.append(pe)
                reconcile(
                    childNode, childSchema, isAtomic: childNode.member && childNode.children.isEmpty, &path, &remove,
                    &add)
                path.removeLast()
            }
        }
    }
}

/// A field set as a tree: each node knows whether its path is a member and which elements lead further.
final class PathTrie {
    var member = false
    var children: [FieldPathElement: PathTrie] = [:]

    init() {}

    init(_ paths: Set<FieldPath>) {
        for path in paths {
            var node = self
            for element in path {
                if let next = node.children[element] {
                    node = next
                } else {
                    let next = PathTrie()
                    node.children[element] = next
                    node = next
                }
            }
            node.member = true
        }
    }
}

extension Value {
    /// Whether two values are equal as data: maps regardless of member order, numbers by value (1 == 1.0).
    public func contentEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let theirs = b[key], value.contentEquals(theirs) else { return false }
            }
            return true
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            return zip(a, b).allSatisfy { $0.contentEquals($1) }
        case (.int, _), (.uint, _), (.double, _):
            switch (numeric, other.numeric) {
            case (let x?, let y?): return x == y
            default: return false
            }
        default:
            return self == other
        }
    }

    /// A number as a double (nil for anything else).
    var numeric: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The form a key or set value takes in a path element, so that equal numbers are equal elements.
    public var canonicalKey: Value {
        switch self {
        case .uint(let u) where u <= UInt64(Int64.max): return .int(Int64(u))
        case .double(let d) where d == d.rounded() && abs(d) < 9.0e18: return .int(Int64(d))
        default: return self
        }
    }
}
