import Foundation
import Synchronization
import SyncCore

/// kubesim's audit log (`--audit-log FILE`): one `audit.k8s.io/v1` Event a line for every request every region
/// answers, at level Metadata and stage ResponseComplete, as kube-apiserver's log backend writes them. Tests read
/// it to see the order in which a client changed things (which region first, which object first). No request or
/// response body is written, so Secret data never reaches it.
final class AuditLog: Sendable {
    private let handle: Mutex<FileHandle>
    private let sequence = Atomic<Int>(0)

    /// Appends to `path` (created when missing).
    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        file.seekToEndOfFile()
        handle = Mutex(file)
    }

    /// Records one answered request.
    func record(
        region: String, method: String, path: String, query: String, userAgent: String, user: String, status: Int,
        received: Date
    ) {
        let number = sequence.wrappingAdd(1, ordering: .relaxed).newValue
        let parsed = Self.objectRef(path: path)
        let verb = Self.verb(method: method, named: parsed.name != nil, query: query)
        var objectRef: Value = [:]
        if let resource = parsed.resource { objectRef["resource"] = .string(resource) }
        if let namespace = parsed.namespace { objectRef["namespace"] = .string(namespace) }
        if let name = parsed.name { objectRef["name"] = .string(name) }
        if let subresource = parsed.subresource { objectRef["subresource"] = .string(subresource) }
        objectRef["apiGroup"] = .string(parsed.group)
        if let version = parsed.version { objectRef["apiVersion"] = .string(version) }
        var event: Value = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": .string("\(region)-\(number)"), "stage": "ResponseComplete",
            "requestURI": .string(query.isEmpty ? path : "\(path)?\(query)"), "verb": .string(verb),
            "user": ["username": .string(user)], "sourceIPs": ["127.0.0.1"], "userAgent": .string(userAgent),
        ]
        if parsed.resource != nil { event["objectRef"] = objectRef }
        event["responseStatus"] = ["metadata": [:], "code": .int(Int64(status))]
        event["requestReceivedTimestamp"] = .string(received.formatted(Self.microseconds))
        event["stageTimestamp"] = .string(Date().formatted(Self.microseconds))
        event["annotations"] = ["kubesim.io/region": .string(region)]
        let line = Data((event.jsonString + "\n").utf8)
        handle.withLock { $0.write(line) }
    }

    private static let microseconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The Kubernetes verb: get/list/watch, create, update, patch, delete (deletecollection without a name).
    static func verb(method: String, named: Bool, query: String) -> String {
        switch method {
        case "GET":
            return named ? "get" : (query.contains("watch=true") || query.contains("watch=1") ? "watch" : "list")
        case "POST": return "create"
        case "PUT": return "update"
        case "PATCH": return "patch"
        case "DELETE": return named ? "delete" : "deletecollection"
        default: return method.lowercased()
        }
    }

    /// `/api/v1/namespaces/NS/RESOURCE/NAME[/SUB]` or `/apis/GROUP/VERSION/...`, read into its parts.
    static func objectRef(path: String) -> (
        group: String, version: String?, resource: String?, namespace: String?, name: String?, subresource: String?
    ) {
        var parts = path.split(separator: "/").map(String.init)
        var group = ""
        var version: String?
        if parts.first == "api", parts.count >= 2 {
            version = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 3 {
            group = parts[1]
            version = parts[2]
            parts.removeFirst(3)
        } else {
            return ("", nil, nil, nil, nil, nil)
        }
        var namespace: String?
        if parts.count >= 3, parts[0] == "namespaces" {
            namespace = parts[1]
            parts.removeFirst(2)
        } else if parts.count == 2, parts[0] == "namespaces" {
            return (group, version, "namespaces", nil, parts[1], nil)
        }
        return (
            group, version, parts.first, namespace, parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil
        )
    }
}
