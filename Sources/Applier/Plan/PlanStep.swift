import SyncCore

/// One step of a ``RegionPlan``: apply an object, wait for objects, or prune one.
public enum PlanStep: Sendable, Hashable, CustomStringConvertible {
    /// Server-side apply of a desired object, in its wave.
    case apply(Resource, wave: Int)
    /// Wait until objects reach a condition before going on.
    case wait(WaitStep)
    /// Delete an object that is no longer desired (it is in the inventory but not in Git), in its wave.
    case prune(ObjectRef, wave: Int)

    /// The wave the step belongs to.
    public var wave: Int {
        switch self {
        case .apply(_, let wave), .prune(_, let wave): return wave
        case .wait(let wait): return wait.wave
        }
    }

    /// `apply v1/Service bookinfo/details  # config/mesh/base/10-bookinfo.yaml:12:1`,
    /// `prune v1/Service bookinfo/old  # wave 0`, or the wait and its objects on the lines below, indented.
    public var description: String {
        switch self {
        case .apply(let resource, _):
            return "apply \(resource.ref)" + (resource.source.map { "  # \($0)" } ?? "")
        case .prune(let ref, let wave):
            return "prune \(ref)  # wave \(wave)"
        case .wait(let wait):
            return wait.description
        }
    }

    /// One line for progress reports: `apply apps/v1/Deployment ns/name`, `prune …`, `wait until ready (why)`.
    public var summary: String {
        switch self {
        case .apply(let resource, _): return "apply \(resource.ref)"
        case .prune(let ref, _): return "prune \(ref)"
        case .wait(let wait): return "wait until \(wait.condition) (\(wait.reason))"
        }
    }
}

/// A pause in a plan: the objects that must reach a condition before the next step.
public struct WaitStep: Sendable, Hashable, CustomStringConvertible {
    /// What the objects must reach.
    public enum Condition: Sendable, Hashable, CustomStringConvertible {
        /// A CustomResourceDefinition is `Established`: its kind is served, so objects of it can be applied.
        case established
        /// ``assessHealth(_:now:)`` says the object is done and successful.
        case ready

        public var description: String {
            switch self {
            case .established: return "established"
            case .ready: return "ready"
            }
        }
    }

    /// Why the plan waits here.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// New kinds must be served before objects of them are applied.
        case definitions
        /// Make-before-break: pods must be ready before Istio routes traffic to them.
        case workloadsBeforeRoutes
        /// A wave is finished (applied and ready) before the next wave or the prunes begin.
        case waveComplete
        /// The readiness gate: every applied object is ready before the region's metric gate and the next region.
        case readinessGate

        public var description: String {
            switch self {
            case .definitions: return "new kinds are served before objects of them are applied"
            case .workloadsBeforeRoutes: return "workloads are ready before Istio routes traffic to them"
            case .waveComplete: return "the wave is ready before what follows it"
            case .readinessGate: return "the readiness gate: every applied object is ready"
            }
        }
    }

    /// What the objects must reach.
    public var condition: Condition
    /// Why the plan waits.
    public var reason: Reason
    /// The wave the wait ends.
    public var wave: Int
    /// The objects to wait for, in plan order.
    public var objects: [ObjectRef]

    /// A wait from its parts.
    public init(condition: Condition, reason: Reason, wave: Int, objects: [ObjectRef]) {
        self.condition = condition
        self.reason = reason
        self.wave = wave
        self.objects = objects
    }

    /// `wait until ready (workloads are ready before Istio routes traffic to them):` and one object per line.
    public var description: String {
        (["wait until \(condition) (\(reason)):"] + objects.map { "    \($0)" }).joined(separator: "\n")
    }
}
