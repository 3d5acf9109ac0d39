import Foundation
import SyncCore

/// One entry of `status.conditions`, read leniently: absent fields are empty.
struct StatusCondition: Sendable, Hashable {
    /// `type`, e.g. `Available`.
    var type: String
    /// `True`, `False` or `Unknown`.
    var status: String
    /// A CamelCase word, often empty.
    var reason: String
    /// A sentence, often empty.
    var message: String

    var isTrue: Bool { status == "True" }
    var isFalse: Bool { status == "False" }
}

/// What health rules read from a live object: spec and status fields with kstatus's lenient defaults (an absent
/// or mistyped number reads as absent), its conditions, and the time of the assessment.
struct LiveObject {
    /// The object as the server returned it.
    let resource: Resource
    /// When the assessment happens; nil when the caller gave no clock (time-based rules then never fire).
    let now: Date?

    var kind: String { resource.kind }
    var body: Value { resource.body }

    /// The value at a path of keys, nil when absent or null.
    func value(_ path: String...) -> Value? { value(path) }

    func value(_ path: [String]) -> Value? {
        guard let found = body[path: path], !found.isNull else { return nil }
        return found
    }

    /// An integer at a path; nil when absent or not a whole number.
    func int(_ path: String...) -> Int64? { value(path)?.intValue }

    /// A string at a path; nil when absent or not a string.
    func string(_ path: String...) -> String? { value(path)?.stringValue }

    /// A Boolean at a path; nil when absent or not a Boolean.
    func bool(_ path: String...) -> Bool? { value(path)?.boolValue }

    /// A timestamp (RFC 3339, as Kubernetes writes them) at a path; nil when absent or unreadable.
    func date(_ path: String...) -> Date? {
        guard let text = value(path)?.stringValue else { return nil }
        return try? Date(text, strategy: .iso8601)
    }

    /// `metadata.generation` and `status.observedGeneration`. The latter is also read from a numeric string, as
    /// controllers that write protobuf JSON (Istio's) spell 64-bit integers.
    var generation: Int64? { int("metadata", "generation") }
    var observedGeneration: Int64? {
        guard let value = value("status", "observedGeneration") else { return nil }
        if let int = value.intValue { return int }
        if let text = value.stringValue { return Int64(text) }
        return nil
    }

    /// `status.conditions`, in order; entries that are not mappings are left out.
    var conditions: [StatusCondition] { Self.conditions(in: value("status", "conditions")) }

    /// Conditions from a list of mappings (also used for the JSON list some objects keep in an annotation).
    static func conditions(in list: Value?) -> [StatusCondition] {
        (list?.arrayValue ?? []).compactMap { item in
            guard item.objectValue != nil else { return nil }
            return StatusCondition(
                type: item["type"]?.stringValue ?? "", status: item["status"]?.stringValue ?? "",
                reason: item["reason"]?.stringValue ?? "", message: item["message"]?.stringValue ?? "")
        }
    }

    /// The first condition of a type, if any.
    func condition(_ type: String) -> StatusCondition? { conditions.first { $0.type == type } }
}

/// "1 replica", "3 replicas".
func plural(_ count: Int64, _ noun: String) -> String { count == 1 ? "1 \(noun)" : "\(count) \(noun)s" }

/// `message` after a separator, or nothing when it is empty: `"job failed" + detail(": ", message)`.
func detail(_ separator: String, _ message: String) -> String { message.isEmpty ? "" : separator + message }
