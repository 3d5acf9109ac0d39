import KubeSchema
import SyncCore

/// Server-side mode: a dry-run apply runs mutating admission webhooks, which add fields syncagent never asked for.
/// Fields of the prediction that the field manager does not own take the live value (or go, when live has none),
/// so a webhook's additions are not drift; fields it owns keep the predicted value.
enum MutationWebhook {
    static func revert(predicted: Value, live: Value, fieldManager: String, schema: Schema) -> Value {
        let owned = ManagedFieldsEntry.entries(of: predicted).filter { $0.manager == fieldManager }
        guard !owned.isEmpty else { return predicted }
        var set = FieldSet()
        for entry in owned { set.formUnion(entry.fields) }
        // A Secret's stringData is written into data by the server: owning stringData.K owns data.K's value, which
        // must keep the prediction (else a changed Secret value would be reverted to live and hidden).
        if predicted["apiVersion"] == "v1", predicted["kind"] == "Secret" {
            for path in set.paths where path.count == 2 && path[0] == .field("stringData") {
                set.insert([.field("data"), path[1]])
            }
        }
        let prefixes = Set(set.paths.flatMap { path in (0...path.count).map { Array(path.prefix($0)) } })
        return revert(predicted, live, [], schema, set, prefixes) ?? predicted
    }

    /// The reverted node; nil means "absent".
    private static func revert(
        _ predicted: Value, _ live: Value?, _ path: FieldPath, _ schema: Schema, _ owned: FieldSet,
        _ prefixes: Set<FieldPath>
    ) -> Value? {
        let merged: Bool
        switch predicted {
        case .object: merged = !schema.atomic
        case .array: if case .map = schema.listType { merged = true } else { merged = false }
        default: merged = false
        }
        // A node the manager owns as a whole (a scalar, an atomic list or map) keeps the prediction.
        if owned.contains(path) && !merged { return predicted }
        // A leaf the manager does not own: the live value. Containers are walked, so that members only live has
        // are not added.
        guard prefixes.contains(path) || merged else { return live }
        switch predicted {
        case .object(let members) where merged:
            var result = members
            for (key, value) in members {
                result[key] = revert(
                    value, live?[key], path + [.field(key)], schema.child(key) ?? .anything, owned, prefixes)
            }
            return .object(result)
        case .array(let items) where merged:
            let element = schema.element ?? .anything
            let liveItems = live?.arrayValue ?? []
            var result: [Value] = []
            for (index, item) in items.enumerated() {
                let name = FieldSets.element(for: item, in: schema, index: index)
                let match = liveItems.enumerated().first { FieldSets.element(for: $1, in: schema, index: $0) == name }
                if let kept = revert(item, match?.element, path + [name], element, owned, prefixes) {
                    result.append(kept)
                }
            }
            return .array(result)
        default:
            return predicted
        }
    }
}
