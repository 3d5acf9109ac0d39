/// Why a value is not a Kubernetes object.
public enum ResourceError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The document is not a mapping.
    case notAMapping(found: String)
    /// A required field is absent or empty: "apiVersion", "kind", "metadata.name".
    case missingField(String)
    /// A field has the wrong type, e.g. `metadata.name: 12`.
    case wrongType(field: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .notAMapping(let found): return "a Kubernetes object must be a mapping, found a \(found)"
        case .missingField(let field): return "missing required field \"\(field)\""
        case .wrongType(let field, let expected, let found):
            return "field \"\(field)\" must be a \(expected), found a \(found)"
        }
    }
}

/// One Kubernetes object: its reference, its whole body, and where it came from.
public struct Resource: Sendable, Hashable, CustomStringConvertible {
    public var ref: ObjectRef
    /// The whole object as written (or as the server returned it), member order kept.
    public var body: Value
    /// Where the document starts, when it was read from a file.
    public var source: SourceLocation?

    /// Checks that `body` is an object with apiVersion, kind and metadata.name, and takes its identity from it.
    /// `generateName` alone is accepted for objects the server names, with an empty name.
    public init(body: Value, source: SourceLocation? = nil) throws(ResourceError) {
        guard case .object = body else { throw .notAMapping(found: body.typeName) }
        let apiVersion = try Resource.requiredString(body, ["apiVersion"], "apiVersion")
        let kind = try Resource.requiredString(body, ["kind"], "kind")
        if let metadata = body["metadata"], !metadata.isNull, metadata.objectValue == nil {
            throw .wrongType(field: "metadata", expected: "mapping", found: metadata.typeName)
        }
        let name = try Resource.requiredString(body, ["metadata", "name"], "metadata.name")
        var namespace = ""
        if let ns = body[path: ["metadata", "namespace"]], !ns.isNull {
            guard let s = ns.stringValue else {
                throw .wrongType(field: "metadata.namespace", expected: "string", found: ns.typeName)
            }
            namespace = s
        }
        self.ref = ObjectRef(apiVersion: apiVersion, kind: kind, namespace: namespace, name: name)
        self.body = body
        self.source = source
    }

    private static func requiredString(_ body: Value, _ path: [String], _ field: String) throws(ResourceError)
        -> String
    {
        guard let value = body[path: path], !value.isNull else { throw .missingField(field) }
        guard let s = value.stringValue else {
            throw .wrongType(field: field, expected: "string", found: value.typeName)
        }
        guard !s.isEmpty else { throw .missingField(field) }
        return s
    }

    public var apiVersion: String { ref.apiVersion }
    public var kind: String { ref.kind }
    public var name: String { ref.name }
    public var namespace: String { ref.namespace }
    public var key: ObjectKey { ref.key }

    /// `metadata.labels` as strings.
    public var labels: [String: String] { body[path: ["metadata", "labels"]]?.stringMap ?? [:] }
    /// `metadata.annotations` as strings.
    public var annotations: [String: String] { body[path: ["metadata", "annotations"]]?.stringMap ?? [:] }

    /// Sets `metadata.namespace`, e.g. to the default namespace for a namespaced kind.
    public mutating func setNamespace(_ namespace: String) {
        ref.namespace = namespace
        var metadata = body["metadata"] ?? .emptyObject
        if metadata.isNull { metadata = .emptyObject }
        metadata["namespace"] = .string(namespace)
        body["metadata"] = metadata
    }

    public var description: String {
        if let source { return "\(ref) (\(source))" }
        return ref.description
    }
}
