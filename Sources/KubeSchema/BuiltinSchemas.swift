import SyncCore

/// Schemas of the built-in kinds: declared fields (so strict validation rejects unknown ones), the list-map keys
/// server-side apply uses for `k:{...}` entries, and the merge keys of strategic merge patches. Rarely used
/// sub-objects are modelled loosely (any members) rather than guessed wrong.
public enum BuiltinSchemas {
    /// The schema of `objectMeta`.
    public static let objectMeta = Schema.object([
        "name": .string, "generateName": .string, "namespace": .string, "selfLink": .string, "uid": .string,
        "resourceVersion": .string, "generation": .integer, "creationTimestamp": .anything,
        "deletionTimestamp": .anything, "deletionGracePeriodSeconds": .integer, "labels": .stringMap,
        "annotations": .stringMap, "finalizers": .setList(),
        "ownerReferences": .keyedList(.looseObject, keys: ["uid"]),
        "managedFields": .atomicList(.anything),
    ])

    /// The schema of `labelSelector`.
    public static let labelSelector = Schema.object(
        ["matchLabels": .stringMap, "matchExpressions": .atomicList(.looseObject)], atomic: true)

    /// The schema of `probe`.
    public static let probe = Schema.object([
        "exec": .looseObject, "httpGet": .looseObject, "tcpSocket": .looseObject, "grpc": .looseObject,
        "initialDelaySeconds": .integer, "timeoutSeconds": .integer, "periodSeconds": .integer,
        "successThreshold": .integer, "failureThreshold": .integer, "terminationGracePeriodSeconds": .integer,
    ])

    /// The schema of `containerPort`.
    public static let containerPort = Schema(
        .object(
            fields: [
                "name": .string, "hostPort": .integer, "containerPort": .integer, "protocol": .string,
                "hostIP": .string,
            ], additional: nil), fieldDefaults: ["protocol": "TCP"])

    /// The schema of `envVar`.
    public static let envVar = Schema.object(["name": .string, "value": .string, "valueFrom": .looseObject])

    /// The schema of `resources`.
    public static let resources = Schema.object([
        "limits": Schema(.object(fields: [:], additional: .intOrString)),
        "requests": Schema(.object(fields: [:], additional: .intOrString)), "claims": .atomicList(.looseObject),
    ])

    /// The schema of `container`.
    public static let container = Schema.object([
        "name": .string, "image": .string, "command": .stringList, "args": .stringList, "workingDir": .string,
        "ports": .keyedList(containerPort, keys: ["containerPort", "protocol"], patchKey: "containerPort"),
        "envFrom": .atomicList(.looseObject), "env": .keyedList(envVar, keys: ["name"]), "resources": resources,
        "resizePolicy": .atomicList(.looseObject), "restartPolicy": .string,
        "restartPolicyRules": .atomicList(.looseObject),
        "volumeMounts": .keyedList(.looseObject, keys: ["mountPath"]),
        "volumeDevices": .keyedList(.looseObject, keys: ["devicePath"]), "livenessProbe": probe,
        "readinessProbe": probe, "startupProbe": probe, "lifecycle": .looseObject,
        "terminationMessagePath": .string, "terminationMessagePolicy": .string, "imagePullPolicy": .string,
        "securityContext": .looseObject, "stdin": .boolean, "stdinOnce": .boolean, "tty": .boolean,
        "targetContainerName": .string,
    ])

    /// The schema of `podSpec`.
    public static let podSpec = Schema.object([
        "volumes": .keyedList(.looseObject, keys: ["name"]),
        "initContainers": .keyedList(container, keys: ["name"]),
        "containers": .keyedList(container, keys: ["name"]),
        "ephemeralContainers": .keyedList(container, keys: ["name"]), "restartPolicy": .string,
        "terminationGracePeriodSeconds": .integer, "activeDeadlineSeconds": .integer, "dnsPolicy": .string,
        "nodeSelector": .atomicStringMap, "serviceAccountName": .string, "serviceAccount": .string,
        "automountServiceAccountToken": .boolean, "nodeName": .string, "hostNetwork": .boolean,
        "hostPID": .boolean, "hostIPC": .boolean, "shareProcessNamespace": .boolean,
        "securityContext": .looseObject, "imagePullSecrets": .keyedList(.looseObject, keys: ["name"]),
        "hostname": .string, "subdomain": .string, "affinity": .looseObject, "schedulerName": .string,
        "tolerations": .atomicList(.looseObject), "hostAliases": .keyedList(.looseObject, keys: ["ip"]),
        "priorityClassName": .string, "priority": .integer, "dnsConfig": .looseObject,
        "readinessGates": .atomicList(.looseObject), "runtimeClassName": .string, "enableServiceLinks": .boolean,
        "preemptionPolicy": .string, "overhead": .looseObject,
        "topologySpreadConstraints": .keyedList(.looseObject, keys: ["topologyKey", "whenUnsatisfiable"]),
        "setHostnameAsFQDN": .boolean, "os": .looseObject, "hostUsers": .boolean,
        "schedulingGates": .keyedList(.looseObject, keys: ["name"]),
        "resourceClaims": .keyedList(.looseObject, keys: ["name"]), "resources": resources,
        "hostnameOverride": .string,
    ])

    /// The schema of `podTemplate`.
    public static let podTemplate = Schema.object(["metadata": objectMeta, "spec": podSpec])

    /// The schema of `looseStatus`.
    public static let looseStatus = Schema.looseObject

    /// A top-level object of `spec` and `status`, with the type meta and object meta.
    public static func topLevel(_ fields: [String: Schema]) -> Schema {
        var all: [String: Schema] = ["apiVersion": .string, "kind": .string, "metadata": objectMeta]
        for (name, schema) in fields { all[name] = schema }
        return .object(all)
    }

    /// The schema of `deployment`.
    public static let deployment = topLevel([
        "spec": .object([
            "replicas": .integer, "selector": labelSelector, "template": podTemplate,
            "strategy": .object([
                "type": .string,
                "rollingUpdate": .object(["maxUnavailable": .intOrString, "maxSurge": .intOrString]),
            ]),
            "minReadySeconds": .integer, "revisionHistoryLimit": .integer, "paused": .boolean,
            "progressDeadlineSeconds": .integer,
        ]),
        "status": looseStatus,
    ])

    /// The schema of `statefulSet`.
    public static let statefulSet = topLevel([
        "spec": .object([
            "replicas": .integer, "selector": labelSelector, "template": podTemplate,
            "volumeClaimTemplates": .atomicList(.looseObject), "serviceName": .string,
            "podManagementPolicy": .string,
            "updateStrategy": .object([
                "type": .string,
                "rollingUpdate": .object(["partition": .integer, "maxUnavailable": .intOrString]),
            ]),
            "revisionHistoryLimit": .integer, "minReadySeconds": .integer,
            "persistentVolumeClaimRetentionPolicy": .looseObject, "ordinals": .looseObject,
        ]),
        "status": looseStatus,
    ])

    /// The schema of `daemonSet`.
    public static let daemonSet = topLevel([
        "spec": .object([
            "selector": labelSelector, "template": podTemplate,
            "updateStrategy": .object([
                "type": .string,
                "rollingUpdate": .object(["maxUnavailable": .intOrString, "maxSurge": .intOrString]),
            ]),
            "minReadySeconds": .integer, "revisionHistoryLimit": .integer,
        ]),
        "status": looseStatus,
    ])

    /// The schema of `servicePort`.
    public static let servicePort = Schema(
        .object(
            fields: [
                "name": .string, "protocol": .string, "appProtocol": .string, "port": .integer,
                "targetPort": .intOrString, "nodePort": .integer,
            ], additional: nil), fieldDefaults: ["protocol": "TCP"])

    /// The schema of `service`.
    public static let service = topLevel([
        "spec": .object([
            "ports": .keyedList(servicePort, keys: ["port", "protocol"], patchKey: "port"),
            "selector": .atomicStringMap, "clusterIP": .string, "clusterIPs": .stringList, "type": .string,
            "externalIPs": .stringList, "sessionAffinity": .string, "loadBalancerIP": .string,
            "loadBalancerSourceRanges": .stringList, "externalName": .string, "externalTrafficPolicy": .string,
            "healthCheckNodePort": .integer, "publishNotReadyAddresses": .boolean,
            "sessionAffinityConfig": .looseObject, "ipFamilies": .stringList, "ipFamilyPolicy": .string,
            "allocateLoadBalancerNodePorts": .boolean, "loadBalancerClass": .string,
            "internalTrafficPolicy": .string, "trafficDistribution": .string,
        ]),
        "status": looseStatus,
    ])

    /// The schema of `namespace`.
    public static let namespace = topLevel([
        "spec": .object(["finalizers": .setList()]), "status": looseStatus,
    ])

    /// The schema of `configMap`.
    public static let configMap = topLevel(["data": .stringMap, "binaryData": .stringMap, "immutable": .boolean])

    /// The schema of `secret`.
    public static let secret = topLevel([
        "data": .stringMap, "stringData": .stringMap, "type": .string, "immutable": .boolean,
    ])

    /// The schema of `serviceAccount`.
    public static let serviceAccount = topLevel([
        "secrets": .keyedList(.looseObject, keys: ["name"]),
        "imagePullSecrets": .atomicList(.looseObject), "automountServiceAccountToken": .boolean,
    ])

    /// The schema of `pod`.
    public static let pod = topLevel(["spec": podSpec, "status": looseStatus])

    /// The schema of `event`.
    public static let event: Schema = {
        var fields: [String: Schema] = [:]
        for name in [
            "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
            "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance",
        ] {
            fields[name] = .anything
        }
        return topLevel(fields)
    }()

    /// The schema of `role`.
    public static let role = topLevel(["rules": .atomicList(.looseObject)])
    /// The schema of `clusterRole`.
    public static let clusterRole = topLevel(["rules": .atomicList(.looseObject), "aggregationRule": .looseObject])
    /// The schema of `roleBinding`.
    public static let roleBinding = topLevel([
        "subjects": .atomicList(.looseObject), "roleRef": Schema.object([:], atomic: true, preserveUnknown: true),
    ])

    /// The schema of `customResourceDefinition`.
    public static let customResourceDefinition = topLevel([
        "spec": .object([
            "group": .string, "names": .looseObject, "scope": .string,
            "versions": .keyedList(.looseObject, keys: ["name"]), "conversion": .looseObject,
            "preserveUnknownFields": .boolean,
        ]),
        "status": looseStatus,
    ])

    /// The schema of `lease`.
    public static let lease = topLevel(["spec": .looseObject])

    /// The schema of a built-in kind by group and kind (any version), or nil for kinds not modelled here.
    public static func schema(group: String, kind: String) -> Schema? {
        switch (group, kind) {
        case ("", "ConfigMap"): return configMap
        case ("", "Event"): return event
        case ("", "Namespace"): return namespace
        case ("", "Pod"): return pod
        case ("", "Secret"): return secret
        case ("", "ServiceAccount"): return serviceAccount
        case ("", "Service"): return service
        case ("apps", "DaemonSet"), ("extensions", "DaemonSet"): return daemonSet
        case ("apps", "Deployment"), ("extensions", "Deployment"): return deployment
        case ("apps", "StatefulSet"): return statefulSet
        case ("rbac.authorization.k8s.io", "ClusterRoleBinding"), ("rbac.authorization.k8s.io", "RoleBinding"):
            return roleBinding
        case ("rbac.authorization.k8s.io", "ClusterRole"): return clusterRole
        case ("rbac.authorization.k8s.io", "Role"): return role
        case ("apiextensions.k8s.io", "CustomResourceDefinition"): return customResourceDefinition
        case ("coordination.k8s.io", "Lease"): return lease
        default: return nil
        }
    }

    /// A CRD version's `openAPIV3Schema` as a top-level object schema, with the implicit `apiVersion`, `kind` and
    /// `metadata` every object has.
    public static func customResource(openAPIV3Schema props: Value?) -> Schema {
        let schema = props.map(Schema.fromOpenAPI) ?? .anything
        guard case .object(var fields, let additional) = schema.shape else {
            return Schema(
                .object(fields: ["apiVersion": .string, "kind": .string, "metadata": objectMeta], additional: nil),
                preserveUnknown: true)
        }
        fields["apiVersion"] = .string
        fields["kind"] = .string
        fields["metadata"] = objectMeta
        return Schema(.object(fields: fields, additional: additional), preserveUnknown: schema.preserveUnknown)
    }

    /// The schema of any object: the built-in kind's, or for other kinds object metadata plus anything.
    public static func schema(for object: Value) -> Schema {
        let gvk = GroupVersionKind(
            apiVersion: object["apiVersion"]?.stringValue ?? "", kind: object["kind"]?.stringValue ?? "")
        return schema(group: gvk.group, kind: gvk.kind) ?? customResource(openAPIV3Schema: nil)
    }
}
