import SyncCore

/// Fills in defaults as the real API server's defaulters do (k8s.io/kubernetes/pkg/apis/*/v1/defaults.go), for the
/// built-in kinds modelled here. Only absent fields are set. Custom resources have no defaulting here (their CRD's
/// `default:` values are not modelled).
public enum Defaulting {
    /// Defaults a built-in object of this group and kind; other kinds are left as they are.
    public static func apply(_ object: inout Value, group: String, kind: String) {
        switch (group, kind) {
        case ("apps", "Deployment"), ("extensions", "Deployment"): deployment(&object)
        case ("apps", "StatefulSet"): statefulSet(&object)
        case ("apps", "DaemonSet"): daemonSet(&object)
        case ("", "Service"): service(&object)
        case ("", "Namespace"): namespace(&object)
        case ("", "Secret"): secret(&object)
        case ("", "Pod"):
            if var spec = object["spec"] {
                podSpec(&spec, isPod: true)
                object["spec"] = spec
            }
        default: break
        }
    }

    /// Sets `object[key]` when absent.
    private static func setDefault(_ object: inout Value, _ key: String, _ value: Value) {
        if object[key] == nil || object[key]?.isNull == true { object[key] = value }
    }

    /// Defaults of a Deployment.
    public static func deployment(_ object: inout Value) {
        var spec = object["spec"] ?? .emptyObject
        setDefault(&spec, "replicas", 1)
        var strategy = spec["strategy"] ?? .emptyObject
        setDefault(&strategy, "type", "RollingUpdate")
        if strategy["type"]?.stringValue == "RollingUpdate" {
            var rolling = strategy["rollingUpdate"] ?? .emptyObject
            setDefault(&rolling, "maxUnavailable", "25%")
            setDefault(&rolling, "maxSurge", "25%")
            strategy["rollingUpdate"] = rolling
        }
        spec["strategy"] = strategy
        setDefault(&spec, "revisionHistoryLimit", 10)
        setDefault(&spec, "progressDeadlineSeconds", 600)
        template(&spec)
        object["spec"] = spec
    }

    /// Defaults of a StatefulSet.
    public static func statefulSet(_ object: inout Value) {
        var spec = object["spec"] ?? .emptyObject
        setDefault(&spec, "replicas", 1)
        setDefault(&spec, "podManagementPolicy", "OrderedReady")
        var strategy = spec["updateStrategy"] ?? .emptyObject
        setDefault(&strategy, "type", "RollingUpdate")
        if strategy["type"]?.stringValue == "RollingUpdate" {
            var rolling = strategy["rollingUpdate"] ?? .emptyObject
            setDefault(&rolling, "partition", 0)
            strategy["rollingUpdate"] = rolling
        }
        spec["updateStrategy"] = strategy
        setDefault(&spec, "revisionHistoryLimit", 10)
        setDefault(
            &spec, "persistentVolumeClaimRetentionPolicy", ["whenDeleted": "Retain", "whenScaled": "Retain"])
        template(&spec)
        object["spec"] = spec
    }

    /// Defaults of a DaemonSet.
    public static func daemonSet(_ object: inout Value) {
        var spec = object["spec"] ?? .emptyObject
        var strategy = spec["updateStrategy"] ?? .emptyObject
        setDefault(&strategy, "type", "RollingUpdate")
        if strategy["type"]?.stringValue == "RollingUpdate" {
            var rolling = strategy["rollingUpdate"] ?? .emptyObject
            setDefault(&rolling, "maxUnavailable", 1)
            setDefault(&rolling, "maxSurge", 0)
            strategy["rollingUpdate"] = rolling
        }
        spec["updateStrategy"] = strategy
        setDefault(&spec, "revisionHistoryLimit", 10)
        template(&spec)
        object["spec"] = spec
    }

    private static func template(_ spec: inout Value) {
        var template = spec["template"] ?? .emptyObject
        var podSpec = template["spec"] ?? .emptyObject
        self.podSpec(&podSpec, isPod: false)
        template["spec"] = podSpec
        spec["template"] = template
    }

    /// Defaults of a pod spec (a Pod's or a workload template's).
    public static func podSpec(_ spec: inout Value, isPod: Bool) {
        setDefault(&spec, "restartPolicy", "Always")
        setDefault(&spec, "terminationGracePeriodSeconds", 30)
        setDefault(&spec, "dnsPolicy", "ClusterFirst")
        setDefault(&spec, "securityContext", .emptyObject)
        setDefault(&spec, "schedulerName", "default-scheduler")
        if let account = spec["serviceAccountName"], spec["serviceAccount"] == nil { spec["serviceAccount"] = account }
        if isPod {
            setDefault(&spec, "enableServiceLinks", true)
            setDefault(&spec, "preemptionPolicy", "PreemptLowerPriority")
            setDefault(&spec, "priority", 0)
            if spec["serviceAccountName"] == nil {
                spec["serviceAccountName"] = "default"
                spec["serviceAccount"] = "default"
            }
        }
        for list in ["containers", "initContainers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for index in containers.indices { container(&containers[index]) }
            spec[list] = .array(containers)
        }
        if var volumes = spec["volumes"]?.arrayValue {
            for index in volumes.indices {
                for source in ["configMap", "secret", "downwardAPI", "projected"] {
                    if var volume = volumes[index][source], volume.objectValue != nil {
                        setDefault(&volume, "defaultMode", 420)
                        volumes[index][source] = volume
                    }
                }
                // A projected service account token lives an hour unless it says otherwise.
                if var sources = volumes[index][path: ["projected", "sources"]]?.arrayValue {
                    for item in sources.indices {
                        guard var token = sources[item]["serviceAccountToken"], token.objectValue != nil else {
                            continue
                        }
                        setDefault(&token, "expirationSeconds", 3600)
                        sources[item]["serviceAccountToken"] = token
                    }
                    volumes[index]["projected"]?["sources"] = .array(sources)
                }
            }
            spec["volumes"] = .array(volumes)
        }
    }

    /// Defaults of one container.
    public static func container(_ container: inout Value) {
        setDefault(&container, "terminationMessagePath", "/dev/termination-log")
        setDefault(&container, "terminationMessagePolicy", "File")
        setDefault(&container, "resources", .emptyObject)
        if container["imagePullPolicy"] == nil, let image = container["image"]?.stringValue {
            container["imagePullPolicy"] = .string(imagePullPolicy(image))
        }
        if var ports = container["ports"]?.arrayValue {
            for index in ports.indices { setDefault(&ports[index], "protocol", "TCP") }
            container["ports"] = .array(ports)
        }
        if var env = container["env"]?.arrayValue {
            for index in env.indices {
                if var fieldRef = env[index][path: ["valueFrom", "fieldRef"]], fieldRef.objectValue != nil {
                    setDefault(&fieldRef, "apiVersion", "v1")
                    env[index]["valueFrom"]?["fieldRef"] = fieldRef
                }
            }
            container["env"] = .array(env)
        }
        for name in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard var probe = container[name], probe.objectValue != nil else { continue }
            setDefault(&probe, "timeoutSeconds", 1)
            setDefault(&probe, "periodSeconds", 10)
            setDefault(&probe, "successThreshold", 1)
            setDefault(&probe, "failureThreshold", 3)
            httpGet(&probe)
            container[name] = probe
        }
        for hook in ["postStart", "preStop"] {
            guard var handler = container[path: ["lifecycle", hook]], handler.objectValue != nil else { continue }
            httpGet(&handler)
            container["lifecycle"]?[hook] = handler
        }
    }

    /// An HTTP probe or hook's `path` ("/") and `scheme` ("HTTP"), as `SetDefaults_HTTPGetAction` does.
    private static func httpGet(_ handler: inout Value) {
        guard var http = handler["httpGet"], http.objectValue != nil else { return }
        if http["path"]?.stringValue?.isEmpty ?? true { http["path"] = "/" }
        setDefault(&http, "scheme", "HTTP")
        handler["httpGet"] = http
    }

    /// `Always` for `:latest` or untagged images, else `IfNotPresent` (digests count as tags).
    public static func imagePullPolicy(_ image: String) -> String {
        if image.contains("@") { return "IfNotPresent" }
        let lastPart = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastPart.lastIndex(of: ":") else { return "Always" }
        return lastPart[lastPart.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    /// Defaults of a Service.
    public static func service(_ object: inout Value) {
        var spec = object["spec"] ?? .emptyObject
        setDefault(&spec, "type", "ClusterIP")
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        setDefault(&spec, "sessionAffinity", "None")
        if spec["sessionAffinity"]?.stringValue == "ClientIP"
            && spec[path: ["sessionAffinityConfig", "clientIP", "timeoutSeconds"]] == nil
        {
            // Three hours, the real server's DefaultClientIPServiceAffinitySeconds.
            spec["sessionAffinityConfig"] = ["clientIP": ["timeoutSeconds": 10800]]
        }
        if type != "ExternalName" {
            setDefault(&spec, "internalTrafficPolicy", "Cluster")
        }
        if type == "NodePort" || type == "LoadBalancer" { setDefault(&spec, "externalTrafficPolicy", "Cluster") }
        if type == "LoadBalancer" { setDefault(&spec, "allocateLoadBalancerNodePorts", true) }
        if var ports = spec["ports"]?.arrayValue {
            for index in ports.indices {
                setDefault(&ports[index], "protocol", "TCP")
                if ports[index]["targetPort"] == nil, let port = ports[index]["port"] {
                    ports[index]["targetPort"] = port
                }
            }
            spec["ports"] = .array(ports)
        }
        object["spec"] = spec
    }

    /// Defaults of a Namespace.
    public static func namespace(_ object: inout Value) {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        var labels = object[path: ["metadata", "labels"]] ?? .emptyObject
        labels["kubernetes.io/metadata.name"] = .string(name)
        object["metadata"]?["labels"] = labels
        var spec = object["spec"] ?? .emptyObject
        setDefault(&spec, "finalizers", ["kubernetes"])
        object["spec"] = spec
        var status = object["status"] ?? .emptyObject
        setDefault(&status, "phase", "Active")
        object["status"] = status
    }

    /// Defaults of a Secret.
    public static func secret(_ object: inout Value) {
        setDefault(&object, "type", "Opaque")
        // stringData is write-only: merged into data, base64-encoded.
        if let stringData = object["stringData"]?.objectValue {
            var data = object["data"] ?? .emptyObject
            for (key, value) in stringData {
                data[key] = .string(base64Encode(Array((value.stringValue ?? "").utf8)))
            }
            object["data"] = data
            object["stringData"] = nil
        }
    }
}

/// Standard base64 with padding.
func base64Encode(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index + 2 < bytes.count {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
        out += [
            alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)],
        ]
        index += 3
    }
    let rest = bytes.count - index
    if rest == 1 {
        let n = UInt32(bytes[index]) << 16
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
    } else if rest == 2 {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
        out += [
            alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "="),
        ]
    }
    return String(decoding: out, as: UTF8.self)
}
