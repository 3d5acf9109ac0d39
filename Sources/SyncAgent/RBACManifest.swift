import KubeYAML
import SyncCore

/// The least-privilege RBAC syncagent needs in a cluster, built from `sync.allowedKinds`: what `syncagent rbac`
/// prints and `config/deploy/rbac.yaml` holds.
///
/// - ClusterRole `syncagent`: on exactly the allowed kinds, `get`, `list`, `watch` (the live-state cache lists
///   and watches each kind across all namespaces; the preflight and the drift check read), `patch` (server-side
///   apply), `create` (an apply that creates an object is authorized as a create too) and `delete` (prune, and
///   `syncagent.io/recreate`); and `get` on namespace `syncagent-system` alone. Never `update`: syncagent writes
///   the objects it syncs by apply only. `allowedNamespaces` is not expressed in RBAC: syncagent enforces it before
///   any request, and the cache's lists span all namespaces.
/// - Role `syncagent` in `syncagent-system`: ConfigMaps (the inventory and status records, written with a create
///   or an update at a `resourceVersion`) and `coordination.k8s.io` Leases (one agent of several writes).
/// - A ClusterRoleBinding and a RoleBinding of those to ServiceAccount `syncagent-system/syncagent` and to every
///   user named (the identity a peer region's agent authenticates as, e.g. an OKE principal's OCID).
struct RBACManifest: Sendable {
    /// The name of every object, and of the ServiceAccount.
    static let name = "syncagent"
    /// syncagent's own namespace (its records and Lease).
    static let namespace = Inventory.namespace
    /// Verbs on every allowed kind, sorted.
    static let syncVerbs = ["create", "delete", "get", "list", "patch", "watch"]
    /// Verbs on syncagent's records and its Lease in its namespace, sorted.
    static let recordVerbs = ["create", "get", "list", "update", "watch"]

    /// The resources of one API group that the ClusterRole grants.
    struct Grant: Sendable, Hashable {
        /// The API group (`""`: core).
        var group: String
        /// Plural resource names, sorted; `["*"]` for a `group/*` entry.
        var resources: [String]
    }

    /// Why one `sync.allowedKinds` entry cannot be granted.
    struct Problem: Sendable, Hashable {
        /// The entry's index in `sync.allowedKinds`.
        var index: Int
        var message: String
    }

    /// The grants, by group, sorted.
    var grants: [Grant]
    /// Users bound besides the ServiceAccount, sorted.
    var users: [String]

    /// Resolves each `group/Kind` entry (`Kind` or `/Kind` for the core group, `group/*` for a whole group) to its
    /// resource: `overrides` (`group/Kind` → plural) first, then ``KnownResources``. Every entry that cannot be
    /// resolved is a ``Problem``; an empty list is an error of its own (the caller says where).
    static func resolve(allowedKinds: [String], overrides: [String: String]) -> Result<[Grant], ProblemList> {
        var byGroup: [String: Set<String>] = [:]
        var problems: [Problem] = []
        for (index, entry) in allowedKinds.enumerated() {
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, let kind = parts.last, !kind.isEmpty else {
                problems.append(
                    Problem(index: index, message: "\"\(entry)\" is not group/Kind (Kind or /Kind for the core group)"))
                continue
            }
            let group = parts.count == 2 ? parts[0] : ""
            let key = "\(group)/\(kind)"
            if kind == "*" {
                byGroup[group, default: []].insert("*")
            } else if let plural = overrides[key] ?? KnownResources.plural(group: group, kind: kind) {
                byGroup[group, default: []].insert(plural)
            } else {
                problems.append(
                    Problem(
                        index: index,
                        message: "syncagent does not know the API resource (plural) of kind \(kind) in group "
                            + "\(group.isEmpty ? "\"\" (core)" : group); give it with --resource \(key)=<plural> "
                            + "(`kubectl api-resources --api-group=\(group)` lists it)"))
            }
        }
        guard problems.isEmpty else { return .failure(ProblemList(problems: problems)) }
        let grants = byGroup.keys.sorted().map { group in
            let resources = byGroup[group] ?? []
            return Grant(group: group, resources: resources.contains("*") ? ["*"] : resources.sorted())
        }
        return .success(grants)
    }

    /// Every unresolvable entry at once.
    struct ProblemList: Error, Sendable {
        var problems: [Problem]
    }

    /// The four objects, in the order `kubectl apply` needs none of: roles, then their bindings.
    var documents: [Value] {
        let labels: Value = ["app.kubernetes.io/name": .string(Self.name)]
        func metadata(namespace: String? = nil) -> Value {
            var metadata: Value = ["name": .string(Self.name)]
            if let namespace { metadata["namespace"] = .string(namespace) }
            metadata["labels"] = labels
            return metadata
        }
        func rule(_ group: String, _ resources: [String], _ verbs: [String], names: [String] = []) -> Value {
            var rule: Value = [
                "apiGroups": [.string(group)], "resources": .array(resources.map { .string($0) }),
            ]
            if !names.isEmpty { rule["resourceNames"] = .array(names.map { .string($0) }) }
            rule["verbs"] = .array(verbs.map { .string($0) })
            return rule
        }
        var subjects: [Value] = [
            ["kind": "ServiceAccount", "name": .string(Self.name), "namespace": .string(Self.namespace)]
        ]
        subjects += users.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": .string($0)] }
        func binding(_ kind: String, role: String, namespace: String? = nil) -> Value {
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": .string(kind),
                "metadata": metadata(namespace: namespace),
                "roleRef": [
                    "apiGroup": "rbac.authorization.k8s.io", "kind": .string(role), "name": .string(Self.name),
                ],
                "subjects": .array(subjects),
            ]
        }
        let clusterRules =
            grants.map { rule($0.group, $0.resources, Self.syncVerbs) }
            + [rule("", ["namespaces"], ["get"], names: [Self.namespace])]
        return [
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": metadata(),
                "rules": .array(clusterRules),
            ],
            binding("ClusterRoleBinding", role: "ClusterRole"),
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": metadata(namespace: Self.namespace),
                "rules": [
                    rule("", ["configmaps"], Self.recordVerbs),
                    rule("coordination.k8s.io", ["leases"], Self.recordVerbs),
                ],
            ],
            binding("RoleBinding", role: "Role", namespace: Self.namespace),
        ]
    }

    /// The YAML stream: a comment saying how it was made (`command`, from `config`), then the objects.
    func yaml(command: String, config: String, allowedKinds: [String]) -> String {
        // The kinds as written, wrapped at 120 columns.
        var lines = [""]
        for (index, kind) in allowedKinds.enumerated() {
            let item = kind + (index < allowedKinds.count - 1 ? "," : "")
            if let last = lines.last, !last.isEmpty, last.count + 1 + item.count > 116 { lines.append("") }
            lines[lines.count - 1] += (lines[lines.count - 1].isEmpty ? "" : " ") + item
        }
        var header = """
            # Generated by `\(command)` from sync.allowedKinds of \(config):
            \(lines.map { "#   " + $0 }.joined(separator: "\n"))
            # Do not edit: change sync.allowedKinds and run the command again.
            # ClusterRole: get, list, watch, patch (server-side apply), create (an apply that creates) and delete
            # (prune) on exactly those kinds; get on namespace \(Self.namespace). Role in \(Self.namespace): its
            # records (ConfigMaps) and its Lease. Both bound to ServiceAccount \(Self.namespace)/\(Self.name)
            """
        header += users.isEmpty ? ".\n" : " and to user(s) \(users.joined(separator: ", ")).\n"
        return header + YAML.emit(documents)
    }
}
