import SyncCore

/// The objects of one kind that a list returned, and the list's `resourceVersion` (to watch from).
public struct ResourceList: Sendable, Hashable {
    public var items: [Resource]
    public var resourceVersion: String

    public init(items: [Resource], resourceVersion: String) {
        self.items = items
        self.resourceVersion = resourceVersion
    }
}

extension KubeClient {
    /// Every object of a kind, following `continue` tokens page by page (`pageSize` per request).
    ///
    /// `namespace` nil lists across all namespaces (and is the only choice for cluster-scoped kinds).
    /// `labelSelector` and `fieldSelector` use the API's syntax (`app=reviews,tier!=db`). Items come back with
    /// `apiVersion` and `kind` set, which the API leaves out of list items.
    public func list(
        _ gvk: GroupVersionKind, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        pageSize: Int = 500
    ) async throws(ApplierError) -> ResourceList {
        let resource = try await resource(for: gvk)
        let scope = resource.namespaced ? namespace : nil
        var operation = "list \(gvk)"
        if let scope { operation += " in \(scope)" }
        if let labelSelector { operation += " with labels \(labelSelector)" }
        var items: [Resource] = []
        var continueToken = ""
        var resourceVersion = ""
        repeat {
            var query: [(String, String)] = []
            if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
            if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
            if pageSize > 0 { query.append(("limit", String(pageSize))) }
            if !continueToken.isEmpty { query.append(("continue", continueToken)) }
            let response = try await perform(
                APIRequest(
                    method: "GET", path: resource.path(namespace: scope) + PathEncoding.query(query), body: nil,
                    contentType: nil, operation: operation))
            let page = try decode(response, operation: operation)
            for var item in page["items"]?.arrayValue ?? [] {
                if item["apiVersion"]?.stringValue?.isEmpty ?? true || item["kind"]?.stringValue?.isEmpty ?? true {
                    item = KubeClient.typed(item, gvk)
                }
                do {
                    items.append(try Resource(body: item))
                } catch {
                    throw .invalidResponse(operation: operation, message: "an item is not an object: \(error)")
                }
            }
            continueToken = page[path: ["metadata", "continue"]]?.stringValue ?? ""
            resourceVersion = page[path: ["metadata", "resourceVersion"]]?.stringValue ?? resourceVersion
        } while !continueToken.isEmpty
        return ResourceList(items: items, resourceVersion: resourceVersion)
    }

    /// The item with `apiVersion` and `kind` first, as a lone object would have them.
    static func typed(_ item: Value, _ gvk: GroupVersionKind) -> Value {
        guard case .object(let members) = item else { return item }
        var result: Value = ["apiVersion": .string(gvk.apiVersion), "kind": .string(gvk.kind)]
        for (key, value) in members where key != "apiVersion" && key != "kind" { result[key] = value }
        return result
    }
}
