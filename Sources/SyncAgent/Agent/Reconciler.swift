import RolloutEngine
import Foundation
import GitSource
import Logging
import ServiceLifecycle
import SyncCore

/// What the agent's services share: readiness, whether a sync is running, the last pass.
actor AgentState {
    /// The first pass has run and the last moved-check reached the repository.
    private(set) var ready = false
    private(set) var syncing = false
    private(set) var lastPollError: String?
    /// The last rollout, as `/status` serves it (JSON, credentials scrubbed). Kept as text, made once per pass: a
    /// report of 10,000 changed objects is a few MiB as a parsed tree, held for as long as the agent rests.
    private(set) var lastStatus: String?
    /// Why this replica does not run the rollout (leader election: another holds the Lease); nil when it does.
    private(set) var standby: String?

    func setStandby(_ reason: String?) { standby = reason }

    func pollFailed(_ error: String) {
        lastPollError = error
        ready = false
    }

    func pollSucceeded() { lastPollError = nil }

    func passStarted() { syncing = true }

    func passEnded(_ report: RolloutReport?) {
        syncing = false
        if let report { lastStatus = AgentHTTP.statusJSON(report.json) }
        if lastPollError == nil { ready = true }
    }
}

/// The git poller and reconciler: asks whether the branch moved (cheap moved-check) every poll interval or at
/// once on a webhook, and rolls a new head out across the regions. A revision a gate rejected is not retried until
/// the branch moves; a pass that could not reach a region is retried at the next interval.
struct Reconciler: Service {
    let config: AgentConfig
    let repository: ConfigRepository
    let rollout: Rollout
    let wakeup: Wakeup
    let state: AgentState
    let metrics: AgentMetrics
    let notifier: Notifier
    /// Leader election; nil when this agent runs alone.
    let leases: LeaseCoordinator?
    let logger: Logger

    func run() async throws {
        var memory = Memory()
        await memory.load(config: config, logger: logger)
        metrics.setFailedRevision(memory.failed)
        var reason = Wakeup.Reason.timer
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await pass(&memory, heal: reason == .heal)
                if Task.isShuttingDownGracefully { break }
                reason = await wakeup.wait(timeout: config.repo?.pollInterval ?? .seconds(30))
                if reason == .shutdown { break }
                logger.debug("woke", metadata: ["reason": "\(reason)"])
            }
        } onGracefulShutdown: {
            // A moved-check or fetch in flight ends now (its sockets are shut down), not at its deadline.
            GitSocketStreams.abortAll()
            Task { await wakeup.wake(.shutdown) }
        }
        logger.info("reconciler stopped")
    }

    /// What the reconciler remembers between passes.
    struct Memory {
        /// The head last rolled out (whatever the outcome).
        var attempted: String?
        /// The branch head seen last.
        var head: String?
        /// A revision a gate rejected.
        var failed: String?
        /// The last pass could not reach a region, or was cut short: run again even if the branch did not move.
        var retry = false
        /// The last head whose signature `repo.verify` accepted.
        var verified: String?
        /// The last head it refused (reported once, not verified again until the branch moves).
        var unverified: String?
        /// The last pass found another replica leading: on taking over, the records are read again and the pass
        /// runs even if the head is one this replica attempted before.
        var standby = false

        /// Picks up what a previous agent recorded in the clusters: a revision rejected there is not retried.
        mutating func load(config: AgentConfig, logger: Logger) async {
            for region in config.regions {
                guard let region = try? RegionClient(region, logger: logger),
                    let status = try? await RegionStatus.read(region.client)
                else { continue }
                if let failed = status.failedRevision, failed != status.lastGoodRevision {
                    self.failed = failed
                }
            }
        }
    }

    /// Verifies a new head's signature when `repo.verify` asks for it. A refused head is counted
    /// (`syncagent_git_polls_total{result="unverified"}`), logged once and reported by `/readyz`; nothing of it is
    /// applied, and the clusters keep the last verified revision until the branch moves to a signed commit.
    private func verify(_ head: String, memory: inout Memory) async throws -> VerifiedSignature? {
        guard repository.repo.verify != nil else { return nil }
        if head == memory.unverified {
            metrics.countPoll("unverified")
            return nil
        }
        do {
            let signer = try await repository.verify(head)
            memory.verified = head
            memory.unverified = nil
            return signer
        } catch let error as GitSourceError {
            guard case .unverified = error else { throw error }
            memory.unverified = head
            metrics.countPoll("unverified")
            logger.error("refusing the branch head", metadata: ["git.revision": "\(head)", "error": "\(error)"])
            await state.pollFailed("\(error)")
            return nil
        }
    }

    /// `standby: the Lease of region X is held by Y`, or why no region is held.
    static func standbyReason(_ leases: LeaseCoordinator) -> String {
        guard let (region, view) = leases.views.first(where: { $0.view.reachable != false }) else {
            return "standby: no region's Lease can be reached"
        }
        if let holder = view.holder, holder != leases.identity {
            return "standby: the Lease of region \(region) is held by \(holder)"
        }
        return "standby: this replica does not hold the Lease of region \(region) yet"
    }

    private func pass(_ memory: inout Memory, heal: Bool) async {
        let head: String
        do {
            head = try await repository.head(known: memory.head)
            if head != memory.verified, let verified = try await verify(head, memory: &memory) {
                logger.info(
                    "the branch head is signed by an allowed key",
                    metadata: ["git.revision": "\(head)", "git.signer": "\(verified)"])
            }
            guard head == memory.verified || repository.repo.verify == nil else { return }
            metrics.countPoll(head == memory.head ? "unchanged" : "moved")
            await state.pollSucceeded()
            await notifier.poll(error: nil)
        } catch {
            metrics.countPoll("error")
            await notifier.poll(error: "\(error)")
            logger.error("cannot read the config repository", metadata: ["error": "\(error)"])
            await state.pollFailed("\(error)")
            return
        }
        if let previous = memory.head, previous != head {
            // A head that does not descend from the last one seen: the branch was rewritten (a force-push to an
            // older or unrelated commit). It is the desired state now, like any other head; it is worth a warning.
            if let forward = try? await repository.cache.isDescendant(head, of: previous), !forward {
                logger.warning(
                    "the branch was rewritten (force-push): its head no longer descends from the last one seen; syncing the new head as the desired state",
                    metadata: ["git.previous": "\(previous)", "git.revision": "\(head)"])
            }
        }
        memory.head = head
        if let leases {
            guard leases.isLeader else {
                memory.standby = true
                await state.setStandby(Self.standbyReason(leases))
                await state.passEnded(nil)
                return
            }
            await state.setStandby(nil)
            if memory.standby {
                // Taking over: what the last leader recorded (a rejected revision) counts, and its pass, cut short
                // or not, is resumed from the regions' records.
                memory.standby = false
                memory.failed = nil
                await memory.load(config: config, logger: logger)
                metrics.setFailedRevision(memory.failed)
                memory.retry = true
            }
        }
        if head == memory.failed {
            if memory.attempted != head {
                logger.warning(
                    "the branch head failed a gate before; waiting for the branch to move",
                    metadata: ["git.revision": "\(head)"])
                memory.attempted = head
            }
            await state.passEnded(nil)
            return
        }
        guard head != memory.attempted || memory.retry || heal else {
            await state.passEnded(nil)
            return
        }
        await state.passStarted()
        var report: RolloutReport?
        do {
            let snapshot = try await repository.snapshot(sha: head)
            logger.info(
                "syncing", metadata: ["git.revision": "\(head)", "git.summary": "\(snapshot.revision.summary)"])
            let loader = repository.loader
            let rollout = rollout
            let done = await cancelWhenGracefulShutdown {
                await rollout.sync(snapshot, force: heal, loadSnapshot: loader)
            }
            report = done
            for outcome in done.regions { metrics.recordOutcome(outcome, revision: head) }
            await notifier.record(done)
            memory.attempted = head
            // A revision only the clusters refused (a CRD not installed yet, an object to adopt, RBAC) is tried
            // again at the next poll: the cluster may change without a commit. One that is bad in itself, or that a
            // gate rejected, waits for the branch to move.
            memory.retry = !done.succeeded && (!done.rejected || done.refusedByClustersOnly)
            if done.rejected && !done.refusedByClustersOnly {
                memory.failed = head
                metrics.setFailedRevision(head)
            }
            let level: Logger.Level = done.succeeded ? .info : .error
            logger.log(
                level: level, "rollout ended",
                metadata: [
                    "git.revision": "\(head)",
                    "result": "\(done.succeeded ? "synced" : done.rejected ? "rejected" : "incomplete")",
                    "regions": "\(done.regions.map { "\($0.region)=\($0.result.rawValue)" }.joined(separator: ","))",
                ])
        } catch {
            logger.error("cannot read the revision", metadata: ["git.revision": "\(head)", "error": "\(error)"])
            memory.retry = true
        }
        await state.passEnded(report)
        HeapTrim.now()
    }
}
