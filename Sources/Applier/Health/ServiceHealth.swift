/// Service: a `LoadBalancer` service is ready once the load balancer has an address
/// (`status.loadBalancer.ingress` is not empty); every other type is ready once it exists.
///
/// gitops-engine's rule. kstatus looks at `spec.clusterIP` instead, which the API server fills in at once, so it
/// never waits for the external address that clients of a load balancer need.
enum ServiceHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        let type = object.string("spec", "type") ?? "ClusterIP"
        guard type == "LoadBalancer" else { return .current("ServiceReady", "\(type) service is ready") }
        let ingress = object.value("status", "loadBalancer", "ingress")?.arrayValue ?? []
        if ingress.isEmpty {
            return .inProgress("NoIPAssigned", "waiting for the load balancer to be given an address")
        }
        let addresses = ingress.compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }
        return .current(
            "LoadBalancerReady",
            "load balancer ready" + detail(" at ", addresses.joined(separator: ", ")))
    }
}
