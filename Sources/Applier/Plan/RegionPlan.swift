import SyncCore

/// What a sync does in one region, step by step: apply, wait, prune. Made by a pure function of the desired
/// objects and the objects to prune; printed the same way every time, so a dry run shows exactly what a sync would
/// do and tests compare text.
///
/// The order:
/// - **Waves** first: the `syncagent.io/wave` annotation (a whole number as a string, default `"0"`); lower waves
///   go first, and each wave is applied and ready before the next one (or the prunes) begins.
/// - Within a wave, **kinds** in ``ApplyOrder``'s order: Namespaces, CustomResourceDefinitions (then a wait until
///   they are established), quotas and classes, ServiceAccounts and RBAC, ConfigMaps and Secrets, claims,
///   Services, workloads, autoscalers and disruption budgets, Ingresses, APIServices, Istio networking
///   (ServiceEntries, DestinationRules, Gateways, VirtualServices: make-before-break), every other custom
///   resource, admission webhooks last. When a wave has both workloads and VirtualServices, the workloads must be
///   ready before Istio networking is applied.
/// - Within a kind, by identity (group, kind, namespace, name), so the input order never matters.
/// - **Prunes** after every apply, in exactly the reverse order: routes are removed before the DestinationRules
///   and workloads they used, workloads before Services, everything before its Namespace.
///
/// Waves that would apply an object before one it needs are rejected (see ``PlanError/orderConflict``), as are
/// invalid waves, duplicate objects, an object both applied and pruned, and pruning a Namespace still in use.
public struct RegionPlan: Sendable, Hashable, CustomStringConvertible {
    /// The annotation that sets an object's wave.
    public static let waveAnnotation = "syncagent.io/wave"

    /// The region the plan is for (printed in its first line).
    public var region: String
    /// The steps, in the order a sync takes them.
    public var steps: [PlanStep]

    /// The plan for `desired` objects and the live objects to `prune` (their own `syncagent.io/wave` annotations
    /// order the prunes), or every problem that prevents one.
    public init(region: String, desired: [Resource], prune: [Resource] = []) throws(PlanError) {
        self.region = region
        var problems: [PlanError] = []

        var applies: [PlannedObject] = []
        var sources: [ObjectKey: SourceLocation?] = [:]
        for resource in desired.sorted(by: Self.inputOrder) {
            if let first = sources[resource.key] {
                problems.append(.duplicateObject(resource.key, first: first, second: resource.source))
                continue
            }
            sources[resource.key] = resource.source
            do throws(PlanError) {
                applies.append(PlannedObject(resource, wave: try SyncWave.of(resource)))
            } catch {
                problems.append(error)
            }
        }

        var prunes: [PlannedObject] = []
        var prunedNamespaces: Set<String> = []
        for resource in prune.sorted(by: Self.inputOrder) {
            if sources[resource.key] != nil {
                problems.append(.appliedAndPruned(resource.ref, source: resource.source))
                continue
            }
            if resource.ref.group.isEmpty && resource.kind == "Namespace" { prunedNamespaces.insert(resource.name) }
            do throws(PlanError) {
                prunes.append(PlannedObject(resource, wave: try SyncWave.of(resource)))
            } catch {
                problems.append(error)
            }
        }
        for object in applies where prunedNamespaces.contains(object.ref.namespace) {
            problems.append(
                .prunedNamespaceInUse(namespace: object.ref.namespace, by: object.ref, source: object.resource.source))
        }
        problems += PlanDependencies.conflicts(in: applies)

        if !problems.isEmpty {
            let sorted = problems.sorted(by: PlanError.byPosition)
            throw sorted.count == 1 ? sorted[0] : .several(sorted)
        }

        applies.sort(by: PlannedObject.inPlanOrder)
        prunes.sort(by: PlannedObject.inPlanOrder)
        steps = Self.steps(applies: applies, prunes: prunes.reversed())
    }

    /// The plan for `desired` objects and objects to `prune` known only by reference (from the inventory), which
    /// count as wave 0.
    public init(region: String, desired: [Resource], pruneRefs prune: [ObjectRef]) throws(PlanError) {
        let live = prune.compactMap { ref -> Resource? in
            var metadata: Value = ["name": .string(ref.name)]
            if !ref.namespace.isEmpty { metadata["namespace"] = .string(ref.namespace) }
            return try? Resource(body: [
                "apiVersion": .string(ref.apiVersion), "kind": .string(ref.kind), "metadata": metadata,
            ])
        }
        try self.init(region: region, desired: desired, prune: live)
    }

    /// Sorting the input first makes everything after it, errors included, independent of the input's order.
    private static func inputOrder(_ a: Resource, _ b: Resource) -> Bool {
        if a.key != b.key { return a.key < b.key }
        switch (a.source, b.source) {
        case (nil, .some): return true
        case (.some, nil): return false
        case (let x?, let y?) where x != y: return x < y
        default: return a.apiVersion < b.apiVersion
        }
    }

    /// Applies wave by wave with their waits, then prunes.
    private static func steps(applies: [PlannedObject], prunes: [PlannedObject]) -> [PlanStep] {
        var steps: [PlanStep] = []
        let waves = applies.reduce(into: [Int]()) { waves, object in
            if waves.last != object.wave { waves.append(object.wave) }
        }
        for (index, wave) in waves.enumerated() {
            let objects = applies.filter { $0.wave == wave }
            let definitions = objects.filter { ApplyOrder.isDefinition($0.ref) }.map(\.ref)
            let workloads = objects.filter { ApplyOrder.isServingWorkload($0.ref) }.map(\.ref)
            let routes = objects.contains { $0.ref.group == "networking.istio.io" && $0.ref.kind == "VirtualService" }
            var waitedForWorkloads = workloads.isEmpty || !routes
            // The definitions' wait comes just before the first object of a kind they define: the built-in kinds
            // between (configuration, services, workloads) are applied while the API server establishes them.
            let defined = ApplyOrder.definedKinds(objects.map(\.resource))
            var waitedForDefinitions = definitions.isEmpty
            let establish = WaitStep(condition: .established, reason: .definitions, wave: wave, objects: definitions)
            for object in objects {
                if !waitedForDefinitions && defined["\(object.ref.group)/\(object.ref.kind)"] != nil {
                    steps.append(.wait(establish))
                    waitedForDefinitions = true
                }
                if !waitedForWorkloads && ApplyOrder.isIstioNetworking(object.ref) {
                    steps.append(
                        .wait(
                            WaitStep(condition: .ready, reason: .workloadsBeforeRoutes, wave: wave, objects: workloads))
                    )
                    waitedForWorkloads = true
                }
                steps.append(.apply(object.resource, wave: wave))
            }
            // No object of the new kinds in this wave: they are established before the wave is over.
            if !waitedForDefinitions { steps.append(.wait(establish)) }
            if index + 1 < waves.count || !prunes.isEmpty {
                steps.append(
                    .wait(WaitStep(condition: .ready, reason: .waveComplete, wave: wave, objects: objects.map(\.ref))))
            }
        }
        steps += prunes.map { .prune($0.ref, wave: $0.wave) }
        return steps
    }

    /// The plan with the readiness gate as its last step: a wait until every applied object is ready (rollouts
    /// complete, CRDs established, Services with endpoints), so the region is proven ready before its metric gate
    /// and before the next region begins. Unchanged when nothing is applied.
    public func withReadinessGate() -> RegionPlan {
        let objects = applied.map(\.ref)
        guard !objects.isEmpty else { return self }
        var plan = self
        plan.steps.append(
            .wait(WaitStep(condition: .ready, reason: .readinessGate, wave: steps.last?.wave ?? 0, objects: objects)))
        return plan
    }

    /// The objects applied, in order.
    public var applied: [Resource] {
        steps.compactMap { if case .apply(let resource, _) = $0 { return resource } else { return nil } }
    }

    /// The objects pruned, in order.
    public var pruned: [ObjectRef] {
        steps.compactMap { if case .prune(let ref, _) = $0 { return ref } else { return nil } }
    }

    /// The waits, in order.
    public var waits: [WaitStep] {
        steps.compactMap { if case .wait(let wait) = $0 { return wait } else { return nil } }
    }

    /// The plan as text: a summary line, then each wave's steps under `wave N:`, then the prunes.
    ///
    /// ```
    /// region us-sanjose-1: 2 to apply, 1 wait, 1 to prune
    /// wave 0:
    ///   apply v1/Namespace bookinfo  # config/mesh/base/00-namespace.yaml:2:1
    ///   apply v1/Service bookinfo/details  # config/mesh/base/10-bookinfo.yaml:12:1
    ///   wait until ready (the wave is ready before what follows it):
    ///       v1/Namespace bookinfo
    ///       v1/Service bookinfo/details
    /// prunes, in reverse apply order:
    ///   prune v1/Service bookinfo/old  # wave 0
    /// ```
    /// The first line of ``description``: `region R: N to apply, W waits, P to prune`.
    public var summary: String {
        let waitCount = waits.count
        return "region \(region): \(applied.count) to apply, \(waitCount) \(waitCount == 1 ? "wait" : "waits"), "
            + "\(pruned.count) to prune"
    }

    public var description: String {
        var lines = [summary]
        var wave: Int?
        var inPrunes = false
        for step in steps {
            if case .wait(let gate) = step, gate.reason == .readinessGate {
                lines.append("finally:")
            } else if case .prune = step {
                if !inPrunes { lines.append("prunes, in reverse apply order:") }
                inPrunes = true
            } else if step.wave != wave {
                lines.append("wave \(step.wave):")
                wave = step.wave
            }
            lines.append(step.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
