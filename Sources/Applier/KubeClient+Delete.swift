import SyncCore

/// What happens to the objects an object owns when it is deleted (`DeleteOptions.propagationPolicy`).
public enum PropagationPolicy: String, Sendable, Hashable {
    /// Delete the object now; the garbage collector deletes its dependents afterwards.
    case background = "Background"
    /// Delete the dependents first, then the object.
    case foreground = "Foreground"
    /// Leave the dependents, without owner.
    case orphan = "Orphan"
}

extension KubeClient {
    /// Deletes one object. Returns true when the server accepted the deletion, false when there was nothing to
    /// delete (404), so that pruning twice is harmless.
    @discardableResult
    public func delete(_ ref: ObjectRef, propagation: PropagationPolicy = .background, dryRun: Bool = false)
        async throws(ApplierError) -> Bool
    {
        let (resource, namespace) = try await locate(ref)
        var options: Value = [
            "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": .string(propagation.rawValue),
        ]
        if dryRun { options["dryRun"] = ["All"] }
        let operation = "\(dryRun ? "dry-run delete" : "delete") \(describe(ref, namespace))"
        do {
            _ = try await perform(
                APIRequest(
                    method: "DELETE",
                    path: resource.path(namespace: namespace, name: ref.name) + (dryRun ? "?dryRun=All" : ""),
                    body: options.jsonBytes, contentType: "application/json", operation: operation))
            return true
        } catch let error {
            if error.status?.reason == .notFound { return false }
            throw error
        }
    }
}
