/// The API resource (plural) name of kinds syncagent knows without asking a cluster, for `syncagent rbac`: RBAC
/// rules name resources (`deployments`), `sync.allowedKinds` names kinds (`apps/Deployment`).
///
/// Kubernetes' GA kinds of 1.34 (kubesim's discovery is the referee: `DeployManifestTests`), the kinds of Istio's
/// CRDs (checked against `../shared/corpus/istio-crds/crd-all.gen.yaml`) and of the Prometheus Operator. Any other
/// kind is given on the command line (`--resource group/Kind=plural`); a plural is never guessed, since a wrong
/// guess grants nothing and fails only at the first sync.
enum KnownResources {
    /// `group/Kind` (an empty group for the core group) → plural.
    static let plurals: [String: String] = {
        var table: [String: String] = [:]
        for (group, kinds) in byGroup {
            for (kind, plural) in kinds { table["\(group)/\(kind)"] = plural }
        }
        return table
    }()

    /// The plural of `kind` in `group`, or nil when the table does not know it.
    static func plural(group: String, kind: String) -> String? { plurals["\(group)/\(kind)"] }

    /// The table, by API group.
    static let byGroup: [String: [String: String]] = [
        "": [
            "ComponentStatus": "componentstatuses", "ConfigMap": "configmaps", "Endpoints": "endpoints",
            "Event": "events", "LimitRange": "limitranges", "Namespace": "namespaces", "Node": "nodes",
            "PersistentVolume": "persistentvolumes", "PersistentVolumeClaim": "persistentvolumeclaims", "Pod": "pods",
            "PodTemplate": "podtemplates", "ReplicationController": "replicationcontrollers",
            "ResourceQuota": "resourcequotas", "Secret": "secrets", "Service": "services",
            "ServiceAccount": "serviceaccounts",
        ],
        "admissionregistration.k8s.io": [
            "MutatingWebhookConfiguration": "mutatingwebhookconfigurations",
            "ValidatingAdmissionPolicy": "validatingadmissionpolicies",
            "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
            "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
        ],
        "apiextensions.k8s.io": ["CustomResourceDefinition": "customresourcedefinitions"],
        "apiregistration.k8s.io": ["APIService": "apiservices"],
        "apps": [
            "ControllerRevision": "controllerrevisions", "DaemonSet": "daemonsets", "Deployment": "deployments",
            "ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
        ],
        "autoscaling": ["HorizontalPodAutoscaler": "horizontalpodautoscalers"],
        "batch": ["CronJob": "cronjobs", "Job": "jobs"],
        "certificates.k8s.io": ["CertificateSigningRequest": "certificatesigningrequests"],
        "coordination.k8s.io": ["Lease": "leases"],
        "discovery.k8s.io": ["EndpointSlice": "endpointslices"],
        "events.k8s.io": ["Event": "events"],
        "flowcontrol.apiserver.k8s.io": [
            "FlowSchema": "flowschemas", "PriorityLevelConfiguration": "prioritylevelconfigurations",
        ],
        "networking.k8s.io": [
            "IPAddress": "ipaddresses", "Ingress": "ingresses", "IngressClass": "ingressclasses",
            "NetworkPolicy": "networkpolicies", "ServiceCIDR": "servicecidrs",
        ],
        "node.k8s.io": ["RuntimeClass": "runtimeclasses"],
        "policy": ["PodDisruptionBudget": "poddisruptionbudgets"],
        "rbac.authorization.k8s.io": [
            "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "Role": "roles",
            "RoleBinding": "rolebindings",
        ],
        "resource.k8s.io": [
            "DeviceClass": "deviceclasses", "ResourceClaim": "resourceclaims",
            "ResourceClaimTemplate": "resourceclaimtemplates", "ResourceSlice": "resourceslices",
        ],
        "scheduling.k8s.io": ["PriorityClass": "priorityclasses"],
        "storage.k8s.io": [
            "CSIDriver": "csidrivers", "CSINode": "csinodes", "CSIStorageCapacity": "csistoragecapacities",
            "StorageClass": "storageclasses", "VolumeAttachment": "volumeattachments",
            "VolumeAttributesClass": "volumeattributesclasses",
        ],
        // Istio's CRDs.
        "extensions.istio.io": ["TrafficExtension": "trafficextensions", "WasmPlugin": "wasmplugins"],
        "networking.istio.io": [
            "DestinationRule": "destinationrules", "EnvoyFilter": "envoyfilters", "Gateway": "gateways",
            "ProxyConfig": "proxyconfigs", "ServiceEntry": "serviceentries", "Sidecar": "sidecars",
            "VirtualService": "virtualservices", "WorkloadEntry": "workloadentries", "WorkloadGroup": "workloadgroups",
        ],
        "security.istio.io": [
            "AuthorizationPolicy": "authorizationpolicies", "PeerAuthentication": "peerauthentications",
            "RequestAuthentication": "requestauthentications",
        ],
        "telemetry.istio.io": ["Telemetry": "telemetries"],
        // The Prometheus Operator's CRDs.
        "monitoring.coreos.com": [
            "Alertmanager": "alertmanagers", "AlertmanagerConfig": "alertmanagerconfigs", "PodMonitor": "podmonitors",
            "Probe": "probes", "Prometheus": "prometheuses", "PrometheusAgent": "prometheusagents",
            "PrometheusRule": "prometheusrules", "ScrapeConfig": "scrapeconfigs", "ServiceMonitor": "servicemonitors",
            "ThanosRuler": "thanosrulers",
        ],
    ]
}
