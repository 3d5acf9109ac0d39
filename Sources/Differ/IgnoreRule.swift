import KubeSchema
import SyncCore

/// Differences that do not count, for some objects: Argo CD's `ignoreDifferences`, in syncagent's config.
///
/// ```yaml
/// ignore:
///   - {group: apps, kind: Deployment, name: reviews-v1, jsonPointers: [/spec/replicas]}
///   - {kind: "*", managedFieldsManagers: [kube-controller-manager]}
///   - {group: networking.istio.io, kind: VirtualService, paths: [.spec.http[*].timeout]}
/// ```
/// `group`, `kind`, `namespace` and `name` select objects (`*` or absent: any). A JSON pointer
/// (`/spec/ports/0/targetPort`) or a path (`.spec.ports[0].targetPort`, `.metadata.labels["app.kubernetes.io/x"]`)
/// ignores that field and everything under it; a list step is an index or `*` (any item, keyed or not).
/// `managedFieldsManagers` ignores every field one of those managers last wrote.
public struct IgnoreRule: Sendable, Hashable {
    /// API group; nil matches any.
    public var group: String?
    /// Kind; nil matches any.
    public var kind: String?
    /// Namespace; nil matches any.
    public var namespace: String?
    /// Name; nil matches any.
    public var name: String?
    /// Ignored field paths, parsed.
    public var paths: [[Step]]
    /// Managers whose fields are ignored.
    public var managedFieldsManagers: [String]

    /// One step of an ignored path.
    public enum Step: Sendable, Hashable {
        /// A member name.
        case field(String)
        /// A list position.
        case index(Int)
        /// Any list item.
        case anyItem
    }

    /// A rule from its selectors, JSON pointers, dotted paths and managers. Throws on a malformed path.
    public init(
        group: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil,
        jsonPointers: [String] = [], paths: [String] = [], managedFieldsManagers: [String] = []
    ) throws(IgnoreRuleError) {
        func any(_ s: String?) -> String? { s == "*" ? nil : s }
        self.group = any(group)
        self.kind = any(kind)
        self.namespace = any(namespace)
        self.name = any(name)
        self.paths = try jsonPointers.map(Self.parsePointer) + paths.map(Self.parsePath)
        self.managedFieldsManagers = managedFieldsManagers
    }

    /// Whether the rule selects this object.
    public func selects(_ key: ObjectKey) -> Bool {
        (group == nil || group == key.group) && (kind == nil || kind == key.kind)
            && (namespace == nil || namespace == key.namespace) && (name == nil || name == key.name)
    }

    /// Whether a change at `path`, last written by `manager`, is ignored.
    public func ignores(_ path: FieldPath, manager: String?) -> Bool {
        if let manager, managedFieldsManagers.contains(manager) { return true }
        return paths.contains { steps in
            guard steps.count <= path.count else { return false }
            for (step, element) in zip(steps, path) {
                switch (step, element) {
                case (.field(let a), .field(let b)) where a == b: continue
                case (.index(let a), .index(let b)) where a == b: continue
                case (.anyItem, .index), (.anyItem, .key), (.anyItem, .value): continue
                default: return false
                }
            }
            return true
        }
    }

    /// `/spec/ports/0/targetPort` (RFC 6901: `~1` is `/`, `~0` is `~`); numbers are list positions, `*` any item.
    static func parsePointer(_ pointer: String) throws(IgnoreRuleError) -> [Step] {
        guard pointer.hasPrefix("/") else { throw IgnoreRuleError(path: pointer, message: "a JSON pointer starts with /") }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { raw in
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if token == "*" { return .anyItem }
            if let index = Int(token), index >= 0 { return .index(index) }
            return .field(token)
        }
    }

    /// `.spec.http[*].timeout`, `.metadata.labels["a/b"]`, `.spec.ports[0]`.
    static func parsePath(_ path: String) throws(IgnoreRuleError) -> [Step] {
        var steps: [Step] = []
        var rest = Substring(path)
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { throw IgnoreRuleError(path: path, message: "empty field name") }
                steps.append(.field(String(name)))
                rest = rest.dropFirst(name.count)
            } else if first == "[" {
                guard let close = rest.firstIndex(of: "]") else {
                    throw IgnoreRuleError(path: path, message: "unclosed [")
                }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if inside == "*" || inside.isEmpty {
                    steps.append(.anyItem)
                } else if let index = Int(inside), index >= 0 {
                    steps.append(.index(index))
                } else if inside.count >= 2, inside.first == "\"", inside.last == "\"" {
                    steps.append(.field(String(inside.dropFirst().dropLast())))
                } else {
                    throw IgnoreRuleError(path: path, message: "[\(inside)] is not an index, * or a quoted key")
                }
                rest = rest[rest.index(after: close)...]
            } else {
                throw IgnoreRuleError(path: path, message: "a path starts with . (e.g. .spec.replicas)")
            }
        }
        guard !steps.isEmpty else { throw IgnoreRuleError(path: path, message: "empty path") }
        return steps
    }
}

/// A malformed ignore path.
public struct IgnoreRuleError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The path as written.
    public var path: String
    /// What is wrong.
    public var message: String

    public var description: String { "ignore path \"\(path)\": \(message)" }
}
