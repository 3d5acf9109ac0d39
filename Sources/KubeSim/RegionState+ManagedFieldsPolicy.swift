import KubeSchema
import SyncCore

/// The API server's rules around the field-ownership engine (``ManagedFields``), as kube-apiserver's fieldmanager
/// chain applies them: which managedFields a write starts from, when updates are not tracked, the cap on update
/// managers, the owner of fields that predate the first apply, and the storage size limit.
extension RegionState {
    /// How many `Update` entries an object keeps; older ones are merged into ``ancientChanges``.
    static let maxUpdateManagers = 10
    /// The manager the oldest updates are merged into.
    static let ancientChanges = "ancient-changes"
    /// The manager that owns every field of an object without managedFields when it is first applied.
    static let beforeFirstApply = "before-first-apply"
    /// The largest object storage takes (etcd's default request limit, 1.5 MiB).
    static let storageLimit = 1_572_864

    /// Records a create, update or non-apply patch. The managedFields it starts from: the stored ones on a
    /// subresource; none when the body resets them (`[]` or `[{}]`); the body's when they decode (entries of one
    /// manager identity merged), else the stored ones. An existing object left without managedFields is not tracked by updates.
    static func recordUpdate(
        old: Value?, new: inout Value, manager: String, type: ResourceType, now: String, subresource: String
    ) {
        let stored = old?[path: ["metadata", "managedFields"]]
        let sent = new[path: ["metadata", "managedFields"]]
        var start: Value? = stored
        if subresource.isEmpty, let sent, let items = sent.arrayValue {
            let reset = items.isEmpty || (items.count == 1 && items[0] == .emptyObject)
            let decoded = items.compactMap(ManagedFieldsEntry.init)
            if reset {
                start = nil
            } else if !decoded.isEmpty && decoded.count == items.count {
                let entries = mergedByIdentity(decoded)
                if entries.count == decoded.count {
                    start = sent
                } else {
                    var holder: Value = ["metadata": .emptyObject]
                    ManagedFieldsEntry.store(entries, into: &holder)
                    start = holder[path: ["metadata", "managedFields"]]
                }
            }
        }
        new["metadata"]?["managedFields"] = start
        if old != nil && (start?.arrayValue ?? []).isEmpty {
            new["metadata"]?["managedFields"] = nil
            return
        }
        // The engine replaces the stored entries with sent ones that differ; give it the chosen start as both.
        var base = old
        base?["metadata"]?["managedFields"] = start
        ManagedFields.recordUpdate(
            old: base, new: &new, manager: manager, apiVersion: type.apiVersion, type: type, now: now,
            subresource: subresource)
    }

    /// Entries with the same manager identity (manager, operation, subresource, and for updates the API
    /// version) decode into one: the later entry's fields and time, in the place of the first.
    static func mergedByIdentity(_ entries: [ManagedFieldsEntry]) -> [ManagedFieldsEntry] {
        func identity(_ entry: ManagedFieldsEntry) -> [String] {
            [entry.manager, entry.operation, entry.subresource, entry.operation == "Apply" ? "" : entry.apiVersion]
        }
        var result: [ManagedFieldsEntry] = []
        for entry in entries {
            if let index = result.firstIndex(where: { identity($0) == identity(entry) }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        return result
    }

    /// Merges the oldest `Update` entries into ``ancientChanges`` (one per API version) until at most
    /// ``maxUpdateManagers`` remain.
    static func capUpdateManagers(_ object: inout Value) {
        guard (object[path: ["metadata", "managedFields"]]?.arrayValue?.count ?? 0) > maxUpdateManagers else { return }
        var entries = ManagedFieldsEntry.entries(of: object)
        var updates = entries.indices.filter { entries[$0].operation == "Update" }
        guard updates.count > maxUpdateManagers else { return }
        updates.sort { entries[$0].time < entries[$1].time }
        var removed = Set<Int>()
        var count = updates.count
        for index in updates where count > maxUpdateManagers {
            let entry = entries[index]
            if entry.manager == ancientChanges { continue }
            if let bucket = entries.indices.first(where: {
                !removed.contains($0) && entries[$0].manager == ancientChanges
                    && entries[$0].operation == "Update" && entries[$0].apiVersion == entry.apiVersion
            }) {
                entries[bucket].fields.formUnion(entry.fields)
                if entries[bucket].time < entry.time { entries[bucket].time = entry.time }
                removed.insert(index)
                count -= 1
            } else {
                entries[index].manager = ancientChanges
                entries[index].subresource = ""
            }
        }
        entries = entries.indices.filter { !removed.contains($0) }.map { entries[$0] }
        ManagedFieldsEntry.store(entries, into: &object)
    }

    /// An object that has no managedFields when it is applied: every field it has is owned by
    /// ``beforeFirstApply``, so the apply conflicts with them instead of silently taking or dropping them.
    static func ownedBeforeFirstApply(_ live: Value, type: ResourceType, now: String) -> Value {
        if let raw = live[path: ["metadata", "managedFields"]]?.arrayValue, !raw.isEmpty { return live }
        var copy = live
        copy["metadata"]?["managedFields"] = nil
        let fields = FieldSets.of(copy, schema: type.schema, hasStatusSubresource: type.hasStatusSubresource)
        guard !fields.isEmpty else { return live }
        let entry = ManagedFieldsEntry(
            manager: beforeFirstApply, operation: "Update", apiVersion: type.apiVersion, time: now, fields: fields)
        ManagedFieldsEntry.store([entry], into: &copy)
        return copy
    }

    /// The object as storage takes it: too large with its managedFields, a non-apply write is stored without them
    /// (as the API server retries); too large still, or an apply, fails as etcd answers.
    ///
    /// `bound` is a cheap upper estimate of the object's size (twice the stored object plus three times the
    /// body: the new fields and their managedFields); below the limit the object is not serialised here.
    static func fitStorage(_ object: inout Value, isApply: Bool, bound: Int) throws(APIError) {
        guard bound + 65_536 > storageLimit, object.jsonBytes.count > storageLimit else { return }
        if !isApply && object[path: ["metadata", "managedFields"]] != nil {
            object["metadata"]?["managedFields"] = nil
            if object.jsonBytes.count <= storageLimit { return }
        }
        throw APIError(code: 500, reason: "InternalError", message: "etcdserver: request is too large")
    }

    /// Whether two objects hold the same content, map key order aside (a client may send members in another order
    /// than the server stores them: that is no change, as the real server compares decoded objects).
    static func sameContent(_ left: Value, _ right: Value) -> Bool {
        switch (left, right) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            // Members in the same order (the common case) compare pairwise, without hashing.
            var index = 0
            for (key, value) in a {
                let other = b.elements[index]
                if other.key != key { break }
                guard sameContent(value, other.value) else { return false }
                index += 1
            }
            if index == a.count { return true }
            for (key, value) in a.elements[index...] {
                guard let other = b[key], sameContent(value, other) else { return false }
            }
            return true
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { sameContent($0, $1) }
        default:
            return left == right
        }
    }
}
