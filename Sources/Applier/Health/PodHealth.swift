import Foundation
import SyncCore

/// Pod: done once it succeeded (current) or failed; failed as soon as a container is stuck in a back-off or an
/// error state (`CrashLoopBackOff`, `ImagePullBackOff`, `ErrImagePull`, `CreateContainerConfigError`...); a running
/// pod that restarts always is ready with its `Ready` condition; one that runs to completion (`restartPolicy: Never`
/// or `OnFailure`) is waited on until it completes, as a Job is; a pending pod that stays unschedulable for
/// ``scheduleWindow`` has failed.
///
/// From gitops-engine (phases, back-off states, run-to-completion pods) and kstatus (crash loops, the
/// unschedulable window, a pod not yet observed). Where they disagree we take the stricter verdict, since a wait
/// step would otherwise pass a pod that will never serve: a `Failed` pod is failed (kstatus: current), and a
/// crash-looping pod is failed whatever its restart policy (gitops-engine keeps `OnFailure` hook pods progressing).
enum PodHealth: HealthRule {
    /// How long a pod may stay unschedulable before that counts as a failure (kstatus's window).
    static let scheduleWindow: TimeInterval = 15

    static func assess(_ object: LiveObject) -> Health {
        let phase = object.string("status", "phase") ?? ""
        switch phase {
        case "Succeeded":
            return .current("PodSucceeded", "pod completed successfully")
        case "Failed":
            return .failed("PodFailed", "pod failed" + detail(": ", failureMessage(object)))
        default:
            break
        }
        if let stuck = stuckContainer(object) { return stuck }

        let restartPolicy = object.string("spec", "restartPolicy") ?? "Always"
        switch phase {
        case "Running":
            if restartPolicy != "Always" {
                return .inProgress(
                    "PodRunning", "waiting for the pod to run to completion (restartPolicy \(restartPolicy))")
            }
            if object.condition("Ready")?.isTrue == true {
                return .current("PodReady", "pod is running and ready")
            }
            if let crashed = terminatedContainer(object) {
                return .failed("ContainerTerminated", crashed)
            }
            return .inProgress("PodRunningNotReady", "waiting for the running pod to become ready")
        case "Pending":
            if let scheduled = object.condition("PodScheduled"), scheduled.isFalse, scheduled.reason == "Unschedulable"
            {
                if let now = object.now {
                    let created = object.date("metadata", "creationTimestamp") ?? .distantPast
                    if now.timeIntervalSince(created) >= scheduleWindow {
                        return .failed("PodUnschedulable", "pod cannot be scheduled" + detail(": ", scheduled.message))
                    }
                }
                return .inProgress(
                    "PodNotScheduled", "waiting for the pod to be scheduled" + detail(": ", scheduled.message))
            }
            return .inProgress(
                "PodPending", "waiting for the pod to start" + detail(": ", object.string("status", "message") ?? ""))
        case "":
            return .inProgress("PodNotObserved", "waiting for the kubelet to report the pod's phase")
        default:
            return .unknown(
                "PodPhase\(phase)", "pod phase is \(phase)" + detail(": ", object.string("status", "message") ?? ""))
        }
    }

    /// Statuses of init containers and containers, in that order.
    private static func containerStatuses(_ object: LiveObject) -> [Value] {
        (object.value("status", "initContainerStatuses")?.arrayValue ?? [])
            + (object.value("status", "containerStatuses")?.arrayValue ?? [])
    }

    /// The first container waiting in a state it will not leave by itself, as a failure.
    private static func stuckContainer(_ object: LiveObject) -> Health? {
        for container in containerStatuses(object) {
            guard let reason = container[path: ["state", "waiting", "reason"]]?.stringValue, isStuck(reason) else {
                continue
            }
            let name = container["name"]?.stringValue ?? "?"
            let message = container[path: ["state", "waiting", "message"]]?.stringValue ?? ""
            return .failed(
                reason == "CrashLoopBackOff" ? "ContainerCrashLooping" : reason,
                "container \(name) is waiting in \(reason)" + detail(": ", message))
        }
        return nil
    }

    /// Waiting reasons that mean "stuck": back-offs and errors (`ErrImagePull`, `CreateContainerConfigError`...).
    static func isStuck(_ reason: String) -> Bool {
        reason.hasSuffix("BackOff") || reason.hasPrefix("Err") || reason.hasSuffix("Error")
            || reason == "InvalidImageName"
    }

    /// A container of an always-restarting pod that has terminated with an error, described.
    private static func terminatedContainer(_ object: LiveObject) -> String? {
        for container in containerStatuses(object) {
            guard let terminated = container[path: ["state", "terminated"]],
                let code = terminated["exitCode"]?.intValue,
                code != 0
            else { continue }
            let name = container["name"]?.stringValue ?? "?"
            let reason = terminated["reason"]?.stringValue ?? ""
            return "container \(name) terminated with exit code \(code)"
                + detail(" ", reason.isEmpty ? "" : "(\(reason))")
        }
        return nil
    }

    /// Why a failed pod failed: its status message, else the first container that terminated with an error.
    private static func failureMessage(_ object: LiveObject) -> String {
        if let message = object.string("status", "message"), !message.isEmpty { return message }
        for container in containerStatuses(object) {
            guard let terminated = container[path: ["state", "terminated"]] else { continue }
            if let message = terminated["message"]?.stringValue, !message.isEmpty { return message }
            if let code = terminated["exitCode"]?.intValue, code != 0 {
                return "container \(container["name"]?.stringValue ?? "?") exited with code \(code)"
            }
            if let reason = terminated["reason"]?.stringValue, reason == "OOMKilled" { return reason }
        }
        return ""
    }
}
