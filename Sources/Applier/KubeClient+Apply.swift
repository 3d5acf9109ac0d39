import SyncCore

/// How to server-side apply.
public struct ApplyOptions: Sendable, Hashable {
    /// Take fields that another manager owns (`force=true`) instead of failing with a Conflict.
    public var force: Bool
    /// Let the server validate, default and merge without storing anything (`dryRun=All`).
    public var dryRun: Bool
    /// The manager the fields are recorded under; nil for the client's (``KubeClientOptions/fieldManager``).
    public var fieldManager: String?

    public init(force: Bool = false, dryRun: Bool = false, fieldManager: String? = nil) {
        self.force = force
        self.dryRun = dryRun
        self.fieldManager = fieldManager
    }
}

/// What the server answered to an apply: the object as stored (or as it would be, for a dry run), and whether
/// the apply created it.
public struct ApplyResponse: Sendable, Hashable {
    public var resource: Resource
    public var created: Bool

    public init(resource: Resource, created: Bool) {
        self.resource = resource
        self.created = created
    }
}

extension KubeClient {
    /// Server-side applies one object (`PATCH` with `application/apply-patch+yaml`, `fieldManager=syncagent`).
    ///
    /// A namespaced object written without a namespace goes to the context's. A conflict with another manager is
    /// `.api` with reason `Conflict` (its causes name the fields and managers) unless `options.force`.
    public func apply(_ object: Resource, options: ApplyOptions = ApplyOptions()) async throws(ApplierError)
        -> ApplyResponse
    {
        let (resource, namespace) = try await locate(object.ref)
        var body = object
        if let namespace, object.namespace != namespace { body.setNamespace(namespace) }
        var query: [(String, String)] = [("fieldManager", options.fieldManager ?? self.options.fieldManager)]
        if options.force { query.append(("force", "true")) }
        if options.dryRun { query.append(("dryRun", "All")) }
        let operation = "\(options.dryRun ? "dry-run apply" : "apply") \(describe(object.ref, namespace))"
        let response = try await perform(
            APIRequest(
                method: "PATCH",
                path: resource.path(namespace: namespace, name: object.name) + PathEncoding.query(query),
                body: body.body.jsonBytes, contentType: "application/apply-patch+yaml", operation: operation))
        return ApplyResponse(
            resource: try decodeResource(response, operation: operation), created: response.status == 201)
    }
}
