import SyncCore

extension KubeClient {
    /// The live object; throws `.api` with reason `NotFound` when there is none.
    public func get(_ ref: ObjectRef) async throws(ApplierError) -> Resource {
        let (resource, namespace) = try await locate(ref)
        let operation = "get \(describe(ref, namespace))"
        let response = try await perform(
            APIRequest(
                method: "GET", path: resource.path(namespace: namespace, name: ref.name), body: nil, contentType: nil,
                operation: operation))
        return try decodeResource(response, operation: operation)
    }

    /// The live object, or nil when there is none.
    public func getIfPresent(_ ref: ObjectRef) async throws(ApplierError) -> Resource? {
        do {
            return try await get(ref)
        } catch let error {
            if error.status?.reason == .notFound { return nil }
            throw error
        }
    }

    /// The kind's resource, and the namespace to use: the object's, the context's for a namespaced kind written
    /// without one, none for a cluster-scoped kind.
    func locate(_ ref: ObjectRef) async throws(ApplierError) -> (APIResourceInfo, String?) {
        let resource = try await resource(for: ref.gvk)
        guard resource.namespaced else { return (resource, nil) }
        return (resource, ref.namespace.isEmpty ? context.namespace : ref.namespace)
    }

    /// "v1/ConfigMap default/settings", with the namespace actually used.
    func describe(_ ref: ObjectRef, _ namespace: String?) -> String {
        var shown = ref
        shown.namespace = namespace ?? ""
        return shown.description
    }
}
