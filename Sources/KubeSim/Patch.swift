import KubeSchema
import OrderedCollections
import SyncCore

/// The non-apply patch types: JSON merge patch (RFC 7386), Kubernetes' strategic merge patch, JSON patch (RFC 6902).
enum Patch {
    /// RFC 7386: objects merge, null deletes, everything else replaces.
    static func merge(_ target: Value, _ patch: Value) -> Value {
        guard case .object(let changes) = patch else { return patch }
        var members = target.objectValue ?? [:]
        for (key, value) in changes {
            if value.isNull {
                members[key] = nil
            } else {
                members[key] = merge(members[key] ?? .null, value)
            }
        }
        return .object(members)
    }

    /// Strategic merge patch: like a merge patch, but lists with a merge key merge item by item, and the `$patch`,
    /// `$retainKeys`, `$setElementOrder/` and `$deleteFromPrimitiveList/` directives apply.
    static func strategic(_ target: Value, _ patch: Value, schema: Schema) throws(APIError) -> Value {
        guard case .object(let changes) = patch else { return patch }
        if changes["$patch"]?.stringValue == "replace" {
            var replaced = changes
            replaced["$patch"] = nil
            return .object(replaced)
        }
        if changes["$patch"]?.stringValue == "delete" { return .null }
        var members = target.objectValue ?? [:]
        if let retain = changes["$retainKeys"]?.arrayValue?.compactMap(\.stringValue) {
            let keep = Set(retain)
            for key in Array(members.keys) where !keep.contains(key) { members[key] = nil }
        }
        for (key, value) in changes {
            if key == "$patch" || key == "$retainKeys" || key.hasPrefix("$setElementOrder/") { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = Set(value.arrayValue ?? [])
                if let items = members[field]?.arrayValue { members[field] = .array(items.filter { !remove.contains($0) }) }
                continue
            }
            if value.isNull {
                members[key] = nil
                continue
            }
            let child = schema.child(key) ?? .anything
            switch value {
            case .object:
                let merged = try strategic(members[key] ?? .null, value, schema: child)
                members[key] = merged.isNull ? nil : merged
            case .array(let items):
                members[key] = try strategicList(members[key]?.arrayValue ?? [], items, schema: child)
            default:
                members[key] = value
            }
            if let order = changes["$setElementOrder/\(key)"]?.arrayValue, let list = members[key]?.arrayValue {
                members[key] = .array(reorder(list, by: order, mergeKey: child.patchMergeKey))
            }
        }
        return .object(members)
    }

    private static func strategicList(_ current: [Value], _ patch: [Value], schema: Schema) throws(APIError) -> Value {
        guard schema.patchStrategy == "merge" else {
            return .array(patch.filter { $0["$patch"] == nil })
        }
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patch.filter { $0["$patch"] == nil })
        }
        guard let key = schema.patchMergeKey else {
            // A set of scalars: union, order kept.
            var result = current
            for item in patch where !result.contains(item) { result.append(item) }
            return .array(result)
        }
        var result = current
        let element = schema.element ?? .anything
        for item in patch {
            guard let id = item[key] else {
                throw APIError.badRequest("map: \(item.jsonString) does not contain declared merge key: \(key)")
            }
            let index = result.firstIndex { $0[key] == id }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index {
                result[index] = try strategic(result[index], item, schema: element)
            } else {
                var added = item
                added["$patch"] = nil
                result.append(try strategic(.emptyObject, added, schema: element))
            }
        }
        return .array(result)
    }

    /// Orders `list` as `order` lists it (items by merge key, or scalars); others keep their place after.
    private static func reorder(_ list: [Value], by order: [Value], mergeKey: String?) -> [Value] {
        func id(_ item: Value) -> Value { mergeKey.flatMap { item[$0] } ?? item }
        var rank: [Value: Int] = [:]
        for (index, item) in order.enumerated() { rank[id(item)] = index }
        return list.enumerated().sorted { a, b in
            let ra = rank[id(a.element)] ?? Int.max
            let rb = rank[id(b.element)] ?? Int.max
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }

    /// RFC 6902 JSON patch: add, remove, replace, move, copy, test.
    static func json(_ target: Value, _ operations: Value) throws(APIError) -> Value {
        guard let ops = operations.arrayValue else { throw .badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch") }
        var result = target
        for op in ops {
            let kind = op["op"]?.stringValue ?? ""
            let path = try pointer(op["path"]?.stringValue ?? "")
            switch kind {
            case "add": result = try set(result, path, op["value"] ?? .null, insert: true)
            case "replace":
                guard get(result, path) != nil else { throw .internalError("replace operation does not apply: doc is missing key: \(op["path"]?.stringValue ?? "")") }
                result = try set(result, path, op["value"] ?? .null, insert: false)
            case "remove":
                guard get(result, path) != nil else { throw .internalError("remove operation does not apply: doc is missing path: \(op["path"]?.stringValue ?? "")") }
                result = try set(result, path, nil, insert: false)
            case "move", "copy":
                let from = try pointer(op["from"]?.stringValue ?? "")
                guard let value = get(result, from) else { throw .internalError("\(kind) operation does not apply: doc is missing from path") }
                if kind == "move" { result = try set(result, from, nil, insert: false) }
                result = try set(result, path, value, insert: true)
            case "test":
                guard get(result, path) == op["value"] else { throw .internalError("testing value \(op["path"]?.stringValue ?? "") failed: test failed") }
            default: throw .badRequest("Unexpected kind: \(kind)")
            }
        }
        return result
    }

    private static func pointer(_ text: String) throws(APIError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw .badRequest("JSON pointer must start with '/': \(text)") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ value: Value, _ path: [String]) -> Value? {
        var current = value
        for token in path {
            switch current {
            case .object(let members): guard let next = members[token] else { return nil }; current = next
            case .array(let items): guard let i = Int(token), items.indices.contains(i) else { return nil }; current = items[i]
            default: return nil
            }
        }
        return current
    }

    private static func set(_ value: Value, _ path: [String], _ newValue: Value?, insert: Bool) throws(APIError) -> Value {
        guard let token = path.first else { return newValue ?? .null }
        let rest = Array(path.dropFirst())
        switch value {
        case .object(var members):
            if rest.isEmpty {
                members[token] = newValue
            } else {
                guard let child = members[token] else { throw .internalError("add operation does not apply: doc is missing path: /\(path.joined(separator: "/"))") }
                members[token] = try set(child, rest, newValue, insert: insert)
            }
            return .object(members)
        case .array(var items):
            if rest.isEmpty {
                if token == "-" {
                    if let newValue { items.append(newValue) }
                    return .array(items)
                }
                guard let i = Int(token), i >= 0, i <= items.count else { throw .internalError("index out of range: \(token)") }
                if let newValue {
                    if insert { items.insert(newValue, at: i) } else if i < items.count { items[i] = newValue }
                } else if i < items.count {
                    items.remove(at: i)
                }
                return .array(items)
            }
            guard let i = Int(token), items.indices.contains(i) else { throw .internalError("index out of range: \(token)") }
            items[i] = try set(items[i], rest, newValue, insert: insert)
            return .array(items)
        default:
            throw .internalError("cannot descend into a \(value.typeName) at \(token)")
        }
    }
}
