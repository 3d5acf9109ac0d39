import SyncCore

/// The shape of an API type, as much as server-side apply and drift detection need: field names for strict
/// validation, scalar types, and how lists and maps merge (server-side apply's list-map keys, strategic merge
/// patch's merge keys).
///
/// A class so that schemas can share sub-trees (a PodSpec inside three workload kinds) without copying; immutable.
public final class Schema: Sendable {
    /// What a node holds.
    public enum Shape: Sendable {
        /// A string, number, boolean, int-or-string, or anything scalar.
        case scalar(ScalarType)
        /// A struct (declared fields) and/or a map (additional properties).
        case object(fields: [String: Schema], additional: Schema?)
        /// A list: `atomic` (replaced whole), `set` (of scalars) or `map` (items keyed by fields).
        case list(element: Schema, type: ListType)
        /// Anything: maps merge key by key, lists are atomic (what the real server calls "deduced").
        case deduced
    }

    /// Scalar types, checked on write.
    public enum ScalarType: Sendable {
        case string, integer, number, boolean, intOrString, any
    }

    /// How list items are identified.
    public enum ListType: Sendable, Equatable {
        case atomic
        case set
        case map(keys: [String])
    }

    private let ownShape: Shape
    private let ownAtomic: Bool
    private let ownPreserveUnknown: Bool
    private let ownFieldDefaults: [String: Value]
    /// For a reference to a named type: the type, and the use site's override of its atomicity.
    private let reference: SchemaReference?
    private let atomicOverride: Bool?

    /// What this node holds (a reference's target's shape).
    public var shape: Shape { reference?.target.shape ?? ownShape }
    /// `x-kubernetes-map-type: atomic` / `+structType=atomic` / `x-kubernetes-list-type: atomic`: the node is owned
    /// and replaced as a whole.
    public var atomic: Bool { atomicOverride ?? reference?.target.atomic ?? ownAtomic }
    /// Unknown fields are kept rather than rejected (`x-kubernetes-preserve-unknown-fields`, or loosely modelled
    /// parts of built-in types).
    public var preserveUnknown: Bool { reference?.target.preserveUnknown ?? ownPreserveUnknown }
    /// Defaults of declared fields, used to complete a list item's missing key fields (a port's `protocol`).
    public var fieldDefaults: [String: Value] { reference?.target.fieldDefaults ?? ownFieldDefaults }
    /// Strategic merge patch: the merge key of a list of objects ("name", "containerPort"); nil to replace.
    public let patchMergeKey: String?
    /// Strategic merge patch strategy: "merge" (lists of scalars union, lists of objects by key) or nil.
    public let patchStrategy: String?
    /// Allowed values of an enumerated string, for validation messages.
    public let enumValues: [String]

    /// A schema node from its parts.
    public init(
        _ shape: Shape, atomic: Bool = false, preserveUnknown: Bool = false, patchMergeKey: String? = nil,
        patchStrategy: String? = nil, enumValues: [String] = [], fieldDefaults: [String: Value] = [:]
    ) {
        self.ownShape = shape
        self.ownAtomic = atomic
        self.ownPreserveUnknown = preserveUnknown
        self.ownFieldDefaults = fieldDefaults
        self.patchMergeKey = patchMergeKey
        self.patchStrategy = patchStrategy
        self.enumValues = enumValues
        self.reference = nil
        self.atomicOverride = nil
    }

    /// A use of a named type (which may be defined later, or contain itself), optionally overriding whether it is
    /// atomic at this use site (structured-merge-diff's field-level `elementRelationship`).
    public init(reference: SchemaReference, atomic: Bool? = nil) {
        self.ownShape = .deduced
        self.ownAtomic = false
        self.ownPreserveUnknown = false
        self.ownFieldDefaults = [:]
        self.patchMergeKey = nil
        self.patchStrategy = nil
        self.enumValues = []
        self.reference = reference
        self.atomicOverride = atomic
    }

    /// The schema of a member `key` of an object node; nil when the key is unknown and not allowed.
    public func child(_ key: String) -> Schema? {
        switch shape {
        case .object(let fields, let additional):
            if let field = fields[key] { return field }
            if let additional { return additional }
            return preserveUnknown ? Schema.anything : nil
        case .deduced: return Schema.anything
        default: return nil
        }
    }

    /// Whether `key` is a declared struct field (not a map entry).
    public func declares(_ key: String) -> Bool {
        if case .object(let fields, _) = shape { return fields[key] != nil }
        return false
    }

    /// The element schema of a list node.
    public var element: Schema? {
        if case .list(let element, _) = shape { return element }
        if case .deduced = shape { return Schema.anything }
        return nil
    }

    /// The list type; deduced lists are atomic.
    public var listType: ListType {
        if case .list(_, let type) = shape { return type }
        return .atomic
    }

    // MARK: Building blocks

    /// Anything (deduced): maps merge key by key, lists are atomic.
    public static let anything = Schema(.deduced)
    /// A string.
    public static let string = Schema(.scalar(.string))
    /// An integer.
    public static let integer = Schema(.scalar(.integer))
    /// A number.
    public static let number = Schema(.scalar(.number))
    /// A Boolean.
    public static let boolean = Schema(.scalar(.boolean))
    /// An int-or-string (ports, quantities, percentages).
    public static let intOrString = Schema(.scalar(.intOrString))
    /// A map of strings (labels, annotations, ConfigMap data).
    public static let stringMap = Schema(.object(fields: [:], additional: .string))
    /// A map of strings replaced and owned as a whole (a Service selector).
    public static let atomicStringMap = Schema(.object(fields: [:], additional: .string), atomic: true)
    /// A list of strings replaced as a whole.
    public static let stringList = Schema(.list(element: .string, type: .atomic))
    /// A loosely modelled struct: any members, merged as a struct.
    public static let looseObject = Schema(.object(fields: [:], additional: nil), preserveUnknown: true)

    /// A struct with these fields.
    public static func object(_ fields: [String: Schema], atomic: Bool = false, preserveUnknown: Bool = false) -> Schema
    {
        Schema(.object(fields: fields, additional: nil), atomic: atomic, preserveUnknown: preserveUnknown)
    }

    /// A list of objects keyed by `keys`, merged by `patchKey` in strategic merge patches.
    public static func keyedList(_ element: Schema, keys: [String], patchKey: String? = nil) -> Schema {
        Schema(
            .list(element: element, type: .map(keys: keys)), patchMergeKey: patchKey ?? keys[0],
            patchStrategy: "merge")
    }

    /// A list replaced as a whole.
    public static func atomicList(_ element: Schema) -> Schema {
        Schema(.list(element: element, type: .atomic))
    }

    /// A list of scalars merged as a set.
    public static func setList(_ element: Schema = .string) -> Schema {
        Schema(.list(element: element, type: .set), patchStrategy: "merge")
    }

    /// A string with these allowed values.
    public static func enumeration(_ values: [String]) -> Schema {
        Schema(.scalar(.string), enumValues: values)
    }
}

/// A named type that schemas refer to by name, so that types can be recursive (a tree node whose children are tree
/// nodes). Bound once, right after the types that use it are built, and read-only from then on.
public final class SchemaReference: @unchecked Sendable {
    /// The type's name.
    public let name: String
    // Written once by `bind` before the schema is shared, then only read: safe to share across threads.
    private var bound: Schema?

    /// A reference to the type `name`, to ``bind(_:)`` once it is built.
    public init(name: String) { self.name = name }

    /// Sets the type this name stands for; call before the schema is used.
    public func bind(_ schema: Schema) { bound = schema }

    /// The named type (deduced when never bound).
    public var target: Schema { bound ?? .anything }
}

extension Schema {
    /// Builds a schema from a CRD's `openAPIV3Schema` (JSONSchemaProps), reading the `x-kubernetes-*` extensions.
    public static func fromOpenAPI(_ props: Value) -> Schema {
        let preserve = props["x-kubernetes-preserve-unknown-fields"]?.boolValue ?? false
        if props["x-kubernetes-int-or-string"]?.boolValue == true { return .intOrString }
        let type = props["type"]?.stringValue ?? ""
        switch type {
        case "string":
            let values = props["enum"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return values.isEmpty ? .string : .enumeration(values)
        case "integer": return .integer
        case "number": return .number
        case "boolean": return .boolean
        case "array":
            let element = props["items"].map(fromOpenAPI) ?? .anything
            switch props["x-kubernetes-list-type"]?.stringValue {
            case "set": return .setList(element)
            case "map":
                let keys = props["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return keys.isEmpty ? .atomicList(element) : .keyedList(element, keys: keys)
            default: return .atomicList(element)
            }
        default:
            var fields: [String: Schema] = [:]
            for (name, child) in props["properties"]?.objectValue ?? [:] { fields[name] = fromOpenAPI(child) }
            var additional: Schema? = nil
            if let extra = props["additionalProperties"] {
                if case .object = extra {
                    additional = fromOpenAPI(extra)
                } else if extra.boolValue == true {
                    additional = .anything
                }
            }
            if fields.isEmpty && additional == nil && (preserve || type.isEmpty) { return .anything }
            let atomic = props["x-kubernetes-map-type"]?.stringValue == "atomic"
            return Schema(.object(fields: fields, additional: additional), atomic: atomic, preserveUnknown: preserve)
        }
    }
}
