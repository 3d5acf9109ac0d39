import SyncCore

/// Client-side validation of custom resources against a CustomResourceDefinition in the same revision: the server
/// cannot dry-run an object of a kind it does not serve yet (or whose schema the revision changes), so its schema is
/// checked here, before anything is written, as the API server would check it once the CRD is established.
///
/// What is checked (the structural-schema subset the API server enforces on create): `type` (with `nullable`,
/// `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`), `enum`, `required`, `properties` and
/// `additionalProperties` (`false` refuses unknown keys only where the schema says so; elsewhere the server prunes
/// them silently, so they are not refused here), `items`, `minimum`/`maximum` (and the exclusive forms),
/// `minLength`/`maxLength`, `minItems`/`maxItems`, `minProperties`/`maxProperties`, `pattern`. Not checked:
/// CEL rules (`x-kubernetes-validations`), formats, and `oneOf`/`anyOf`/`allOf`/`not`.
public enum CustomResourceCheck {
    /// One object that does not fit its CRD's schema.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var object: ObjectRef
        public var source: SourceLocation?
        /// The field, as `spec.groups[0].rules[1].for`; "" for the object itself.
        public var field: String
        public var message: String

        public var description: String {
            (source.map { "\($0): " } ?? "") + "\(object): " + (field.isEmpty ? "" : "\(field): ") + message
        }
    }

    /// Every object of `resources` whose kind a CRD among `resources` defines, checked against the CRD's schema for
    /// its version; the problems in the order of `resources`.
    public static func problems(in resources: [Resource]) -> [Problem] {
        var schemas: [String: (schema: Value?, served: Bool, crd: Resource)] = [:]
        for crd in resources where crd.ref.group == "apiextensions.k8s.io" && crd.kind == "CustomResourceDefinition" {
            guard let group = crd.body[path: ["spec", "group"]]?.stringValue,
                let kind = crd.body[path: ["spec", "names", "kind"]]?.stringValue
            else { continue }
            for version in crd.body[path: ["spec", "versions"]]?.arrayValue ?? [] {
                guard let name = version["name"]?.stringValue else { continue }
                let served = version["served"]?.boolValue ?? true
                schemas["\(group)/\(name)/\(kind)"] = (
                    version[path: ["schema", "openAPIV3Schema"]], served, crd
                )
            }
        }
        var problems: [Problem] = []
        for resource in resources {
            let gvk = resource.ref.gvk
            guard let entry = schemas["\(gvk.group)/\(gvk.version)/\(gvk.kind)"], let schema = entry.schema else {
                continue
            }
            var found: [(String, String)] = []
            var body = resource.body
            body["status"] = nil  // written by controllers through the status subresource, not by an apply
            check(body, schema, path: "", into: &found, root: true)
            for (field, message) in found {
                problems.append(
                    Problem(
                        object: resource.ref, source: resource.source, field: field,
                        message: message + " (CustomResourceDefinition \(entry.crd.name))"))
            }
        }
        return problems
    }

    /// Walks `value` against `schema`, appending (field, message) for each violation.
    static func check(
        _ value: Value, _ schema: Value, path: String, into found: inout [(String, String)], root: Bool = false
    ) {
        if value.isNull {
            if schema["nullable"]?.boolValue == true || root { return }
            // A null is dropped by the server for most fields; only a typed, non-nullable field refuses it.
            if schema["type"]?.stringValue != nil { found.append((path, "must not be null")) }
            return
        }
        if schema["x-kubernetes-int-or-string"]?.boolValue == true {
            if value.intValue == nil && value.stringValue == nil {
                found.append((path, "must be an integer or a string, found \(jsonType(value))"))
            }
            return
        }
        if let type = schema["type"]?.stringValue, !fits(value, type) {
            found.append((path, "must be \(article(type)) \(type), found \(jsonType(value))"))
            return
        }
        if let options = schema["enum"]?.arrayValue, !options.isEmpty, !options.contains(value) {
            let list = options.map { $0.stringValue.map { "\"\($0)\"" } ?? $0.jsonString }.joined(separator: ", ")
            found.append(
                (path, "must be one of \(list), found \(value.stringValue.map { "\"\($0)\"" } ?? value.jsonString)"))
        }
        switch value {
        case .string(let text):
            if let min = schema["minLength"]?.intValue, text.count < min {
                found.append((path, "must be at least \(min) characters long"))
            }
            if let max = schema["maxLength"]?.intValue, text.count > max {
                found.append((path, "must be at most \(max) characters long"))
            }
            if let pattern = schema["pattern"]?.stringValue, let regex = try? Regex(pattern),
                (try? regex.firstMatch(in: text)) == nil
            {
                found.append((path, "must match the pattern \(pattern)"))
            }
        case .int, .uint, .double:
            checkBounds(value, schema, path: path, into: &found)
        case .array(let items):
            if let min = schema["minItems"]?.intValue, items.count < min {
                found.append((path, "must have at least \(min) items"))
            }
            if let max = schema["maxItems"]?.intValue, items.count > max {
                found.append((path, "must have at most \(max) items"))
            }
            if let itemSchema = schema["items"], itemSchema.objectValue != nil {
                for (index, item) in items.enumerated() {
                    check(item, itemSchema, path: "\(path)[\(index)]", into: &found)
                }
            }
        case .object(let members):
            if let min = schema["minProperties"]?.intValue, members.count < min {
                found.append((path, "must have at least \(min) properties"))
            }
            if let max = schema["maxProperties"]?.intValue, members.count > max {
                found.append((path, "must have at most \(max) properties"))
            }
            let properties = schema["properties"]?.objectValue
            for required in schema["required"]?.arrayValue ?? [] {
                guard let key = required.stringValue else { continue }
                if members[key] == nil { found.append((join(path, key), "is required")) }
            }
            for (key, member) in members {
                if root && (key == "apiVersion" || key == "kind" || key == "metadata") { continue }
                let field = join(path, key)
                if let property = properties?[key] {
                    check(member, property, path: field, into: &found)
                } else if let additional = schema["additionalProperties"] {
                    if additional.boolValue == false {
                        found.append((field, "is not allowed here (the schema permits no other fields)"))
                    } else if additional.objectValue != nil {
                        check(member, additional, path: field, into: &found)
                    }
                }
            }
        default:
            break
        }
    }

    private static func checkBounds(_ value: Value, _ schema: Value, path: String, into found: inout [(String, String)])
    {
        guard let number = value.doubleValue else { return }
        if let minimum = schema["minimum"]?.doubleValue {
            let exclusive = schema["exclusiveMinimum"]?.boolValue == true
            if exclusive ? number <= minimum : number < minimum {
                found.append((path, "must be \(exclusive ? "greater than" : "at least") \(format(minimum))"))
            }
        }
        if let maximum = schema["maximum"]?.doubleValue {
            let exclusive = schema["exclusiveMaximum"]?.boolValue == true
            if exclusive ? number >= maximum : number > maximum {
                found.append((path, "must be \(exclusive ? "less than" : "at most") \(format(maximum))"))
            }
        }
    }

    /// The JSON Schema name of a value's type.
    private static func jsonType(_ value: Value) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int, .uint: "integer"
        case .double(let number): number == number.rounded() ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func fits(_ value: Value, _ type: String) -> Bool {
        switch type {
        case "object": return value.objectValue != nil
        case "array": return value.arrayValue != nil
        case "string": return value.stringValue != nil
        case "boolean": return value.boolValue != nil
        case "integer": return value.intValue != nil && !isFractional(value)
        case "number": return value.doubleValue != nil
        default: return true
        }
    }

    private static func isFractional(_ value: Value) -> Bool {
        if case .double(let number) = value { return number != number.rounded() }
        return false
    }

    private static func article(_ type: String) -> String {
        type.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

extension Value {
    /// The number, when this is one (integers widened).
    fileprivate var doubleValue: Double? {
        switch self {
        case .int(let number): Double(number)
        case .uint(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }
}
