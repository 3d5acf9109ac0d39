/// Namespace: ready while `Active`; in progress while `Terminating` (its objects are being deleted, and nothing
/// can be created in it). kstatus and gitops-engine have no rule (a Namespace is current once applied).
enum NamespaceHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        if object.string("status", "phase") == "Terminating" {
            return .inProgress("Terminating", "namespace is terminating: its objects are being deleted")
        }
        return .current("Active", "namespace is active")
    }
}
