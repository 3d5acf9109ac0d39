import OrderedCollections
import SyncCore

/// One step of a field path, as structured-merge-diff names it: a field (`f:`), a keyed list item (`k:`), a set
/// member (`v:`) or a list index (`i:`).
public enum FieldPathElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A member of a struct or map.
    case field(String)
    /// Key fields of a list item, sorted by name.
    case key([KeyField])
    /// A member of a set-typed list.
    case value(Value)
    /// A position in an atomic list (or an item without its keys).
    case index(Int)

    /// One key field of a keyed list item, e.g. `name: "nginx"`.
    public struct KeyField: Sendable, Hashable {
        /// The key field's name.
        public var name: String
        /// Its value.
        public var value: Value

        /// A key field from its name and value.
        public init(name: String, value: Value) {
            self.name = name
            self.value = value
        }
    }

    /// The fieldsV1 spelling: `f:name`, `k:{"name":"x"}`, `v:"a"`, `i:0`.
    public var fieldsV1Key: String {
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
    public init?(fieldsV1Key key: String) {
        // By UTF-8 bytes: the settle check parses every key of every managedFields entry it walks.
        let bytes = key.utf8
        guard bytes.count > 2, bytes[bytes.index(bytes.startIndex, offsetBy: 1)] == UInt8(ascii: ":") else {
            return nil
        }
        let body = String(Substring(bytes.dropFirst(2)))
        switch bytes.first {
        case UInt8(ascii: "f"): self = .field(body)
        case UInt8(ascii: "k"):
            guard let object = try? Value(json: body).objectValue else { return nil }
            self = .key(object.map { KeyField(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name })
        case UInt8(ascii: "v"):
            guard let value = try? Value(json: body) else { return nil }
            self = .value(value)
        case UInt8(ascii: "i"):
            guard let index = Int(body) else { return nil }
            self = .index(index)
        default: return nil
        }
    }

    /// The path syntax of conflict messages: `.spec`, `[name="x"]`, `[=value]`, `[0]`.
    public var pathString: String {
        switch self {
        case .field(let name): return "." + name
        case .key(let fields):
            return "[" + fields.map { "\($0.name)=\($0.value.jsonString)" }.joined(separator: ",") + "]"
        case .value(let value): return "[=\(value.jsonString)]"
        case .index(let index): return "[\(index)]"
        }
    }

    /// The path syntax, as ``pathString``.
    public var description: String { pathString }

    private var order: Int {
        switch self {
        case .field: return 0
        case .key: return 1
        case .value: return 2
        case .index: return 3
        }
    }

    public static func < (a: FieldPathElement, b: FieldPathElement) -> Bool {
        if a.order != b.order { return a.order < b.order }
        switch (a, b) {
        case (.field(let x), .field(let y)): return x < y
        case (.index(let x), .index(let y)): return x < y
        default: return a.fieldsV1Key < b.fieldsV1Key
        }
    }
}

/// A path from the object's root to one field.
public typealias FieldPath = [FieldPathElement]

extension Array where Element == FieldPathElement {
    /// `.spec.template.spec.containers[name="x"].image`
    public var pathString: String { map(\.pathString).joined() }
}
