/// Ingress: ready once the ingress controller has given it an address (`status.loadBalancer.ingress` is not
/// empty). gitops-engine's rule; kstatus has none (an Ingress is current once applied).
enum IngressHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        let ingress = object.value("status", "loadBalancer", "ingress")?.arrayValue ?? []
        if ingress.isEmpty {
            return .inProgress("NoAddressAssigned", "waiting for the ingress controller to assign an address")
        }
        let addresses = ingress.compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }
        return .current("AddressAssigned", "ingress ready" + detail(" at ", addresses.joined(separator: ", ")))
    }
}
