import SyncCore

/// HorizontalPodAutoscaler: reads its conditions in order (`status.conditions`, or for `autoscaling/v1` the JSON
/// list in the `autoscaling.alpha.kubernetes.io/conditions` annotation) and stops at the first that decides:
/// failed when it cannot read its target's scale or a metric (`FailedGetScale`, `FailedGet...Metric`,
/// `InvalidSelector`...), current when it is able to scale (`AbleToScale=True` for any reason but the preliminary
/// `SucceededGetScale`), is limited by its bounds (`ScalingLimited=True`) or has scaling disabled because its
/// target has no replicas; in progress when no condition decides.
///
/// Close to gitops-engine's rule (same verdicts on all of its fixtures); kstatus has no rule (current once applied).
enum HorizontalPodAutoscalerHealth: HealthRule {
    static let conditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions"

    /// (type, reason) pairs that mean the autoscaler cannot do its job.
    static let failures: Set<[String]> = [
        ["AbleToScale", "FailedGetScale"], ["AbleToScale", "FailedUpdateScale"],
        ["ScalingActive", "FailedGetResourceMetric"], ["ScalingActive", "FailedGetObjectMetric"],
        ["ScalingActive", "FailedGetExternalMetric"], ["ScalingActive", "FailedGetPodsMetric"],
        ["ScalingActive", "FailedGetContainerResourceMetric"], ["ScalingActive", "InvalidSelector"],
        ["ScalingActive", "InvalidMetricSourceType"],
    ]

    static func assess(_ object: LiveObject) -> Health {
        var conditions = object.conditions
        if conditions.isEmpty, let text = object.resource.annotations[conditionsAnnotation] {
            guard let list = try? Value(json: text) else {
                return .unknown("UnreadableStatus", "annotation \(conditionsAnnotation) is not a JSON list")
            }
            conditions = LiveObject.conditions(in: list)
        }
        for condition in conditions {
            if failures.contains([condition.type, condition.reason]) {
                return .failed(condition.reason, condition.message.isEmpty ? condition.reason : condition.message)
            }
            let decides =
                (condition.type == "AbleToScale" && condition.isTrue && condition.reason != "SucceededGetScale")
                || (condition.type == "ScalingLimited" && condition.isTrue)
                || (condition.type == "ScalingActive" && condition.reason == "ScalingDisabled")
            if decides {
                return .current(condition.reason.isEmpty ? condition.type : condition.reason, condition.message)
            }
        }
        return .inProgress("WaitingToAutoscale", "waiting for the autoscaler to report it can scale")
    }
}
