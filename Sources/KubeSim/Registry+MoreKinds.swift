import KubeSchema
import SyncCore

/// The rest of the GA kinds a default kube-apiserver 1.34 serves with a `status` subresource (the kinds the
/// apiserver's own status, reset-fields and scale tests walk through discovery). kubesim stores, applies and
/// records field ownership for them; their schemas model the pod templates, selectors and replicas that matter for
/// ownership and scale, the rest of their specs and statuses as open objects (members granular, lists atomic), and
/// no controller acts on them.
extension Registry {
    /// Adds the kinds below to a registry of built-ins.
    mutating func addMoreBuiltinKinds() {
        let S = BuiltinSchemas.self
        let open = Schema.looseObject
        func simple(_ fields: [String: Schema] = [:]) -> Schema {
            var all: [String: Schema] = ["spec": open, "status": S.looseStatus]
            for (key, schema) in fields { all[key] = schema }
            return S.topLevel(all)
        }
        func workload(selector: Schema, extra: [String: Schema] = [:]) -> Schema {
            var spec: [String: Schema] = [
                "replicas": .integer, "selector": selector, "template": S.podTemplate, "minReadySeconds": .integer,
            ]
            for (key, schema) in extra { spec[key] = schema }
            return S.topLevel(["spec": Schema.object(spec, preserveUnknown: true), "status": S.looseStatus])
        }
        let job = Schema.object(["template": S.podTemplate, "selector": S.labelSelector], preserveUnknown: true)
        let kinds: [(String, String, String, String, Bool, Schema, Bool)] = [
            // group, version, plural, kind, namespaced, schema, generation
            ("", "v1", "nodes", "Node", false, simple(), false),
            ("", "v1", "persistentvolumes", "PersistentVolume", false, simple(), false),
            ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, simple(), false),
            ("", "v1", "replicationcontrollers", "ReplicationController", true, workload(selector: .stringMap), true),
            ("", "v1", "resourcequotas", "ResourceQuota", true, simple(), false),
            ("apps", "v1", "replicasets", "ReplicaSet", true, workload(selector: S.labelSelector), true),
            ("batch", "v1", "jobs", "Job", true, S.topLevel(["spec": job, "status": S.looseStatus]), true),
            (
                "batch", "v1", "cronjobs", "CronJob", true,
                S.topLevel([
                    "spec": Schema.object(
                        ["jobTemplate": Schema.object(["metadata": S.objectMeta, "spec": job])], preserveUnknown: true),
                    "status": S.looseStatus,
                ]), true
            ),
            ("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, simple(), false),
            ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, simple(), false),
            ("networking.k8s.io", "v1", "ingresses", "Ingress", true, simple(), true),
            ("networking.k8s.io", "v1", "servicecidrs", "ServiceCIDR", false, simple(), false),
            ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, simple(), true),
            ("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", false, simple(), false),
            (
                "certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", false, simple(),
                false
            ),
            ("flowcontrol.apiserver.k8s.io", "v1", "flowschemas", "FlowSchema", false, simple(), true),
            (
                "flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations", "PriorityLevelConfiguration",
                false, simple(), true
            ),
            (
                "admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", false,
                simple(), true
            ),
            ("apiregistration.k8s.io", "v1", "apiservices", "APIService", false, simple(), false),
            (
                "admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
                "ValidatingWebhookConfiguration", false, S.topLevel(["webhooks": .keyedList(open, keys: ["name"])]),
                false
            ),
            (
                "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
                false, S.topLevel(["webhooks": .keyedList(open, keys: ["name"])]), false
            ),
            ("resource.k8s.io", "v1", "resourceclaims", "ResourceClaim", true, simple(), false),
        ]
        for review in Authorization.reviewKinds {
            add(
                ResourceType(
                    group: "authorization.k8s.io", version: "v1", plural: review.plural,
                    singular: review.kind.lowercased(), kind: review.kind, namespaced: review.namespaced,
                    schema: S.topLevel(["spec": open, "status": open]), hasStatusSubresource: false))
        }
        for (group, version, plural, kind, namespaced, schema, generation) in kinds {
            add(
                ResourceType(
                    group: group, version: version, plural: plural, singular: kind.lowercased(), kind: kind,
                    namespaced: namespaced, schema: schema,
                    hasStatusSubresource: !plural.hasSuffix("webhookconfigurations"),
                    hasGeneration: generation))
        }
    }
}
