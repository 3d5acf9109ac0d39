import Applier
import Differ
import Foundation
import Logging
import SyncCore

/// The manifests at one revision: what a sync applies, or what a rollback restores.
struct Snapshot: Sendable {
    var revision: Revision
    var files: [ManifestFile]
    /// The config folder inside `files`' paths.
    var root: String

    /// The resources one region receives (every file, with no region), or every problem (RenderError).
    func render(region: String?) throws -> [Resource] {
        try Differ.render(files, root: root, region: region)
    }
}

/// Reads the snapshot at a full commit id (for a rollback to the last good revision).
typealias SnapshotLoader = @Sendable (String) async throws -> Snapshot

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
struct Rollout: Sendable {
    let config: AgentConfig
    let logger: Logger
    /// Progress lines for a terminal; nil prints nothing.
    var progress: (@Sendable (String) -> Void)?
    /// The applier's poll interval for readiness.
    var pollInterval: Duration = .milliseconds(250)

    /// Syncs `snapshot` to `regions` (default: all, in order). With `dryRun`, plans and predicts each action with
    /// server-side dry runs, changing nothing. `force` applies and gates even a revision the region already has.
    func sync(
        _ snapshot: Snapshot, regions only: [String] = [], dryRun: Bool = false, force: Bool = false,
        loadSnapshot: SnapshotLoader
    ) async -> RolloutReport {
        let revision = snapshot.revision
        var logger = logger
        logger[metadataKey: "git.revision"] = "\(revision.sha)"
        let selected = config.regions.filter { only.isEmpty || only.contains($0.name) }
        var report = RolloutReport(revision: revision, dryRun: dryRun)

        // 1. Render, check and plan every region before touching any.
        var desired: [String: [Resource]] = [:]
        var problems: [String] = []
        for region in selected {
            do {
                let resources = try snapshot.render(region: region.name)
                problems += policyViolations(resources)
                _ = try RegionPlan(region: region.name, desired: resources)
                desired[region.name] = resources
            } catch {
                problems.append("region \(region.name): \(error)")
            }
        }
        if !problems.isEmpty {
            let unique = problems.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            report.invalid = unique
            logger.error("revision refused before any apply", metadata: ["problems": "\(unique.count)"])
            return report
        }

        // 2. Region by region.
        var touched: [(region: AgentConfig.Region, session: RegionSession, before: RegionStatus?)] = []
        for (position, region) in selected.enumerated() {
            var regionLogger = logger
            regionLogger[metadataKey: "region"] = "\(region.name)"
            let session: RegionSession
            let before: RegionStatus?
            do {
                session = try RegionSession(region: region, logger: regionLogger, pollInterval: pollInterval)
                before = try await RegionStatus.read(session.client)
            } catch {
                report.regions.append(
                    RegionOutcome(region: region.name, result: .unavailable, message: "\(error)"))
                say("\(region.name): cannot be reached: \(error)")
                await notReached(selected.dropFirst(position + 1), &report)
                return report
            }
            let resources = desired[region.name] ?? []
            let outcome = await syncRegion(
                region, session: session, resources: resources, revision: revision, previous: before,
                dryRun: dryRun, force: force, logger: regionLogger)
            report.regions.append(outcome)
            if dryRun { continue }
            touched.append((region, session, before))
            switch outcome.result {
            case .synced, .unchanged:
                continue
            case .unavailable, .abandoned:
                await notReached(selected.dropFirst(position + 1), &report)
                return report
            case .failed, .rolledBack, .notReached, .dryRun:
                // 3. A failed gate: roll back every touched region, newest first.
                await notReached(selected.dropFirst(position + 1), &report)
                for entry in touched.reversed() {
                    let index = report.regions.firstIndex { $0.region == entry.region.name }
                    guard let index else { continue }
                    report.regions[index] = await rollBack(
                        entry.region, session: entry.session, outcome: report.regions[index], badRevision: revision,
                        lastGood: entry.before?.lastGoodRevision, loadSnapshot: loadSnapshot)
                }
                return report
            }
        }
        return report
    }

    /// Applies, waits and gates one region; records its status.
    private func syncRegion(
        _ region: AgentConfig.Region, session: RegionSession, resources: [Resource], revision: Revision,
        previous: RegionStatus?, dryRun: Bool, force: Bool, logger: Logger
    ) async -> RegionOutcome {
        var outcome = RegionOutcome(region: region.name, result: .synced)
        let clock = ContinuousClock()
        let start = clock.now
        defer { outcome.duration = clock.now - start }
        let plan: RegionPlan
        let inventory: Inventory?
        do {
            inventory = try await session.applier.readInventory()
            let wanted = Set(resources.map(\.key))
            let prune = config.sync.prune ? (inventory?.objects ?? []).filter { !wanted.contains($0.key) } : []
            plan = try RegionPlan(region: region.name, desired: resources, pruneRefs: prune).withReadinessGate()
        } catch {
            outcome.result = SyncFailure.Cause(error) == .unavailable ? .unavailable : .failed
            outcome.message = "\(error)"
            say("\(region.name): \(error)")
            return outcome
        }
        outcome.plan = plan
        let summary = plan.description.split(separator: "\n").first.map(String.init) ?? ""
        say("\(region.name): \(summary.replacingOccurrences(of: "region \(region.name): ", with: ""))")
        if dryRun {
            let preview = await session.applier.preview(plan, revision: revision.sha)
            outcome.apply = preview
            outcome.result = preview.failure.map { $0.cause == .unavailable ? .unavailable : .failed } ?? .dryRun
            outcome.message = preview.failure.map(\.description) ?? ""
            for change in preview.changes { say("\(region.name):   would be \(change)") }
            return outcome
        }

        let applier = observed(session.applier, region: region.name)
        let applied = await applier.execute(
            plan, revision: revision.sha, readinessTimeout: region.gates.readinessTimeout)
        outcome.apply = applied
        if let failure = applied.failure {
            let result: RegionStatus.Result
            switch Task.isCancelled ? .cancelled : failure.cause {
            case .unavailable: (outcome.result, result) = (.unavailable, .unavailable)
            case .cancelled: (outcome.result, result) = (.abandoned, .abandoned)
            case .revision: (outcome.result, result) = (.failed, .failed)
            }
            outcome.message = failure.description
            await record(
                session,
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
        let leftGood =
            previous?.lastGoodRevision != nil && (previous?.result == .synced || previous?.result == .rolledBack)
        if !changed && leftGood && !force {
            outcome.result = .unchanged
            say("\(region.name): nothing changed (the region already is as \(revision.shortSHA) wants it)")
            if previous?.revision != revision.sha {
                await record(
                    session,
                    RegionStatus(
                        revision: revision.sha, result: .synced, message: "nothing changed",
                        lastGoodRevision: revision.sha, gate: previous?.gate, changes: applied.countsJSON))
            }
            return outcome
        }
        if let gate = region.gates.metrics {
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
                return outcome
            }
            if !result.passed {
                outcome.result = .failed
                outcome.message = "metric gate failed: \(result.reason)"
                return outcome
            }
        }
        say("\(region.name): synced \(revision.shortSHA)")
        await record(
            session,
            RegionStatus(
                revision: revision.sha, result: .synced,
                message: applied.changes.isEmpty ? "nothing to apply" : applied.summary,
                lastGoodRevision: revision.sha, gate: outcome.gate?.json, changes: applied.countsJSON))
        return outcome
    }

    /// Restores a touched region to its last good revision after `badRevision` failed a gate.
    private func rollBack(
        _ region: AgentConfig.Region, session: RegionSession, outcome: RegionOutcome, badRevision: Revision,
        lastGood: String?, loadSnapshot: SnapshotLoader
    ) async -> RegionOutcome {
        var outcome = outcome
        if outcome.result == .synced || outcome.result == .unchanged {
            outcome.message = "passed its gates, rolled back because a later region failed"
        }
        guard let lastGood, lastGood != badRevision.sha else {
            outcome.result = .failed
            outcome.message += "; no earlier good revision to roll back to: left as the failed sync left it"
            say("\(region.name): no earlier good revision to roll back to")
            await record(
                session,
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
            let wanted = Set(resources.map(\.key))
            let prune = (inventory?.objects ?? []).filter { !wanted.contains($0.key) }
            let plan = try RegionPlan(region: region.name, desired: resources, pruneRefs: prune).withReadinessGate()
            let restored = await observed(session.applier, region: region.name).execute(
                plan, revision: lastGood, readinessTimeout: region.gates.readinessTimeout)
            outcome.rollback = restored
            if let failure = restored.failure { throw failure }
            outcome.result = .rolledBack
            say("\(region.name): rolled back to \(lastGood.prefix(7))")
            await record(
                session,
                RegionStatus(
                    revision: lastGood, result: .rolledBack,
                    message: "\(badRevision.shortSHA) failed: \(outcome.message)", lastGoodRevision: lastGood,
                    failedRevision: badRevision.sha, gate: outcome.gate?.json, changes: restored.countsJSON))
        } catch {
            outcome.result = .failed
            outcome.message += "; the rollback to \(lastGood.prefix(7)) failed too: \(error)"
            say("\(region.name): rollback failed: \(error)")
            await record(
                session,
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
            let line = event.step.description.split(separator: "\n").first.map(String.init) ?? ""
            var what = String(line.split(separator: "#").first ?? "").trimmingCharacters(in: .whitespaces)
            if what.hasSuffix(":") { what.removeLast() }
            progress("\(name): [\(event.index + 1)/\(event.count)] \(what) → \(outcome)")
        }
        return applier
    }

    /// Marks the regions after a stop as not reached.
    private func notReached(_ regions: ArraySlice<AgentConfig.Region>, _ report: inout RolloutReport) async {
        for region in regions {
            report.regions.append(
                RegionOutcome(region: region.name, result: .notReached, message: "the rollout stopped before it"))
            say("\(region.name): not touched (the rollout stopped before it)")
        }
    }

    /// Objects the sync policy does not allow, each with its source position.
    func policyViolations(_ resources: [Resource]) -> [String] {
        let kinds = config.sync.allowedKinds
        let namespaces = config.sync.allowedNamespaces
        var problems: [String] = []
        for resource in resources {
            let place = resource.source.map { "\($0): " } ?? ""
            if !kinds.isEmpty && !Self.kindAllowed(resource.ref, kinds) {
                problems.append(
                    "\(place)\(resource.ref): kind \(resource.ref.group.isEmpty ? "" : resource.ref.group + "/")"
                        + "\(resource.kind) is not in sync.allowedKinds")
            }
            if !namespaces.isEmpty {
                // A Namespace object is judged by its name; other cluster-scoped objects by allowedKinds only.
                let namespace =
                    resource.ref.group.isEmpty && resource.kind == "Namespace" ? resource.name : resource.namespace
                if !namespace.isEmpty && !namespaces.contains(namespace) {
                    problems.append("\(place)\(resource.ref): namespace \(namespace) is not in sync.allowedNamespaces")
                }
            }
        }
        return problems
    }

    /// `apps/Deployment`, `Service` or `/Service` (core), `networking.istio.io/*`.
    static func kindAllowed(_ ref: ObjectRef, _ allowed: [String]) -> Bool {
        allowed.contains { entry in
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let (group, kind) = parts.count == 1 ? ("", parts[0]) : (parts[0], parts[1])
            return group == ref.group && (kind == "*" || kind == ref.kind)
        }
    }

    private func record(_ session: RegionSession, _ status: RegionStatus) async {
        do {
            try await status.write(session.applier)
        } catch {
            logger.warning(
                "cannot record the region's status",
                metadata: ["region": "\(session.region.name)", "error": "\(error)"])
        }
    }

    private func say(_ line: String) {
        progress?(line)
        logger.info("\(line)")
    }
}

/// A region's client and applier for one pass.
struct RegionSession: Sendable {
    let region: AgentConfig.Region
    let client: KubeClient
    let applier: RegionApplier

    init(region: AgentConfig.Region, logger: Logger, pollInterval: Duration) throws {
        self.region = region
        client = try RegionClient(region, logger: logger).client
        applier = RegionApplier(client: client, logger: logger, pollInterval: pollInterval)
    }
}
