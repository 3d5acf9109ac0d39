import ArgumentParser
import Foundation
import KubeYAML

/// `syncagent rbac`: prints the least-privilege ClusterRole, Role and bindings syncagent needs for the kinds in
/// `sync.allowedKinds` (``RBACManifest``); `config/deploy/rbac.yaml` is its output for `config/syncagent.yaml`.
struct RBACCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbac",
        abstract: "Print the least-privilege RBAC syncagent needs for the kinds in sync.allowedKinds.",
        discussion: """
            Prints YAML: a ClusterRole granting get, list, watch, create, patch and delete on exactly the kinds of \
            sync.allowedKinds (and get on namespace syncagent-system), a Role in syncagent-system for its records \
            (ConfigMaps) and its Lease, and bindings of both to ServiceAccount syncagent-system/syncagent (and to \
            each --user). Kinds are mapped to their API resources offline (Kubernetes' built-in kinds, Istio's and \
            the Prometheus Operator's); give any other with --resource group/Kind=plural. Exit codes: 0 printed, \
            2 a configuration or usage error (an empty sync.allowedKinds, a kind whose resource is unknown).
            """
    )

    @Option(help: "The agent's configuration file.")
    var config: String = "config/syncagent.yaml"

    @Option(
        name: .customLong("resource"),
        help: ArgumentHelp(
            "The API resource (plural) of a kind syncagent does not know offline (repeatable).",
            valueName: "group/Kind=plural"))
    var resources: [String] = []

    @Option(
        name: .customLong("user"),
        help: ArgumentHelp(
            "Also bind the roles to this user (repeatable): the identity a peer region's agent authenticates as.",
            valueName: "name"))
    var users: [String] = []

    func validate() throws {
        _ = try overrides()
        if users.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("--user needs a user name")
        }
    }

    func run() async throws {
        let agent = try AgentConfig.load(file: config)
        let kinds = agent.sync.allowedKinds
        // Positions for the errors: the same file, read again (AgentConfig keeps values, not their places).
        let document = FileManager.default.contents(atPath: config).flatMap {
            try? YAML.load(Array($0), file: config).first
        }
        func place(_ path: [PathElement]) -> String { document.map { "\($0.location(at: path))" } ?? config }
        guard !kinds.isEmpty else {
            throw ConfigError(
                message: "\(place(["sync", "allowedKinds"])): sync.allowedKinds is empty or absent, which lets "
                    + "syncagent apply any kind; least privilege needs the list: name every kind the config folder "
                    + "holds (e.g. allowedKinds: [Namespace, Service, apps/Deployment, networking.istio.io/*])")
        }
        switch RBACManifest.resolve(allowedKinds: kinds, overrides: try overrides()) {
        case .failure(let list):
            throw ConfigError(
                message: list.problems.map { problem in
                    "\(place(["sync", "allowedKinds", .index(problem.index)])): sync.allowedKinds[\(problem.index)]: "
                        + problem.message
                }.joined(separator: "\n"))
        case .success(let grants):
            let manifest = RBACManifest(grants: grants, users: Set(users).sorted())
            print(manifest.yaml(command: commandLine, config: config, allowedKinds: kinds), terminator: "")
        }
    }

    /// `--resource` values: `group/Kind` → plural.
    func overrides() throws -> [String: String] {
        var table: [String: String] = [:]
        for text in resources {
            let halves = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let kind = halves[0]
            let parts = kind.split(separator: "/", omittingEmptySubsequences: false)
            guard halves.count == 2, !halves[1].isEmpty, parts.count <= 2, parts.last?.isEmpty == false,
                parts.last != "*", halves[1] == halves[1].lowercased(), !halves[1].contains("/")
            else {
                throw ValidationError(
                    "--resource \(text): expected group/Kind=plural, e.g. example.com/Widget=widgets (the plural as "
                        + "`kubectl api-resources` prints it, in lower case)")
            }
            let key = parts.count == 2 ? kind : "/" + kind
            table[key] = halves[1]
        }
        return table
    }

    /// How to run this again, for the header.
    private var commandLine: String {
        var words = ["syncagent", "rbac", "--config", config]
        for resource in resources.sorted() { words += ["--resource", resource] }
        for user in Set(users).sorted() { words += ["--user", user] }
        return words.joined(separator: " ")
    }
}
