import SyncCore

/// An object placed in a plan: its wave and its rank within the wave.
struct PlannedObject {
    var resource: Resource
    var wave: Int
    var rank: Int

    init(_ resource: Resource, wave: Int) {
        self.resource = resource
        self.wave = wave
        self.rank = ApplyOrder.rank(resource.ref)
    }

    var ref: ObjectRef { resource.ref }
    var key: ObjectKey { resource.key }

    /// Plan order: wave, then kind, then identity.
    static func inPlanOrder(_ a: PlannedObject, _ b: PlannedObject) -> Bool {
        (a.wave, a.rank) != (b.wave, b.rank) ? (a.wave, a.rank) < (b.wave, b.rank) : a.key < b.key
    }
}

/// The dependencies that waves could break: the kind order puts them right within a wave, but a lower wave on the
/// dependent object would apply it first.
///
/// - a custom resource needs the CustomResourceDefinition of its kind;
/// - a VirtualService needs the DestinationRules of the hosts it routes to (their subsets, their TLS settings) and
///   the Gateways it binds (make-before-break: the route comes last).
enum PlanDependencies {
    /// Every object that a desired object needs and that is desired in a later wave, as errors.
    static func conflicts(in objects: [PlannedObject]) -> [PlanError] {
        var definitions: [String: PlannedObject] = [:]
        var rulesByHost: [String: [PlannedObject]] = [:]
        var gateways: [ObjectKey: PlannedObject] = [:]
        for object in objects {
            if let crd = CustomResourceDefinitionView(object.resource), !crd.group.isEmpty, !crd.kind.isEmpty {
                definitions["\(crd.kind).\(crd.group)"] = object
            } else if let rule = DestinationRuleView(object.resource), !rule.host.isEmpty {
                rulesByHost[fullHost(rule.host, namespace: object.ref.namespace), default: []].append(object)
            } else if GatewayView(object.resource) != nil {
                gateways[object.key] = object
            }
        }

        var errors: [PlanError] = []
        func check(_ object: PlannedObject, needs other: PlannedObject, _ because: String) {
            guard other.wave > object.wave else { return }
            errors.append(
                .orderConflict(
                    object.ref, source: object.resource.source, wave: object.wave, needs: other.ref,
                    neededWave: other.wave, because: because))
        }
        for object in objects {
            if let definition = definitions["\(object.ref.kind).\(object.ref.group)"] {
                check(object, needs: definition, "is a custom resource defined by")
            }
            guard object.ref.group == "networking.istio.io", object.ref.kind == "VirtualService" else { continue }
            let namespace = object.ref.namespace
            for host in Set(destinationHosts(object.resource).map { fullHost($0, namespace: namespace) }).sorted() {
                for rule in rulesByHost[host] ?? [] { check(object, needs: rule, "routes to \(host), configured by") }
            }
            for name in VirtualServiceView(object.resource)?.gateways ?? [] where name != "mesh" {
                let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
                let key = ObjectKey(
                    group: "networking.istio.io", kind: "Gateway", namespace: parts.count == 2 ? parts[0] : namespace,
                    name: parts.count == 2 ? parts[1] : name)
                if let gateway = gateways[key] { check(object, needs: gateway, "binds") }
            }
        }
        return errors
    }

    /// The hosts of every destination of a VirtualService's HTTP, TLS and TCP routes.
    static func destinationHosts(_ resource: Resource) -> [String] {
        var hosts: [String] = []
        for protocolName in ["http", "tls", "tcp"] {
            for route in resource.body[path: ["spec", protocolName]]?.arrayValue ?? [] {
                for destination in route["route"]?.arrayValue ?? [] {
                    if let host = destination[path: ["destination", "host"]]?.stringValue { hosts.append(host) }
                }
            }
        }
        return hosts
    }

    /// A host as Istio resolves it: a short name (no dot) is a service in the rule's own namespace.
    static func fullHost(_ host: String, namespace: String) -> String {
        guard !host.contains("."), !host.contains("*"), !namespace.isEmpty else { return host }
        return "\(host).\(namespace).svc.cluster.local"
    }
}
