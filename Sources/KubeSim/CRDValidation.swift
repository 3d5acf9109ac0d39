import Foundation
import SyncCore

/// A CRD version's value constraints and defaults, read from its `openAPIV3Schema`: what the real server's
/// structural defaulting and kube-openapi validation act on, beyond the field names and types that ``Schema`` (the
/// server-side apply model) already checks.
///
/// Kept apart from ``Schema`` so that the merge model stays as it is; built once per CRD version and walked on
/// every write (create, update, patch, apply, dry runs) and, for defaults, on every read.
///
/// Not evaluated: CEL rules (`x-kubernetes-validations`), `oneOf`/`anyOf`/`allOf`/`not`, `format`, `uniqueItems`,
/// `multipleOf`.
final class CRDValidation: Sendable {
    /// The node's declared `type` ("object", "array", "string", "integer", "number", "boolean"), or "" when unset.
    let type: String
    /// `x-kubernetes-int-or-string`: an integer or a string.
    let intOrString: Bool
    /// `nullable: true`: an explicit null is kept (not pruned, not defaulted).
    let nullable: Bool
    /// `default`: the value set when the field is missing (or null and not nullable).
    let defaultValue: Value?
    /// `required`: members an object must have.
    let required: [String]
    /// `properties`.
    let properties: [String: CRDValidation]
    /// The properties that have a default, sorted by name (the order defaults are added in, as the real server's
    /// JSON has its map keys sorted).
    let defaultedProperties: [(name: String, schema: CRDValidation)]
    /// `additionalProperties` as a schema (map values).
    let additionalProperties: CRDValidation?
    /// `items`.
    let items: CRDValidation?
    let minimum: Double?
    let maximum: Double?
    let exclusiveMinimum: Bool
    let exclusiveMaximum: Bool
    let minLength: Int?
    let maxLength: Int?
    let pattern: CompiledPattern?
    let minItems: Int?
    let maxItems: Int?
    let minProperties: Int?
    let maxProperties: Int?
    /// `enum` of a non-string node (string enums are checked with the types, by ``Schema``).
    let enumValues: [Value]
    /// Whether this node or any below it declares a default (reads skip the walk when not).
    let hasDefaults: Bool
    /// Whether this node or any below it constrains values (writes skip the walk when not).
    let hasConstraints: Bool

    /// Builds the tree from a JSONSchemaProps value.
    init(_ props: Value) {
        type = props["type"]?.stringValue ?? ""
        intOrString = props["x-kubernetes-int-or-string"]?.boolValue == true
        nullable = props["nullable"]?.boolValue == true
        defaultValue = props["default"]
        required = props["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var properties: [String: CRDValidation] = [:]
        for (name, child) in props["properties"]?.objectValue ?? [:] { properties[name] = CRDValidation(child) }
        self.properties = properties
        defaultedProperties = properties.filter { $0.value.defaultValue != nil }.sorted { $0.key < $1.key }
            .map { (name: $0.key, schema: $0.value) }
        if let extra = props["additionalProperties"], case .object = extra {
            additionalProperties = CRDValidation(extra)
        } else {
            additionalProperties = nil
        }
        items = props["items"].flatMap { items in
            if case .object = items { return CRDValidation(items) }
            return nil
        }
        minimum = props["minimum"]?.numberValue
        maximum = props["maximum"]?.numberValue
        exclusiveMinimum = props["exclusiveMinimum"]?.boolValue == true
        exclusiveMaximum = props["exclusiveMaximum"]?.boolValue == true
        minLength = props["minLength"]?.intValue.map(Int.init)
        maxLength = props["maxLength"]?.intValue.map(Int.init)
        pattern = props["pattern"]?.stringValue.flatMap(CompiledPattern.init)
        minItems = props["minItems"]?.intValue.map(Int.init)
        maxItems = props["maxItems"]?.intValue.map(Int.init)
        minProperties = props["minProperties"]?.intValue.map(Int.init)
        maxProperties = props["maxProperties"]?.intValue.map(Int.init)
        let values = props["enum"]?.arrayValue ?? []
        enumValues = (type == "string" && values.allSatisfy { $0.stringValue != nil }) ? [] : values
        let children = Array(properties.values) + [additionalProperties, items].compactMap { $0 }
        hasDefaults = defaultValue != nil || children.contains { $0.hasDefaults }
        let constrained =
            !required.isEmpty || minimum != nil || maximum != nil || minLength != nil || maxLength != nil
            || pattern != nil || minItems != nil || maxItems != nil || minProperties != nil || maxProperties != nil
            || !enumValues.isEmpty
        hasConstraints = constrained || children.contains { $0.hasConstraints }
    }

    /// The validation of a CRD version, or nil when it has no schema.
    static func forVersion(_ openAPIV3Schema: Value?) -> CRDValidation? {
        guard let openAPIV3Schema, case .object = openAPIV3Schema else { return nil }
        return CRDValidation(openAPIV3Schema)
    }

    // MARK: Defaulting

    /// Structural defaulting as the real server does it: a missing member (or a null one that is not nullable) of
    /// an object that exists gets its default; non-nullable nulls without a default are pruned; list items and map
    /// values are defaulted by their schema. `pruneNulls` false (reads) only adds defaults. Returns whether anything
    /// changed.
    @discardableResult
    func applyDefaults(_ value: inout Value, pruneNulls: Bool = true) -> Bool {
        switch value {
        case .object(var members):
            var changed = false
            value = .null
            for (name, property) in defaultedProperties {
                let current = members[name]
                if let defaultValue = property.defaultValue,
                    current == nil || (pruneNulls && current?.isNull == true && !property.nullable)
                {
                    members[name] = defaultValue
                    changed = true
                }
            }
            if pruneNulls {
                for (key, member) in members where member.isNull {
                    guard let property = properties[key] ?? additionalProperties, !property.nullable else { continue }
                    members[key] = nil
                    changed = true
                }
            }
            for key in Array(members.keys) {
                guard let schema = properties[key] ?? additionalProperties, pruneNulls || schema.hasDefaults,
                    var member = members[key]
                else { continue }
                members[key] = .null
                if schema.applyDefaults(&member, pruneNulls: pruneNulls) { changed = true }
                members[key] = member
            }
            value = .object(members)
            return changed
        case .array(var elements):
            guard let items, pruneNulls || items.hasDefaults else { return false }
            var changed = false
            value = .null
            for index in elements.indices {
                if elements[index].isNull && !items.nullable, let defaultValue = items.defaultValue {
                    elements[index] = defaultValue
                    changed = true
                }
                if items.applyDefaults(&elements[index], pruneNulls: pruneNulls) { changed = true }
            }
            value = .array(elements)
            return changed
        default:
            return false
        }
    }

    // MARK: Validation

    /// The value constraints `value` breaks, as the real server words them (kube-openapi's messages mapped to
    /// field errors by the apiextensions server). `path` is the field path ("spec.replicas", "spec.hosts[0]").
    func validate(_ value: Value, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        check(value, path: path, &causes)
        return causes
    }

    private func check(_ value: Value, path: String, _ causes: inout [StatusCause]) {
        if value.isNull { return }
        let name = path.isEmpty ? "body" : path
        func invalid(_ shown: String, _ message: String) {
            causes.append(
                StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(shown): \(message)", field: path))
        }
        switch value {
        case .string(let text):
            let length = text.unicodeScalars.count
            if let maxLength, length > maxLength {
                let unit = maxLength == 1 ? "byte" : "bytes"
                causes.append(
                    StatusCause(
                        reason: "FieldValueTooLong", message: "Too long: may not be more than \(maxLength) \(unit)",
                        field: path))
            }
            if let minLength, length < minLength {
                invalid(value.jsonString, "\(name) in body should be at least \(minLength) chars long")
            }
            if let pattern, !pattern.matches(text) {
                invalid(value.jsonString, "\(name) in body should match '\(pattern.source)'")
            }
        case .int, .uint, .double:
            guard let number = value.numberValue else { break }
            let shown = CRDValidation.goNumber(value)
            if let maximum {
                if exclusiveMaximum && number >= maximum {
                    invalid(shown, "\(name) in body should be less than \(CRDValidation.goFloat(maximum))")
                } else if !exclusiveMaximum && number > maximum {
                    invalid(shown, "\(name) in body should be less than or equal to \(CRDValidation.goFloat(maximum))")
                }
            }
            if let minimum {
                if exclusiveMinimum && number <= minimum {
                    invalid(shown, "\(name) in body should be greater than \(CRDValidation.goFloat(minimum))")
                } else if !exclusiveMinimum && number < minimum {
                    invalid(
                        shown, "\(name) in body should be greater than or equal to \(CRDValidation.goFloat(minimum))")
                }
            }
        case .array(let elements):
            if let minItems, elements.count < minItems {
                invalid(String(elements.count), "\(name) in body should have at least \(minItems) items")
            }
            if let maxItems, elements.count > maxItems {
                let unit = maxItems == 1 ? "item" : "items"
                causes.append(
                    StatusCause(
                        reason: "FieldValueTooMany",
                        message: "Too many: \(elements.count): must have at most \(maxItems) \(unit)", field: path))
            }
            if let items {
                for (index, element) in elements.enumerated() {
                    items.check(element, path: "\(path)[\(index)]", &causes)
                }
            }
        case .object(let members):
            if let maxProperties, members.count > maxProperties {
                let unit = maxProperties == 1 ? "item" : "items"
                causes.append(
                    StatusCause(
                        reason: "FieldValueTooMany",
                        message: "Too many: \(members.count): must have at most \(maxProperties) \(unit)", field: path))
            }
            if let minProperties, members.count < minProperties {
                invalid(String(members.count), "\(name) in body should have at least \(minProperties) properties")
            }
            for key in required where members[key] == nil {
                let field = path.isEmpty ? key : "\(path).\(key)"
                causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: field))
            }
            for (key, member) in members {
                guard let schema = properties[key] ?? additionalProperties, schema.hasConstraints else { continue }
                schema.check(member, path: path.isEmpty ? key : "\(path).\(key)", &causes)
            }
        default:
            break
        }
        if !enumValues.isEmpty && !enumValues.contains(where: { CRDValidation.sameJSON($0, value) }) {
            let allowed = enumValues.map { $0.stringValue.map { "\"\($0)\"" } ?? "\"\($0.jsonString)\"" }
            causes.append(
                StatusCause(
                    reason: "FieldValueNotSupported",
                    message: "Unsupported value: \(CRDValidation.goNumber(value)): supported values: "
                        + allowed.joined(separator: ", "), field: path))
        }
    }

    /// JSON equality that treats 1, 1.0 and unsigned 1 alike.
    static func sameJSON(_ a: Value, _ b: Value) -> Bool {
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        return a == b
    }

    // MARK: Go's number formatting

    /// A value as Go's `%v` prints it in a field error: integers plainly, floats in `%g` style, strings quoted.
    static func goNumber(_ value: Value) -> String {
        switch value {
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return goFloat(d)
        default: return value.jsonString
        }
    }

    /// A float64 as Go's `%v` prints it (strconv 'g' with the shortest precision): `1`, `0.5`, `1e+06`, `1e-05`.
    static func goFloat(_ d: Double) -> String {
        if d == 0 { return "0" }
        if !d.isFinite { return d > 0 ? "+Inf" : (d < 0 ? "-Inf" : "NaN") }
        // Shortest round-trip digits and decimal exponent, from Swift's own shortest representation.
        let text = "\(abs(d))"
        var mantissa = text
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(text[..<e])
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = whole + fraction
        var point = whole.count + exponent  // digits[0..<point] are before the decimal point
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let exp = point - 1
        // strconv's 'g' with the shortest precision switches to %e below 1e-4 and from 1e+06 on.
        if exp < -4 || exp >= 6 { return sign + scientific(digits, exp) }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let index = digits.index(digits.startIndex, offsetBy: point)
        return sign + digits[..<index] + "." + digits[index...]
    }

    private static func scientific(_ digits: String, _ exp: Int) -> String {
        var out = String(digits.prefix(1))
        if digits.count > 1 { out += "." + digits.dropFirst() }
        let magnitude = abs(exp)
        return out + (exp < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
    }
}

/// A `pattern` compiled once. NSRegularExpression is immutable and documented as safe to use from several threads.
struct CompiledPattern: @unchecked Sendable {
    /// The pattern as the schema wrote it (quoted back in messages).
    let source: String
    private let regex: NSRegularExpression

    init?(_ source: String) {
        guard let regex = try? NSRegularExpression(pattern: source) else { return nil }
        self.source = source
        self.regex = regex
    }

    /// Whether the pattern matches anywhere in `text` (JSON Schema patterns are not anchored).
    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

extension Value {
    /// The value of a JSON number as a Double.
    var numberValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }
}
