import KubeSchema
import OrderedCollections
import SyncCore

/// Field ownership as the real server tracks it (structured-merge-diff): updates give the changed fields to their
/// manager; server-side apply merges a configuration, detects conflicts with other managers, and removes fields a
/// manager stopped applying that nobody else owns.
enum ManagedFields {
    /// The manager identity of an entry, as the API server builds it for structured-merge-diff: name, operation and
    /// subresource, and for updates the API version (an apply's identity keeps across versions).
    static func identity(_ entry: ManagedFieldsEntry) -> String {
        identity(
            manager: entry.manager, operation: entry.operation, apiVersion: entry.apiVersion,
            subresource: entry.subresource)
    }

    static func identity(manager: String, operation: String, apiVersion: String, subresource: String) -> String {
        let version = operation == "Apply" ? "" : apiVersion
        return [manager, operation, version, subresource].map { Value.string($0).jsonString }.joined(separator: ",")
    }

    /// The engine for `type`: its schema at every version, bookkeeping fields (and the status of a type with a status
    /// subresource, written through the main resource) owned by nobody.
    static func updater(_ type: ResourceType, subresource: String) -> Updater {
        let schema = type.schema
        let status = type.hasStatusSubresource && subresource != "status"
        return Updater(
            schema: { _ in schema },
            ignored: { _, path in
                path == [.field("metadata")] || FieldSets.isIgnored(path, hasStatusSubresource: status)
            }, schemaMayChange: type.isCustom)
    }

    /// The object without `metadata.managedFields`, as the engine sees it.
    static func stripped(_ object: Value) -> Value {
        var copy = object
        if copy[path: ["metadata", "managedFields"]] != nil { copy["metadata"]?["managedFields"] = nil }
        return copy
    }

    /// Records a create, update or non-apply patch by `manager`: it takes the fields that changed.
    static func recordUpdate(
        old: Value?, new: inout Value, manager: String, apiVersion: String, type: ResourceType, now: String,
        subresource: String = ""
    ) {
        var entries = old.map(ManagedFieldsEntry.entries(of:)) ?? []
        // A client that sends managedFields different from the stored ones replaces them (as the real server does).
        if let sent = new[path: ["metadata", "managedFields"]], sent != old?[path: ["metadata", "managedFields"]] {
            entries = sent.arrayValue?.compactMap(ManagedFieldsEntry.init) ?? []
        }
        var managers: ManagerSets = [:]
        for entry in entries {
            managers[identity(entry)] = VersionedFieldSet(
                fields: entry.fields, apiVersion: entry.apiVersion, applied: entry.operation == "Apply")
        }
        // As the API server does, the write runs as a fresh manager: what it changed is merged into the writer's
        // entry, whose time moves only when the write changed something.
        let current = "\u{0}current-operation"
        guard
            let result = try? updater(type, subresource: subresource).update(
                live: old.map(stripped), new: stripped(new), apiVersion: apiVersion, managers: managers,
                manager: current)
        else {
            ManagedFieldsEntry.store(entries, into: &new)
            return
        }
        var updated: [ManagedFieldsEntry] = []
        for var entry in entries {
            guard let set = result.managers[identity(entry)] else { continue }
            entry.fields = set.fields
            updated.append(entry)
        }
        if var changed = result.managers[current] {
            if !type.isCustom { changed.fields = withoutStructContainers(changed.fields, schema: type.schema) }
            let mine = identity(manager: manager, operation: "Update", apiVersion: apiVersion, subresource: subresource)
            if let index = updated.firstIndex(where: { identity($0) == mine }) {
                updated[index].fields.formUnion(changed.fields)
                updated[index].time = now
            } else {
                updated.append(
                    ManagedFieldsEntry(
                        manager: manager, operation: "Update", apiVersion: apiVersion, time: now,
                        fields: changed.fields,
                        subresource: subresource))
            }
        }
        ManagedFieldsEntry.store(updated, into: &new)
    }

    /// A built-in kind is a Go struct whose struct-valued fields are never absent, so a write never creates them and
    /// the real server never gives one its own `".": {}` entry; maps and list items it creates keep theirs.
    static func withoutStructContainers(_ set: FieldSet, schema: Schema) -> FieldSet {
        var parents: Set<FieldPath> = []
        for path in set.paths where path.count > 1 {
            for length in 1..<path.count { parents.insert(Array(path.prefix(length))) }
        }
        var out = set
        for path in set.paths where parents.contains(path) {
            guard case .field = path.last else { continue }
            var node = schema
            for element in path {
                if case .field(let name) = element {
                    node = node.child(name) ?? .anything
                } else {
                    node = node.element ?? .anything
                }
            }
            if case .object(let fields, let additional) = node.shape, !fields.isEmpty || additional == nil {
                out.remove(path)
            }
        }
        return out
    }

    /// Server-side apply of `config` by `manager` onto `live` (nil when the object does not exist yet).
    static func apply(
        live: Value?, config: Value, manager: String, force: Bool, apiVersion: String, type: ResourceType,
        now: String
    ) throws(APIError) -> Value {
        let entries = live.map(ManagedFieldsEntry.entries(of:)) ?? []
        var managers: ManagerSets = [:]
        var byIdentity: [String: ManagedFieldsEntry] = [:]
        for entry in entries {
            let key = identity(entry)
            byIdentity[key] = entry
            managers[key] = VersionedFieldSet(
                fields: entry.fields, apiVersion: entry.apiVersion, applied: entry.operation == "Apply")
        }
        let mine = identity(manager: manager, operation: "Apply", apiVersion: apiVersion, subresource: "")
        let result: Updater.Result
        do {
            result = try updater(type, subresource: "").apply(
                live: live.map(stripped), config: stripped(config), apiVersion: apiVersion, managers: managers,
                manager: mine, force: force)
        } catch {
            switch error {
            case .conflicts(let conflicts):
                let owners = conflicts.map { conflict in
                    (
                        byIdentity[conflict.manager]
                            ?? ManagedFieldsEntry(
                                manager: conflict.manager, operation: "", apiVersion: "", time: "", fields: FieldSet()),
                        conflict.path
                    )
                }
                throw conflictError(owners, type: type, live: live ?? config)
            case .invalid(let errors):
                throw .internalError(
                    "failed to create typed patch object (\(type.apiVersion), Kind=\(type.kind)): "
                        + errors.joined(separator: ", "))
            case .conversion(let message):
                throw .internalError(message)
            }
        }
        // A no-op apply keeps the live object as it is (its managedFields replaced in place).
        var object = result.changed ? result.object : (live ?? result.object)
        var updated: [ManagedFieldsEntry] = []
        for var entry in entries {
            let key = identity(entry)
            guard let set = result.managers[key] else { continue }
            entry.fields = set.fields
            if key == mine {
                entry.apiVersion = apiVersion
                if result.changed { entry.time = now }
            }
            updated.append(entry)
        }
        if byIdentity[mine] == nil, let set = result.managers[mine] {
            updated.append(
                ManagedFieldsEntry(
                    manager: manager, operation: "Apply", apiVersion: apiVersion, time: now, fields: set.fields))
        }
        ManagedFieldsEntry.store(updated, into: &object)
        return object
    }

    /// The 409 the real server returns, e.g.
    /// `Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas`.
    static func conflictError(_ conflicts: [(ManagedFieldsEntry, FieldPath)], type: ResourceType, live: Value)
        -> APIError
    {
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
            for (entry, path) in sorted {
                byManager["conflicts with \(who(entry)):", default: []].append(path.pathString)
            }
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
