import Applier
import Foundation
import SyncCore

/// What one region's part of a rollout came to.
public struct RegionOutcome: Sendable {
    /// How the region ended.
    public enum Result: String, Sendable {
        /// Applied, ready, gates held.
        case synced
        /// Already at the revision, nothing changed, gates not re-run.
        case unchanged
        /// The revision was rejected (apply refused, not ready, gate failed) and the region not restored.
        case failed
        /// The revision was rejected here or in a later region and the region was restored to its last good one.
        case rolledBack = "rolled-back"
        /// The cluster could not be reached; retried by the next pass.
        case unavailable
        /// Not touched: the rollout stopped before it.
        case notReached = "not-reached"
        /// The pass was stopped part way (shutdown).
        case abandoned
        /// Another syncagent wrote this region's records during the pass (``RecordConflict``): the pass stopped
        /// here without writing or judging anything; the other writer is in charge.
        case conflict
        /// `--dry-run`: planned and predicted only.
        case dryRun = "dry-run"
    }

    public var region: String
    public var result: Result
    public var message: String = ""
    public var plan: RegionPlan?
    public var apply: ApplyReport?
    public var gate: GateResult?
    public var rollback: ApplyReport?
    public var duration: Duration = .zero
    /// The writes of syncagent's own records (inventory, status) in this region and the time they took.
    public var records: (writes: Int, time: Duration) = (0, .zero)

    public var json: Value {
        var object: Value = ["region": .string(region), "result": .string(result.rawValue)]
        if !message.isEmpty { object["message"] = .string(message) }
        if let apply {
            object["changes"] = apply.countsJSON
            object["objects"] = .array(
                apply.changes.map { ["object": .string("\($0.ref)"), "action": .string("\($0.action)")] })
        }
        if let gate { object["gate"] = gate.json }
        if let rollback { object["rollback"] = rollback.countsJSON }
        object["durationSeconds"] = .double(duration.seconds)
        object["records"] = ["writes": .int(Int64(records.writes)), "seconds": .double(records.time.seconds)]
        return object
    }
}

/// A whole rollout: the revision, and each region's outcome in rollout order; or the problems that stopped it
/// before any region was touched.
public struct RolloutReport: Sendable {
    public var revision: Revision
    public var dryRun: Bool
    public var regions: [RegionOutcome] = []
    /// Problems found before any apply (render errors, policy violations, plan errors); nothing was applied.
    public var invalid: [String] = []
    /// Every problem in ``invalid`` came from the clusters' preflight (a kind not served, an object not adopted, a
    /// dry run refused, a mass deletion), none from the revision itself: the same revision may pass once the
    /// cluster changes (a CRD installed, an object removed, RBAC granted), so the agent tries it again.
    public var refusedByClustersOnly = false

    /// Every region synced (or already was), or, for a dry run, every region planned.
    public var succeeded: Bool {
        invalid.isEmpty && !regions.isEmpty
            && regions.allSatisfy { $0.result == .synced || $0.result == .unchanged || $0.result == .dryRun }
    }

    /// A gate or a cluster rejected the revision.
    public var rejected: Bool {
        !invalid.isEmpty || regions.contains { $0.result == .failed || $0.result == .rolledBack }
    }

    /// `syncagent sync`'s exit code: 0 every region synced, 1 the revision was rejected (rolled back), 2 nothing
    /// applied because the input is invalid, 3 a region could not be reached (or the pass was stopped).
    public var exitCode: Int32 {
        if !invalid.isEmpty { return 2 }
        if succeeded { return 0 }
        if rejected { return 1 }
        return 3
    }

    /// The summary a person reads at the end of `syncagent sync`.
    public var text: String {
        var lines: [String] = []
        let what = "\(revision.shortSHA) \"\(revision.summary)\""
        if !invalid.isEmpty {
            lines.append("revision \(what) refused before any apply; nothing was changed:")
            lines += invalid.map { "  \($0)" }
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("revision \(what)\(dryRun ? " (dry run: nothing changed)" : ""):")
        let width = max(6, regions.map(\.region.count).max() ?? 0)
        lines.append("  " + "REGION".padding(toLength: width, withPad: " ", startingAt: 0) + "  RESULT        CHANGES")
        for outcome in regions {
            let counts = outcome.apply?.summary ?? ""
            lines.append(
                "  " + outcome.region.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + outcome.result.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0) + "  " + counts)
            if !outcome.message.isEmpty { lines.append("      \(outcome.message)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: Value {
        var object: Value = [
            "revision": .string(revision.sha), "summary": .string(revision.summary), "dryRun": .bool(dryRun),
            "succeeded": .bool(succeeded),
        ]
        if !invalid.isEmpty { object["problems"] = .array(invalid.map { .string($0) }) }
        object["regions"] = .array(regions.map(\.json))
        return object
    }
}
