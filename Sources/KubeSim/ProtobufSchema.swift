/// The field tables ``KubeProtobuf`` reads built-in kinds with: each message's field numbers, JSON names and types,
/// as k8s.io/api's and k8s.io/apimachinery's `generated.proto` define them (Kubernetes 1.34), and which fields are
/// pointers in Go (their zero value was set on purpose and is kept).
///
/// Kinds covered: Namespace, ConfigMap, Secret, ServiceAccount, Service, Deployment, Role, ClusterRole,
/// RoleBinding, ClusterRoleBinding — what `kubectl create ...` sends for the kinds kubesim serves — and the
/// authorization/v1 access reviews `kubectl auth can-i` sends. Volume sources
/// beyond emptyDir, configMap, secret, persistentVolumeClaim and hostPath are not read (skipped).
enum ProtobufSchema {
    /// How a field's bytes are read.
    indirect enum FieldType: Sendable {
        case string, bytes, int32, int64, bool
        /// Another message of the tables.
        case message(String)
        /// meta/v1 Time: RFC 3339 seconds.
        case time
        /// resource.Quantity: its string.
        case quantity
        /// intstr.IntOrString.
        case intOrString
        /// A map entry (key 1, value 2) whose value has this type.
        case map(FieldType)
        /// A message whose field 1 holds JSON (FieldsV1, RawExtension).
        case json

        var isMap: Bool {
            if case .map = self { return true }
            return false
        }
    }

    /// One field of a message.
    struct Field: Sendable {
        var name: String
        var type: FieldType
        var repeated = false
        /// A Go pointer: set on purpose even when zero.
        var pointer = false
    }

    /// The message a kind's object is, by group and kind; nil for kinds without a table.
    static func message(group: String, kind: String) -> String? {
        switch (group, kind) {
        case ("", "Namespace"), ("", "ConfigMap"), ("", "Secret"), ("", "ServiceAccount"), ("", "Service"),
            ("apps", "Deployment"), ("rbac.authorization.k8s.io", "Role"),
            ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "RoleBinding"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"), ("authorization.k8s.io", "SelfSubjectAccessReview"),
            ("authorization.k8s.io", "SubjectAccessReview"), ("authorization.k8s.io", "LocalSubjectAccessReview"):
            return kind
        default:
            return nil
        }
    }

    private static func f(_ name: String, _ type: FieldType, repeated: Bool = false, pointer: Bool = false) -> Field {
        Field(name: name, type: type, repeated: repeated, pointer: pointer)
    }
    private static func list(_ name: String, _ type: FieldType) -> Field { f(name, type, repeated: true) }
    private static func ptr(_ name: String, _ type: FieldType) -> Field { f(name, type, pointer: true) }
    private static let stringMap = FieldType.map(.string)

    /// Every message, by name.
    static let messages: [String: [Int: Field]] = [
        // meta/v1
        "ObjectMeta": [
            1: f("name", .string), 2: f("generateName", .string), 3: f("namespace", .string),
            4: f("selfLink", .string), 5: f("uid", .string), 6: f("resourceVersion", .string),
            7: f("generation", .int64), 8: f("creationTimestamp", .time), 9: ptr("deletionTimestamp", .time),
            10: ptr("deletionGracePeriodSeconds", .int64), 11: f("labels", stringMap), 12: f("annotations", stringMap),
            13: list("ownerReferences", .message("OwnerReference")), 14: list("finalizers", .string),
            17: list("managedFields", .message("ManagedFieldsEntry")),
        ],
        "OwnerReference": [
            5: f("apiVersion", .string), 1: f("kind", .string), 3: f("name", .string), 4: f("uid", .string),
            6: ptr("controller", .bool), 7: ptr("blockOwnerDeletion", .bool),
        ],
        "ManagedFieldsEntry": [
            1: f("manager", .string), 2: f("operation", .string), 3: f("apiVersion", .string), 4: ptr("time", .time),
            6: f("fieldsType", .string), 7: ptr("fieldsV1", .json), 8: f("subresource", .string),
        ],
        "LabelSelector": [
            1: f("matchLabels", stringMap), 2: list("matchExpressions", .message("LabelSelectorRequirement")),
        ],
        "LabelSelectorRequirement": [1: f("key", .string), 2: f("operator", .string), 3: list("values", .string)],
        "Condition": [
            1: f("type", .string), 2: f("status", .string), 3: f("observedGeneration", .int64),
            4: f("lastTransitionTime", .time), 5: f("reason", .string), 6: f("message", .string),
        ],
        // core/v1
        "ConfigMap": [
            1: f("metadata", .message("ObjectMeta")), 4: ptr("immutable", .bool), 2: f("data", stringMap),
            3: f("binaryData", .map(.bytes)),
        ],
        "Secret": [
            1: f("metadata", .message("ObjectMeta")), 5: ptr("immutable", .bool), 2: f("data", .map(.bytes)),
            4: f("stringData", stringMap), 3: f("type", .string),
        ],
        "Namespace": [
            1: f("metadata", .message("ObjectMeta")), 2: f("spec", .message("NamespaceSpec")),
            3: f("status", .message("NamespaceStatus")),
        ],
        "NamespaceSpec": [1: list("finalizers", .string)],
        "NamespaceStatus": [1: f("phase", .string), 2: list("conditions", .message("NamespaceCondition"))],
        "NamespaceCondition": [
            1: f("type", .string), 2: f("status", .string), 4: f("lastTransitionTime", .time), 5: f("reason", .string),
            6: f("message", .string),
        ],
        "ServiceAccount": [
            1: f("metadata", .message("ObjectMeta")), 2: list("secrets", .message("ObjectReference")),
            3: list("imagePullSecrets", .message("LocalObjectReference")),
            4: ptr("automountServiceAccountToken", .bool),
        ],
        "ObjectReference": [
            1: f("kind", .string), 2: f("namespace", .string), 3: f("name", .string), 4: f("uid", .string),
            5: f("apiVersion", .string), 6: f("resourceVersion", .string), 7: f("fieldPath", .string),
        ],
        "LocalObjectReference": [1: f("name", .string)],
        "Service": [
            1: f("metadata", .message("ObjectMeta")), 2: f("spec", .message("ServiceSpec")),
            3: f("status", .message("ServiceStatus")),
        ],
        "ServiceSpec": [
            1: list("ports", .message("ServicePort")), 2: f("selector", stringMap), 3: f("clusterIP", .string),
            18: list("clusterIPs", .string), 4: f("type", .string), 5: list("externalIPs", .string),
            7: f("sessionAffinity", .string), 8: f("loadBalancerIP", .string),
            9: list("loadBalancerSourceRanges", .string), 10: f("externalName", .string),
            11: f("externalTrafficPolicy", .string), 12: f("healthCheckNodePort", .int32),
            13: f("publishNotReadyAddresses", .bool), 14: ptr("sessionAffinityConfig", .message("SessionAffinityConfig")),
            19: list("ipFamilies", .string), 17: ptr("ipFamilyPolicy", .string),
            20: ptr("allocateLoadBalancerNodePorts", .bool), 21: ptr("loadBalancerClass", .string),
            22: ptr("internalTrafficPolicy", .string), 23: ptr("trafficDistribution", .string),
        ],
        "SessionAffinityConfig": [1: ptr("clientIP", .message("ClientIPConfig"))],
        "ClientIPConfig": [1: ptr("timeoutSeconds", .int32)],
        "ServicePort": [
            1: f("name", .string), 2: f("protocol", .string), 6: ptr("appProtocol", .string), 3: f("port", .int32),
            4: f("targetPort", .intOrString), 5: f("nodePort", .int32),
        ],
        "ServiceStatus": [
            1: f("loadBalancer", .message("LoadBalancerStatus")), 2: list("conditions", .message("Condition")),
        ],
        "LoadBalancerStatus": [1: list("ingress", .message("LoadBalancerIngress"))],
        "LoadBalancerIngress": [1: f("ip", .string), 2: f("hostname", .string), 3: ptr("ipMode", .string)],
        "PodTemplateSpec": [1: f("metadata", .message("ObjectMeta")), 2: f("spec", .message("PodSpec"))],
        "PodSpec": [
            1: list("volumes", .message("Volume")), 20: list("initContainers", .message("Container")),
            2: list("containers", .message("Container")), 3: f("restartPolicy", .string),
            4: ptr("terminationGracePeriodSeconds", .int64), 5: ptr("activeDeadlineSeconds", .int64),
            6: f("dnsPolicy", .string), 7: f("nodeSelector", stringMap), 8: f("serviceAccountName", .string),
            9: f("serviceAccount", .string), 21: ptr("automountServiceAccountToken", .bool), 10: f("nodeName", .string),
            11: f("hostNetwork", .bool), 12: f("hostPID", .bool), 13: f("hostIPC", .bool),
            27: ptr("shareProcessNamespace", .bool), 14: ptr("securityContext", .message("PodSecurityContext")),
            15: list("imagePullSecrets", .message("LocalObjectReference")), 16: f("hostname", .string),
            17: f("subdomain", .string), 19: f("schedulerName", .string), 22: list("tolerations", .message("Toleration")),
            24: f("priorityClassName", .string), 25: ptr("priority", .int32), 29: ptr("runtimeClassName", .string),
            30: ptr("enableServiceLinks", .bool), 31: ptr("preemptionPolicy", .string),
            35: ptr("setHostnameAsFQDN", .bool), 37: ptr("hostUsers", .bool),
        ],
        "Container": [
            1: f("name", .string), 2: f("image", .string), 3: list("command", .string), 4: list("args", .string),
            5: f("workingDir", .string), 6: list("ports", .message("ContainerPort")),
            19: list("envFrom", .message("EnvFromSource")), 7: list("env", .message("EnvVar")),
            8: f("resources", .message("ResourceRequirements")), 24: ptr("restartPolicy", .string),
            9: list("volumeMounts", .message("VolumeMount")), 10: ptr("livenessProbe", .message("Probe")),
            11: ptr("readinessProbe", .message("Probe")), 22: ptr("startupProbe", .message("Probe")),
            13: f("terminationMessagePath", .string), 20: f("terminationMessagePolicy", .string),
            14: f("imagePullPolicy", .string), 15: ptr("securityContext", .message("SecurityContext")),
            16: f("stdin", .bool), 17: f("stdinOnce", .bool), 18: f("tty", .bool),
        ],
        "ContainerPort": [
            1: f("name", .string), 2: f("hostPort", .int32), 3: f("containerPort", .int32), 4: f("protocol", .string),
            5: f("hostIP", .string),
        ],
        "EnvVar": [1: f("name", .string), 2: f("value", .string), 3: ptr("valueFrom", .message("EnvVarSource"))],
        "EnvVarSource": [
            1: ptr("fieldRef", .message("ObjectFieldSelector")),
            2: ptr("resourceFieldRef", .message("ResourceFieldSelector")),
            3: ptr("configMapKeyRef", .message("KeySelector")), 4: ptr("secretKeyRef", .message("KeySelector")),
        ],
        // ConfigMapKeySelector and SecretKeySelector: the embedded LocalObjectReference is inlined in JSON.
        "KeySelector": [1: f("", .message("LocalObjectReference")), 2: f("key", .string), 3: ptr("optional", .bool)],
        "ObjectFieldSelector": [1: f("apiVersion", .string), 2: f("fieldPath", .string)],
        "ResourceFieldSelector": [
            1: f("containerName", .string), 2: f("resource", .string), 3: f("divisor", .quantity),
        ],
        "EnvFromSource": [
            1: f("prefix", .string), 2: ptr("configMapRef", .message("EnvSource")),
            3: ptr("secretRef", .message("EnvSource")),
        ],
        "EnvSource": [1: f("", .message("LocalObjectReference")), 2: ptr("optional", .bool)],
        "ResourceRequirements": [1: f("limits", .map(.quantity)), 2: f("requests", .map(.quantity))],
        "VolumeMount": [
            1: f("name", .string), 2: f("readOnly", .bool), 3: f("mountPath", .string), 4: f("subPath", .string),
            5: ptr("mountPropagation", .string), 6: f("subPathExpr", .string),
        ],
        // Volume's VolumeSource is inlined in JSON; the common sources only.
        "Volume": [1: f("name", .string), 2: f("", .message("VolumeSource"))],
        "VolumeSource": [
            1: ptr("hostPath", .message("HostPathVolumeSource")), 2: ptr("emptyDir", .message("EmptyDirVolumeSource")),
            6: ptr("secret", .message("SecretVolumeSource")),
            10: ptr("persistentVolumeClaim", .message("PersistentVolumeClaimVolumeSource")),
            19: ptr("configMap", .message("ConfigMapVolumeSource")),
        ],
        "HostPathVolumeSource": [1: f("path", .string), 2: ptr("type", .string)],
        "EmptyDirVolumeSource": [1: f("medium", .string), 2: ptr("sizeLimit", .quantity)],
        "SecretVolumeSource": [
            1: f("secretName", .string), 2: list("items", .message("KeyToPath")), 3: ptr("defaultMode", .int32),
            4: ptr("optional", .bool),
        ],
        "PersistentVolumeClaimVolumeSource": [1: f("claimName", .string), 2: f("readOnly", .bool)],
        "ConfigMapVolumeSource": [
            1: f("", .message("LocalObjectReference")), 2: list("items", .message("KeyToPath")),
            3: ptr("defaultMode", .int32), 4: ptr("optional", .bool),
        ],
        "KeyToPath": [1: f("key", .string), 2: f("path", .string), 3: ptr("mode", .int32)],
        // Probe's ProbeHandler is inlined in JSON.
        "Probe": [
            1: f("", .message("ProbeHandler")), 2: f("initialDelaySeconds", .int32), 3: f("timeoutSeconds", .int32),
            4: f("periodSeconds", .int32), 5: f("successThreshold", .int32), 6: f("failureThreshold", .int32),
            7: ptr("terminationGracePeriodSeconds", .int64),
        ],
        "ProbeHandler": [
            1: ptr("exec", .message("ExecAction")), 2: ptr("httpGet", .message("HTTPGetAction")),
            3: ptr("tcpSocket", .message("TCPSocketAction")), 4: ptr("grpc", .message("GRPCAction")),
        ],
        "ExecAction": [1: list("command", .string)],
        "HTTPGetAction": [
            1: f("path", .string), 2: f("port", .intOrString), 3: f("host", .string), 4: f("scheme", .string),
            5: list("httpHeaders", .message("HTTPHeader")),
        ],
        "TCPSocketAction": [1: f("port", .intOrString), 2: f("host", .string)],
        "GRPCAction": [1: f("port", .int32), 2: ptr("service", .string)],
        "HTTPHeader": [1: f("name", .string), 2: f("value", .string)],
        "SecurityContext": [
            1: ptr("capabilities", .message("Capabilities")), 2: ptr("privileged", .bool),
            4: ptr("runAsUser", .int64), 8: ptr("runAsGroup", .int64), 5: ptr("runAsNonRoot", .bool),
            6: ptr("readOnlyRootFilesystem", .bool), 7: ptr("allowPrivilegeEscalation", .bool),
            9: ptr("procMount", .string), 11: ptr("seccompProfile", .message("SeccompProfile")),
        ],
        "PodSecurityContext": [
            2: ptr("runAsUser", .int64), 6: ptr("runAsGroup", .int64), 3: ptr("runAsNonRoot", .bool),
            4: list("supplementalGroups", .int64), 5: ptr("fsGroup", .int64), 7: list("sysctls", .message("Sysctl")),
            9: ptr("fsGroupChangePolicy", .string), 10: ptr("seccompProfile", .message("SeccompProfile")),
        ],
        "SeccompProfile": [1: f("type", .string), 2: ptr("localhostProfile", .string)],
        "Sysctl": [1: f("name", .string), 2: f("value", .string)],
        "Capabilities": [1: list("add", .string), 2: list("drop", .string)],
        "Toleration": [
            1: f("key", .string), 2: f("operator", .string), 3: f("value", .string), 4: f("effect", .string),
            5: ptr("tolerationSeconds", .int64),
        ],
        // apps/v1
        "Deployment": [
            1: f("metadata", .message("ObjectMeta")), 2: f("spec", .message("DeploymentSpec")),
            3: f("status", .message("DeploymentStatus")),
        ],
        "DeploymentSpec": [
            1: ptr("replicas", .int32), 2: ptr("selector", .message("LabelSelector")),
            3: f("template", .message("PodTemplateSpec")), 4: f("strategy", .message("DeploymentStrategy")),
            5: f("minReadySeconds", .int32), 6: ptr("revisionHistoryLimit", .int32), 7: f("paused", .bool),
            9: ptr("progressDeadlineSeconds", .int32),
        ],
        "DeploymentStrategy": [1: f("type", .string), 2: ptr("rollingUpdate", .message("RollingUpdateDeployment"))],
        "RollingUpdateDeployment": [1: ptr("maxUnavailable", .intOrString), 2: ptr("maxSurge", .intOrString)],
        "DeploymentStatus": [
            1: f("observedGeneration", .int64), 2: f("replicas", .int32), 3: f("updatedReplicas", .int32),
            7: f("readyReplicas", .int32), 4: f("availableReplicas", .int32), 5: f("unavailableReplicas", .int32),
            9: ptr("terminatingReplicas", .int32), 6: list("conditions", .message("DeploymentCondition")),
            8: ptr("collisionCount", .int32),
        ],
        "DeploymentCondition": [
            1: f("type", .string), 2: f("status", .string), 6: f("lastUpdateTime", .time),
            7: f("lastTransitionTime", .time), 4: f("reason", .string), 5: f("message", .string),
        ],
        // rbac/v1
        "Role": [1: f("metadata", .message("ObjectMeta")), 2: list("rules", .message("PolicyRule"))],
        "ClusterRole": [
            1: f("metadata", .message("ObjectMeta")), 2: list("rules", .message("PolicyRule")),
            3: ptr("aggregationRule", .message("AggregationRule")),
        ],
        "PolicyRule": [
            1: list("verbs", .string), 2: list("apiGroups", .string), 3: list("resources", .string),
            4: list("resourceNames", .string), 5: list("nonResourceURLs", .string),
        ],
        "AggregationRule": [1: list("clusterRoleSelectors", .message("LabelSelector"))],
        // authorization/v1 (what `kubectl auth can-i` sends)
        "SelfSubjectAccessReview": [
            1: f("metadata", .message("ObjectMeta")), 2: f("spec", .message("SelfSubjectAccessReviewSpec")),
        ],
        "SelfSubjectAccessReviewSpec": [
            1: ptr("resourceAttributes", .message("ResourceAttributes")),
            2: ptr("nonResourceAttributes", .message("NonResourceAttributes")),
        ],
        "SubjectAccessReview": [
            1: f("metadata", .message("ObjectMeta")), 2: f("spec", .message("SubjectAccessReviewSpec")),
        ],
        "LocalSubjectAccessReview": [
            1: f("metadata", .message("ObjectMeta")), 2: f("spec", .message("SubjectAccessReviewSpec")),
        ],
        "SubjectAccessReviewSpec": [
            1: ptr("resourceAttributes", .message("ResourceAttributes")),
            2: ptr("nonResourceAttributes", .message("NonResourceAttributes")), 3: f("user", .string),
            4: list("groups", .string), 6: f("uid", .string),
        ],
        "ResourceAttributes": [
            1: f("namespace", .string), 2: f("verb", .string), 3: f("group", .string), 4: f("version", .string),
            5: f("resource", .string), 6: f("subresource", .string), 7: f("name", .string),
        ],
        "NonResourceAttributes": [1: f("path", .string), 2: f("verb", .string)],
        "RoleBinding": [
            1: f("metadata", .message("ObjectMeta")), 2: list("subjects", .message("Subject")),
            3: f("roleRef", .message("RoleRef")),
        ],
        "ClusterRoleBinding": [
            1: f("metadata", .message("ObjectMeta")), 2: list("subjects", .message("Subject")),
            3: f("roleRef", .message("RoleRef")),
        ],
        "Subject": [1: f("kind", .string), 2: f("apiGroup", .string), 3: f("name", .string), 4: f("namespace", .string)],
        "RoleRef": [1: f("apiGroup", .string), 2: f("kind", .string), 3: f("name", .string)],
    ]
}
