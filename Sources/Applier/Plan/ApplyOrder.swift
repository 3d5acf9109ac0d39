import SyncCore

/// The order in which kinds are applied within one wave (prunes use it reversed).
///
/// Everything a kind needs comes before it: namespaces and the definitions of new kinds first, then what
/// constrains or is referenced by pods (quotas, classes, accounts, roles, configuration, claims, services), then
/// the workloads, then what points at workloads (autoscalers, disruption budgets, ingresses, aggregated APIs), then
/// Istio's networking in make-before-break order — ServiceEntries and DestinationRules (with new subsets) before
/// the Gateways and VirtualServices that route to them — then every other custom resource, and admission webhooks
/// last, so that a webhook whose service is not up yet cannot block the rest of the sync. Compare fluxcd/pkg
/// `ssa/sort.go` and Helm's install order.
public enum ApplyOrder {
    /// A group and kind, as the table names them.
    struct Kind: Hashable {
        var group: String
        var kind: String
    }

    /// The built-in order; kinds not listed are ``customTier`` (custom resources, and anything else unknown).
    static let table: [(groups: [String], kinds: [String])] = [
        ([""], ["Namespace"]),
        (["apiextensions.k8s.io"], ["CustomResourceDefinition"]),
        (["scheduling.k8s.io"], ["PriorityClass"]),
        (["storage.k8s.io"], ["StorageClass"]),
        ([""], ["PersistentVolume", "ResourceQuota", "LimitRange"]),
        (["networking.k8s.io"], ["NetworkPolicy", "IngressClass"]),
        (["policy"], ["PodSecurityPolicy"]),
        (["node.k8s.io"], ["RuntimeClass"]),
        ([""], ["ServiceAccount"]),
        (["rbac.authorization.k8s.io"], ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]),
        ([""], ["ConfigMap", "Secret", "PersistentVolumeClaim", "Service", "Endpoints"]),
        (["discovery.k8s.io"], ["EndpointSlice"]),
        (["apps", "extensions"], ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]),
        ([""], ["ReplicationController", "Pod"]),
        (["batch"], ["Job", "CronJob"]),
        (["autoscaling"], ["HorizontalPodAutoscaler"]),
        (["policy"], ["PodDisruptionBudget"]),
        (["networking.k8s.io", "extensions"], ["Ingress"]),
        (["apiregistration.k8s.io"], ["APIService"]),
        (["networking.istio.io"], ["ServiceEntry", "DestinationRule", "Gateway", "VirtualService"]),
    ]

    /// Admission webhooks and policies, after everything else.
    static let last: [(groups: [String], kinds: [String])] = [
        (
            ["admissionregistration.k8s.io"],
            [
                "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
                "ValidatingAdmissionPolicyBinding",
            ]
        )
    ]

    private static let ranks: [Kind: Int] = {
        var ranks: [Kind: Int] = [:]
        var next = 0
        for (rows, offset) in [(table, 0), (last, customTier + 1)] {
            next = offset
            for row in rows {
                for kind in row.kinds {
                    for group in row.groups { ranks[Kind(group: group, kind: kind)] = next }
                    next += 1
                }
            }
        }
        return ranks
    }()

    /// The rank of every custom resource and unknown kind: after the built-in kinds and Istio's networking, before
    /// admission webhooks.
    static let customTier = 1_000

    /// Where a group and kind goes within a wave: lower first.
    static func rank(group: String, kind: String) -> Int { ranks[Kind(group: group, kind: kind)] ?? customTier }

    /// Where an object goes within a wave: lower first.
    static func rank(_ ref: ObjectRef) -> Int { rank(group: ref.group, kind: ref.kind) }

    /// Whether the kind is a CustomResourceDefinition (the plan waits for those to be established).
    static func isDefinition(_ ref: ObjectRef) -> Bool {
        ref.group == "apiextensions.k8s.io" && ref.kind == "CustomResourceDefinition"
    }

    /// The kinds the CustomResourceDefinitions among `resources` define, as `group/Kind`, each with the versions
    /// it serves.
    public static func definedKinds(_ resources: [Resource]) -> [String: Set<String>] {
        var defined: [String: Set<String>] = [:]
        for resource in resources {
            guard let kind = definedKind(resource) else { continue }
            let versions = (resource.body[path: ["spec", "versions"]]?.arrayValue ?? []).compactMap { version in
                version["served"]?.boolValue == false ? nil : version["name"]?.stringValue
            }
            defined[kind, default: []].formUnion(versions)
        }
        return defined
    }

    /// The kind a CustomResourceDefinition defines, as `group/Kind`; nil for any other object.
    static func definedKind(_ resource: Resource) -> String? {
        guard isDefinition(resource.ref), let group = resource.body[path: ["spec", "group"]]?.stringValue,
            let kind = resource.body[path: ["spec", "names", "kind"]]?.stringValue
        else { return nil }
        return "\(group)/\(kind)"
    }

    /// Whether the kind runs pods that serve traffic (the plan waits for those before Istio routes to them).
    static func isServingWorkload(_ ref: ObjectRef) -> Bool {
        switch (ref.group, ref.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"),
            ("extensions", "Deployment"), ("extensions", "DaemonSet"), ("extensions", "ReplicaSet"),
            ("", "ReplicationController"), ("", "Pod"):
            return true
        default:
            return false
        }
    }

    /// Whether the kind is Istio networking (ServiceEntry, DestinationRule, Gateway, VirtualService).
    static func isIstioNetworking(_ ref: ObjectRef) -> Bool {
        ref.group == "networking.istio.io"
            && ["ServiceEntry", "DestinationRule", "Gateway", "VirtualService"].contains(ref.kind)
    }
}
