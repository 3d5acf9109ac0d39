import KubeSchema
import SyncCore

extension Value {
    /// This value with the node at `path` replaced by `newValue` (nil removes it); keyed list items are found by
    /// their keys (and appended when new), missing maps on the way are created.
    func setting(_ newValue: Value?, at path: FieldPath, schema: Schema) -> Value {
        guard let first = path.first else { return newValue ?? .null }
        let rest = Array(path.dropFirst())
        switch first {
        case .field(let name):
            var members = objectValue ?? [:]
            let childSchema = schema.child(name) ?? .anything
            if rest.isEmpty {
                members[name] = newValue
            } else {
                members[name] = (members[name] ?? .emptyObject).setting(newValue, at: rest, schema: childSchema)
            }
            return .object(members)
        case .key, .value, .index:
            var items = arrayValue ?? []
            let element = schema.element ?? .anything
            let position = items.indices.first { FieldSets.element(for: items[$0], in: schema, index: $0) == first }
            if let position {
                if rest.isEmpty {
                    if let newValue { items[position] = newValue } else { items.remove(at: position) }
                } else {
                    items[position] = items[position].setting(newValue, at: rest, schema: element)
                }
            } else if rest.isEmpty, let newValue {
                items.append(newValue)
            }
            return .array(items)
        }
    }
}
