import SyncCore

/// The checks every kind shares, and the rule for kinds with no rule of their own (custom resources, Istio
/// objects, PodDisruptionBudgets...), after kstatus's conventions for status conditions.
enum GenericHealth: HealthRule {
    /// Deletion, a status of the wrong shape, the observed generation, and `Reconciling` / `Stalled`; nil when
    /// none of them decides.
    static func sharedChecks(_ object: LiveObject) -> Health? {
        if let deleted = object.string("metadata", "deletionTimestamp"), !deleted.isEmpty {
            return .inProgress("Terminating", "being deleted (since \(deleted))")
        }
        if let status = object.value("status"), status.objectValue == nil {
            return .unknown("UnreadableStatus", "status is a \(status.typeName), not a mapping")
        }
        if let conditions = object.value("status", "conditions"), conditions.arrayValue == nil {
            return .unknown("UnreadableStatus", "status.conditions is a \(conditions.typeName), not a sequence")
        }
        if let generation = object.generation, let observed = object.observedGeneration, observed != generation {
            return .inProgress(
                "LatestGenerationNotObserved",
                "waiting for the controller to observe generation \(generation) (it has seen \(observed))")
        }
        for condition in object.conditions {
            if condition.type == "Reconciling" && condition.isTrue {
                return .inProgress(
                    condition.reason.isEmpty ? "Reconciling" : condition.reason,
                    "reconciling" + detail(": ", condition.message))
            }
            if condition.type == "Stalled" && condition.isTrue {
                return .failed(
                    condition.reason.isEmpty ? "Stalled" : condition.reason, "stalled" + detail(": ", condition.message)
                )
            }
        }
        return nil
    }

    /// Kinds without a rule: in progress while a `Ready` condition is False, current otherwise.
    static func assess(_ object: LiveObject) -> Health {
        if let ready = object.condition("Ready"), ready.isFalse {
            return .inProgress(
                ready.reason.isEmpty ? "NotReady" : ready.reason, "not ready yet" + detail(": ", ready.message))
        }
        if object.value("status") == nil {
            return .current("NoStatus", "\(object.resource.ref.gvk.groupKind) has no status to wait for")
        }
        return .current("Current", "\(object.resource.ref.gvk.groupKind) reports nothing left to do")
    }
}
