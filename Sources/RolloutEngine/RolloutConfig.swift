import Applier

/// What the rollout engine needs of syncagent's configuration: the regions in rollout order and the sync policy.
/// The executable parses `syncagent.yaml` into these (its `AgentConfig`).
public struct RolloutConfig: Sendable {
    public var regions: [RegionTarget]
    public var sync: SyncPolicy

    public init(regions: [RegionTarget], sync: SyncPolicy = SyncPolicy()) {
        self.regions = regions
        self.sync = sync
    }
}

/// One cluster, in rollout order.
public struct RegionTarget: Sendable {
    public init(name: String, kubeconfig: String? = nil, context: String? = nil, gates: RegionGates = RegionGates()) {
        self.name = name
        self.kubeconfig = kubeconfig
        self.context = context
        self.gates = gates
    }

    public var name: String
    /// The kubeconfig file (`~` expanded); nil for kubectl's default.
    public var kubeconfig: String?
    /// The context; nil for the file's current one.
    public var context: String?
    /// The gates this region must pass before the next region begins.
    public var gates: RegionGates = RegionGates()
}

/// How a region is judged after its apply.
public struct RegionGates: Sendable {
    public init(readinessTimeout: Duration = .seconds(300), metrics: GateConfig? = nil) {
        self.readinessTimeout = readinessTimeout
        self.metrics = metrics
    }

    /// How long every applied object may take to become ready.
    public var readinessTimeout: Duration = .seconds(300)
    /// Prometheus checks held over a bake time, and HTTP probes; nil when the region has no metric gate.
    public var metrics: GateConfig?
}

/// What a sync may do.
public struct SyncPolicy: Sendable {
    public init() {}

    /// Delete inventory objects that are no longer in Git.
    public var prune = true
    /// Re-apply when the drift check finds drift (`run` only).
    public var selfHeal = false
    /// `group/kind` entries (`""`/absent group for the core group, `*` for any kind of a group); empty: all.
    public var allowedKinds: [String] = []
    /// Namespaces objects may be in (a Namespace object: its name); empty: all. Other cluster-scoped objects are
    /// judged by `allowedKinds` only.
    public var allowedNamespaces: [String] = []
    /// Let a revision that renders no object for a region empty it (Argo CD's `allowEmpty`); off, such a
    /// revision is refused when the region's inventory is not empty.
    public var allowEmpty = false
    /// Take over objects that exist live but are in no inventory (created by kubectl, Helm, another tool); off,
    /// such an object is refused before any apply unless it says `syncagent.io/adopt: "true"`.
    public var adopt = false
    /// The most inventory objects one sync may prune in a region; nil: a quarter of the inventory, at least 10
    /// (``pruneLimit(inventoryCount:)``).
    public var maxPrune: Int?

    /// How many objects a sync may prune from a region whose inventory lists `inventoryCount`.
    public func pruneLimit(inventoryCount: Int) -> Int { maxPrune ?? max(10, inventoryCount / 4) }
}
