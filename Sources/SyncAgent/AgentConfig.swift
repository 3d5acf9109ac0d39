import Differ
import Foundation
import KubeYAML
import SyncCore

/// The agent's configuration file (default `config/syncagent.yaml`):
///
/// ```yaml
/// repo: {url: https://example.org/mesh-config.git, branch: main, path: mesh}
/// regions:                      # in rollout order
///   - {name: us-sanjose-1, kubeconfig: ~/.kube/config, context: oke-sanjose}
/// ignore:                       # optional: differences that do not count (README, "Drift detection")
///   - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
/// ```
/// Unknown keys are errors naming the key, file, line and column.
struct AgentConfig: Sendable {
    /// Where the desired state lives.
    struct Repo: Sendable {
        var url: String
        var branch: String
        var path: String
    }

    /// One cluster, in rollout order.
    struct Region: Sendable {
        var name: String
        /// The kubeconfig file (`~` expanded); nil for kubectl's default.
        var kubeconfig: String?
        /// The context; nil for the file's current one.
        var context: String?
    }

    var repo: Repo?
    var regions: [Region]
    var ignore: [IgnoreRule]

    /// Reads and checks the file.
    static func load(file: String) throws -> AgentConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(message: "\(file): cannot read the configuration file")
        }
        let documents = try YAML.load(Array(data), file: file)
        guard let document = documents.first else { throw ConfigError(message: "\(file): the file is empty") }
        return try AgentConfig(document)
    }

    init(_ document: YAMLDocument) throws {
        let reader = Reader(document: document)
        let root = try reader.object([], allowed: ["repo", "regions", "ignore"])
        if let repo = root["repo"] {
            _ = repo
            let members = try reader.object(["repo"], allowed: ["url", "branch", "path"])
            self.repo = Repo(
                url: try reader.string(["repo", "url"], in: members, required: true) ?? "",
                branch: try reader.string(["repo", "branch"], in: members) ?? "main",
                path: try reader.string(["repo", "path"], in: members) ?? "")
        }
        var regions: [Region] = []
        for index in (root["regions"]?.arrayValue ?? []).indices {
            let path: [PathElement] = ["regions", .index(index)]
            let members = try reader.object(path, allowed: ["name", "kubeconfig", "context"])
            regions.append(
                Region(
                    name: try reader.string(path + ["name"], in: members, required: true) ?? "",
                    kubeconfig: try reader.string(path + ["kubeconfig"], in: members).map(Self.expandHome),
                    context: try reader.string(path + ["context"], in: members)))
        }
        guard !regions.isEmpty else {
            throw ConfigError(message: "\(document.location): \"regions\" must list at least one region")
        }
        self.regions = regions
        var rules: [IgnoreRule] = []
        for index in (root["ignore"]?.arrayValue ?? []).indices {
            let path: [PathElement] = ["ignore", .index(index)]
            let members = try reader.object(
                path,
                allowed: ["group", "kind", "namespace", "name", "jsonPointers", "paths", "managedFieldsManagers"])
            func strings(_ key: String) -> [String] { members[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            do {
                rules.append(
                    try IgnoreRule(
                        group: members["group"]?.stringValue, kind: members["kind"]?.stringValue,
                        namespace: members["namespace"]?.stringValue, name: members["name"]?.stringValue,
                        jsonPointers: strings("jsonPointers"), paths: strings("paths"),
                        managedFieldsManagers: strings("managedFieldsManagers")))
            } catch {
                throw ConfigError(message: "\(document.location(at: path)): \(error)")
            }
        }
        ignore = rules
    }

    static func expandHome(_ path: String) -> String {
        path.hasPrefix("~/") ? NSHomeDirectory() + path.dropFirst(1) : path
    }

    /// Checks mappings for unknown keys, with positions from the source map.
    private struct Reader {
        let document: YAMLDocument

        func object(_ path: [PathElement], allowed: Set<String>) throws -> [String: Value] {
            var node: Value? = document.value
            for element in path {
                switch element {
                case .key(let key): node = node?[key]
                case .index(let index): node = node?.arrayValue.flatMap { index < $0.count ? $0[index] : nil }
                }
            }
            guard let members = node?.objectValue else {
                throw ConfigError(message: "\(document.location(at: path)): expected a mapping")
            }
            for key in members.keys where !allowed.contains(key) {
                let place = document.sourceMap.keyLocation(of: path + [.key(key)]) ?? document.location(at: path)
                throw ConfigError(
                    message: "\(place): unknown key \"\(key)\" (allowed here: \(allowed.sorted().joined(separator: ", ")))")
            }
            var result: [String: Value] = [:]
            for (key, value) in members { result[key] = value }
            return result
        }

        func string(_ path: [PathElement], in members: [String: Value], required: Bool = false) throws -> String? {
            guard case .key(let key)? = path.last else { return nil }
            guard let value = members[key], !value.isNull else {
                if required {
                    throw ConfigError(
                        message: "\(document.location(at: Array(path.dropLast()))): missing required key \"\(key)\"")
                }
                return nil
            }
            guard let text = value.stringValue else {
                throw ConfigError(message: "\(document.location(at: path)): \"\(key)\" must be a string")
            }
            return text
        }
    }
}

/// A problem in the configuration file, with its position.
struct ConfigError: Error, CustomStringConvertible, Sendable {
    var message: String
    var description: String { message }
}
