import KubeSchema
import OrderedCollections
import SyncCore

/// Field ownership as the real server tracks it (structured-merge-diff): updates give the changed fields to their
/// manager; server-side apply merges a configuration, detects conflicts with other managers, and removes fields a
/// manager stopped applying that nobody else owns.
enum ManagedFields {
    /// Records a create, update or non-apply patch by `manager`: it takes the fields that changed.
    static func recordUpdate(
        old: Value?, new: inout Value, manager: String, apiVersion: String, type: ResourceType, now: String,
        subresource: String = ""
    ) {
        let schema = type.schema
        let status = type.hasStatusSubresource && subresource != "status"
        var entries = old.map(ManagedFieldsEntry.entries(of:)) ?? []
        // A client that sends managedFields different from the stored ones replaces them (as the real server does).
        if let sent = new[path: ["metadata", "managedFields"]], sent != old?[path: ["metadata", "managedFields"]] {
            entries = sent.arrayValue?.compactMap(ManagedFieldsEntry.init) ?? []
        }
        let newSet = FieldSets.of(new, schema: schema, hasStatusSubresource: status)
        let oldSet = old.map { FieldSets.of($0, schema: schema, hasStatusSubresource: status) } ?? FieldSet()
        var changed = FieldSet()
        for path in newSet.paths {
            if !oldSet.contains(path) {
                changed.insert(path)
                continue
            }
            if let last = path.last, case .field = last, let old,
                FieldSets.lookup(old, path, schema: schema) != FieldSets.lookup(new, path, schema: schema)
            {
                changed.insert(path)
            }
        }
        // Maps that appear with this write are themselves owned (`".": {}`), as are new list items.
        for path in changed.paths where path.count > 1 {
            for length in 1..<path.count {
                let prefix = Array(path.prefix(length))
                guard case .field = prefix.last, old.flatMap({ FieldSets.lookup($0, prefix, schema: schema) }) == nil
                else { continue }
                if isMapNode(prefix, schema: schema) { changed.insert(prefix) }
            }
        }
        let removed = oldSet.subtracting(newSet)
        if changed.isEmpty && removed.isEmpty {
            ManagedFieldsEntry.store(entries, into: &new)
            return
        }
        for index in entries.indices {
            entries[index].fields.subtract(removed)
            entries[index].fields.subtract(changed)
        }
        if !changed.isEmpty {
            if let index = entries.firstIndex(where: {
                $0.manager == manager && $0.operation == "Update" && $0.subresource == subresource
            }) {
                entries[index].fields.formUnion(changed)
                entries[index].time = now
                entries[index].apiVersion = apiVersion
            } else {
                entries.append(
                    ManagedFieldsEntry(
                        manager: manager, operation: "Update", apiVersion: apiVersion, time: now, fields: changed,
                        subresource: subresource))
            }
        }
        ManagedFieldsEntry.store(entries, into: &new)
    }

    /// Whether the node at `path` is a map (additional properties), whose presence is itself a field.
    private static func isMapNode(_ path: FieldPath, schema: Schema) -> Bool {
        var node = schema
        for element in path {
            switch element {
            case .field(let name): node = node.child(name) ?? .anything
            default: node = node.element ?? .anything
            }
        }
        if case .object(let fields, let additional) = node.shape { return fields.isEmpty && additional != nil }
        return false
    }

    /// Server-side apply of `config` by `manager` onto `live` (nil when the object does not exist yet).
    static func apply(
        live: Value?, config: Value, manager: String, force: Bool, apiVersion: String, type: ResourceType,
        now: String
    ) throws(APIError) -> Value {
        let schema = type.schema
        let configSet = FieldSets.of(config, schema: schema, hasStatusSubresource: type.hasStatusSubresource)
        let mine = ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: now, fields: configSet)
        guard let live else {
            var created = config
            ManagedFieldsEntry.store([mine], into: &created)
            return created
        }
        var entries = ManagedFieldsEntry.entries(of: live)
        // Conflicts: fields this configuration changes that another manager owns.
        var conflicts: [(entry: Int, path: FieldPath)] = []
        for (index, entry) in entries.enumerated() where !(entry.manager == manager && entry.operation == "Apply") {
            if entry.manager == manager { continue }
            for path in entry.fields.intersection(configSet).paths {
                if let last = path.last, case .field = last {} else { continue }
                guard let liveValue = FieldSets.lookup(live, path, schema: schema) else { continue }
                if liveValue != FieldSets.lookup(config, path, schema: schema) { conflicts.append((index, path)) }
            }
        }
        if !conflicts.isEmpty {
            if !force { throw conflictError(conflicts.map { (entries[$0.entry], $0.path) }, type: type, live: live) }
            for conflict in conflicts { entries[conflict.entry].fields.remove(conflict.path) }
        }
        var merged = merge(live, config, schema)
        // Fields this manager applied before but not now, and nobody else owns, are removed.
        let previous = entries.first { $0.manager == manager && $0.operation == "Apply" }?.fields ?? FieldSet()
        var others = FieldSet()
        for entry in entries where !(entry.manager == manager && entry.operation == "Apply") {
            others.formUnion(entry.fields)
        }
        let dropped = previous.subtracting(configSet).subtracting(others)
        for path in dropped.paths.sorted(by: { $0.count > $1.count }) {
            // Keep a parent another manager still has fields under.
            // Keep a node that this configuration or another manager still has fields under (a map's own
            // `".": {}` entry can be dropped while its members stay).
            if others.paths.contains(where: { $0.count > path.count && $0.starts(with: path) })
                || configSet.paths.contains(where: { $0.count > path.count && $0.starts(with: path) })
            {
                continue
            }
            FieldSets.remove(path, from: &merged, schema: schema)
        }
        for index in entries.indices { entries[index].fields.subtract(dropped) }
        if let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Apply" }) {
            // As the API server does, a re-apply of the same fields keeps the entry's time and place, so a no-op
            // apply stays a no-op (no new resourceVersion) when a second boundary passed since the last one.
            var kept = mine
            if entries[index].fields == configSet && entries[index].apiVersion == apiVersion {
                kept.time = entries[index].time
            }
            entries[index] = kept
        } else {
            entries.append(mine)
        }
        ManagedFieldsEntry.store(entries, into: &merged)
        return merged
    }

    /// Merges an applied configuration into the live object: maps key by key, keyed lists item by item, the rest
    /// replaced.
    static func merge(_ live: Value?, _ config: Value, _ schema: Schema) -> Value {
        guard let live, !schema.atomic else { return config }
        switch (live, config) {
        case (.object(var members), .object(let patch)):
            if case .list = schema.shape { return config }
            for (key, value) in patch {
                members[key] = merge(members[key], value, schema.child(key) ?? .anything)
            }
            return .object(members)
        case (.array(var items), .array(let patch)):
            guard case .list(let element, let type) = schema.shape, type != .atomic else { return config }
            var positions: [FieldPathElement: Int] = [:]
            for (index, item) in items.enumerated() {
                positions[FieldSets.element(for: item, in: schema, index: index)] = index
            }
            for (index, item) in patch.enumerated() {
                let key = FieldSets.element(for: item, in: schema, index: index)
                if case .index = key {
                    items.append(item)
                } else if let at = positions[key] {
                    items[at] = merge(items[at], item, element)
                } else {
                    positions[key] = items.count
                    items.append(item)
                }
            }
            return .array(items)
        default:
            return config
        }
    }

    /// The 409 the real server returns, e.g.
    /// `Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas`.
    static func conflictError(_ conflicts: [(ManagedFieldsEntry, FieldPath)], type: ResourceType, live: Value) -> APIError {
        let sorted = conflicts.sorted { ($0.0.manager, $0.1.pathString) < ($1.0.manager, $1.1.pathString) }
        func who(_ entry: ManagedFieldsEntry) -> String {
            var text = "\"\(entry.manager)\""
            if entry.operation == "Update" || !entry.apiVersion.isEmpty { text += " using \(entry.apiVersion)" }
            if !entry.subresource.isEmpty { text += " with subresource \"\(entry.subresource)\"" }
            return text
        }
        let detail: String
        if sorted.count == 1 {
            detail = "conflict with \(who(sorted[0].0)): \(sorted[0].1.pathString)"
        } else {
            var lines: [String] = []
            var byManager: OrderedDictionary<String, [String]> = [:]
            for (entry, path) in sorted { byManager["conflicts with \(who(entry)):", default: []].append(path.pathString) }
            for (header, paths) in byManager {
                lines.append(header)
                lines += paths.map { "- \($0)" }
            }
            detail = lines.joined(separator: "\n")
        }
        let plural = sorted.count == 1 ? "" : "s"
        var error = APIError(
            code: 409, reason: "Conflict", message: "Apply failed with \(sorted.count) conflict\(plural): \(detail)")
        error.name = live[path: ["metadata", "name"]]?.stringValue ?? ""
        error.group = type.group
        error.kind = type.plural
        error.causes = sorted.map {
            StatusCause(reason: "FieldManagerConflict", message: "conflict with \(who($0.0))", field: $0.1.pathString)
        }
        return error
    }
}
