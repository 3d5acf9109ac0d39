// Typed views: small read-only structs over a `Resource` for the kinds that ordering, health and gates look into.
// Each `init?(_:)` checks group and kind and returns nil for anything else; fields absent from the object read
// as empty or nil, never as an error (validation is the server's job, these only read).

/// A core `v1` `Namespace`.
public struct NamespaceView: Sendable, Hashable {
    /// `metadata.name`.
    public var name: String
    /// `metadata.labels`.
    public var labels: [String: String]

    /// The view of a Namespace; nil for any other kind.
    public init?(_ resource: Resource) {
        guard resource.ref.group.isEmpty, resource.kind == "Namespace" else { return nil }
        name = resource.name
        labels = resource.labels
    }
}

/// An `apiextensions.k8s.io` `CustomResourceDefinition`: the kind it adds and how it is served.
public struct CustomResourceDefinitionView: Sendable, Hashable {
    /// One served version of the custom kind.
    public struct Version: Sendable, Hashable {
        /// E.g. `v1`.
        public var name: String
        /// Whether the API server serves this version.
        public var served: Bool
        /// Exactly one version is stored in etcd.
        public var storage: Bool
    }

    /// `spec.group`, e.g. `networking.istio.io`.
    public var group: String
    /// `spec.names.kind`, e.g. `VirtualService`.
    public var kind: String
    /// `spec.names.plural`, e.g. `virtualservices`.
    public var plural: String
    /// `Namespaced` or `Cluster`.
    public var scope: String
    /// `spec.versions`, in order.
    public var versions: [Version]

    /// The view of a CRD; nil for any other kind.
    public init?(_ resource: Resource) {
        guard resource.ref.group == "apiextensions.k8s.io", resource.kind == "CustomResourceDefinition" else {
            return nil
        }
        let spec = resource.body["spec"]
        group = spec?["group"]?.stringValue ?? ""
        kind = spec?[path: ["names", "kind"]]?.stringValue ?? ""
        plural = spec?[path: ["names", "plural"]]?.stringValue ?? ""
        scope = spec?["scope"]?.stringValue ?? ""
        versions = (spec?["versions"]?.arrayValue ?? []).map {
            Version(
                name: $0["name"]?.stringValue ?? "", served: $0["served"]?.boolValue ?? false,
                storage: $0["storage"]?.boolValue ?? false)
        }
    }

    /// The version marked `storage: true`, if any.
    public var storageVersion: String? { versions.first(where: \.storage)?.name }

    /// The group and kind this CRD defines, for ordering CRDs before their objects.
    public var definedKind: GroupVersionKind? {
        guard let version = versions.first(where: \.served)?.name else { return nil }
        return GroupVersionKind(group: group, version: version, kind: kind)
    }
}

/// A container's name and image.
public struct ContainerView: Sendable, Hashable {
    /// The container's name.
    public var name: String
    /// The image reference, tag or digest included.
    public var image: String

    /// A container from its name and image.
    public init(name: String, image: String) {
        self.name = name
        self.image = image
    }
}

/// An `apps` `Deployment`, `StatefulSet` or `DaemonSet`: what rollout health and gates read.
public struct WorkloadView: Sendable, Hashable {
    /// `Deployment`, `StatefulSet` or `DaemonSet`.
    public var kind: String
    /// `spec.replicas`; nil when unset (the server defaults it to 1) and always for a DaemonSet.
    public var replicas: Int64?
    /// `spec.selector.matchLabels`.
    public var selector: [String: String]
    /// `spec.template.metadata.annotations` (e.g. `sidecar.istio.io/inject`).
    public var podAnnotations: [String: String]
    /// `spec.template.metadata.labels`.
    public var podLabels: [String: String]
    /// `spec.template.spec.containers`, in order (init containers left out).
    public var containers: [ContainerView]

    /// The view of an apps workload; nil for any other kind.
    public init?(_ resource: Resource) {
        guard resource.ref.group == "apps" || resource.ref.group == "extensions",
            ["Deployment", "StatefulSet", "DaemonSet"].contains(resource.kind)
        else { return nil }
        let spec = resource.body["spec"]
        kind = resource.kind
        replicas = resource.kind == "DaemonSet" ? nil : spec?["replicas"]?.intValue
        selector = spec?[path: ["selector", "matchLabels"]]?.stringMap ?? [:]
        podAnnotations = spec?[path: ["template", "metadata", "annotations"]]?.stringMap ?? [:]
        podLabels = spec?[path: ["template", "metadata", "labels"]]?.stringMap ?? [:]
        containers = (spec?[path: ["template", "spec", "containers"]]?.arrayValue ?? []).map {
            ContainerView(name: $0["name"]?.stringValue ?? "", image: $0["image"]?.stringValue ?? "")
        }
    }
}

/// A core `v1` `Service`.
public struct ServiceView: Sendable, Hashable {
    /// One port of the service.
    public struct Port: Sendable, Hashable {
        /// The port's name, needed when there are several.
        public var name: String?
        /// The port the service listens on.
        public var port: Int64?
        /// A number or a named container port, as written.
        public var targetPort: Value?
        /// `TCP` when unset.
        public var `protocol`: String
        /// The port on every node, for NodePort and LoadBalancer services.
        public var nodePort: Int64?
    }

    /// `ClusterIP` when unset.
    public var type: String
    /// `spec.ports`, in order.
    public var ports: [Port]
    /// `spec.selector`: the labels of the pods it sends traffic to.
    public var selector: [String: String]

    /// The view of a Service; nil for any other kind.
    public init?(_ resource: Resource) {
        guard resource.ref.group.isEmpty, resource.kind == "Service" else { return nil }
        let spec = resource.body["spec"]
        type = spec?["type"]?.stringValue ?? "ClusterIP"
        selector = spec?["selector"]?.stringMap ?? [:]
        ports = (spec?["ports"]?.arrayValue ?? []).map {
            Port(
                name: $0["name"]?.stringValue, port: $0["port"]?.intValue, targetPort: $0["targetPort"],
                protocol: $0["protocol"]?.stringValue ?? "TCP", nodePort: $0["nodePort"]?.intValue)
        }
    }
}

/// An Istio `networking.istio.io` `VirtualService`: where HTTP traffic for some hosts goes.
public struct VirtualServiceView: Sendable, Hashable {
    /// One weighted destination of a route.
    public struct Destination: Sendable, Hashable {
        /// The service it sends to, e.g. `reviews`.
        public var host: String
        /// The DestinationRule subset, e.g. `v2`.
        public var subset: String?
        /// `destination.port.number`.
        public var port: Int64?
        /// Percent of the route's traffic; nil when the route has a single destination.
        public var weight: Int64?
    }

    /// `retries` of an HTTP route.
    public struct Retries: Sendable, Hashable {
        /// How many times to retry.
        public var attempts: Int64?
        /// Timeout of each attempt, e.g. `2s`.
        public var perTryTimeout: String?
        /// Conditions that retry, e.g. `5xx,reset`.
        public var retryOn: String?
    }

    /// One entry of `spec.http`.
    public struct HTTPRoute: Sendable, Hashable {
        /// The route's name, when it has one.
        public var name: String?
        /// `route`: where matching traffic goes, in order.
        public var destinations: [Destination]
        /// `retries`, when set.
        public var retries: Retries?
        /// E.g. `10s`.
        public var timeout: String?
        /// Whether the route has `match` conditions (a header or URI rule) or catches everything.
        public var hasMatch: Bool
    }

    /// `spec.hosts`: the hosts whose traffic it routes.
    public var hosts: [String]
    /// `spec.gateways`: empty means the mesh's sidecars only.
    public var gateways: [String]
    /// `spec.http`: routes, first match wins.
    public var http: [HTTPRoute]

    /// The view of a VirtualService; nil for any other kind.
    public init?(_ resource: Resource) {
        guard resource.ref.group == "networking.istio.io", resource.kind == "VirtualService" else { return nil }
        let spec = resource.body["spec"]
        hosts = (spec?["hosts"]?.arrayValue ?? []).compactMap(\.stringValue)
        gateways = (spec?["gateways"]?.arrayValue ?? []).compactMap(\.stringValue)
        http = (spec?["http"]?.arrayValue ?? []).map { route in
            let retries = route["retries"].map {
                Retries(
                    attempts: $0["attempts"]?.intValue, perTryTimeout: $0["perTryTimeout"]?.stringValue,
                    retryOn: $0["retryOn"]?.stringValue)
            }
            let destinations = (route["route"]?.arrayValue ?? []).map {
                Destination(
                    host: $0[path: ["destination", "host"]]?.stringValue ?? "",
                    subset: $0[path: ["destination", "subset"]]?.stringValue,
                    port: $0[path: ["destination", "port", "number"]]?.intValue, weight: $0["weight"]?.intValue)
            }
            return HTTPRoute(
                name: route["name"]?.stringValue, destinations: destinations, retries: retries,
                timeout: route["timeout"]?.stringValue, hasMatch: !(route["match"]?.arrayValue ?? []).isEmpty)
        }
    }
}

/// An Istio `networking.istio.io` `DestinationRule`: the subsets a host's traffic can be split into.
public struct DestinationRuleView: Sendable, Hashable {
    /// A named subset and the pod labels that select it.
    public struct Subset: Sendable, Hashable {
        /// The subset's name, as VirtualService destinations name it.
        public var name: String
        /// The pod labels that select the subset.
        public var labels: [String: String]
        /// Whether the subset has its own traffic policy.
        public var hasTrafficPolicy: Bool
    }

    /// `spec.host`: the service it applies to.
    public var host: String
    /// `spec.subsets`, in order.
    public var subsets: [Subset]
    /// Whether `spec.trafficPolicy` is set (TLS mode, load balancer, connection pool, outlier detection).
    public var hasTrafficPolicy: Bool

    /// The view of a DestinationRule; nil for any other kind.
    public init?(_ resource: Resource) {
        guard resource.ref.group == "networking.istio.io", resource.kind == "DestinationRule" else { return nil }
        let spec = resource.body["spec"]
        host = spec?["host"]?.stringValue ?? ""
        hasTrafficPolicy = spec?["trafficPolicy"].map { !$0.isNull } ?? false
        subsets = (spec?["subsets"]?.arrayValue ?? []).map {
            Subset(
                name: $0["name"]?.stringValue ?? "", labels: $0["labels"]?.stringMap ?? [:],
                hasTrafficPolicy: $0["trafficPolicy"].map { !$0.isNull } ?? false)
        }
    }
}

/// An Istio `networking.istio.io` `Gateway` (not the Kubernetes Gateway API kind of the same name).
public struct GatewayView: Sendable, Hashable {
    /// One listener of the gateway.
    public struct Server: Sendable, Hashable {
        /// `port.number`.
        public var portNumber: Int64?
        /// `port.name`.
        public var portName: String?
        /// `HTTP`, `HTTPS`, `GRPC`, `TCP`, `TLS`, …
        public var `protocol`: String?
        /// `hosts` this server accepts.
        public var hosts: [String]
        /// `tls.mode` (`SIMPLE`, `MUTUAL`, `PASSTHROUGH`, …) when TLS is configured.
        public var tlsMode: String?
    }

    /// Labels of the gateway pods this applies to, e.g. `istio: ingressgateway`.
    public var selector: [String: String]
    /// `spec.servers`, in order.
    public var servers: [Server]

    /// The view of an Istio Gateway; nil for any other kind.
    public init?(_ resource: Resource) {
        guard resource.ref.group == "networking.istio.io", resource.kind == "Gateway" else { return nil }
        let spec = resource.body["spec"]
        selector = spec?["selector"]?.stringMap ?? [:]
        servers = (spec?["servers"]?.arrayValue ?? []).map {
            Server(
                portNumber: $0[path: ["port", "number"]]?.intValue, portName: $0[path: ["port", "name"]]?.stringValue,
                protocol: $0[path: ["port", "protocol"]]?.stringValue,
                hosts: ($0["hosts"]?.arrayValue ?? []).compactMap(\.stringValue),
                tlsMode: $0[path: ["tls", "mode"]]?.stringValue)
        }
    }
}
