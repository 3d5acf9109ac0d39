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

/// The objects of one kind that a list returned as they came, unparsed: each item's JSON bytes (with `apiVersion`
/// and `kind`, as a lone object has them) and the fields it is kept by. For caches that keep objects as bytes.
public struct RawResourceList: Sendable {
    public struct Item: Sendable {
        public var key: ObjectKey
        public var resourceVersion: String
        public var bytes: [UInt8]
        /// `metadata.uid` ("" when missing).
        public var uid = ""
        /// Only the item's identity and versions came (`bytes` is empty): the list was asked for metadata only and
        /// the server gave it (``KubeClient/listRaw(_:namespace:pageSize:maxPages:metadataOnly:)``).
        public var metadataOnly = false
    }

    public var items: [Item]
    public var resourceVersion: String
    /// Whether these are all the kind's objects: false when a limit on pages stopped the list early.
    public var complete = true
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
        var items: [Resource] = []
        let resourceVersion = try await pages(
            gvk, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, pageSize: pageSize
        ) { (response, operation) throws(ApplierError) in
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
            return (
                page[path: ["metadata", "continue"]]?.stringValue ?? "",
                page[path: ["metadata", "resourceVersion"]]?.stringValue
            )
        }
        return ResourceList(items: items, resourceVersion: resourceVersion)
    }

    /// Every object of a kind as ``list(_:namespace:labelSelector:fieldSelector:pageSize:)`` reads them, but kept
    /// as the bytes that came (``JSONListScan``): no item is parsed into a value or printed again. An item the scan
    /// cannot key (no `metadata.name`) fails the list as a parsed one would.
    ///
    /// `maxPages` stops after that many pages: the list is then `complete` only when the last page read was the
    /// last there is.
    ///
    /// With `metadataOnly`, asks for the items' metadata alone (`as=PartialObjectMetadataList`, the objects
    /// themselves where the server cannot): for a caller that needs to know which objects exist at which versions
    /// and reads the bodies of a few. Items that came as metadata are marked so and hold no bytes.
    public func listRaw(
        _ gvk: GroupVersionKind, namespace: String? = nil, pageSize: Int = 500, maxPages: Int? = nil,
        metadataOnly: Bool = false
    ) async throws(ApplierError) -> RawResourceList {
        var items: [RawResourceList.Item] = []
        var complete = true
        let resourceVersion = try await pages(
            gvk, namespace: namespace, pageSize: pageSize, maxPages: maxPages,
            accept: metadataOnly ? Self.metadataListAccept : "application/json", stopped: { complete = false }
        ) {
            (response, operation) throws(ApplierError) in
            let scan: JSONListScan
            do {
                scan = try JSONListScan(response.body)
            } catch {
                throw .invalidResponse(operation: operation, message: "\(error)")
            }
            let metadata = metadataOnly && scan.kind == "PartialObjectMetadataList"
            for item in scan.items {
                guard !item.name.isEmpty else {
                    throw .invalidResponse(operation: operation, message: "an item is not an object: no metadata.name")
                }
                let bytes: [UInt8]
                if metadata {
                    bytes = []
                } else if item.complete {
                    bytes = Array(response.body[item.range])
                } else if item.typed {
                    // Its own apiVersion or kind (maybe empty): read it as ``list`` does.
                    guard let value = try? Value(json: response.body[item.range]) else {
                        throw .invalidResponse(operation: operation, message: "an item is not an object")
                    }
                    bytes = KubeClient.typed(value, gvk).jsonBytes
                } else {
                    bytes = JSONListScan.typedObject(
                        response.body, item.range, apiVersion: gvk.apiVersion, kind: gvk.kind)
                }
                items.append(
                    RawResourceList.Item(
                        key: ObjectKey(group: gvk.group, kind: gvk.kind, namespace: item.namespace, name: item.name),
                        resourceVersion: item.resourceVersion, bytes: bytes, uid: item.uid, metadataOnly: metadata))
            }
            return (scan.continueToken, scan.resourceVersion.isEmpty ? nil : scan.resourceVersion)
        }
        return RawResourceList(items: items, resourceVersion: resourceVersion, complete: complete)
    }

    /// Lists page by page: `page` reads each response and returns its `continue` token ("" on the last page) and
    /// `resourceVersion`; returns the last `resourceVersion` seen. After `maxPages` pages with more to come, stops
    /// and calls `stopped`.
    private func pages(
        _ gvk: GroupVersionKind, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil,
        pageSize: Int, maxPages: Int? = nil, accept: String = "application/json", stopped: () -> Void = {},
        _ page: (HTTPResponse, String) throws(ApplierError) -> (String, String?)
    ) async throws(ApplierError) -> String {
        let resource = try await resource(for: gvk)
        let scope = resource.namespaced ? namespace : nil
        var operation = "list \(gvk)"
        if let scope { operation += " in \(scope)" }
        if let labelSelector { operation += " with labels \(labelSelector)" }
        var continueToken = ""
        var resourceVersion = ""
        var read = 0
        repeat {
            var query: [(String, String)] = []
            if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
            if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
            if pageSize > 0 { query.append(("limit", String(pageSize))) }
            if !continueToken.isEmpty { query.append(("continue", continueToken)) }
            let response = try await perform(
                APIRequest(
                    method: "GET", path: resource.path(namespace: scope) + PathEncoding.query(query), body: nil,
                    contentType: nil, operation: operation, accept: accept))
            let (next, version) = try page(response, operation)
            continueToken = next
            resourceVersion = version ?? resourceVersion
            read += 1
            if !continueToken.isEmpty, let maxPages, read >= maxPages {
                stopped()
                break
            }
        } while !continueToken.isEmpty
        return resourceVersion
    }

    /// A list's metadata alone (`meta.k8s.io/v1` PartialObjectMetadataList), or else the objects: a server that
    /// cannot give the first answers with the second (the real server's media type negotiation).
    static let metadataListAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

    /// The item with `apiVersion` and `kind` first, as a lone object would have them.
    static func typed(_ item: Value, _ gvk: GroupVersionKind) -> Value {
        guard case .object(let members) = item else { return item }
        var result: Value = ["apiVersion": .string(gvk.apiVersion), "kind": .string(gvk.kind)]
        for (key, value) in members where key != "apiVersion" && key != "kind" { result[key] = value }
        return result
    }
}
