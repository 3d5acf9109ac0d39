import OrderedCollections
import SyncCore

/// One step of a field path, as structured-merge-diff names it: a field (`f:`), a keyed list item (`k:`), a set
/// member (`v:`) or a list index (`i:`).
enum PathElement: Sendable, Hashable, Comparable {
    case field(String)
    /// Key fields of a list item, sorted by name.
    case key([KeyField])
    case value(Value)
    case index(Int)

    struct KeyField: Sendable, Hashable {
        var name: String
        var value: Value
    }

    /// The fieldsV1 spelling: `f:name`, `k:{"name":"x"}`, `v:"a"`, `i:0`.
    var fieldsV1Key: String {
        switch self {
        case .field(let name): return "f:" + name
        case .key(let fields):
            var object: OrderedDictionary<String, Value> = [:]
            for field in fields { object[field.name] = field.value }
            return "k:" + Value.object(object).jsonString
        case .value(let value): return "v:" + value.jsonString
        case .index(let index): return "i:\(index)"
        }
    }

    /// Parses a fieldsV1 key; nil for "." and anything malformed.
    init?(fieldsV1Key key: String) {
        guard key.count > 2 else { return nil }
        let body = String(key.dropFirst(2))
        switch key.prefix(2) {
        case "f:": self = .field(body)
        case "k:":
            guard let object = try? Value(json: body).objectValue else { return nil }
            self = .key(object.map { KeyField(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name })
        case "v:":
            guard let value = try? Value(json: body) else { return nil }
            self = .value(value)
        case "i:":
            guard let index = Int(body) else { return nil }
            self = .index(index)
        default: return nil
        }
    }

    /// The path syntax of conflict messages: `.spec`, `[name="x"]`, `[=value]`, `[0]`.
    var pathString: String {
        switch self {
        case .field(let name): return "." + name
        case .key(let fields):
            return "[" + fields.map { "\($0.name)=\($0.value.jsonString)" }.joined(separator: ",") + "]"
        case .value(let value): return "[=\(value.jsonString)]"
        case .index(let index): return "[\(index)]"
        }
    }

    private var order: Int {
        switch self {
        case .field: return 0
        case .key: return 1
        case .value: return 2
        case .index: return 3
        }
    }

    static func < (a: PathElement, b: PathElement) -> Bool {
        if a.order != b.order { return a.order < b.order }
        switch (a, b) {
        case (.field(let x), .field(let y)): return x < y
        case (.index(let x), .index(let y)): return x < y
        default: return a.fieldsV1Key < b.fieldsV1Key
        }
    }
}

/// A path from the object's root to one field.
typealias FieldPath = [PathElement]

extension Array where Element == PathElement {
    /// `.spec.template.spec.containers[name="x"].image`
    var pathString: String { map(\.pathString).joined() }
}

/// A set of field paths: what one manager owns. Serialises to and from the fieldsV1 trie.
struct FieldSet: Sendable, Hashable {
    private(set) var paths: Set<FieldPath> = []

    init() {}
    init(_ paths: Set<FieldPath>) { self.paths = paths }

    var isEmpty: Bool { paths.isEmpty }
    func contains(_ path: FieldPath) -> Bool { paths.contains(path) }
    mutating func insert(_ path: FieldPath) { paths.insert(path) }
    mutating func remove(_ path: FieldPath) { paths.remove(path) }
    func union(_ other: FieldSet) -> FieldSet { FieldSet(paths.union(other.paths)) }
    func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(paths.subtracting(other.paths)) }
    func intersection(_ other: FieldSet) -> FieldSet { FieldSet(paths.intersection(other.paths)) }
    mutating func formUnion(_ other: FieldSet) { paths.formUnion(other.paths) }
    mutating func subtract(_ other: FieldSet) { paths.subtract(other.paths) }

    /// Drops every path that starts with `prefix` (the prefix included).
    mutating func removeTree(_ prefix: FieldPath) {
        paths = paths.filter { !$0.starts(with: prefix) }
    }

    /// The fieldsV1 form: `{"f:spec":{"f:replicas":{}}}`, with `".": {}` marking a node that is itself a member.
    var fieldsV1: Value {
        final class Node {
            var member = false
            var children: [PathElement: Node] = [:]
        }
        let root = Node()
        for path in paths {
            var node = root
            for element in path {
                if let next = node.children[element] {
                    node = next
                } else {
                    let next = Node()
                    node.children[element] = next
                    node = next
                }
            }
            node.member = true
        }
        func encode(_ node: Node) -> Value {
            var members: OrderedDictionary<String, Value> = [:]
            if node.member && !node.children.isEmpty { members["."] = .emptyObject }
            for element in node.children.keys.sorted() {
                if let child = node.children[element] { members[element.fieldsV1Key] = encode(child) }
            }
            return .object(members)
        }
        return encode(root)
    }

    /// Reads the fieldsV1 trie.
    init(fieldsV1: Value) {
        var paths: Set<FieldPath> = []
        func walk(_ node: Value, _ prefix: FieldPath) {
            guard let members = node.objectValue else { return }
            if members.isEmpty, !prefix.isEmpty { paths.insert(prefix) }
            for (key, child) in members {
                if key == "." {
                    if !prefix.isEmpty { paths.insert(prefix) }
                    continue
                }
                guard let element = PathElement(fieldsV1Key: key) else { continue }
                walk(child, prefix + [element])
            }
        }
        walk(fieldsV1, [])
        self.paths = paths
    }
}

/// Field sets of values, as structured-merge-diff computes them from a typed value.
enum FieldSets {
    /// Top-level fields no manager owns: identity and bookkeeping.
    static func isIgnored(_ path: FieldPath, hasStatusSubresource: Bool) -> Bool {
        guard let first = path.first, case .field(let top) = first else { return false }
        if top == "apiVersion" || top == "kind" { return true }
        if top == "status" && hasStatusSubresource { return true }
        if top == "metadata", path.count >= 2, case .field(let name) = path[1] {
            return ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"].contains(name)
        }
        return false
    }

    /// The set of every field `value` sets (the applied configuration's set for server-side apply).
    static func of(_ value: Value, schema: Schema, hasStatusSubresource: Bool) -> FieldSet {
        var set = FieldSet()
        collect(value, schema, [], &set)
        set = FieldSet(set.paths.filter { !isIgnored($0, hasStatusSubresource: hasStatusSubresource) })
        return set
    }

    /// The path element that names `item` in a list of this type.
    static func element(for item: Value, in list: Schema, index: Int) -> PathElement {
        switch list.listType {
        case .map(let keys):
            guard let object = item.objectValue else { return .index(index) }
            var fields: [PathElement.KeyField] = []
            for key in keys {
                // `protocol` keys of built-in port lists default to TCP before keys are compared, as the real
                // server's schema defaults them.
                if let v = object[key] {
                    fields.append(.init(name: key, value: v))
                } else if key == "protocol" {
                    fields.append(.init(name: key, value: .string("TCP")))
                }
            }
            if fields.isEmpty { return .index(index) }
            return .key(fields.sorted { $0.name < $1.name })
        case .set: return .value(item)
        case .atomic: return .index(index)
        }
    }

    private static func collect(_ value: Value, _ schema: Schema, _ path: FieldPath, _ set: inout FieldSet) {
        if schema.atomic {
            set.insert(path)
            return
        }
        switch (schema.shape, value) {
        case (.object, .object(let members)), (.deduced, .object(let members)):
            for (key, child) in members {
                guard let childSchema = schema.child(key) else { continue }
                let childPath = path + [.field(key)]
                collect(child, childSchema, childPath, &set)
                if child.isNull || child.objectValue?.isEmpty == true || !schema.declares(key) {
                    if case .object(let fields, _) = schema.shape, fields.isEmpty, schema.preserveUnknown,
                        child.objectValue?.isEmpty == false
                    {
                        continue  // loosely modelled struct: members are fields, not map entries
                    }
                    set.insert(childPath)
                }
            }
        case (.list(let element, let type), .array(let items)):
            if type == .atomic {
                set.insert(path)
                return
            }
            for (index, item) in items.enumerated() {
                let itemPath = path + [self.element(for: item, in: schema, index: index)]
                collect(item, element, itemPath, &set)
                set.insert(itemPath)
            }
        default:
            set.insert(path)
        }
    }

    /// The value at `path`, or nil when absent.
    static func lookup(_ value: Value, _ path: FieldPath, schema: Schema) -> Value? {
        var current = value
        var schema = schema
        for element in path {
            switch element {
            case .field(let name):
                guard let next = current[name] else { return nil }
                current = next
                schema = schema.child(name) ?? .anything
            case .key, .value, .index:
                guard let items = current.arrayValue else { return nil }
                let list = schema
                schema = schema.element ?? .anything
                guard let found = items.enumerated().first(where: { FieldSets.element(for: $1, in: list, index: $0) == element })
                else { return nil }
                current = found.element
            }
        }
        return current
    }

    /// Removes the field at `path` from `value` (a list item by its key); no-op when absent.
    static func remove(_ path: FieldPath, from value: inout Value, schema: Schema) {
        guard let first = path.first else { return }
        let rest = Array(path.dropFirst())
        switch first {
        case .field(let name):
            guard case .object(var members) = value, var child = members[name] else { return }
            if rest.isEmpty {
                members[name] = nil
            } else {
                remove(rest, from: &child, schema: schema.child(name) ?? .anything)
                members[name] = child
            }
            value = .object(members)
        case .key, .value, .index:
            guard case .array(var items) = value else { return }
            guard let index = items.indices.first(where: { FieldSets.element(for: items[$0], in: schema, index: $0) == first })
            else { return }
            if rest.isEmpty {
                items.remove(at: index)
            } else {
                remove(rest, from: &items[index], schema: schema.element ?? .anything)
            }
            value = .array(items)
        }
    }
}
