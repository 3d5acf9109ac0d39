import Synchronization
import SyncCore

/// One event of a watch: an object added, modified or deleted, a bookmark (a newer `resourceVersion` to resume
/// from, without an object change), or an error the server sends inside the stream (410 Expired: list again).
public struct WatchEvent: Sendable {
    public enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    public var kind: Kind
    /// The object (for `error`, a Status).
    public var object: Value

    public init(kind: Kind, object: Value) {
        self.kind = kind
        self.object = object
    }

    /// The object's `metadata.resourceVersion` ("" when absent).
    public var resourceVersion: String { object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "" }

    /// For an `error` event, the Status's code (410 when the resourceVersion is too old).
    public var errorCode: Int? { kind == .error ? object["code"]?.intValue.map(Int.init) : nil }
}

extension KubeClient {
    /// Watches every object of a kind (in `namespace`, or everywhere when nil) from `resourceVersion`, with
    /// bookmarks, handing each event to `handle` as it arrives (on the client's stream thread: keep it short).
    /// Returns when the server ends the watch (`timeoutSeconds`, its own deadline); throws when it cannot be
    /// started or breaks. The request's own deadline is the server's timeout plus 30 s, so a silent connection
    /// cannot hold a watch forever. A 410 Expired arrives as an `error` event: list again.
    public func watch(
        _ gvk: GroupVersionKind, namespace: String? = nil, resourceVersion: String, timeoutSeconds: Int = 300,
        handle: @escaping @Sendable (WatchEvent) -> Void
    ) async throws(ApplierError) {
        let resource = try await resource(for: gvk)
        let scope = resource.namespaced ? namespace : nil
        var query: [(String, String)] = [
            ("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", String(timeoutSeconds)),
        ]
        if !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        let operation = "watch \(gvk)" + (scope.map { " in \($0)" } ?? "")
        let lines = WatchLineSplitter(gvk: gvk, handle: handle)
        _ = try await perform(
            APIRequest(
                method: "GET", path: resource.path(namespace: scope) + PathEncoding.query(query), body: nil,
                contentType: nil, operation: operation),
            timeout: Double(timeoutSeconds) + 30, onData: { lines.append($0) })
        lines.finish()
    }
}

/// Cuts a watch stream into its lines (one JSON event each) and decodes them. The transport calls it from one
/// thread, one chunk after another; the lock only makes that explicit.
final class WatchLineSplitter: Sendable {
    private let gvk: GroupVersionKind
    private let handle: @Sendable (WatchEvent) -> Void
    private let pending = Mutex<[UInt8]>([])

    init(gvk: GroupVersionKind, handle: @escaping @Sendable (WatchEvent) -> Void) {
        self.gvk = gvk
        self.handle = handle
    }

    func append(_ chunk: [UInt8]) {
        let lines = pending.withLock { buffer -> [ArraySlice<UInt8>] in
            buffer.append(contentsOf: chunk)
            guard let last = buffer.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
            let complete = buffer[..<last]
            let result = complete.split(separator: UInt8(ascii: "\n")).map { ArraySlice($0) }
            buffer.removeSubrange(...last)
            return result
        }
        for line in lines { decode(line) }
    }

    /// A last line without its newline.
    func finish() {
        let rest = pending.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll() }
            return buffer
        }
        if !rest.isEmpty { decode(rest[...]) }
    }

    private func decode(_ line: ArraySlice<UInt8>) {
        guard let event = try? Value(json: line), let type = event["type"]?.stringValue,
            let kind = WatchEvent.Kind(rawValue: type), var object = event["object"]
        else { return }
        if kind != .error,
            object["apiVersion"]?.stringValue?.isEmpty ?? true || object["kind"]?.stringValue?.isEmpty ?? true
        {
            object = KubeClient.typed(object, gvk)
        }
        handle(WatchEvent(kind: kind, object: object))
    }
}
