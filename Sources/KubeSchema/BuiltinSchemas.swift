import SyncCore

/// Schemas of the built-in kinds kubesim serves: declared fields (so strict validation rejects unknown ones), the
/// list-map keys server-side apply uses for `k:{...}` entries, and the merge keys of strategic merge patches.
/// Rarely used sub-objects are modelled loosely (any members) rather than guessed wrong.
enum BuiltinSchemas {
    static let objectMeta = Schema.object([
        "name": .string, "generateName": .string, "namespace": .string, "selfLink": .string, "uid": .string,
        "resourceVersion": .string, "generation": .integer, "creationTimestamp": .anything,
        "deletionTimestamp": .anything, "deletionGracePeriodSeconds": .integer, "labels": .stringMap,
        "annotations": .stringMap, "finalizers": .setList(),
        "ownerReferences": .keyedList(.looseObject, keys: ["uid"]),
        "managedFields": .atomicList(.anything),
    ])

    static let labelSelector = Schema.object(
        ["matchLabels": .stringMap, "matchExpressions": .atomicList(.looseObject)], atomic: true)

    static let probe = Schema.object([
        "exec": .looseObject, "httpGet": .looseObject, "tcpSocket": .looseObject, "grpc": .looseObject,
        "initialDelaySeconds": .integer, "timeoutSeconds": .integer, "periodSeconds": .integer,
        "successThreshold": .integer, "failureThreshold": .integer, "terminationGracePeriodSeconds": .integer,
    ])

    static let containerPort = Schema.object([
        "name": .string, "hostPort": .integer, "containerPort": .integer, "protocol": .string, "hostIP": .string,
    ])

    static let envVar = Schema.object(["name": .string, "value": .string, "valueFrom": .looseObject])

    static let resources = Schema.object([
        "limits": Schema(.object(fields: [:], additional: .intOrString)),
        "requests": Schema(.object(fields: [:], additional: .intOrString)), "claims": .atomicList(.looseObject),
    ])

    static let container = Schema.object([
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

    static let podSpec = Schema.object([
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

    static let podTemplate = Schema.object(["metadata": objectMeta, "spec": podSpec])

    static let looseStatus = Schema.looseObject

    /// A top-level object of `spec` and `status`, with the type meta and object meta.
    static func topLevel(_ fields: [String: Schema]) -> Schema {
        var all: [String: Schema] = ["apiVersion": .string, "kind": .string, "metadata": objectMeta]
        for (name, schema) in fields { all[name] = schema }
        return .object(all)
    }

    static let deployment = topLevel([
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

    static let statefulSet = topLevel([
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

    static let daemonSet = topLevel([
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

    static let servicePort = Schema.object([
        "name": .string, "protocol": .string, "appProtocol": .string, "port": .integer, "targetPort": .intOrString,
        "nodePort": .integer,
    ])

    static let service = topLevel([
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

    static let namespace = topLevel([
        "spec": .object(["finalizers": .setList()]), "status": looseStatus,
    ])

    static let configMap = topLevel(["data": .stringMap, "binaryData": .stringMap, "immutable": .boolean])

    static let secret = topLevel([
        "data": .stringMap, "stringData": .stringMap, "type": .string, "immutable": .boolean,
    ])

    static let serviceAccount = topLevel([
        "secrets": .keyedList(.looseObject, keys: ["name"]),
        "imagePullSecrets": .atomicList(.looseObject), "automountServiceAccountToken": .boolean,
    ])

    static let pod = topLevel(["spec": podSpec, "status": looseStatus])

    static let event: Schema = {
        var fields: [String: Schema] = [:]
        for name in [
            "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
            "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance",
        ] {
            fields[name] = .anything
        }
        return topLevel(fields)
    }()

    static let role = topLevel(["rules": .atomicList(.looseObject)])
    static let clusterRole = topLevel(["rules": .atomicList(.looseObject), "aggregationRule": .looseObject])
    static let roleBinding = topLevel([
        "subjects": .atomicList(.looseObject), "roleRef": Schema.object([:], atomic: true, preserveUnknown: true),
    ])

    static let customResourceDefinition = topLevel([
        "spec": .object([
            "group": .string, "names": .looseObject, "scope": .string,
            "versions": .keyedList(.looseObject, keys: ["name"]), "conversion": .looseObject,
            "preserveUnknownFields": .boolean,
        ]),
        "status": looseStatus,
    ])

    static let lease = topLevel(["spec": .looseObject])
}
