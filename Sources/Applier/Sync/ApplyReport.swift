import SyncCore

/// Why a region's plan stopped: the step, the object and the cause, with the region and revision in the message.
public struct SyncFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The region whose plan failed.
    public var region: String
    /// The revision being synced.
    public var revision: String
    /// The failed step's position in the plan, from 0.
    public var stepIndex: Int
    /// The failed step's verb: `apply`, `wait`, `prune` or `inventory`.
    public var step: String
    /// The object the step failed on, when there is one.
    public var object: ObjectRef?
    /// Why: the API's error or the object's health.
    public var message: String
    /// Whether the revision is at fault (the cluster refused an object, or it never became ready) or the cluster
    /// could not be reached.
    public var cause: Cause

    /// What a failure says about the revision being synced.
    public enum Cause: String, Sendable, Hashable {
        /// The revision is bad here: the API rejected an object (invalid, conflict, forbidden) or an object did not
        /// become ready in time. A rollout stops and rolls back.
        case revision
        /// The cluster could not be reached or kept failing (connection refused, TLS, credentials, 5xx or 429
        /// after every retry). Nothing says the revision is bad: the rollout stops and the region is retried.
        case unavailable
        /// The sync was stopped (shutdown) between two steps.
        case cancelled
        /// Another writer changed syncagent's records for this region since the pass read them
        /// (``RecordConflict``): the pass stops without writing, and without judging the revision.
        case conflict

        /// The cause an API client error points to.
        public init(_ error: any Error) {
            if case .conflict = error as? RecordWriteError {
                self = .conflict
                return
            }
            if case .api(let inner) = error as? RecordWriteError {
                self = inner.pointsAtCluster ? .unavailable : .revision
                return
            }
            guard let error = error as? ApplierError else {
                self = .revision
                return
            }
            self = error.pointsAtCluster ? .unavailable : .revision
        }
    }

    /// A failure from its parts.
    public init(
        region: String, revision: String, stepIndex: Int, step: String, object: ObjectRef?, message: String,
        cause: Cause = .revision
    ) {
        self.region = region
        self.revision = revision
        self.stepIndex = stepIndex
        self.step = step
        self.object = object
        self.message = message
        self.cause = cause
    }

    /// `region us-sanjose-1 at a1b2c3d: step 7 (wait) failed on apps/v1/Deployment app/web: ...`.
    public var description: String {
        "region \(region) at \(revision): step \(stepIndex + 1) (\(step)) failed"
            + (object.map { " on \($0)" } ?? "") + ": \(message)"
    }
}

/// What ``RegionApplier/execute(_:revision:readinessTimeout:)`` did: one change per object touched, in plan order,
/// and the failure that stopped the plan, if any.
public struct ApplyReport: Sendable, Hashable, CustomStringConvertible {
    /// The region synced.
    public var region: String
    /// The revision synced.
    public var revision: String
    /// Every object applied or pruned (or whose prune was skipped), in plan order.
    public var changes: [ObjectChange]
    /// Why the plan stopped early; nil when every step succeeded.
    public var failure: SyncFailure?
    /// The inventory written after success; nil when the plan failed.
    public var inventory: Inventory?

    /// A report from its parts.
    public init(
        region: String, revision: String, changes: [ObjectChange] = [], failure: SyncFailure? = nil,
        inventory: Inventory? = nil
    ) {
        self.region = region
        self.revision = revision
        self.changes = changes
        self.failure = failure
        self.inventory = inventory
    }

    /// Whether every step succeeded.
    public var succeeded: Bool { failure == nil }

    /// The change recorded for an object, if any.
    public func action(for ref: ObjectRef) -> ApplyAction? { changes.first { $0.ref.key == ref.key }?.action }

    /// A summary line, one line per change, then the failure if any:
    ///
    /// ```
    /// region us-sanjose-1 at a1b2c3d: 1 created, 1 configured, 2 unchanged, 0 pruned, 0 skipped
    ///   v1/Namespace app created
    /// ```
    /// How many changes took `action`.
    public func count(of action: ApplyAction) -> Int { changes.filter { $0.action == action }.count }

    /// `1 configured, 29 unchanged`: the actions that happened, in ``ApplyAction`` order; "" when none.
    public var summary: String {
        ApplyAction.allCases.compactMap { action in count(of: action) == 0 ? nil : "\(count(of: action)) \(action)" }
            .joined(separator: ", ")
    }

    public var description: String {
        let counts = ApplyAction.allCases.compactMap { action in
            action == .recreated && count(of: action) == 0 ? nil : "\(count(of: action)) \(action)"
        }
        var lines = ["region \(region) at \(revision): " + counts.joined(separator: ", ")]
        lines += changes.map { "  \($0)" }
        if let failure { lines.append("failed: \(failure)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
