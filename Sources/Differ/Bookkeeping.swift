import SyncCore

/// Server-managed parts of an object that are never drift: `status`, and the metadata the API server writes
/// (managedFields, resourceVersion, uid, generation, creationTimestamp, selfLink, deletion stamps), the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation, and the namespace (identity, matched before).
enum Bookkeeping {
    static let lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
    static let serverMetadata = [
        "managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink", "namespace",
        "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    /// The object without status and server bookkeeping.
    static func strip(_ object: Value) -> Value {
        guard case .object(var members) = object else { return object }
        members["status"] = nil
        if case .object(var metadata)? = members["metadata"] {
            for key in serverMetadata { metadata[key] = nil }
            if case .object(var annotations)? = metadata["annotations"] {
                annotations[lastApplied] = nil
                if annotations.isEmpty {
                    metadata.removeValue(forKey: "annotations")
                } else {
                    metadata["annotations"] = .object(annotations)
                }
            }
            members["metadata"] = .object(metadata)
        }
        return .object(members)
    }

    /// The object `kubectl apply` last applied, from live's annotation; nil when absent or unreadable.
    static func lastAppliedConfiguration(of live: Value) -> Value? {
        guard let text = live[path: ["metadata", "annotations", lastApplied]]?.stringValue else { return nil }
        return try? Value(json: text)
    }
}
