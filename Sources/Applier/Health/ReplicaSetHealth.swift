/// ReplicaSet: ready once every desired replica is labelled, available and ready and no extra one is left.
///
/// kstatus's checks and order; a `ReplicaFailure=True` condition (quota exceeded, say) is in progress, as kstatus
/// has it, since the controller keeps retrying (the owning Deployment's progress deadline turns it into a failure).
enum ReplicaSetHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        if let failure = object.condition("ReplicaFailure"), failure.isTrue {
            return .inProgress("ReplicaFailure", "replicas cannot be created" + detail(": ", failure.message))
        }
        let desired = object.int("spec", "replicas") ?? 1
        let replicas = object.int("status", "replicas") ?? 0
        let labelled = object.int("status", "fullyLabeledReplicas") ?? 0
        let available = object.int("status", "availableReplicas") ?? 0
        let ready = object.int("status", "readyReplicas") ?? 0

        if desired > labelled {
            return .inProgress("LessLabelled", "waiting for \(labelled)/\(desired) replicas to be labelled")
        }
        if desired > available {
            return .inProgress("LessAvailable", "waiting for \(available)/\(desired) replicas to be available")
        }
        if desired > ready {
            return .inProgress("LessReady", "waiting for \(ready)/\(desired) replicas to be ready")
        }
        if replicas > desired {
            return .inProgress("ExtraPods", "waiting for \(plural(replicas - desired, "extra pod")) to terminate")
        }
        return .current("Available", "\(desired)/\(desired) replicas available and ready")
    }
}
