import SyncCore

extension KubeClient {
    /// Creates an object (`POST`); `.api` with reason `AlreadyExists` when it exists. For objects syncagent owns
    /// outright, such as its inventory; manifests go through ``apply(_:options:)``.
    public func create(_ object: Resource, dryRun: Bool = false) async throws(ApplierError) -> Resource {
        let (resource, namespace) = try await locate(object.ref)
        var body = object
        if let namespace, object.namespace != namespace { body.setNamespace(namespace) }
        let operation = "\(dryRun ? "dry-run create" : "create") \(describe(object.ref, namespace))"
        let query: [(String, String)] = [("fieldManager", options.fieldManager)] + (dryRun ? [("dryRun", "All")] : [])
        let response = try await perform(
            APIRequest(
                method: "POST", path: resource.path(namespace: namespace) + PathEncoding.query(query),
                body: body.body.jsonBytes, contentType: "application/json", operation: operation))
        return try decodeResource(response, operation: operation)
    }

    /// Replaces an object (`PUT`). With `metadata.resourceVersion` set, the server refuses (`Conflict`) when the
    /// object changed since it was read.
    public func update(_ object: Resource, dryRun: Bool = false) async throws(ApplierError) -> Resource {
        let (resource, namespace) = try await locate(object.ref)
        var body = object
        if let namespace, object.namespace != namespace { body.setNamespace(namespace) }
        let operation = "\(dryRun ? "dry-run update" : "update") \(describe(object.ref, namespace))"
        let query: [(String, String)] = [("fieldManager", options.fieldManager)] + (dryRun ? [("dryRun", "All")] : [])
        let response = try await perform(
            APIRequest(
                method: "PUT", path: resource.path(namespace: namespace, name: object.name) + PathEncoding.query(query),
                body: body.body.jsonBytes, contentType: "application/json", operation: operation))
        return try decodeResource(response, operation: operation)
    }
}
