import KubeSchema
import SyncCore

/// What the schema walk found: unknown fields (for `fieldValidation`) and values of the wrong type.
struct SchemaFindings: Sendable {
    var unknownFields: [String] = []
    var typeErrors: [StatusCause] = []
}

/// Validation as the real server does it: schema (unknown fields, types), names, required and immutable fields.
enum Validation {
    /// Walks `object` against the schema; unknown fields are removed (pruned) and reported.
    static func checkSchema(_ object: inout Value, schema: Schema) -> SchemaFindings {
        var findings = SchemaFindings()
        walk(&object, schema, "", &findings)
        return findings
    }

    private static func walk(_ value: inout Value, _ schema: Schema, _ path: String, _ findings: inout SchemaFindings) {
        if value.isNull { return }
        switch schema.shape {
        case .deduced: return
        case .scalar(let type):
            let ok: Bool
            switch (type, value) {
            case (.string, .string), (.integer, .int), (.integer, .uint), (.number, .int), (.number, .double),
                (.number, .uint), (.boolean, .bool), (.intOrString, .string), (.intOrString, .int), (.any, _):
                ok = true
            case (.integer, .double(let d)): ok = d == d.rounded()
            default: ok = false
            }
            if !ok {
                let expected: String
                switch type {
                case .string: expected = "string"
                case .integer: expected = "integer"
                case .number: expected = "number"
                case .boolean: expected = "boolean"
                case .intOrString: expected = "integer or string"
                case .any: expected = "any"
                }
                findings.typeErrors.append(
                    StatusCause(
                        reason: "FieldValueTypeInvalid",
                        message: "Invalid value: \"\(value.typeName)\": \(path) in body must be of type \(expected): \(value.jsonString)",
                        field: path))
            } else if !schema.enumValues.isEmpty, let s = value.stringValue, !schema.enumValues.contains(s) {
                let allowed = schema.enumValues.map { "\"\($0)\"" }.joined(separator: ", ")
                findings.typeErrors.append(
                    StatusCause(
                        reason: "FieldValueNotSupported",
                        message: "Unsupported value: \"\(s)\": supported values: \(allowed)", field: path))
            }
        case .object:
            guard case .object(var members) = value else {
                findings.typeErrors.append(
                    StatusCause(
                        reason: "FieldValueTypeInvalid",
                        message: "Invalid value: \"\(value.typeName)\": \(path.isEmpty ? "body" : path) in body must be of type object: \(value.jsonString)",
                        field: path))
                return
            }
            value = .null
            for key in Array(members.keys) {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let child = schema.child(key) else {
                    findings.unknownFields.append(childPath)
                    members[key] = nil
                    continue
                }
                if var member = members[key] {
                    members[key] = .null
                    walk(&member, child, childPath, &findings)
                    members[key] = member
                }
            }
            value = .object(members)
        case .list(let element, _):
            guard case .array(var items) = value else {
                findings.typeErrors.append(
                    StatusCause(
                        reason: "FieldValueTypeInvalid",
                        message: "Invalid value: \"\(value.typeName)\": \(path) in body must be of type array: \(value.jsonString)",
                        field: path))
                return
            }
            value = .null
            for index in items.indices { walk(&items[index], element, "\(path)[\(index)]", &findings) }
            value = .array(items)
        }
    }

    // MARK: Names

    static let subdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Message =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    static func isLabel(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 63 else { return false }
        let bytes = Array(s.utf8)
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        guard alnum(bytes[0]), alnum(bytes[bytes.count - 1]) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 45 }
    }

    static func isSubdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel(String($0)) }
    }

    static func isDNS1035(_ s: String) -> Bool {
        guard isLabel(s), let first = s.utf8.first else { return false }
        return first >= 97 && first <= 122
    }

    /// Validates a whole object of `type`; returns the causes (empty when valid).
    static func validate(_ object: Value, old: Value?, type: ResourceType) -> [StatusCause] {
        var causes: [StatusCause] = []
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        func invalid(_ field: String, _ value: String, _ message: String) {
            causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(value): \(message)", field: field))
        }
        func required(_ field: String) {
            causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: field))
        }
        // Names: services and namespaces are labels, the rest subdomains.
        if name.isEmpty {
            required("metadata.name")
        } else if type.group.isEmpty && type.kind == "Service" {
            if !isDNS1035(name) { invalid("metadata.name", "\"\(name)\"", dns1035Message) }
        } else if type.group.isEmpty && type.kind == "Namespace" {
            if !isLabel(name) { invalid("metadata.name", "\"\(name)\"", labelMessage) }
        } else if type.group == "rbac.authorization.k8s.io" {
            if name.contains("/") || name.contains("%") || name == "." || name == ".." {
                invalid("metadata.name", "\"\(name)\"", "may not contain '/'")
            }
        } else if !isSubdomain(name) {
            invalid("metadata.name", "\"\(name)\"", subdomainMessage)
        }
        for (key, _) in object[path: ["metadata", "labels"]]?.objectValue ?? [:] where !isQualifiedName(key) {
            invalid("metadata.labels", "\"\(key)\"", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
        }
        switch (type.group, type.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"):
            workload(object, old: old, kind: type.kind, &causes)
        case ("", "Service"):
            service(object, old: old, &causes)
        case ("", "ConfigMap"), ("", "Secret"):
            for (key, _) in object["data"]?.objectValue ?? [:] {
                let ok = !key.isEmpty && key.utf8.count <= 253
                    && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
                if !ok {
                    invalid("data", "\"\(key)\"", "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
                }
            }
            if let old, old["immutable"]?.boolValue == true, old["data"] != object["data"] {
                causes.append(StatusCause(reason: "FieldValueForbidden", message: "Forbidden: field is immutable when `immutable` is set", field: "data"))
            }
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            let group = object[path: ["spec", "group"]]?.stringValue ?? ""
            let plural = object[path: ["spec", "names", "plural"]]?.stringValue ?? ""
            if group.isEmpty { required("spec.group") }
            if plural.isEmpty { required("spec.names.plural") }
            if object[path: ["spec", "names", "kind"]]?.stringValue?.isEmpty ?? true { required("spec.names.kind") }
            if !group.isEmpty && !plural.isEmpty && name != "\(plural).\(group)" {
                invalid("metadata.name", "\"\(name)\"", "must be spec.names.plural+\".\"+spec.group")
            }
            if (object[path: ["spec", "versions"]]?.arrayValue ?? []).isEmpty { required("spec.versions") }
        default: break
        }
        return causes
    }

    static func isQualifiedName(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let namePart = parts.last, !namePart.isEmpty, namePart.count <= 63 else { return false }
        if parts.count == 2 && !isSubdomain(String(parts[0])) { return false }
        func alnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        guard let first = namePart.first, let last = namePart.last, alnum(first), alnum(last) else { return false }
        return namePart.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    private static func workload(_ object: Value, old: Value?, kind: String, _ causes: inout [StatusCause]) {
        let spec = object["spec"] ?? .emptyObject
        if let replicas = spec["replicas"]?.intValue, replicas < 0 {
            causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(replicas): must be greater than or equal to 0", field: "spec.replicas"))
        }
        let selector = spec["selector"]
        let matchLabels = selector?["matchLabels"]?.stringMap ?? [:]
        if selector == nil || (matchLabels.isEmpty && (selector?["matchExpressions"]?.arrayValue ?? []).isEmpty) {
            causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.selector"))
            if selector != nil {
                causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(selector?.jsonString ?? "{}"): empty selector is invalid for deployment", field: "spec.selector"))
            }
        }
        let labels = spec[path: ["template", "metadata", "labels"]]?.stringMap ?? [:]
        if !matchLabels.isEmpty && !matchLabels.allSatisfy({ labels[$0.key] == $0.value }) {
            let shown = "map[string]string{" + labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ", ") + "}"
            causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(shown): `selector` does not match template `labels`", field: "spec.template.metadata.labels"))
        }
        let containers = spec[path: ["template", "spec", "containers"]]?.arrayValue ?? []
        if containers.isEmpty {
            causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.template.spec.containers"))
        }
        var seen: Set<String> = []
        for (index, container) in containers.enumerated() {
            let field = "spec.template.spec.containers[\(index)]"
            let name = container["name"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: "\(field).name"))
            } else if !isLabel(name) {
                causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(name)\": \(labelMessage)", field: "\(field).name"))
            } else if !seen.insert(name).inserted {
                causes.append(StatusCause(reason: "FieldValueDuplicate", message: "Duplicate value: \"\(name)\"", field: "\(field).name"))
            }
            if (container["image"]?.stringValue ?? "").isEmpty {
                causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: "\(field).image"))
            }
            for (p, port) in (container["ports"]?.arrayValue ?? []).enumerated() {
                let number = port["containerPort"]?.intValue ?? 0
                if number < 1 || number > 65535 {
                    causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(number): must be between 1 and 65535, inclusive", field: "\(field).ports[\(p)].containerPort"))
                }
            }
        }
        if let old, kind != "DaemonSet" || true, let oldSelector = old[path: ["spec", "selector"]], oldSelector != selector {
            causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(selector?.jsonString ?? "null"): field is immutable", field: "spec.selector"))
        }
    }

    private static func service(_ object: Value, old: Value?, _ causes: inout [StatusCause]) {
        let spec = object["spec"] ?? .emptyObject
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(type) {
            causes.append(StatusCause(reason: "FieldValueNotSupported", message: "Unsupported value: \"\(type)\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"", field: "spec.type"))
        }
        let ports = spec["ports"]?.arrayValue ?? []
        let headless = spec["clusterIP"]?.stringValue == "None"
        if ports.isEmpty && type != "ExternalName" && !headless {
            causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.ports"))
        }
        for (index, port) in ports.enumerated() {
            let number = port["port"]?.intValue ?? 0
            if number < 1 || number > 65535 {
                causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(number): must be between 1 and 65535, inclusive", field: "spec.ports[\(index)].port"))
            }
            if ports.count > 1 && (port["name"]?.stringValue ?? "").isEmpty {
                causes.append(StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.ports[\(index)].name"))
            }
        }
        if let old, let oldIP = old[path: ["spec", "clusterIP"]]?.stringValue, !oldIP.isEmpty,
            let newIP = spec["clusterIP"]?.stringValue, newIP != oldIP, type != "ExternalName"
        {
            causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: []string{\"\(newIP)\"}: may not change once set", field: "spec.clusterIPs[0]"))
            causes.append(StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(newIP)\": field is immutable", field: "spec.clusterIP"))
        }
    }
}
