/// DaemonSet: ready once the controller has observed it and every node that should run a pod runs one that is
/// scheduled, updated, available and ready.
///
/// kstatus's checks and order. With `updateStrategy: OnDelete` pods change only when someone deletes them, so the
/// updated count is not waited for (gitops-engine does the same). kstatus also insists on `metadata.generation`,
/// which every object read from a server has; we only insist on `status.observedGeneration`.
enum DaemonSetHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        if object.observedGeneration == nil {
            return .inProgress("NoObservedGeneration", "waiting for the controller to observe the daemon set")
        }
        guard let desired = object.int("status", "desiredNumberScheduled") else {
            return .inProgress("NoDesiredNumber", "waiting for the controller to count the nodes to run on")
        }
        let scheduled = object.int("status", "currentNumberScheduled") ?? 0
        let updated = object.int("status", "updatedNumberScheduled") ?? 0
        let available = object.int("status", "numberAvailable") ?? 0
        let ready = object.int("status", "numberReady") ?? 0
        let onDelete = object.string("spec", "updateStrategy", "type") == "OnDelete"

        if desired > scheduled {
            return .inProgress("LessCurrent", "waiting for pods to be scheduled: \(scheduled)/\(desired) nodes")
        }
        if !onDelete && desired > updated {
            return .inProgress("LessUpdated", "waiting for rollout: \(updated)/\(desired) pods updated")
        }
        if desired > available {
            return .inProgress("LessAvailable", "waiting for \(available)/\(desired) pods to be available")
        }
        if desired > ready {
            return .inProgress("LessReady", "waiting for \(ready)/\(desired) pods to be ready")
        }
        return .current("Ready", "\(desired)/\(desired) pods scheduled, available and ready")
    }
}
