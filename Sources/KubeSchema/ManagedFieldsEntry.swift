import OrderedCollections
import SyncCore

/// One `metadata.managedFields` entry: which manager set which fields, by which operation.
public struct ManagedFieldsEntry: Sendable, Hashable {
    /// The field manager, e.g. `kubectl-edit`, `syncagent`.
    public var manager: String
    /// "Apply" or "Update".
    public var operation: String
    /// The API version the manager wrote with.
    public var apiVersion: String
    /// When the manager last changed its fields (RFC 3339), as the server records it.
    public var time: String
    /// The fields it owns.
    public var fields: FieldSet
    /// `status`, `scale`, or "" for the main resource.
    public var subresource: String = ""

    /// The entry as it appears in `metadata.managedFields`.
    public var value: Value {
        var entry: Value = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
            "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
        ]
        if !subresource.isEmpty { entry["subresource"] = .string(subresource) }
        return entry
    }

    /// An entry from its parts.
    public init(
        manager: String, operation: String, apiVersion: String, time: String, fields: FieldSet, subresource: String = ""
    ) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.fields = fields
        self.subresource = subresource
    }

    /// Reads one `metadata.managedFields` item; nil when it has no manager or operation.
    public init?(_ value: Value) {
        guard let manager = value["manager"]?.stringValue, let operation = value["operation"]?.stringValue else {
            return nil
        }
        self.manager = manager
        self.operation = operation
        self.apiVersion = value["apiVersion"]?.stringValue ?? ""
        self.time = value["time"]?.stringValue ?? ""
        self.fields = FieldSet(fieldsV1: value["fieldsV1"] ?? .emptyObject)
        self.subresource = value["subresource"]?.stringValue ?? ""
    }

    /// The raw fieldsV1 tries of the entries of `object`'s `metadata.managedFields` that `selects` (by manager and
    /// operation; entries without them are skipped, as ``entries(of:)`` skips them), unparsed: for walks that look
    /// at a few paths (``FieldMembership``, ``FieldSets/covers(fieldsV1:of:schema:hasStatusSubresource:)``).
    public static func fieldsV1(
        of object: Value, where selects: (_ manager: String, _ operation: String) -> Bool
    ) -> [Value] {
        (object[path: ["metadata", "managedFields"]]?.arrayValue ?? []).compactMap { entry in
            guard let manager = entry["manager"]?.stringValue, let operation = entry["operation"]?.stringValue,
                selects(manager, operation)
            else { return nil }
            return entry["fieldsV1"] ?? .emptyObject
        }
    }

    /// The entries of an object's `metadata.managedFields`, in order.
    public static func entries(of object: Value) -> [ManagedFieldsEntry] {
        object[path: ["metadata", "managedFields"]]?.arrayValue?.compactMap(ManagedFieldsEntry.init) ?? []
    }

    /// Writes entries back, Apply entries first, then by time, as the real server orders them.
    public static func store(_ entries: [ManagedFieldsEntry], into object: inout Value) {
        let kept = entries.filter { !$0.fields.isEmpty }
        let sorted = kept.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if (x.operation == "Apply") != (y.operation == "Apply") { return x.operation == "Apply" }
            if x.time != y.time { return x.time < y.time }
            return a.offset < b.offset
        }.map(\.element)
        if sorted.isEmpty {
            object["metadata"]?["managedFields"] = nil
        } else {
            object["metadata"]?["managedFields"] = .array(sorted.map(\.value))
        }
    }
}
