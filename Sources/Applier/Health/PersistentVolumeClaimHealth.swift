/// PersistentVolumeClaim: ready once `Bound`; failed when `Lost` (its volume is gone); waiting otherwise.
/// kstatus's and gitops-engine's rule.
enum PersistentVolumeClaimHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        switch object.string("status", "phase") {
        case "Bound": return .current("Bound", "claim is bound")
        case "Lost": return .failed("ClaimLost", "claim lost its volume")
        case let phase?: return .inProgress("NotBound", "waiting for the claim to be bound (phase \(phase))")
        case nil: return .inProgress("NotBound", "waiting for the claim to be bound")
        }
    }
}
