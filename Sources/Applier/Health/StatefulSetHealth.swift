/// StatefulSet: ready once every desired replica exists and is ready and no extra one is left; then, for a
/// partitioned rolling update, once the pods at or above the partition are updated, and otherwise once every pod is
/// at the current revision and the update revision is the current one.
///
/// kstatus's checks and order. With `updateStrategy: OnDelete` pods change only when someone deletes them, so
/// only existence and readiness are waited for (kstatus stops at the strategy; gitops-engine still waits for
/// readiness, as we do). The controller writes no conditions for StatefulSets, so nothing here can fail.
enum StatefulSetHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        let desired = object.int("spec", "replicas") ?? 1
        let replicas = object.int("status", "replicas") ?? 0
        let ready = object.int("status", "readyReplicas") ?? 0
        let current = object.int("status", "currentReplicas") ?? 0
        let updated = object.int("status", "updatedReplicas") ?? 0

        if desired > replicas {
            return .inProgress("LessReplicas", "waiting for replicas to be created: \(replicas)/\(desired)")
        }
        if desired > ready {
            return .inProgress("LessReady", "waiting for \(ready)/\(desired) replicas to be ready")
        }
        if replicas > desired {
            return .inProgress("ExtraPods", "waiting for \(plural(replicas - desired, "extra pod")) to terminate")
        }
        if object.string("spec", "updateStrategy", "type") == "OnDelete" {
            return .current(
                "OnDelete", "\(desired)/\(desired) replicas ready (OnDelete: pods are updated when deleted)")
        }
        if let partition = object.int("spec", "updateStrategy", "rollingUpdate", "partition") {
            let target = max(desired - partition, 0)
            if updated < target {
                return .inProgress(
                    "PartitionRollout",
                    "waiting for partitioned rollout: \(updated)/\(target) pods from ordinal \(partition) updated")
            }
            return .current("PartitionRolledOut", "partitioned rollout done: \(updated) pods updated")
        }
        if desired > current {
            return .inProgress("LessCurrent", "waiting for \(current)/\(desired) pods to reach the current revision")
        }
        let currentRevision = object.string("status", "currentRevision") ?? ""
        let updateRevision = object.string("status", "updateRevision") ?? ""
        if currentRevision != updateRevision {
            return .inProgress(
                "RevisionMismatch",
                "waiting for rolling update to revision \(updateRevision) (pods at \(currentRevision))")
        }
        return .current("Ready", "\(desired)/\(desired) replicas ready at the current revision")
    }
}
