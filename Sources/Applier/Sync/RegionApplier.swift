import Foundation
import Logging
import SyncCore

/// Carries out one region's ``RegionPlan`` against its cluster: server-side applies, waits, prunes, then records
/// the inventory.
///
/// The rules:
/// - Applies are server-side, under the client's field manager (`syncagent`). An object whose live state already
///   matches what the apply would store (a server-side dry-run equal to live) is not sent: it is `unchanged`.
///   Those are found before the first step, with a list per kind and namespace and concurrent dry runs (see
///   ``unchangedBeforehand(_:live:)``), so an unchanged object costs no request in plan order.
/// - A wait polls each object with ``assessHealth(_:now:)`` until it is done, or the readiness timeout passes.
/// - A prune deletes only an object listed in the region's current inventory, never one annotated
///   `syncagent.io/prune: disabled` (those are `skipped` and dropped from the inventory).
/// - Before the first apply, objects the plan applies that the inventory does not list yet are added to it (with
///   `pendingRevision`), so an object is never created unrecorded.
/// - The first failure stops the plan; nothing after it runs and the inventory keeps its revision (with the
///   objects recorded in advance).
/// - After every step succeeded the inventory ConfigMap is written (namespace `syncagent-system` created if
///   missing) with the revision, the time and the applied objects.
///
/// A client-side check that applying `desired` over `live` would change nothing (``RegionApplier/settled``).
public typealias SettledCheck = @Sendable (_ desired: Resource, _ live: Resource) -> Bool

/// One applier per region; its steps run one after another, except that applies of one kind in one wave (which
/// have no order among them) are sent together.
public struct RegionApplier: Sendable {
    /// The annotation that protects an object from prune when its value is `disabled`.
    public static let pruneAnnotation = "syncagent.io/prune"

    /// The region's cluster.
    public let client: KubeClient
    let logger: Logger
    /// How often a wait reads its objects again.
    public var pollInterval: Duration
    /// The pass's fence on syncagent's own records (inventory, status): one per pass, shared by copies.
    public let records: RecordFence
    /// Called as each step begins and ends (a progress display); nil for none.
    public var observer: (@Sendable (StepEvent) -> Void)?
    /// The cluster's live-state cache (the agent's, kept by watches), read instead of the cluster wherever it is
    /// current; nil reads the cluster.
    public var live: LiveCache?
    /// Settles an object client-side: true when applying `desired` over `live` would change nothing (every field
    /// it sets holds its value, none it owned is dropped), so no dry run is needed. nil dry-runs every object.
    public var settled: SettledCheck?
    /// Proofs from earlier passes that objects are settled (``SettledLedger``): an object nobody wrote since is
    /// unchanged without being read or checked. nil checks every object.
    public var ledger: SettledLedger?
    /// The generation each object had in the answer to this applier's last write of it: a wait does not judge an
    /// object by an older copy (a cache that has not yet seen the write still holds the last revision's object,
    /// ready as it was).
    let written = WrittenGenerations()
    /// The inventory last read, by the ConfigMap's uid and resourceVersion: a pass reads it at each step (a
    /// thousand objects' list to parse) and mostly finds it as it was.
    let lastInventory = ParsedInventory()

    /// One step starting or finished, for ``observer``.
    public struct StepEvent: Sendable {
        /// The step's position, from 0, and the plan's length.
        public var index: Int
        public var count: Int
        /// The step.
        public var step: PlanStep
        /// nil when it starts; its outcome (`created`, `ready`, the failure) when it ends.
        public var outcome: String?
    }

    /// An applier for the cluster `client` talks to; logs with `logger`.
    public init(
        client: KubeClient, logger: Logger, pollInterval: Duration = .milliseconds(200),
        records: RecordFence = RecordFence(), live: LiveCache? = nil, settled: SettledCheck? = nil,
        ledger: SettledLedger? = nil
    ) {
        self.settled = settled
        self.ledger = ledger
        self.client = client
        self.records = records
        self.logger = logger
        self.pollInterval = pollInterval
        self.live = live
    }

    /// Takes every step of `plan` in order, stopping at the first failure; writes the inventory (revision
    /// `revision`) after success. Each wait step gives up after `readinessTimeout`. With the region's
    /// ``Preflight`` (taken before the first write anywhere), its dry runs decide each apply: an unchanged object is
    /// not sent, an accepted one is applied without a second dry run, one marked for recreation is deleted and
    /// created again.
    ///
    /// `waitOnlyForChanged` leaves objects this sync found unchanged out of the waits: right only when the region
    /// was left at a revision that passed its gates (those objects were ready then, and nothing of them changed).
    /// A region whose last revision was never judged waits for everything.
    public func execute(
        _ plan: RegionPlan, revision: String, readinessTimeout: Duration, preflight: Preflight? = nil,
        waitOnlyForChanged: Bool = false
    ) async -> ApplyReport {
        var logger = logger
        logger[metadataKey: "region"] = "\(plan.region)"
        logger[metadataKey: "git.revision"] = "\(revision)"
        var report = ApplyReport(region: plan.region, revision: revision)
        func fail(
            _ index: Int, _ step: String, _ object: ObjectRef?, _ message: String, cause: SyncFailure.Cause
        ) -> ApplyReport {
            let failure = SyncFailure(
                region: plan.region, revision: revision, stepIndex: index, step: step, object: object,
                message: message, cause: cause)
            logger.error("sync failed", metadata: ["error": "\(failure)"])
            report.failure = failure
            return report
        }
        let current: Inventory?
        do {
            current = try await readInventory()
        } catch {
            return fail(
                0, "inventory", Inventory.configMapRef, "cannot read the inventory: \(error)",
                cause: SyncFailure.Cause(error))
        }
        // Record what this sync may create before creating any of it: a sync cut short (a failed step, a crash)
        // then leaves no object that the inventory does not name, so a later sync can still prune it.
        let known = current?.keys ?? []
        let new = plan.applied.map(\.ref).filter { !known.contains($0.key) }
        if !new.isEmpty {
            do {
                _ = try await writeInventory(
                    revision: current?.revision ?? "", objects: (current?.objects ?? []) + new,
                    pendingRevision: revision)
            } catch {
                return fail(
                    0, "inventory", Inventory.configMapRef, "cannot record the objects to apply: \(error)",
                    cause: SyncFailure.Cause(error))
            }
        }
        // Which objects need no apply at all, found at once (few lists, concurrent dry runs) rather than step by
        // step; if that cannot be read, every object takes the ordinary path.
        let unchanged: Set<ObjectKey>
        if let preflight {
            unchanged = preflight.unchanged
        } else {
            do {
                let live = try await readLive(plan.applied.map(\.ref))  // bound first: docs/compiler-crash.md
                unchanged = await unchangedBeforehand(plan, live: live)
            } catch {
                logger.debug("cannot read the live objects beforehand", metadata: ["error": "\(error)"])
                unchanged = []
            }
        }
        // An object seen ready after this pass is proved settled for the next one (``SettledLedger``), when the
        // settle check finds the manifest in sync with it as read: nobody then needs to check it until it is
        // written again.
        let prover = readyProver(plan)
        // Applies of one kind in one wave have no order among them: each such run is sent concurrently (the client
        // bounds how many are on the wire) when its first step comes, and reported step by step in plan order.
        var sent: [Int: Result<ApplyAction, ApplierError>] = [:]
        // Where the last run looked at ends: each run is gathered once (linear in the plan's length).
        var runEnd = 0
        for (index, step) in plan.steps.enumerated() {
            if Task.isCancelled {
                return fail(index, "cancelled", nil, "the sync was stopped before this step", cause: .cancelled)
            }
            if case .apply(let resource, _) = step, sent[index] == nil, !unchanged.contains(resource.key),
                index >= runEnd
            {
                // Members already sent (this step can be an unchanged one in the middle of a run) are never sent again.
                let members = Self.applyRun(plan.steps, from: index)
                runEnd = (members.last ?? index) + 1
                let run = members.filter { member in
                    guard case .apply(let resource, _) = plan.steps[member] else { return false }
                    return !unchanged.contains(resource.key) && sent[member] == nil
                }
                if run.count > 1 {
                    sent.merge(await applyConcurrently(run.map { ($0, plan.steps[$0]) }, preflight: preflight)) {
                        first, _ in first
                    }
                }
            }
            observer?(StepEvent(index: index, count: plan.steps.count, step: step, outcome: nil))
            let before = report.changes.count
            defer {
                let change = report.changes.dropFirst(before).first.map { "\($0.action)" }
                let outcome = report.failure.map { "failed: \($0.message)" } ?? change ?? "done"
                observer?(StepEvent(index: index, count: plan.steps.count, step: step, outcome: outcome))
            }
            switch step {
            case .apply(let resource, _):
                do {
                    let action: ApplyAction
                    if unchanged.contains(resource.key) {
                        action = .unchanged
                    } else if let done = sent[index] {
                        action = try done.get()
                    } else {
                        action = try await apply(resource, preflight: preflight)
                    }
                    logger.info("applied", metadata: ["object": "\(resource.ref)", "action": "\(action)"])
                    report.changes.append(ObjectChange(resource.ref, action))
                } catch {
                    return fail(index, "apply", resource.ref, "\(error)", cause: SyncFailure.Cause(error))
                }
            case .wait(var wait):
                if waitOnlyForChanged {
                    // An object left unchanged in a region left good is as ready as it was when it passed.
                    let unchangedHere = Set(report.changes.filter { $0.action == .unchanged }.map(\.ref.key))
                    wait.objects.removeAll { unchangedHere.contains($0.key) }
                    if wait.objects.isEmpty { continue }
                }
                if let (ref, message, cause) = await self.wait(
                    for: wait, timeout: readinessTimeout, logger: logger, ready: prover?.note)
                {
                    return fail(index, "wait", ref, message, cause: cause)
                }
                // New kinds are served now: the cache lists them at once rather than at its next try.
                if wait.condition == .established { live?.nudge() }
            case .prune(let ref, _):
                do {
                    let change = try await prune(ref, inventory: current)
                    logger.info("pruned", metadata: ["object": "\(ref)", "action": "\(change.action)"])
                    report.changes.append(change)
                } catch {
                    return fail(index, "prune", ref, "\(error)", cause: SyncFailure.Cause(error))
                }
            }
        }
        let applied = Inventory(revision: revision, time: current?.time ?? "", objects: plan.applied.map(\.ref))
        if new.isEmpty, let current, current.pendingRevision == nil, current.revision == revision,
            current.objects == applied.objects
        {
            report.inventory = current  // nothing to record: the inventory already says exactly this
        } else {
            do {
                report.inventory = try await writeInventory(revision: revision, objects: plan.applied.map(\.ref))
            } catch {
                return fail(
                    plan.steps.count, "inventory", Inventory.configMapRef, "\(error)", cause: SyncFailure.Cause(error))
            }
        }
        // The proofs of this plan's objects are kept for the next pass, once the inventory is recorded.
        if let prover {
            await prover.finish()
            prover.ledger.keep(only: Set(plan.applied.map(\.key)))
            if let problem = prover.ledger.save() {
                logger.debug("cannot keep the settled ledger", metadata: ["error": "\(problem)"])
            }
        }
        return report
    }

    /// What proves an object of `plan` settled when a wait sees it ready (nil without a ledger, a settle check, or
    /// with admission webhooks in the plan, which may change what the server stores).
    private func readyProver(_ plan: RegionPlan) -> ReadyProver? {
        let applied = plan.applied
        guard let ledger, let settled, !applied.contains(where: { $0.ref.group == "admissionregistration.k8s.io" })
        else { return nil }
        return ReadyProver(applied, settled: settled, ledger: ledger)
    }

    /// The positions of the apply steps from `start` on that share its kind and wave (consecutive in a plan).
    static func applyRun(_ steps: [PlanStep], from start: Int) -> [Int] {
        guard case .apply(let first, let wave) = steps[start] else { return [] }
        var run: [Int] = []
        var index = start
        while index < steps.count, case .apply(let resource, let stepWave) = steps[index], stepWave == wave,
            resource.ref.group == first.ref.group, resource.kind == first.kind
        {
            run.append(index)
            index += 1
        }
        return run
    }

    /// Applies the objects of `steps` at once; each step's outcome by its position.
    private func applyConcurrently(_ steps: [(Int, PlanStep)], preflight: Preflight?) async
        -> [Int: Result<ApplyAction, ApplierError>]
    {
        await withTaskGroup(of: (Int, Result<ApplyAction, ApplierError>).self) { group in
            for (index, step) in steps {
                guard case .apply(let resource, _) = step else { continue }
                group.addTask {
                    // The outcome is bound before the tuple is built. Swift 6.3.1 -O miscompiles
                    // `return (index, .success(try await apply(resource)))` inside `do`/`catch` in a task-group
                    // child: `index` reads back as 0 after the suspension (docs/compiler-crash.md).
                    let result: Result<ApplyAction, ApplierError>
                    do throws(ApplierError) {
                        result = .success(try await apply(resource, preflight: preflight))
                    } catch {
                        result = .failure(error)
                    }
                    return (index, result)
                }
            }
            var results: [Int: Result<ApplyAction, ApplierError>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    /// What ``execute(_:revision:readinessTimeout:)`` would do, without changing anything: each apply's action
    /// predicted by a server-side dry run (`created`, `configured` or `unchanged`), each prune's outcome by the
    /// inventory and the prune annotation. Waits are not taken.
    public func preview(_ plan: RegionPlan, revision: String) async -> ApplyReport {
        var report = ApplyReport(region: plan.region, revision: revision)
        let current: Inventory?
        do {
            current = try await readInventory()
        } catch {
            report.failure = SyncFailure(
                region: plan.region, revision: revision, stepIndex: 0, step: "inventory",
                object: Inventory.configMapRef, message: "cannot read the inventory: \(error)",
                cause: SyncFailure.Cause(error))
            return report
        }
        for (index, step) in plan.steps.enumerated() {
            do throws(ApplierError) {
                switch step {
                case .apply(let resource, _):
                    let action = try await predict(resource)  // bound first: docs/compiler-crash.md
                    report.changes.append(ObjectChange(resource.ref, action))
                case .prune(let ref, _):
                    report.changes.append(try await prune(ref, inventory: current, dryRun: true))
                case .wait:
                    continue
                }
            } catch {
                let object: ObjectRef? =
                    switch step {
                    case .apply(let resource, _): resource.ref
                    case .prune(let ref, _): ref
                    case .wait: nil
                    }
                report.failure = SyncFailure(
                    region: plan.region, revision: revision, stepIndex: index, step: "dry-run", object: object,
                    message: "\(error)", cause: SyncFailure.Cause(error))
                return report
            }
        }
        return report
    }
}

/// Proves objects settled as a wait sees them ready, on a queue of its own: the checks (a thousand objects as a
/// first sync's wait begins) run beside the wait instead of holding it.
final class ReadyProver: Sendable {
    let ledger: SettledLedger
    private let desired: [ObjectKey: Resource]
    private let settled: SettledCheck
    private let queue = DispatchQueue(label: "syncagent.ready-prover", qos: .utility)

    init(_ applied: [Resource], settled: @escaping SettledCheck, ledger: SettledLedger) {
        desired = Dictionary(applied.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        self.settled = settled
        self.ledger = ledger
    }

    /// `live`, just seen ready: proved settled (soon) when the check finds its manifest in sync with it as read.
    func note(_ ref: ObjectRef, _ live: Resource) {
        guard let manifest = desired[ref.key] else { return }
        queue.async { [settled, ledger] in
            guard let version = LiveVersion(of: live.body), let digest = SettledLedger.digest(manifest),
                settled(manifest, live)
            else { return }
            ledger.prove(ref.key, version: version, digest: digest)
        }
    }

    /// Returns once every object noted so far is proved or found unsettled.
    func finish() async {
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }
}
