import OrderedCollections
import SyncCore

/// A set of field paths: what one manager owns. Serialises to and from the fieldsV1 trie.
public struct FieldSet: Sendable, Hashable {
    /// The paths, each from the object's root.
    public private(set) var paths: Set<FieldPath> = []

    /// The empty set.
    public init() {}
    /// A set of these paths.
    public init(_ paths: Set<FieldPath>) { self.paths = paths }

    /// No paths.
    public var isEmpty: Bool { paths.isEmpty }
    /// Whether `path` itself is in the set.
    public func contains(_ path: FieldPath) -> Bool { !paths.isEmpty && paths.contains(path) }
    /// Adds a path.
    public mutating func insert(_ path: FieldPath) { paths.insert(path) }
    /// Removes a path.
    public mutating func remove(_ path: FieldPath) { paths.remove(path) }
    /// Both sets' paths.
    public func union(_ other: FieldSet) -> FieldSet { FieldSet(paths.union(other.paths)) }
    /// This set's paths not in `other`.
    public func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(paths.subtracting(other.paths)) }
    /// The paths in both.
    public func intersection(_ other: FieldSet) -> FieldSet { FieldSet(paths.intersection(other.paths)) }
    /// Adds `other`'s paths.
    public mutating func formUnion(_ other: FieldSet) { paths.formUnion(other.paths) }
    /// Removes `other`'s paths.
    public mutating func subtract(_ other: FieldSet) { paths.subtract(other.paths) }

    /// Drops every path that starts with `prefix` (the prefix included).
    public mutating func removeTree(_ prefix: FieldPath) {
        paths = paths.filter { !$0.starts(with: prefix) }
    }

    /// The fieldsV1 form: `{"f:spec":{"f:replicas":{}}}`, with `".": {}` marking a node that is itself a member.
    public var fieldsV1: Value {
        final class Node {
            var member = false
            var children: [FieldPathElement: Node] = [:]
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
    public init(fieldsV1: Value) {
        var paths: Set<FieldPath> = []
        func walk(_ node: Value, _ prefix: FieldPath) {
            guard let members = node.objectValue else { return }
            if members.isEmpty, !prefix.isEmpty { paths.insert(prefix) }
            for (key, child) in members {
                if key == "." {
                    if !prefix.isEmpty { paths.insert(prefix) }
                    continue
                }
                guard let element = FieldPathElement(fieldsV1Key: key) else { continue }
                walk(child, prefix + [element])
            }
        }
        walk(fieldsV1, [])
        self.paths = paths
    }
}

/// Field sets of values, as structured-merge-diff computes them from a typed value.
public enum FieldSets {
    /// Top-level fields no manager owns: identity and bookkeeping.
    public static func isIgnored(_ path: FieldPath, hasStatusSubresource: Bool) -> Bool {
        guard let first = path.first, case .field(let top) = first else { return false }
        if top == "apiVersion" || top == "kind" { return true }
        if top == "status" && hasStatusSubresource { return true }
        if top == "metadata", path.count >= 2, case .field(let name) = path[1] {
            return ignoredMetadata.contains(name)
        }
        return false
    }

    /// The `metadata` members no manager owns (server-written identity and bookkeeping).
    static let ignoredMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
        "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    /// The set of every field `value` sets (the applied configuration's set for server-side apply).
    public static func of(_ value: Value, schema: Schema, hasStatusSubresource: Bool) -> FieldSet {
        var set = FieldSet()
        collect(value, schema, [], &set)
        set = FieldSet(set.paths.filter { !isIgnored($0, hasStatusSubresource: hasStatusSubresource) })
        return set
    }

    /// The path element that names `item` in a list of this type.
    public static func element(for item: Value, in list: Schema, index: Int) -> FieldPathElement {
        switch list.listType {
        case .map(let keys):
            guard let object = item.objectValue else { return .index(index) }
            var fields: [FieldPathElement.KeyField] = []
            for key in keys {
                // A missing key field takes its schema default (a port's `protocol` is TCP), as the real server's
                // schema defaults it before keys are compared.
                if let v = object[key] {
                    fields.append(.init(name: key, value: v))
                } else if let defaulted = list.element?.fieldDefaults[key] {
                    fields.append(.init(name: key, value: defaulted))
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
    public static func lookup(_ value: Value, _ path: FieldPath, schema: Schema) -> Value? {
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
                guard
                    let found = items.enumerated().first(where: {
                        FieldSets.element(for: $1, in: list, index: $0) == element
                    })
                else { return nil }
                current = found.element
            }
        }
        return current
    }

    /// Removes the field at `path` from `value` (a list item by its key); no-op when absent.
    public static func remove(_ path: FieldPath, from value: inout Value, schema: Schema) {
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
            guard
                let index = items.indices.first(where: {
                    FieldSets.element(for: items[$0], in: schema, index: $0) == first
                })
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

extension FieldSets {
    /// Whether every path of the fieldsV1 trie `fieldsV1` is in ``of(_:schema:hasStatusSubresource:)`` of `value`:
    /// the same answer as `FieldSet(fieldsV1:).subtracting(of(value, ...)).isEmpty`, found by walking the trie and
    /// the value side by side, without building either set (the client-side settle check asks it of every object).
    /// Where the answer would take more than one walk (a keyed list with two items of one key), it answers false:
    /// the caller's cautious side.
    public static func covers(fieldsV1: Value, of value: Value, schema: Schema, hasStatusSubresource: Bool) -> Bool {
        guard let members = fieldsV1.objectValue else { return true }
        for (key, child) in members where key != "." {
            guard let element = FieldPathElement(fieldsV1Key: key) else { continue }
            var ignored = false
            if case .field(let top) = element {
                ignored = top == "apiVersion" || top == "kind" || (top == "status" && hasStatusSubresource)
            }
            let (childValue, childSchema, member) = step(value, schema, element)
            let metadata = element == .field("metadata")
            if !walk(child, childValue, childSchema, member: member, ignored: ignored, underMetadata: metadata) {
                return false
            }
        }
        return true
    }

    /// Whether the fieldsV1 trie names at least one path.
    public static func hasPaths(fieldsV1: Value) -> Bool {
        guard let members = fieldsV1.objectValue else { return false }
        return members.contains { key, child in
            key != "." && FieldPathElement(fieldsV1Key: key) != nil && child.objectValue != nil
        }
    }

    /// One node of ``covers(fieldsV1:of:schema:hasStatusSubresource:)``: `value` and `schema` are the manifest's
    /// node at this path (nil: the manifest's set has nothing here or below), `member` whether the path itself is in
    /// the manifest's set, `ignored` whether the path is one ``isIgnored(_:hasStatusSubresource:)`` drops.
    private static func walk(
        _ node: Value, _ value: Value?, _ schema: Schema?, member: Bool, ignored: Bool, underMetadata: Bool
    ) -> Bool {
        guard let members = node.objectValue else { return true }
        if members.isEmpty || members["."] != nil {
            guard member, !ignored else { return false }
        }
        for (key, child) in members where key != "." {
            guard let element = FieldPathElement(fieldsV1Key: key) else { continue }
            var childIgnored = ignored
            if underMetadata, case .field(let name) = element, ignoredMetadata.contains(name) { childIgnored = true }
            let (childValue, childSchema, childMember) =
                value.flatMap { value in schema.map { step(value, $0, element) } } ?? (nil, nil, false)
            if !walk(child, childValue, childSchema, member: childMember, ignored: childIgnored, underMetadata: false) {
                return false
            }
        }
        return true
    }

    /// The manifest's node one `element` below `value` (nil when ``collect`` does not go there), its schema, and
    /// whether ``collect`` puts that path itself in the set.
    private static func step(_ value: Value, _ schema: Schema, _ element: FieldPathElement) -> (Value?, Schema?, Bool) {
        if schema.atomic { return (nil, nil, false) }
        switch (schema.shape, value, element) {
        case (.object, .object(let members), .field(let key)), (.deduced, .object(let members), .field(let key)):
            guard let child = members[key], let childSchema = schema.child(key) else { return (nil, nil, false) }
            var member = insertsItself(child, childSchema)
            if !member, child.isNull || child.objectValue?.isEmpty == true || !schema.declares(key) {
                member = true
                if case .object(let fields, _) = schema.shape, fields.isEmpty, schema.preserveUnknown,
                    child.objectValue?.isEmpty == false
                {
                    member = false  // loosely modelled struct: members are fields, not map entries
                }
            }
            return (child, childSchema, member)
        case (.list(let itemSchema, let type), .array(let items), _) where type != .atomic:
            var found: Value?
            for (index, item) in items.enumerated() where self.element(for: item, in: schema, index: index) == element {
                guard found == nil else { return (nil, nil, false) }  // two items of one key: cautious
                found = item
            }
            guard let found else { return (nil, nil, false) }
            return (found, itemSchema, true)
        default:
            return (nil, nil, false)
        }
    }

    /// Whether ``collect`` inserts a node's own path when it visits it (a leaf, an atomic node or an atomic list).
    private static func insertsItself(_ value: Value, _ schema: Schema) -> Bool {
        if schema.atomic { return true }
        switch (schema.shape, value) {
        case (.object, .object), (.deduced, .object): return false
        case (.list(_, let type), .array): return type == .atomic
        default: return true
        }
    }
}

/// Membership of field paths in a union of fieldsV1 tries (managedFields entries as the server wrote them) and a
/// field set: answers ``contains(_:)`` by walking the tries along the path, so that an object compared without a
/// difference never builds the entries' sets.
public struct FieldMembership: Sendable {
    private var tries: [Value]
    private var set: FieldSet

    /// The paths of these fieldsV1 tries and of `set`.
    public init(fieldsV1 tries: [Value] = [], set: FieldSet = FieldSet()) {
        self.tries = tries
        self.set = set
    }

    /// Whether `path` itself is in one of the tries or the set (as `FieldSet(fieldsV1:)` would read them).
    public func contains(_ path: FieldPath) -> Bool {
        if set.contains(path) { return true }
        guard !path.isEmpty else { return false }
        return tries.contains { FieldMembership.trie($0, contains: path[...]) }
    }

    private static func trie(_ node: Value, contains path: ArraySlice<FieldPathElement>) -> Bool {
        guard let members = node.objectValue else { return false }
        guard let element = path.first else { return members.isEmpty || members["."] != nil }
        let rest = path.dropFirst()
        if let child = members[element.fieldsV1Key] { return trie(child, contains: rest) }
        if case .field = element { return false }
        // A key or value the server spelled otherwise (member order, number form): compared as parsed elements.
        for (key, child) in members where key.hasPrefix("k:") || key.hasPrefix("v:") {
            if FieldPathElement(fieldsV1Key: key) == element, trie(child, contains: rest) { return true }
        }
        return false
    }
}
