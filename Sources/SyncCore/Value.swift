import OrderedCollections

/// A Kubernetes object's data: the JSON data model, with the order of mapping keys kept.
///
/// Integers and floats stay apart as they do in Kubernetes' own decoders (`int64` vs `float64`):
/// `replicas: 3` is `.int(3)`, `weight: 3.0` is `.double(3)`. Integers above `Int64.max` that still
/// fit an unsigned 64-bit word are `.uint`, as Go's YAML decoder produces them.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([Value])
    case object(OrderedDictionary<String, Value>)

    /// An empty mapping.
    public static let emptyObject = Value.object([:])
}

extension Value {
    /// The mapping's member named `key`, or nil when this is not a mapping or has no such member.
    public subscript(key: String) -> Value? {
        get {
            guard case .object(let members) = self else { return nil }
            return members[key]
        }
        set {
            guard case .object(var members) = self else { return }
            self = .null  // drop the reference so `members` is uniquely owned while it changes
            members[key] = newValue
            self = .object(members)
        }
    }

    /// The value at a path of keys; nil when any step is missing.
    public subscript(path keys: [String]) -> Value? {
        var current: Value? = self
        for key in keys { current = current?[key] }
        return current
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, when this is one (a whole `.double` counts, as JSON does not tell them apart).
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .uint(let u): return u <= UInt64(Int64.max) ? Int64(u) : nil
        case .double(let d): return d == d.rounded() && abs(d) < 9.0e18 ? Int64(d) : nil
        default: return nil
        }
    }

    /// The Boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The members of a mapping, in order; nil when this is not a mapping.
    public var objectValue: OrderedDictionary<String, Value>? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements of a sequence; nil when this is not a sequence.
    public var arrayValue: [Value]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A short name of this value's type, for error messages ("mapping", "string", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .uint: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "sequence"
        case .object: return "mapping"
        }
    }

    /// The mapping's members with string values, e.g. labels; non-string values are left out.
    public var stringMap: [String: String] {
        guard case .object(let members) = self else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in members {
            if case .string(let s) = value { result[key] = s }
        }
        return result
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(OrderedDictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
