import Foundation
import SyncCore

/// The simulated controllers of one region, never run by request handlers: workload rollouts (Deployments,
/// StatefulSets, DaemonSets) and the mesh telemetry.
///
/// Like the real controllers (informers), they act on a workload as soon as it is added, deleted or given a new
/// spec, not at their next tick; while a rollout is under way they tick every 100 ms and once more the moment it is
/// due to end. With no workload changed and no rollout under way, a tick looks at nothing (a region of thousands of
/// settled Deployments costs no CPU at rest).
///
/// A rollout of generation G starts when first seen and takes `rolloutSeconds`; a container image whose tag ends
/// in `-broken` never becomes ready, and the Deployment reports `ProgressDeadlineExceeded` after
/// `progressDeadlineSeconds × rolloutSeconds / 300` seconds (4 s with the defaults).
struct Controllers: Sendable {
    let region: Region
    let rolloutSeconds: Double

    /// Per workload: the generation being rolled out, when it started, and how many replicas were available then.
    struct Rollout: Sendable {
        var generation: Int64
        var started: Double
        var availableAtStart: Int64
        /// The template being rolled out (its ReplicaSet name): a paused Deployment's new template is not.
        var template: String = ""
        /// The generation the status reports (a paused Deployment observes generations it does not roll out).
        var observed: Int64 = 0
        /// Whether the rolled-out template's pods never become ready.
        var broken: Bool = false
        /// The object's resourceVersion when its status was found final (the rollout finished or timed out, and
        /// the status says so): nothing changes with time from there, so the object is not looked at again until
        /// it is written.
        var settled: UInt64? = nil
    }

    /// Seconds between ticks.
    static let tickSeconds = 0.1
    /// Seconds between advances of the mesh telemetry (its counters grow by the time passed: ratios and latency
    /// quantiles do not depend on it; Prometheus scrapes every second or more).
    static let telemetrySeconds = 0.5

    /// Seconds at least between two ticks a workload change brings on (a burst of creates is looked at together).
    static let wakeGapSeconds = 0.01

    /// What the controllers keep between ticks.
    struct Memory: Sendable {
        var rollouts: [String: Rollout] = [:]
        /// The resourceVersions of workloads whose status was found final, and whose workload: such an object is
        /// not looked at again (its status does not change with time) until it is written.
        var settled: [UInt64: String] = [:]
    }

    func run() async {
        var memory = Memory()
        var last = WallClock.now()
        let hub = region.withState { $0.store.watchHub }
        // What the last tick saw: the workload change counters, when it ran, and when the next tick is due.
        var seenChanges: UInt64? = nil
        var seenSpecChanges = hub.workloadSpecChanges.load(ordering: .acquiring)
        var lastTick = -Double.infinity
        var due = last
        while !Task.isCancelled {
            let now = WallClock.now()
            let specChanges = hub.workloadSpecChanges.load(ordering: .acquiring)
            let changed = specChanges != seenSpecChanges
            if now >= due || (changed && now >= lastTick + Self.wakeGapSeconds) {
                seenSpecChanges = specChanges
                lastTick = now
                let changes = hub.workloadChanges.load(ordering: .acquiring)
                let look = seenChanges != changes || memory.rollouts.count != memory.settled.count
                seenChanges = changes
                let next = region.withState { state -> Double? in
                    state.finalizeNamespaces()
                    return look ? tick(&state, now: now, memory: &memory) : nil
                }
                due = min(now + Self.tickSeconds, next ?? .infinity)
                if now - last >= Self.telemetrySeconds {
                    region.telemetry.advance(region: region, seconds: now - last)
                    last = now
                }
            } else if changed {
                due = min(due, lastTick + Self.wakeGapSeconds)
            }
            if Task.isCancelled { break }
            await hub.workloadDoorbell.wait(timeout: .seconds(max(0.001, due - WallClock.now())))
        }
    }

    /// Brings every workload's status up to `now`; when the earliest rollout under way is due to end (nil: none is).
    private func tick(_ state: inout RegionState, now: Double, memory: inout Memory) -> Double? {
        var next: Double? = nil
        var workloads = 0
        defer {
            // A workload was deleted: forget its rollout (looked for only then: a tick over settled workloads
            // computes no name).
            if memory.rollouts.count > workloads {
                var present: Set<String> = []
                for (key, _) in Self.workloadKinds {
                    for object in state.store.list(key, namespace: nil) { present.insert(Self.id(key, object.value)) }
                }
                memory.rollouts = memory.rollouts.filter { present.contains($0.key) }
                memory.settled = memory.settled.filter { present.contains($0.value) }
            }
        }
        var rollouts = memory.rollouts
        defer { memory.rollouts = rollouts }
        for (key, kind) in Self.workloadKinds {
            guard let type = state.registry.lookup(group: "apps", version: "v1", kind: kind) else { continue }
            for object in state.store.list(key, namespace: nil) {
                workloads += 1
                if memory.settled[object.resourceVersion] != nil { continue }
                let value = object.value
                let namespace = value[path: ["metadata", "namespace"]]?.stringValue ?? ""
                let name = value[path: ["metadata", "name"]]?.stringValue ?? ""
                let generation = value[path: ["metadata", "generation"]]?.intValue ?? 1
                let id = Self.id(key, value)
                let paused = kind == "Deployment" && value[path: ["spec", "paused"]]?.boolValue == true
                // Written since it settled: looked at again.
                if let old = rollouts[id]?.settled {
                    memory.settled[old] = nil
                    rollouts[id]?.settled = nil
                }
                var rollout = rollouts[id]
                if paused && rollout == nil {
                    // Created paused (or found paused at start-up): no pods of a template not rolled out yet.
                    let complete =
                        value[path: ["status", "observedGeneration"]]?.intValue == generation
                        && value[path: ["status", "updatedReplicas"]] == value[path: ["spec", "replicas"]]
                    rollout = Rollout(
                        generation: generation, started: now - rolloutSeconds - 1,
                        availableAtStart: value[path: ["status", "availableReplicas"]]?.intValue ?? 0,
                        template: complete ? Controllers.revisionName(value) : "", observed: generation,
                        broken: Controllers.isBroken(value))
                    rollouts[id] = rollout
                } else if paused, var held = rollout, held.generation != generation {
                    // A paused Deployment observes the new generation but keeps its pods (its template is not
                    // rolled out until it is resumed).
                    held.observed = generation
                    rollout = held
                    rollouts[id] = held
                } else if rollout?.generation != generation {
                    let observed = value[path: ["status", "observedGeneration"]]?.intValue
                    let complete = observed == generation && value[path: ["status", "updatedReplicas"]] != nil
                    // A finished rollout found at start-up keeps its times (from its Progressing condition).
                    let finishedAt = (value[path: ["status", "conditions"]]?.arrayValue ?? [])
                        .first { $0["type"]?.stringValue == "Progressing" }?["lastTransitionTime"]?.stringValue
                        .flatMap(WallClock.parse)
                    rollout = Rollout(
                        generation: generation,
                        started: complete ? min(now - rolloutSeconds - 1, finishedAt ?? now - rolloutSeconds - 1) : now,
                        availableAtStart: value[path: ["status", "availableReplicas"]]?.intValue ?? value[path: [
                            "status", "numberAvailable",
                        ]]?.intValue ?? 0,
                        template: Controllers.revisionName(value), observed: generation,
                        broken: Controllers.isBroken(value))
                    rollouts[id] = rollout
                }
                guard let rollout else { continue }
                let status = self.status(kind: kind, value, rollout: rollout, paused: paused, now: now)
                // A rollout under way is looked at again when it is due to end (a broken one at its deadline).
                let end = rollout.started + (rollout.broken ? max(deadline(value), rolloutSeconds) : rolloutSeconds)
                if now < end { next = min(next ?? .infinity, end) }
                guard status != value["status"] else {
                    if now >= end {
                        rollouts[id]?.settled = object.resourceVersion
                        memory.settled[object.resourceVersion] = id
                    }
                    continue
                }
                var updated = value
                updated["status"] = status
                ManagedFields.recordUpdate(
                    old: value, new: &updated, manager: "kube-controller-manager", apiVersion: "apps/v1", type: type,
                    now: WallClock.timestamp(now), subresource: "status")
                state.store.put(key, namespace: namespace, name: name, value: updated)
            }
        }
        return next
    }

    /// Seconds until a rollout of `value` that makes no progress fails: `progressDeadlineSeconds` (default 600)
    /// scaled as the rollout is (`× rolloutSeconds / 300`).
    func deadline(_ value: Value) -> Double {
        Double(value[path: ["spec", "progressDeadlineSeconds"]]?.intValue ?? 600) * rolloutSeconds / 300
    }

    /// The workload kinds the controllers roll out: storage key and kind.
    static let workloadKinds = [
        ("apps/deployments", "Deployment"), ("apps/statefulsets", "StatefulSet"), ("apps/daemonsets", "DaemonSet"),
    ]

    /// A workload's identity for its rollout, keyed by uid: one deleted and created again under its name starts a
    /// new rollout.
    static func id(_ key: String, _ value: Value) -> String {
        let namespace = value[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let name = value[path: ["metadata", "name"]]?.stringValue ?? ""
        let uid = value[path: ["metadata", "uid"]]?.stringValue ?? ""
        return "\(key)/\(namespace)/\(name)/\(uid)"
    }

    static func isBroken(_ value: Value) -> Bool {
        (value[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []).contains {
            ($0["image"]?.stringValue ?? "").hasSuffix("-broken")
        }
    }

    /// The ReplicaSet-like name of the current template: `name-<hash>`.
    static func revisionName(_ value: Value) -> String {
        let name = value[path: ["metadata", "name"]]?.stringValue ?? ""
        let hash = stableHash(value[path: ["spec", "template"]]?.jsonString ?? "")
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var n = hash
        var suffix = ""
        for _ in 0..<10 {
            suffix.append(alphabet[Int(n % UInt64(alphabet.count))])
            n /= UInt64(alphabet.count)
        }
        return "\(name)-\(suffix)"
    }

    private func status(kind: String, _ value: Value, rollout: Rollout, paused: Bool, now: Double) -> Value {
        let replicas = kind == "DaemonSet" ? 1 : (value[path: ["spec", "replicas"]]?.intValue ?? 1)
        let elapsed = now - rollout.started
        let progress = rolloutSeconds <= 0 ? 1 : min(1, max(0, elapsed / rolloutSeconds))
        let oldAvailable = min(replicas, rollout.availableAtStart)
        let revision = Controllers.revisionName(value)
        let pausedBeforeTemplate = paused && revision != rollout.template
        // While paused, the new template has no pods: what runs is the rolled-out template, as far as it got.
        let broken = pausedBeforeTemplate ? rollout.broken : Controllers.isBroken(value)
        var updated: Int64
        var available: Int64
        var total: Int64
        if broken && kind == "Deployment" {
            // A rolling update whose new pods never become ready: the controller surges new pods and scales the old
            // ones down only as far as maxUnavailable allows, so old pods stay available until the deadline (a
            // Recreate strategy has removed them all first).
            let recreate = value[path: ["spec", "strategy", "type"]]?.stringValue == "Recreate"
            let maxUnavailable = recreate ? replicas : Controllers.maxUnavailable(value, replicas: replicas)
            let maxSurge = recreate ? 0 : Controllers.maxSurge(value, replicas: replicas)
            let steady = min(replicas, max(1, maxSurge + maxUnavailable))
            updated = min(steady, max(1, Int64((Double(steady) * progress).rounded(.up))))
            available = min(oldAvailable, max(0, replicas - maxUnavailable))
            total = available + updated
        } else {
            updated =
                broken
                ? min(replicas, max(1, Int64((Double(replicas) * progress).rounded(.up))))
                : Int64((Double(replicas) * progress).rounded(.down))
            let readyNew = broken ? 0 : updated
            available = min(replicas, readyNew + max(0, oldAvailable - updated))
            total = max(replicas, updated + max(0, oldAvailable - updated))
        }
        if pausedBeforeTemplate { updated = 0 }
        var status: Value = ["observedGeneration": .int(max(rollout.generation, rollout.observed))]
        switch kind {
        case "Deployment":
            status["replicas"] = .int(total)
            status["updatedReplicas"] = .int(updated)
            status["readyReplicas"] = .int(available)
            status["availableReplicas"] = .int(available)
            if replicas - available > 0 { status["unavailableReplicas"] = .int(replicas - available) }
            if available == 0 { status["readyReplicas"] = nil; status["availableReplicas"] = nil }
            let started = WallClock.timestamp(rollout.started)
            let nowText = WallClock.timestamp(now)
            let maxUnavailable = Controllers.maxUnavailable(value, replicas: replicas)
            let minimumAvailable = available >= replicas - maxUnavailable
            let availableCondition: Value = [
                "type": "Available", "status": minimumAvailable ? "True" : "False", "lastUpdateTime": .string(started),
                "lastTransitionTime": .string(started),
                "reason": minimumAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                "message": minimumAvailable
                    ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
            ]
            let deadline = deadline(value)
            let progressing: Value
            if paused {
                progressing = [
                    "type": "Progressing", "status": "Unknown", "lastUpdateTime": .string(started),
                    "lastTransitionTime": .string(started), "reason": "DeploymentPaused",
                    "message": "Deployment is paused",
                ]
            } else if broken && elapsed >= max(deadline, rolloutSeconds) {
                progressing = [
                    "type": "Progressing", "status": "False",
                    "lastUpdateTime": .string(WallClock.timestamp(rollout.started + deadline)),
                    "lastTransitionTime": .string(WallClock.timestamp(rollout.started + deadline)),
                    "reason": "ProgressDeadlineExceeded",
                    "message": .string("ReplicaSet \"\(revision)\" has timed out progressing."),
                ]
            } else if !broken && progress >= 1 {
                progressing = [
                    "type": "Progressing", "status": "True",
                    "lastUpdateTime": .string(WallClock.timestamp(rollout.started + rolloutSeconds)),
                    "lastTransitionTime": .string(started), "reason": "NewReplicaSetAvailable",
                    "message": .string("ReplicaSet \"\(revision)\" has successfully progressed."),
                ]
            } else {
                progressing = [
                    "type": "Progressing", "status": "True",
                    "lastUpdateTime": .string(nowText == started ? started : started),
                    "lastTransitionTime": .string(started), "reason": "ReplicaSetUpdated",
                    "message": .string("ReplicaSet \"\(revision)\" is progressing."),
                ]
            }
            status["conditions"] = [availableCondition, progressing]
        case "StatefulSet":
            status["replicas"] = .int(replicas)
            status["readyReplicas"] = .int(available)
            status["availableReplicas"] = .int(available)
            status["currentReplicas"] = .int(progress >= 1 && !broken ? replicas : max(0, replicas - updated))
            status["updatedReplicas"] = .int(updated)
            status["currentRevision"] = .string(progress >= 1 && !broken ? revision : "\(revision)-previous")
            status["updateRevision"] = .string(revision)
            status["collisionCount"] = 0
        default:
            status["currentNumberScheduled"] = .int(replicas)
            status["desiredNumberScheduled"] = .int(replicas)
            status["numberMisscheduled"] = 0
            status["numberReady"] = .int(available)
            status["numberAvailable"] = .int(available)
            status["updatedNumberScheduled"] = .int(updated)
            if replicas - available > 0 { status["numberUnavailable"] = .int(replicas - available) }
        }
        return status
    }

    /// `maxSurge` resolved against the replica count (percentages round up, as the real controller does).
    static func maxSurge(_ value: Value, replicas: Int64) -> Int64 {
        guard let raw = value[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] else { return 0 }
        if let n = raw.intValue { return n }
        if let s = raw.stringValue, s.hasSuffix("%"), let percent = Int64(s.dropLast()) {
            return (replicas * percent + 99) / 100
        }
        return 0
    }

    /// `maxUnavailable` resolved against the replica count (percentages round down, as the real controller does).
    static func maxUnavailable(_ value: Value, replicas: Int64) -> Int64 {
        guard let raw = value[path: ["spec", "strategy", "rollingUpdate", "maxUnavailable"]] else { return 0 }
        if let n = raw.intValue { return n }
        if let s = raw.stringValue, s.hasSuffix("%"), let percent = Int64(s.dropLast()) {
            return replicas * percent / 100
        }
        return 0
    }
}
