import KubeSchema
import OrderedCollections
import SyncCore

/// One servable resource in one version: `deployments` in `apps/v1`, or a CRD's `virtualservices` in
/// `networking.istio.io/v1`.
struct ResourceType: Sendable {
    var group: String
    var version: String
    var plural: String
    var singular: String
    var kind: String
    var namespaced: Bool
    var shortNames: [String] = []
    var categories: [String] = []
    var schema: Schema
    /// Whether `status` is a subresource: the main resource's writes leave it alone.
    var hasStatusSubresource: Bool = true
    /// Whether `metadata.generation` is kept (bumped on spec changes).
    var hasGeneration: Bool = false
    /// Whether objects come from a CRD (merge-patch only; unstructured).
    var isCustom: Bool = false
    /// Extra columns for `kubectl get` tables (CRD additionalPrinterColumns).
    var printerColumns: [Value] = []
    /// A CRD version's value constraints and defaults (nil for built-ins and schema-less versions).
    var validation: CRDValidation? = nil

    /// Where objects live regardless of version: "apps/deployments".
    var storageKey: String { "\(group)/\(plural)" }
    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// "deployments.apps", as messages name it.
    var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    var verbs: [String] {
        if group == "authorization.k8s.io" { return ["create"] }
        return ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    }
}

/// The resource types a region serves: the built-ins and whatever its CRDs define. Lookups are dictionaries.
struct Registry: Sendable {
    private(set) var byPath: [String: ResourceType] = [:]
    private(set) var byKind: [String: ResourceType] = [:]
    /// Groups in discovery order, each with its versions (preferred first).
    private(set) var groups: OrderedDictionary<String, [String]> = [:]

    static func pathKey(_ group: String, _ version: String, _ plural: String) -> String {
        "\(group)/\(version)/\(plural)"
    }

    static func kindKey(_ group: String, _ version: String, _ kind: String) -> String {
        "\(group)/\(version)/\(kind)"
    }

    func lookup(group: String, version: String, plural: String) -> ResourceType? {
        byPath[Registry.pathKey(group, version, plural)]
    }

    func lookup(group: String, version: String, kind: String) -> ResourceType? {
        byKind[Registry.kindKey(group, version, kind)]
    }

    /// All resource types of one group version, in registration order.
    func resources(group: String, version: String) -> [ResourceType] {
        byPath.values.filter { $0.group == group && $0.version == version }.sorted { $0.plural < $1.plural }
    }

    /// Every version of one stored resource, e.g. all served versions of a CRD.
    func versions(ofStorageKey key: String) -> [ResourceType] {
        byPath.values.filter { $0.storageKey == key }
    }

    mutating func add(_ type: ResourceType) {
        byPath[Registry.pathKey(type.group, type.version, type.plural)] = type
        byKind[Registry.kindKey(type.group, type.version, type.kind)] = type
        var versions = groups[type.group] ?? []
        if !versions.contains(type.version) { versions.append(type.version) }
        groups[type.group] = versions
    }

    /// Drops every version of a resource (a CRD was deleted); its group goes when empty.
    mutating func remove(group: String, plural: String) {
        for (key, type) in byPath where type.group == group && type.plural == plural {
            byPath[key] = nil
            byKind[Registry.kindKey(type.group, type.version, type.kind)] = nil
        }
        let remaining = Set(byPath.values.filter { $0.group == group }.map(\.version))
        if remaining.isEmpty {
            groups[group] = nil
        } else {
            groups[group] = groups[group]?.filter { remaining.contains($0) }
        }
    }

    /// Adds the types a CRD defines (its served versions), replacing earlier ones.
    mutating func add(crd: Value) {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue,
            let names = spec["names"], let plural = names["plural"]?.stringValue,
            let kind = names["kind"]?.stringValue
        else { return }
        remove(group: group, plural: plural)
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        var versions = spec["versions"]?.arrayValue ?? []
        // Discovery lists the storage version's peers by Kubernetes version priority; keep the CRD's order but put
        // the highest-priority version first, as kube-aggregator does.
        versions.sort {
            versionPriority($0["name"]?.stringValue ?? "") > versionPriority($1["name"]?.stringValue ?? "")
        }
        for version in versions where version["served"]?.boolValue != false {
            guard let name = version["name"]?.stringValue else { continue }
            let schema = BuiltinSchemas.customResource(openAPIV3Schema: version[path: ["schema", "openAPIV3Schema"]])
            add(
                ResourceType(
                    group: group, version: name, plural: plural,
                    singular: names["singular"]?.stringValue ?? kind.lowercased(), kind: kind, namespaced: namespaced,
                    shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    schema: schema, hasStatusSubresource: version[path: ["subresources", "status"]] != nil,
                    hasGeneration: true, isCustom: true,
                    printerColumns: version["additionalPrinterColumns"]?.arrayValue ?? [],
                    validation: CRDValidation.forVersion(version[path: ["schema", "openAPIV3Schema"]])))
        }
    }

    /// Kubernetes' version ordering: GA > beta > alpha, higher numbers first.
    static func priority(_ version: String) -> Int { versionPriority(version) }

    /// A CustomResourceDefinition's schema with its status typed as the Go type declares it: `conditions` a list
    /// map keyed by `type` (`+listType=map`, `+listMapKey=type`), `storedVersions` atomic. The conditions the server
    /// writes itself (`Established`, owned by `kube-apiserver` on `/status`) and a client's conditions of other types
    /// are items owned apart, so a status apply of its own condition does not conflict with the server's, whether
    /// the establishing step ran before it or not.
    static let customResourceDefinitionSchema: Schema = {
        let base = BuiltinSchemas.customResourceDefinition
        guard case .object(var fields, let additional) = base.shape else { return base }
        fields["status"] = Schema.object(
            [
                "conditions": .keyedList(.looseObject, keys: ["type"]), "acceptedNames": .looseObject,
                "storedVersions": .stringList,
            ], preserveUnknown: true)
        return Schema(
            .object(fields: fields, additional: additional), atomic: base.atomic,
            preserveUnknown: base.preserveUnknown)
    }()

    /// The registry of built-in kinds.
    static let builtin: Registry = {
        var registry = Registry()
        func add(
            _ group: String, _ version: String, _ plural: String, _ kind: String, namespaced: Bool = true,
            short: [String] = [], categories: [String] = [], schema: Schema, status: Bool = true,
            generation: Bool = false
        ) {
            registry.add(
                ResourceType(
                    group: group, version: version, plural: plural, singular: kind.lowercased(), kind: kind,
                    namespaced: namespaced, shortNames: short, categories: categories, schema: schema,
                    hasStatusSubresource: status, hasGeneration: generation))
        }
        let S = BuiltinSchemas.self
        add("", "v1", "configmaps", "ConfigMap", short: ["cm"], schema: S.configMap, status: false)
        add("", "v1", "events", "Event", short: ["ev"], schema: S.event, status: false)
        add("", "v1", "namespaces", "Namespace", namespaced: false, short: ["ns"], schema: S.namespace)
        add("", "v1", "pods", "Pod", short: ["po"], categories: ["all"], schema: S.pod, generation: true)
        add("", "v1", "secrets", "Secret", schema: S.secret, status: false)
        add("", "v1", "serviceaccounts", "ServiceAccount", short: ["sa"], schema: S.serviceAccount, status: false)
        add("", "v1", "services", "Service", short: ["svc"], categories: ["all"], schema: S.service)
        add(
            "apps", "v1", "daemonsets", "DaemonSet", short: ["ds"], categories: ["all"], schema: S.daemonSet,
            generation: true)
        add(
            "apps", "v1", "deployments", "Deployment", short: ["deploy"], categories: ["all"],
            schema: S.deployment, generation: true)
        add(
            "apps", "v1", "statefulsets", "StatefulSet", short: ["sts"], categories: ["all"],
            schema: S.statefulSet, generation: true)
        let rbac = "rbac.authorization.k8s.io"
        add(
            rbac, "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced: false, schema: S.roleBinding,
            status: false)
        add(rbac, "v1", "clusterroles", "ClusterRole", namespaced: false, schema: S.clusterRole, status: false)
        add(rbac, "v1", "rolebindings", "RoleBinding", schema: S.roleBinding, status: false)
        add(rbac, "v1", "roles", "Role", schema: S.role, status: false)
        add(
            "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced: false,
            short: ["crd", "crds"], categories: ["api-extensions"], schema: customResourceDefinitionSchema,
            generation: true)
        add("coordination.k8s.io", "v1", "leases", "Lease", schema: S.lease, status: false)
        registry.addMoreBuiltinKinds()
        return registry
    }()
}

/// Kubernetes' version priority (k8s.io/apimachinery version.CompareKubeAwareVersionStrings): v2 > v1 > v1beta2 >
/// v1beta1 > v1alpha1 > anything else.
func versionPriority(_ version: String) -> Int {
    guard version.hasPrefix("v") else { return 0 }
    let rest = version.dropFirst()
    let digits = rest.prefix { $0.isNumber }
    guard let major = Int(digits) else { return 0 }
    let tail = rest.dropFirst(digits.count)
    if tail.isEmpty { return 3_000_000 + major * 1000 }
    for (prefix, level) in [("beta", 2_000_000), ("alpha", 1_000_000)] where tail.hasPrefix(prefix) {
        let minor = Int(tail.dropFirst(prefix.count)) ?? 0
        return level + major * 1000 + minor
    }
    return 0
}
