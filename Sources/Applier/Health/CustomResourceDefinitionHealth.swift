/// CustomResourceDefinition: current once `Established` (the API server serves the new kind); failed when its
/// names are rejected (`NamesAccepted=False`, e.g. a plural another CRD already uses) or establishing failed for
/// any reason but `Installing`; in progress otherwise. kstatus's rule; the sync waits for it before applying
/// objects of the new kind.
enum CustomResourceDefinitionHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        for condition in object.conditions {
            if condition.type == "NamesAccepted" && condition.isFalse {
                return .failed(
                    condition.reason.isEmpty ? "NamesNotAccepted" : condition.reason,
                    "names not accepted" + detail(": ", condition.message))
            }
            if condition.type == "Established" {
                if condition.isFalse && condition.reason != "Installing" {
                    return .failed(
                        condition.reason.isEmpty ? "NotEstablished" : condition.reason,
                        "not established" + detail(": ", condition.message))
                }
                if condition.isTrue { return .current("Established", "established: the API server serves the kind") }
            }
        }
        return .inProgress("Installing", "waiting for the API server to establish the kind")
    }
}
