import KubeSchema
import SyncCore

/// Who last wrote a live field, from the live object's managedFields: the manager owning the field itself, the
/// nearest atomic node above it (a VirtualService's whole `spec.http` list), or something below it. Another
/// manager is preferred to the one comparing (it is the one that drifted the field); among several, the latest.
struct Attribution {
    let entries: [ManagedFieldsEntry]
    let fieldManager: String

    init(live: Value?, fieldManager: String) {
        entries = live.map(ManagedFieldsEntry.entries(of:)) ?? []
        self.fieldManager = fieldManager
    }

    func owner(of path: FieldPath) -> ManagedFieldsEntry? {
        var candidates: [ManagedFieldsEntry] = []
        for length in stride(from: path.count, through: 1, by: -1) {
            let prefix = Array(path.prefix(length))
            candidates = entries.filter { $0.fields.contains(prefix) }
            if !candidates.isEmpty { break }
        }
        if candidates.isEmpty {
            candidates = entries.filter { entry in entry.fields.paths.contains { $0.starts(with: path) } }
        }
        let others = candidates.filter { $0.manager != fieldManager }
        return (others.isEmpty ? candidates : others).max { $0.time < $1.time }
    }

    /// Every field another manager owns (the removal of those is never syncagent's to make).
    var othersFields: FieldSet {
        var set = FieldSet()
        for entry in entries where entry.manager != fieldManager { set.formUnion(entry.fields) }
        return set
    }

    /// The fields `fieldManager` applied last time.
    var appliedFields: FieldSet {
        var set = FieldSet()
        for entry in entries where entry.manager == fieldManager && entry.operation == "Apply" {
            set.formUnion(entry.fields)
        }
        return set
    }
}
