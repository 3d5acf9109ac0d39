import SyncCore

/// A parsed `labelSelector` query (`app=x,tier!=db,env in (a,b),!legacy,release`).
struct LabelSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case inSet(String, Set<String>)
        case notInSet(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    var requirements: [Requirement] = []

    init(_ text: String) throws(APIError) {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if c == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current)
        for raw in parts {
            let part = raw.trimming(" ")
            if part.isEmpty { continue }
            let words = part.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if words.count >= 3, words[1] == "in" || words[1] == "notin" {
                let list = words.dropFirst(2).joined(separator: " ")
                guard list.hasPrefix("("), list.hasSuffix(")") else {
                    throw .badRequest("unable to parse requirement: found '\(list)', expected: '('")
                }
                let values = Set(list.dropFirst().dropLast().split(separator: ",").map { String($0).trimming(" ") })
                requirements.append(words[1] == "in" ? .inSet(words[0], values) : .notInSet(words[0], values))
            } else if let range = part.range(of: "!=") {
                requirements.append(.notEquals(String(part[..<range.lowerBound]).trimming(" "), String(part[range.upperBound...]).trimming(" ")))
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                requirements.append(.equals(String(part[..<range.lowerBound]).trimming(" "), String(part[range.upperBound...]).trimming(" ")))
            } else if part.hasPrefix("!") {
                requirements.append(.notExists(String(part.dropFirst()).trimming(" ")))
            } else {
                requirements.append(.exists(part))
            }
        }
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .inSet(let k, let values): return labels[k].map(values.contains) ?? false
            case .notInSet(let k, let values): return labels[k].map { !values.contains($0) } ?? true
            case .exists(let k): return labels[k] != nil
            case .notExists(let k): return labels[k] == nil
            }
        }
    }
}

/// A parsed `fieldSelector`: `metadata.name`, `metadata.namespace` (and a few per-kind fields) with `=`, `==`, `!=`.
struct FieldSelector: Sendable {
    var requirements: [(field: String, value: String, equal: Bool)] = []

    init(_ text: String, kind: String) throws(APIError) {
        for raw in text.split(separator: ",") {
            let part = String(raw)
            let equal: Bool
            let range: Range<String.Index>
            if let r = part.range(of: "!=") {
                equal = false
                range = r
            } else if let r = part.range(of: "==") ?? part.range(of: "=") {
                equal = true
                range = r
            } else {
                throw .badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            let field = String(part[..<range.lowerBound])
            let supported = ["metadata.name", "metadata.namespace"]
                + (kind == "Pod" ? ["spec.nodeName", "status.phase", "spec.serviceAccountName"] : [])
                + (kind == "Secret" ? ["type"] : []) + (kind == "Event" ? ["involvedObject.name", "involvedObject.kind", "reason", "type"] : [])
            guard supported.contains(field) else {
                throw .badRequest("field label not supported: \(field)")
            }
            requirements.append((field, String(part[range.upperBound...]), equal))
        }
    }

    func matches(_ object: Value) -> Bool {
        requirements.allSatisfy { requirement in
            let path = requirement.field.split(separator: ".").map(String.init)
            let actual = object[path: path]?.stringValue ?? ""
            return (actual == requirement.value) == requirement.equal
        }
    }
}

extension String {
    func trimming(_ character: Character) -> String {
        var s = Substring(self)
        while s.first == character { s = s.dropFirst() }
        while s.last == character { s = s.dropLast() }
        return String(s)
    }
}
