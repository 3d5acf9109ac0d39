import Applier
import Differ
import Foundation
import Logging
import SyncCore

/// The manifests at one revision: what a sync applies, or what a rollback restores.
public struct Snapshot: Sendable {
    public let revision: Revision
    public let files: [ManifestFile]
    /// The config folder inside `files`' paths.
    public let root: String
    /// How many objects it may render to (the file and byte limits were applied when it was read).
    public let limits: InputLimits
    /// The common layer (`base/`), rendered once for every region.
    private let memo = RenderMemo()

    public init(revision: Revision, files: [ManifestFile], root: String, limits: InputLimits = .standard) {
        self.revision = revision
        self.files = files
        self.root = root
        self.limits = limits
    }

    /// The resources one region receives (every file, with no region), or every problem (RenderError). The common
    /// layer is parsed once per snapshot, whichever region asks first.
    public func render(region: String?) throws -> [Resource] {
        try Differ.render(files, root: root, region: region, limits: limits, memo: memo)
    }
}

/// Reads the snapshot at a full commit id (for a rollback to the last good revision).
public typealias SnapshotLoader = @Sendable (String) async throws -> Snapshot

/// One pass of a revision across the regions, in the configured order. The rules (README, "Sync"):
///
/// - Every region's manifests are rendered, checked against the sync policy (allowed kinds and namespaces) and
///   planned before any cluster is touched; one problem anywhere and nothing is applied anywhere.
/// - A region is finished (applied in plan order, every object ready, the metric gate held over its bake time, its
///   status recorded) before the next begins.
/// - A region that rejects the revision (an apply refused, a readiness timeout, a failed metric gate) stops the
///   rollout: later regions are not touched, and every touched region is re-synced to its last good revision
///   (pruning what the bad revision added). The revision is recorded as failed.
/// - A region that cannot be reached stops the rollout without a rollback (nothing says the revision is bad); the
///   regions before it keep the new revision and the next pass retries.
/// - Before the first write anywhere, every reachable region's inventory is read: a revision that renders no
///   object for a region whose inventory is not empty (unless `sync.allowEmpty`), or that would prune more than
///   `sync.maxPrune` of its objects (unless `allowMassPrune`), is refused in every region. A region that could not
///   be read then is checked when the rollout reaches it, and a rollback obeys the same rule.
public struct Rollout: Sendable {
    public let config: RolloutConfig
    public let logger: Logger
    /// Progress lines for a terminal; nil prints nothing.
    public var progress: (@Sendable (String) -> Void)?
    /// The applier's poll interval for readiness.
    public var pollInterval: Duration = .milliseconds(250)
    /// Let this pass prune more than `sync.maxPrune` objects from a region (`sync --allow-mass-prune`).
    public var allowMassPrune = false
    /// The agent's long-lived clients and live-state caches; nil makes a client per pass and reads the clusters.
    public var connections: RegionConnections?
    /// Leader election: a region whose Lease this process does not hold is not written to (the pass stops there,
    /// as at an unreachable region); nil writes without Leases.
    public var leases: LeaseCoordinator?

    /// A rollout of `config`'s regions; `progress` receives a line per step (nil prints nothing).
    public init(config: RolloutConfig, logger: Logger, progress: (@Sendable (String) -> Void)? = nil) {
        self.config = config
        self.logger = logger
        self.progress = progress
    }

    /// Syncs `snapshot` to `regions` (default: all, in order). With `dryRun`, plans and predicts each action with
    /// server-side dry runs, changing nothing. `force` applies and gates even a revision the region already has.
    public func sync(
        _ snapshot: Snapshot, regions only: [String] = [], dryRun: Bool = false, force: Bool = false,
        loadSnapshot: SnapshotLoader
    ) async -> RolloutReport {
        let revision = snapshot.revision
        var logger = logger
        logger[metadataKey: "git.revision"] = "\(revision.sha)"
        let selected = config.regions.filter { only.isEmpty || only.contains($0.name) }
        var report = RolloutReport(revision: revision, dryRun: dryRun)

        // While the regions render (CPU), their connections, discovery and caches get ready (network): only reads.
        let warming = connections.map { connections in
            selected.map { region in Task { await connections.warm(region) } }
        }
        defer { for task in warming ?? [] { task.cancel() } }

        // 1. Render, check and plan every region before touching any.
        var desired: [String: [Resource]] = [:]
        var plans: [String: RegionPlan] = [:]
        var digests: [String: [ObjectKey: ManifestDigest]] = [:]
        var problems: [String] = []
        // The regions side by side (the part of the render they share is done once: the snapshot's memo); their
        // problems reported in region order.
        let rendered = await withTaskGroup(of: (Int, RenderedRegion).self) { group in
            for (index, region) in selected.enumerated() {
                group.addTask { (index, await offThePool { render(snapshot, region: region.name) }) }
            }
            var rendered: [(Int, RenderedRegion)] = []
            for await result in group { rendered.append(result) }
            return rendered.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for (region, result) in zip(selected, rendered) {
            problems += result.problems
            if let resources = result.resources, let plan = result.plan {
                plans[region.name] = plan
                desired[region.name] = resources
                digests[region.name] = result.digests
            }
        }
        // A region that did not render or plan cannot be checked against its cluster: stop here. Otherwise the
        // cluster checks run too, so that one refusal list names every problem.
        if desired.count < selected.count {
            let unique = Self.distinct(problems)
            report.invalid = unique
            logger.error(
                "revision refused before any apply",
                metadata: ["problems": "\(unique.count)", "problem": "\(unique.joined(separator: " | "))"])
            return report
        }

        // 2. Before the first write anywhere, in every region it can reach: what the revision would delete, and
        // whether the cluster would take it (served kinds, adoption, a server-side dry run of every object).
        let revisionProblems = problems.count
        var sessions: [String: RegionSession] = [:]
        var preflights: [String: Preflight] = [:]
        // The regions are only read here: they are checked concurrently, and their problems reported in order.
        let checks = await withTaskGroup(of: (Int, RegionCheck).self) { group in
            for (index, region) in selected.enumerated() {
                let resources = desired[region.name] ?? []
                let plan = plans[region.name]
                let made = digests[region.name]
                group.addTask {
                    (index, await check(region, resources: resources, plan: plan, digests: made))
                }
            }
            var checks: [(Int, RegionCheck)] = []
            for await check in group { checks.append(check) }
            return checks.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for (region, check) in zip(selected, checks) {
            if let session = check.session { sessions[region.name] = session }
            if let preflight = check.preflight { preflights[region.name] = preflight }
            problems += check.problems
        }
        if !problems.isEmpty {
            report.invalid = Self.distinct(problems)
            report.refusedByClustersOnly = revisionProblems == 0
            logger.error(
                "revision refused before any apply",
                metadata: [
                    "problems": "\(report.invalid.count)", "problem": "\(report.invalid.joined(separator: " | "))",
                    "retried": "\(report.refusedByClustersOnly)",
                ])
            return report
        }

        // 3. Region by region.
        var touched: [(region: RegionTarget, session: RegionSession, before: RegionStatus?)] = []
        for (position, region) in selected.enumerated() {
            var regionLogger = logger
            regionLogger[metadataKey: "region"] = "\(region.name)"
            if !dryRun, let refusal = leases?.refusal(for: region.name) {
                // Another replica writes here: nothing is judged, nothing rolled back; the pass is tried again.
                report.regions.append(
                    RegionOutcome(region: region.name, result: .unavailable, message: "not written: \(refusal)"))
                say("\(region.name): not written: \(refusal)")
                await notReached(selected.dropFirst(position + 1), &report)
                return report
            }
            let session: RegionSession
            let before: RegionStatus?
            do {
                session =
                    try sessions[region.name]
                    ?? RegionSession(
                        region: region, logger: regionLogger, pollInterval: pollInterval, connections: connections)
                before = try await RegionStatus.read(session.applier)
                for warning in before?.warnings ?? [] { regionLogger.warning("\(warning)") }
            } catch {
                report.regions.append(
                    RegionOutcome(region: region.name, result: .unavailable, message: "\(error)"))
                say("\(region.name): cannot be reached: \(error)")
                await notReached(selected.dropFirst(position + 1), &report)
                return report
            }
            let resources = desired[region.name] ?? []
            // Timed here: a `defer` inside syncRegion would run after its return value was taken.
            let clock = ContinuousClock()
            let start = clock.now
            var outcome = await syncRegion(
                region, session: session, resources: resources, planned: plans[region.name], revision: revision,
                previous: before, preflight: preflights[region.name], dryRun: dryRun, force: force,
                logger: regionLogger)
            outcome.records = session.applier.records.cost
            outcome.duration = clock.now - start
            report.regions.append(outcome)
            if dryRun { continue }
            touched.append((region, session, before))
            switch outcome.result {
            case .synced, .unchanged:
                continue
            case .unavailable, .abandoned, .conflict:
                // Another writer (a second agent, a sync run by hand) is in charge of the region: nothing is judged
                // and nothing rolled back by this pass.
                await notReached(selected.dropFirst(position + 1), &report)
                return report
            case .failed, .rolledBack, .notReached, .dryRun:
                // 4. A failed gate: roll back every touched region, newest first.
                await notReached(selected.dropFirst(position + 1), &report)
                for entry in touched.reversed() {
                    let index = report.regions.firstIndex { $0.region == entry.region.name }
                    guard let index else { continue }
                    report.regions[index] = await rollBack(
                        entry.region, session: entry.session, outcome: report.regions[index], badRevision: revision,
                        lastGood: entry.before?.rollbackTarget(excluding: revision.sha), previous: entry.before,
                        loadSnapshot: loadSnapshot)
                    report.regions[index].records = entry.session.applier.records.cost
                }
                return report
            }
        }
        return report
    }

    /// What step 2 learnt of one region: its session, its preflight, and its problems; nil parts when the region
    /// could not be reached or read (it is checked again when the rollout reaches it).
    private struct RegionCheck: Sendable {
        var session: RegionSession?
        var preflight: Preflight?
        var problems: [String] = []
    }

    /// Step 2 for one region: what the revision would delete there, and whether its cluster would take it.
    /// One region's resources rendered, checked against the sync policy and planned; nil resources and plan when
    /// that failed, with every problem found up to there.
    private struct RenderedRegion: Sendable {
        var resources: [Resource]?
        var plan: RegionPlan?
        /// The settled ledger's digests of `resources`, made while the network is busy (``SettledLedger``).
        var digests: [ObjectKey: ManifestDigest] = [:]
        var problems: [String] = []
    }

    private func render(_ snapshot: Snapshot, region: String) -> RenderedRegion {
        var result = RenderedRegion()
        do {
            let resources = try snapshot.render(region: region)
            result.problems += policyViolations(resources)
            // Objects of a kind the revision's own CRDs define: their schema is checked here (no server can dry-run
            // a kind it does not serve yet).
            result.problems += CustomResourceCheck.problems(in: resources).map { "region \(region): \($0)" }
            result.plan = try RegionPlan(region: region, desired: resources)
            result.resources = resources
            if connections != nil { result.digests = SettledLedger.digests(resources) }
        } catch {
            result.problems.append("region \(region): \(error)")
        }
        return result
    }

    private func check(
        _ region: RegionTarget, resources: [Resource], plan: RegionPlan?, digests: [ObjectKey: ManifestDigest]?
    ) async -> RegionCheck {
        var result = RegionCheck()
        var regionLogger = logger
        regionLogger[metadataKey: "region"] = "\(region.name)"
        guard
            let session = try? RegionSession(
                region: region, logger: regionLogger, pollInterval: pollInterval, connections: connections)
        else { return result }
        // The agent's cache keeps every kind of the revision; its first pass waits for them to be listed.
        await connections?.prepare(region, kinds: Set(resources.map(\.ref.gvk)), timeout: .seconds(30))
        result.session = session
        // A region that cannot be read now is checked when the rollout reaches it (step 3). (Not `try?`: it would
        // fold "no inventory yet" into "cannot be read".)
        let inventory: Inventory?
        do { inventory = try await session.applier.readInventory() } catch { return result }
        if let refusal = massDeletion(region: region.name, desired: resources, inventory) {
            result.problems.append(refusal)
        }
        guard let plan else { return result }
        let checked: Preflight
        do {
            checked = try await preflight(session, plan: plan, inventory: inventory, digests: digests)
        } catch {
            // RBAC refuses a read the revision needs: the cluster refuses the revision before any apply (tried
            // again at the next poll: fixing the grant needs no commit). Anything else is checked again in step 3.
            if let error = error as? ApplierError, error.status?.reason == .forbidden {
                result.problems.append("region \(region.name): \(error)")
            }
            return result
        }
        result.preflight = checked
        result.problems += checked.refusals.map { "region \(region.name): \($0)" }
        return result
    }

    /// Applies, waits and gates one region; records its status. `planned` is step 1's plan of `resources` (nothing
    /// pruned), taken as it is when there is nothing to prune: the plan is a pure function of the two.
    private func syncRegion(
        _ region: RegionTarget, session: RegionSession, resources: [Resource], planned: RegionPlan?,
        revision: Revision, previous: RegionStatus?, preflight: Preflight?, dryRun: Bool, force: Bool, logger: Logger
    ) async -> RegionOutcome {
        var outcome = RegionOutcome(region: region.name, result: .synced)
        let plan: RegionPlan
        let inventory: Inventory?
        let checked: Preflight
        do {
            inventory = try await session.applier.readInventory()
            let candidates = config.sync.prune ? Self.pruneCandidates(inventory, desired: resources) : []
            // The inventory alone is never a delete list: an entry outside the policy is reported and kept.
            let (prune, refused) = prunable(candidates, desired: resources)
            for line in refused { say("\(region.name): \(line)") }
            if let refusal = massDeletion(region: region.name, desired: resources, inventory) {
                outcome.result = .failed
                outcome.message = refusal
                say(refusal)
                return outcome
            }
            let unpruned = prune.isEmpty ? planned : nil
            plan = try (unpruned ?? RegionPlan(region: region.name, desired: resources, pruneRefs: prune))
                .withReadinessGate()
            // A region that could not be read before the first write is checked now, before its own first write.
            if let preflight {
                checked = preflight
            } else {
                checked = try await self.preflight(session, plan: plan, inventory: inventory)
            }
            if !checked.refusals.isEmpty {
                outcome.result = .failed
                outcome.message =
                    "the cluster refuses the revision; nothing was applied here:\n"
                    + checked.refusals.map { "  \($0)" }.joined(separator: "\n")
                say("\(region.name): \(outcome.message)")
                return outcome
            }
        } catch {
            outcome.result = SyncFailure.Cause(error) == .unavailable ? .unavailable : .failed
            outcome.message = "\(error)"
            say("\(region.name): \(error)")
            return outcome
        }
        outcome.plan = plan
        let summary = plan.summary
        say("\(region.name): \(summary.replacingOccurrences(of: "region \(region.name): ", with: ""))")
        if dryRun {
            let preview = await session.applier.preview(plan, revision: revision.sha)
            outcome.apply = preview
            outcome.result = preview.failure.map { $0.cause == .unavailable ? .unavailable : .failed } ?? .dryRun
            outcome.message = preview.failure.map(\.description) ?? ""
            for change in preview.changes { say("\(region.name):   would be \(change)") }
            return outcome
        }

        // The record says what is under way before it starts: a pass killed from here on leaves `applying R`, and
        // the next pass judges R again instead of taking its live state as good. (Skipped when the region's record
        // already says R is good: re-applying a good revision cannot make it look better than it is.)
        if previous?.revision != revision.sha || previous?.result != .synced || force {
            if let conflict = await record(
                session, previous: previous,
                RegionStatus(revision: revision.sha, result: .applying, message: "applying \(revision.shortSHA)"))
            {
                return await conflicted(outcome, conflict, session: session)
            }
        }
        // Left at a revision that passed its gates, the region's unchanged objects were ready then: only what this
        // pass changes is waited for. Otherwise (a pass cut short, a failed revision) everything is. `synced` is
        // written only after a revision passed its gates (a local folder's too, which records no rollback target).
        let leftGood =
            previous?.result == .synced || (previous?.result == .rolledBack && previous?.lastGoodRevision != nil)
        let applier = observed(session.applier, region: region.name)
        let applied = await applier.execute(
            plan, revision: revision.sha, readinessTimeout: region.gates.readinessTimeout, preflight: checked,
            waitOnlyForChanged: leftGood && !force)
        outcome.apply = applied
        if let failure = applied.failure {
            let result: RegionStatus.Result
            switch Task.isCancelled ? .cancelled : failure.cause {
            case .unavailable: (outcome.result, result) = (.unavailable, .unavailable)
            case .cancelled: (outcome.result, result) = (.abandoned, .abandoned)
            case .revision: (outcome.result, result) = (.failed, .failed)
            case .conflict:
                outcome.message = failure.message
                return await conflicted(outcome, nil, session: session)
            }
            outcome.message = failure.description
            outcome = await recorded(
                outcome, session: session, previous: previous,
                RegionStatus(
                    revision: revision.sha,
                    result: result,
                    message: failure.description, lastGoodRevision: previous?.lastGoodRevision,
                    failedRevision: previous?.failedRevision, changes: applied.countsJSON))
            return outcome
        }
        // Nothing changed, and the region was left at a good revision (synced, or rolled back to one): its live
        // state is one that already passed the gates, so gating it again would prove nothing about this revision
        // (and would judge it by the traffic of a release that was just rolled back).
        let changed = applied.changes.contains { $0.action != .unchanged && $0.action != .skipped }
        if !changed && leftGood && !force {
            outcome.result = .unchanged
            say("\(region.name): nothing changed (the region already is as \(revision.shortSHA) wants it)")
            if previous?.revision != revision.sha {
                outcome = await recorded(
                    outcome, session: session, previous: previous,
                    RegionStatus(
                        revision: revision.sha, result: .synced, message: "nothing changed",
                        lastGoodRevision: revision.sha, gate: previous?.gate, changes: applied.countsJSON))
            }
            return outcome
        }
        if let gate = region.gates.metrics {
            if let conflict = await record(
                session, previous: previous,
                RegionStatus(
                    revision: revision.sha, result: .gating, message: "metric gate of \(revision.shortSHA) under way",
                    changes: applied.countsJSON))
            {
                return await conflicted(outcome, conflict, session: session)
            }
            let checks = gate.checks.map(\.name) + gate.probes.map { "probe \($0.url)" }
            say(
                "\(region.name): metric gate: \(checks.joined(separator: ", ")) held for \(gate.bakeTime.formattedSeconds)"
            )
            let result = await MetricGate.evaluate(gate, logger: logger)
            outcome.gate = result
            for line in result.description.split(separator: "\n") { say("\(region.name): \(line)") }
            if !result.passed && Task.isCancelled {
                outcome.result = .abandoned
                outcome.message = "stopped during the metric gate"
                outcome = await recorded(
                    outcome, session: session, previous: previous,
                    RegionStatus(
                        revision: revision.sha, result: .abandoned, message: outcome.message,
                        gate: result.json, changes: applied.countsJSON))
                return outcome
            }
            if !result.passed {
                outcome.result = .failed
                outcome.message = "metric gate failed: \(result.reason)"
                return outcome
            }
        }
        say("\(region.name): synced \(revision.shortSHA)")
        return await recorded(
            outcome, session: session, previous: previous,
            RegionStatus(
                revision: revision.sha, result: .synced,
                message: applied.changes.isEmpty ? "nothing to apply" : applied.summary,
                lastGoodRevision: revision.sha, gate: outcome.gate?.json, changes: applied.countsJSON))
    }

    /// Restores a touched region to its last good revision after `badRevision` failed a gate.
    private func rollBack(
        _ region: RegionTarget, session: RegionSession, outcome: RegionOutcome, badRevision: Revision,
        lastGood: String?, previous: RegionStatus?, loadSnapshot: SnapshotLoader
    ) async -> RegionOutcome {
        var outcome = outcome
        if outcome.result == .synced || outcome.result == .unchanged {
            outcome.message = "passed its gates, rolled back because a later region failed"
        }
        guard let lastGood, lastGood != badRevision.sha else {
            outcome.result = .failed
            outcome.message += "; no earlier good revision to roll back to: left as the failed sync left it"
            say("\(region.name): no earlier good revision to roll back to")
            outcome = await recorded(
                outcome, session: session, previous: previous,
                RegionStatus(
                    revision: badRevision.sha, result: .failed, message: outcome.message,
                    failedRevision: badRevision.sha, gate: outcome.gate?.json))
            return outcome
        }
        say("\(region.name): rolling back to \(lastGood.prefix(7))")
        do {
            let snapshot = try await loadSnapshot(lastGood)
            let resources = try snapshot.render(region: region.name)
            let inventory = try await session.applier.readInventory()
            let (prune, refused) = prunable(Self.pruneCandidates(inventory, desired: resources), desired: resources)
            for line in refused { say("\(region.name): \(line)") }
            if let refusal = massDeletion(region: region.name, desired: resources, inventory, pruning: true) {
                throw RolloutRefusal(message: refusal)
            }
            let plan = try RegionPlan(region: region.name, desired: resources, pruneRefs: prune).withReadinessGate()
            let restored = await observed(session.applier, region: region.name).execute(
                plan, revision: lastGood, readinessTimeout: region.gates.readinessTimeout)
            outcome.rollback = restored
            if let failure = restored.failure { throw failure }
            outcome.result = .rolledBack
            say("\(region.name): rolled back to \(lastGood.prefix(7))")
            outcome = await recorded(
                outcome, session: session, previous: previous,
                RegionStatus(
                    revision: lastGood, result: .rolledBack,
                    message: "\(badRevision.shortSHA) failed: \(outcome.message)", lastGoodRevision: lastGood,
                    failedRevision: badRevision.sha, gate: outcome.gate?.json, changes: restored.countsJSON))
        } catch {
            outcome.result = .failed
            outcome.message += "; the rollback to \(lastGood.prefix(7)) failed too: \(error)"
            say("\(region.name): rollback failed: \(error)")
            outcome = await recorded(
                outcome, session: session, previous: previous,
                RegionStatus(
                    revision: badRevision.sha, result: .failed, message: outcome.message, lastGoodRevision: lastGood,
                    failedRevision: badRevision.sha, gate: outcome.gate?.json))
        }
        return outcome
    }

    /// The applier with a progress line per finished step.
    private func observed(_ applier: RegionApplier, region name: String) -> RegionApplier {
        guard let progress else { return applier }
        var applier = applier
        applier.observer = { event in
            guard let outcome = event.outcome else { return }
            progress("\(name): [\(event.index + 1)/\(event.count)] \(event.step.summary) → \(outcome)")
        }
        return applier
    }

    /// Marks the regions after a stop as not reached.
    private func notReached(_ regions: ArraySlice<RegionTarget>, _ report: inout RolloutReport) async {
        for region in regions {
            report.regions.append(
                RegionOutcome(region: region.name, result: .notReached, message: "the rollout stopped before it"))
            say("\(region.name): not touched (the rollout stopped before it)")
        }
    }

    /// The region's preflight of `plan` (``RegionApplier/preflight(_:inventory:adoptAll:)``): reads and
    /// server-side dry runs only. Throws when the cluster cannot be read.
    public func preflight(
        _ session: RegionSession, plan: RegionPlan, inventory: Inventory?, digests: [ObjectKey: ManifestDigest]? = nil
    ) async throws -> Preflight {
        try await session.applier.preflight(
            plan, inventory: inventory, adoptAll: config.sync.adopt, digests: digests?.isEmpty == false ? digests : nil)
    }

    /// `lines` without repeats, first occurrences in order (two regions often report the same problem).
    static func distinct(_ lines: [String]) -> [String] {
        var seen: Set<String> = []
        return lines.filter { seen.insert($0).inserted }
    }

    /// The inventory's objects that `desired` no longer has: what a sync (or a rollback) would prune.
    public static func pruneCandidates(_ inventory: Inventory?, desired: [Resource]) -> [ObjectRef] {
        let wanted = Set(desired.map(\.key))
        return (inventory?.objects ?? []).filter { !wanted.contains($0.key) }
    }

    /// Why syncing `desired` to a region with `inventory` would delete too much, or nil: no object rendered for a
    /// region that has some (unless `sync.allowEmpty`), or more prunes than `sync.maxPrune` (unless
    /// ``allowMassPrune``). `pruning` nil follows `sync.prune`.
    public func massDeletion(region: String, desired: [Resource], _ inventory: Inventory?, pruning: Bool? = nil)
        -> String?
    {
        let owned = inventory?.objects ?? []
        if desired.isEmpty && !owned.isEmpty {
            if config.sync.allowEmpty { return nil }
            return "region \(region): the revision renders no objects for this region, whose inventory lists "
                + "\(owned.count); refused (a moved folder or a bad merge would delete everything). Set "
                + "sync.allowEmpty: true to allow"
        }
        guard pruning ?? config.sync.prune, !allowMassPrune else { return nil }
        let count = Self.pruneCandidates(inventory, desired: desired).count
        let limit = config.sync.pruneLimit(inventoryCount: owned.count)
        guard count > limit else { return nil }
        let setting =
            config.sync.maxPrune == nil
            ? "sync.maxPrune (default: a quarter of the inventory, at least 10)" : "sync.maxPrune"
        return "region \(region): the revision would prune \(count) of the \(owned.count) objects syncagent created "
            + "there, more than \(setting) allows (\(limit)); refused. Check the revision, raise sync.maxPrune, or "
            + "run `syncagent sync --allow-mass-prune` once"
    }

    /// Writes a region's record, carrying the good history of `previous` (``RegionStatus/carrying(_:)``). The write
    /// runs in a task of its own, so a pass being stopped (SIGTERM) still stores what it did (`abandoned`). It is
    /// fenced (``RecordFence``): when another syncagent wrote the record since this pass read it, nothing is written
    /// and the conflict is returned. Any other failure is logged (the next pass writes the record again).
    @discardableResult
    private func record(_ session: RegionSession, previous: RegionStatus?, _ status: RegionStatus) async
        -> RecordConflict?
    {
        let status = status.carrying(previous)
        let logger = logger
        return await Task.detached { () -> RecordConflict? in
            do throws(RecordWriteError) {
                try await status.write(session.applier)
                return nil
            } catch {
                if case .conflict(let conflict) = error { return conflict }
                logger.warning(
                    "cannot record the region's status",
                    metadata: ["region": "\(session.region.name)", "error": "\(error)"])
                return nil
            }
        }.value
    }

    /// `outcome` once its record is written; a conflict instead when another writer got there first.
    private func recorded(
        _ outcome: RegionOutcome, session: RegionSession, previous: RegionStatus?, _ status: RegionStatus
    ) async -> RegionOutcome {
        guard let conflict = await record(session, previous: previous, status) else { return outcome }
        return await conflicted(outcome, conflict, session: session)
    }

    /// The outcome of a pass that found another writer in the region's records: it stops there, writes nothing,
    /// and says what the other writer's record now says (read again).
    private func conflicted(_ outcome: RegionOutcome, _ conflict: RecordConflict?, session: RegionSession) async
        -> RegionOutcome
    {
        var outcome = outcome
        outcome.result = .conflict
        let name = session.region.name
        var message = "another syncagent is writing region \(name); this pass stopped there without writing"
        if let conflict { message += " (ConfigMap \(conflict.record.namespace)/\(conflict.record.name) changed)" }
        // Read in a task of its own: a pass being stopped (SIGTERM) still says who holds the region.
        let client = session.client
        if let now = await Task.detached(operation: { try? await RegionStatus.read(client) }).value {
            message += "; its record now says \(now.result.rawValue) \(now.revision.prefix(7))"
            if !now.time.isEmpty { message += " at \(now.time)" }
        }
        outcome.message = message
        say("\(name): \(message)")
        return outcome
    }

    private func say(_ line: String) {
        progress?(line)
        logger.info("\(line)")
    }
}

/// A region's client and applier for one pass.
public struct RegionSession: Sendable {
    public let region: RegionTarget
    public let client: KubeClient
    public let applier: RegionApplier

    /// A session with a client of its own, or the region's long-lived client and cache from `connections`.
    public init(
        region: RegionTarget, logger: Logger, pollInterval: Duration, connections: RegionConnections? = nil
    ) throws {
        self.region = region
        let connection = try connections?.connection(region)
        client = try connection?.client ?? RegionClient(region, logger: logger).client
        // The status record is the claim: the pass that wrote it last holds the region (RecordFence).
        // An object the Differ finds in sync client-side (every field it sets holds its value, none it owned is
        // dropped) needs no dry run.
        let options = DiffOptions(mode: .serverSide)
        applier = RegionApplier(
            client: client, logger: logger, pollInterval: pollInterval,
            records: RecordFence(claim: RegionStatus.configMapRef), live: connection?.live,
            settled: { desired, live in
                Differ.isInSyncWithoutDryRun(desired: desired, live: live.body, options: options)
            }, ledger: connection?.ledger)
    }
}

/// A rollout step refused by a safety rule (for example a rollback that would empty a region).
public struct RolloutRefusal: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
