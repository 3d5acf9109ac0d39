import Differ
import SyncCore

/// The sync policy (`sync.allowedKinds`, `sync.allowedNamespaces`) and syncagent's reserved names, applied to what
/// Git asks for and to what a prune would delete.
///
/// - The namespace `syncagent-system` holds syncagent's own records (inventory, status): no object from Git may be
///   in it, or be it, whatever the policy says; an inventory entry there is never pruned.
/// - With `allowedKinds` set, every object's kind must be listed (`group/Kind`, `Kind` or `/Kind` for the core
///   group, `group/*`).
/// - With `allowedNamespaces` set, a namespaced object must name one of them; a Namespace object is judged by its
///   name. An object with no namespace is refused unless its kind is known to be cluster-scoped (a built-in kind,
///   or a CRD of scope Cluster in the same revision) **and** `allowedKinds` lists that kind explicitly (no `*`), as
///   Argo CD's AppProject denies cluster-scoped resources unless whitelisted. A kind whose scope syncagent cannot
///   know (its CRD is not in the revision) needs a namespace.
/// - The same rules decide what may be pruned: the inventory alone is never a delete list.
extension Rollout {
    /// Built-in kinds that are cluster-scoped, by `group/Kind` (`/Kind` for the core group).
    public static let builtinClusterScoped: Set<String> = [
        "/Namespace", "/Node", "/PersistentVolume", "/ComponentStatus",
        "rbac.authorization.k8s.io/ClusterRole", "rbac.authorization.k8s.io/ClusterRoleBinding",
        "apiextensions.k8s.io/CustomResourceDefinition", "apiregistration.k8s.io/APIService",
        "admissionregistration.k8s.io/MutatingWebhookConfiguration",
        "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
        "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
        "storage.k8s.io/StorageClass", "storage.k8s.io/CSIDriver", "storage.k8s.io/CSINode",
        "storage.k8s.io/VolumeAttachment", "scheduling.k8s.io/PriorityClass", "node.k8s.io/RuntimeClass",
        "networking.k8s.io/IngressClass", "policy/PodSecurityPolicy", "certificates.k8s.io/CertificateSigningRequest",
        "flowcontrol.apiserver.k8s.io/FlowSchema", "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
    ]

    /// Built-in kinds that are namespaced, by `group/Kind` (an object of these without a namespace would land in
    /// `default`, past `allowedNamespaces`).
    public static let builtinNamespaced: Set<String> = [
        "/ConfigMap", "/Secret", "/Service", "/ServiceAccount", "/Pod", "/Endpoints", "/PersistentVolumeClaim",
        "/LimitRange", "/ResourceQuota", "/ReplicationController", "/Event", "/PodTemplate",
        "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "apps/ControllerRevision",
        "batch/Job", "batch/CronJob", "autoscaling/HorizontalPodAutoscaler", "policy/PodDisruptionBudget",
        "networking.k8s.io/Ingress", "networking.k8s.io/NetworkPolicy", "rbac.authorization.k8s.io/Role",
        "rbac.authorization.k8s.io/RoleBinding", "coordination.k8s.io/Lease", "discovery.k8s.io/EndpointSlice",
    ]

    /// How syncagent knows a kind's scope before asking any cluster.
    public enum Scope { case cluster, namespaced, unknown }

    /// The scope of `ref`'s kind: built-in tables, then the CRDs in `resources` (the same revision).
    public static func scope(of ref: ObjectRef, crds: [String: Scope]) -> Scope {
        let key = "\(ref.group)/\(ref.kind)"
        if builtinClusterScoped.contains(key) { return .cluster }
        if builtinNamespaced.contains(key) { return .namespaced }
        return crds[key] ?? .unknown
    }

    /// The scope each CRD in `resources` declares, by `group/Kind`.
    public static func declaredScopes(_ resources: [Resource]) -> [String: Scope] {
        var scopes: [String: Scope] = [:]
        for resource in resources
        where resource.ref.group == "apiextensions.k8s.io"
            && resource.kind == "CustomResourceDefinition"
        {
            let spec = resource.body["spec"]
            guard let group = spec?["group"]?.stringValue, let kind = spec?[path: ["names", "kind"]]?.stringValue
            else { continue }
            scopes["\(group)/\(kind)"] = spec?["scope"]?.stringValue == "Cluster" ? .cluster : .namespaced
        }
        return scopes
    }

    /// Objects the sync policy or syncagent's reserved names do not allow, each with its source position.
    public func policyViolations(_ resources: [Resource]) -> [String] {
        let crds = Self.declaredScopes(resources)
        return resources.compactMap { resource in
            policyViolation(resource.ref, crds: crds).map { problem in
                (resource.source.map { "\($0): " } ?? "") + "\(resource.ref): " + problem
            }
        }
    }

    /// Why `ref` may not be written or deleted by a sync, or nil. `crds`: scopes declared in the revision.
    public func policyViolation(_ ref: ObjectRef, crds: [String: Scope]) -> String? {
        let kinds = config.sync.allowedKinds
        let namespaces = config.sync.allowedNamespaces
        let isNamespace = ref.group.isEmpty && ref.kind == "Namespace"
        if ref.namespace == Inventory.namespace || (isNamespace && ref.name == Inventory.namespace) {
            return "namespace \(Inventory.namespace) is reserved for syncagent's own records (inventory, status); "
                + "Git cannot write there"
        }
        let kindName = "\(ref.group.isEmpty ? "" : ref.group + "/")\(ref.kind)"
        if !kinds.isEmpty && !Self.kindAllowed(ref, kinds) {
            return "kind \(kindName) is not in sync.allowedKinds"
        }
        guard !namespaces.isEmpty else { return nil }
        if isNamespace {
            return namespaces.contains(ref.name) ? nil : "namespace \(ref.name) is not in sync.allowedNamespaces"
        }
        if !ref.namespace.isEmpty {
            return namespaces.contains(ref.namespace)
                ? nil : "namespace \(ref.namespace) is not in sync.allowedNamespaces"
        }
        switch Self.scope(of: ref, crds: crds) {
        case .cluster:
            return Self.kindListedExplicitly(ref, kinds)
                ? nil
                : "cluster-scoped kind \(kindName) is refused while sync.allowedNamespaces is set, unless "
                    + "sync.allowedKinds lists it explicitly (\(kindName))"
        case .namespaced:
            return "has no namespace: with sync.allowedNamespaces set, set metadata.namespace to one of "
                + namespaces.joined(separator: ", ")
        case .unknown:
            return "has no namespace, and syncagent cannot tell whether \(kindName) is cluster-scoped (its CRD is not "
                + "in this revision): set metadata.namespace to one of \(namespaces.joined(separator: ", "))"
        }
    }

    /// `apps/Deployment`, `Service` or `/Service` (core), `networking.istio.io/*`.
    public static func kindAllowed(_ ref: ObjectRef, _ allowed: [String]) -> Bool {
        allowed.contains { entry in
            let (group, kind) = split(entry)
            return group == ref.group && (kind == "*" || kind == ref.kind)
        }
    }

    /// Whether an entry names exactly this kind (no `*`).
    public static func kindListedExplicitly(_ ref: ObjectRef, _ allowed: [String]) -> Bool {
        allowed.contains { entry in
            let (group, kind) = split(entry)
            return group == ref.group && kind == ref.kind
        }
    }

    private static func split(_ entry: String) -> (group: String, kind: String) {
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        return parts.count == 1 ? ("", parts[0]) : (parts[0], parts[1])
    }

    /// Splits prune candidates into those the policy lets a sync delete and those it does not (reported, kept).
    public func prunable(_ candidates: [ObjectRef], desired: [Resource]) -> (allowed: [ObjectRef], refused: [String]) {
        let crds = Self.declaredScopes(desired)
        var allowed: [ObjectRef] = []
        var refused: [String] = []
        for ref in candidates {
            if let problem = policyViolation(ref, crds: crds) {
                refused.append("\(ref): not pruned: \(problem)")
            } else {
                allowed.append(ref)
            }
        }
        return (allowed, refused)
    }
}
