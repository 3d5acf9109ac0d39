/// Job: current once `Complete`, failed once `Failed`, suspended when both `spec.suspend` and the `Suspended`
/// condition say so; otherwise waited on until it completes.
///
/// A sync waits for a Job to finish (a migration before the workloads that need it), as gitops-engine and kapp do.
/// kstatus instead calls a started Job current, since its controller has caught up; that is the one place where we
/// read a Job differently. A Job on its way into or out of suspension (spec and condition disagree) is in progress,
/// as kstatus has it.
enum JobHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        let completions = object.int("spec", "completions") ?? object.int("spec", "parallelism") ?? 1
        let succeeded = object.int("status", "succeeded") ?? 0
        let failed = object.int("status", "failed") ?? 0
        let active = object.int("status", "active") ?? 0

        if let failure = object.condition("Failed"), failure.isTrue {
            return .failed(
                "JobFailed",
                "job failed (\(failed) failed, \(succeeded)/\(completions) succeeded)" + detail(": ", failure.message))
        }
        if let complete = object.condition("Complete"), complete.isTrue {
            return .current("JobComplete", "job completed: \(succeeded)/\(completions) succeeded")
        }
        let suspend = object.bool("spec", "suspend") ?? false
        let suspended = object.condition("Suspended")
        switch (suspend, suspended?.isTrue == true) {
        case (true, true):
            let message = suspended?.message ?? ""
            return .suspended("JobSuspended", message.isEmpty ? "job is suspended" : message)
        case (true, false):
            return .inProgress("Suspending", "waiting for the job to be suspended")
        case (false, true):
            return .inProgress("Resuming", "waiting for the suspended job to resume")
        case (false, false):
            break
        }
        if object.string("status", "startTime") == nil {
            return .inProgress("JobNotStarted", "waiting for the job to start")
        }
        return .inProgress(
            "JobRunning",
            "waiting for the job to complete: \(succeeded)/\(completions) succeeded, \(active) active, \(failed) failed"
        )
    }
}
