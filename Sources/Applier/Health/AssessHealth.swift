import Foundation
import SyncCore

/// A rule that judges one kind's readiness from its live object. One type per kind, one file each.
protocol HealthRule {
    /// The object's health, after the checks every kind shares (deletion, observed generation, kstatus's
    /// `Reconciling` / `Stalled` conditions) found nothing to say.
    static func assess(_ object: LiveObject) -> Health
}

/// How ready a live object is: the rules of its kind, after the checks every kind shares.
///
/// Pure: reads `live` (as the API server returned it, status included) and nothing else. `now` is the time of the
/// assessment, used only by rules that give a controller a grace period (a pod is unschedulable once it has stayed
/// unscheduled for 15 s); without it those rules wait rather than fail.
///
/// The shared checks come first, in kstatus's order: an object being deleted is in progress (`Terminating`); one
/// whose `status.observedGeneration` is behind `metadata.generation` is in progress
/// (`LatestGenerationNotObserved`); a `Reconciling=True` condition means in progress and `Stalled=True` failed.
/// Then the kind's rule (``HealthRule``); kinds without one are current unless a `Ready=False` condition says
/// otherwise, so a custom resource or an Istio object with no status is ready once applied.
public func assessHealth(_ live: Resource, now: Date? = nil) -> Health {
    let object = LiveObject(resource: live, now: now)
    if let shared = GenericHealth.sharedChecks(object) { return shared }
    return rule(for: live.ref)?.assess(object) ?? GenericHealth.assess(object)
}

/// The rule for a group and kind, or nil for kinds judged by the generic conditions alone.
private func rule(for ref: ObjectRef) -> (any HealthRule.Type)? {
    switch (ref.group, ref.kind) {
    case ("apps", "Deployment"), ("extensions", "Deployment"): return DeploymentHealth.self
    case ("apps", "StatefulSet"): return StatefulSetHealth.self
    case ("apps", "DaemonSet"), ("extensions", "DaemonSet"): return DaemonSetHealth.self
    case ("apps", "ReplicaSet"), ("extensions", "ReplicaSet"): return ReplicaSetHealth.self
    case ("", "Pod"): return PodHealth.self
    case ("", "Service"): return ServiceHealth.self
    case ("", "PersistentVolumeClaim"): return PersistentVolumeClaimHealth.self
    case ("", "Namespace"): return NamespaceHealth.self
    case ("", "ConfigMap"), ("", "Secret"), ("batch", "CronJob"): return AlwaysReadyHealth.self
    case ("batch", "Job"): return JobHealth.self
    case ("apiextensions.k8s.io", "CustomResourceDefinition"): return CustomResourceDefinitionHealth.self
    case ("networking.k8s.io", "Ingress"), ("extensions", "Ingress"): return IngressHealth.self
    case ("autoscaling", "HorizontalPodAutoscaler"): return HorizontalPodAutoscalerHealth.self
    case ("apiregistration.k8s.io", "APIService"): return APIServiceHealth.self
    default: return nil
    }
}

/// Kinds that are ready as soon as they exist: ConfigMap, Secret, CronJob (its Jobs are judged on their own).
enum AlwaysReadyHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        .current("AlwaysReady", "\(object.kind) is ready once applied")
    }
}
