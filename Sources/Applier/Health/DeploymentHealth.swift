/// Deployment: paused is suspended; an exceeded progress deadline is failed; otherwise ready once every desired
/// replica is created, updated, available and ready, no old replica is left, and the controller reports the new
/// ReplicaSet available and the Deployment available.
///
/// The replica checks and their order are kstatus's; the paused state is gitops-engine's (a paused Deployment
/// never finishes a rollout, so waiting on it would only time out). Model: kapp's `apps_v1_deployment.go`.
enum DeploymentHealth: HealthRule {
    /// The value kubectl and the controller use for "no progress deadline".
    static let noDeadline = Int64(Int32.max)

    static func assess(_ object: LiveObject) -> Health {
        if object.bool("spec", "paused") == true {
            return .suspended("Paused", "deployment is paused: it rolls nothing out until it is resumed")
        }
        let progressing = object.condition("Progressing")
        if let progressing, progressing.reason == "ProgressDeadlineExceeded" {
            let deadline = object.int("spec", "progressDeadlineSeconds").map { " of \($0)s" } ?? ""
            return .failed(
                "ProgressDeadlineExceeded",
                "rollout exceeded its progress deadline\(deadline)" + detail(": ", progressing.message))
        }

        let desired = object.int("spec", "replicas") ?? 1
        let replicas = object.int("status", "replicas") ?? 0
        let updated = object.int("status", "updatedReplicas") ?? 0
        let ready = object.int("status", "readyReplicas") ?? 0
        let available = object.int("status", "availableReplicas") ?? 0

        if desired > replicas {
            return .inProgress("LessReplicas", "waiting for replicas to be created: \(replicas)/\(desired)")
        }
        if desired > updated {
            return .inProgress("LessUpdated", "waiting for rollout: \(updated)/\(desired) replicas updated")
        }
        if replicas > desired {
            return .inProgress(
                "ExtraPods", "waiting for \(plural(replicas - desired, "old replica")) to terminate")
        }
        if updated > available {
            return .inProgress(
                "LessAvailable", "waiting for \(available)/\(updated) updated replicas to be available")
        }
        if desired > ready {
            return .inProgress("LessReady", "waiting for \(ready)/\(desired) replicas to be ready")
        }
        // Without a deadline the controller never sets Progressing, so there is nothing to wait for there.
        let deadline = object.int("spec", "progressDeadlineSeconds") ?? noDeadline
        if deadline != noDeadline && !(progressing?.isTrue == true && progressing?.reason == "NewReplicaSetAvailable") {
            return .inProgress(
                "ReplicaSetNotAvailable",
                "waiting for the new ReplicaSet to become available" + detail(": ", progressing?.message ?? ""))
        }
        if object.condition("Available")?.isTrue != true {
            return .inProgress("DeploymentNotAvailable", "waiting for the deployment to report it is available")
        }
        return .current("Available", "\(desired)/\(desired) replicas updated, ready and available")
    }
}
