import SyncCore

extension KubeClient {
    /// The live object; throws `.api` with reason `NotFound` when there is none.
    public func get(_ ref: ObjectRef) async throws(ApplierError) -> Resource {
        let (response, operation) = try await fetch(ref)
        return try decodeResource(response, operation: operation)
    }

    /// The GET of `ref` and its operation's name ("get v1/ConfigMap default/settings").
    private func fetch(_ ref: ObjectRef) async throws(ApplierError) -> (HTTPResponse, String) {
        let (resource, namespace) = try await locate(ref)
        let operation = "get \(describe(ref, namespace))"
        let response = try await perform(
            APIRequest(
                method: "GET", path: resource.path(namespace: namespace, name: ref.name), body: nil, contentType: nil,
                operation: operation))
        return (response, operation)
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

    /// The live object as it came, or nil when there is none: its JSON bytes and the version its metadata
    /// carries, found by a scan that builds nothing (``JSONListScan/object(_:)``). A caller that a
    /// ``SettledLedger`` proof spares the object never parses it.
    public func getRawIfPresent(_ ref: ObjectRef) async throws(ApplierError) -> RawObject? {
        let response: HTTPResponse
        let operation: String
        do {
            (response, operation) = try await fetch(ref)
        } catch let error {
            if error.status?.reason == .notFound { return nil }
            throw error
        }
        let scan: JSONListScan.Item
        do {
            scan = try JSONListScan.object(response.body)
        } catch {
            throw .invalidResponse(operation: operation, message: "\(error)")
        }
        return RawObject(
            bytes: response.body, version: LiveVersion(scanned: scan.uid, scan.resourceVersion), operation: operation)
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

/// A live object's JSON as a GET returned it (``KubeClient/getRawIfPresent(_:)``), and its version.
public struct RawObject: Sendable {
    public let bytes: [UInt8]
    /// `metadata.uid` and `metadata.resourceVersion`; nil when either is missing.
    public let version: LiveVersion?
    /// "get v1/ConfigMap default/settings", for errors.
    let operation: String

    init(bytes: [UInt8], version: LiveVersion?, operation: String) {
        self.bytes = bytes
        self.version = version
        self.operation = operation
    }

    /// An item of a list read as bytes (``KubeClient/listRaw(_:namespace:pageSize:)``), of `gvk`.
    public init(listed item: RawResourceList.Item, of gvk: GroupVersionKind) {
        self.init(
            bytes: item.bytes, version: LiveVersion(scanned: item.uid, item.resourceVersion),
            operation: "list \(gvk) (\(item.key))")
    }

    /// The object parsed, as ``KubeClient/get(_:)`` reads it; throws `.invalidResponse` when it is not one.
    public func value() throws(ApplierError) -> Value {
        do {
            return try Resource(body: try Value(json: bytes)).body
        } catch {
            throw .invalidResponse(operation: operation, message: "\(error)")
        }
    }
}
