import Applier
import Foundation
import SyncCore

/// What the last sync did in one region, kept in the cluster beside the inventory (ConfigMap
/// `syncagent-system/syncagent-status`), so `syncagent status`, a restarted agent and a second agent all read the
/// same record.
///
/// Data keys: `revision` (the revision last attempted), `result` (see ``Result``), `time`, `message`,
/// `lastGoodRevision` (the last revision that passed every gate here: what a failed rollout restores),
/// `goodRevisions` (JSON: the last 10 good revisions, newest first, each with its time and gate summary, so that no
/// single write can lose the rollback target), `failedRevision` (a revision a gate rejected: not retried until the
/// branch moves), `gate` (JSON: the gate's verdict and every value seen), `changes` (JSON: created/configured/
/// unchanged/pruned/skipped counts).
///
/// The record is a small state machine per region: a pass writes `applying R` before its first apply and `gating R`
/// before its metric gate, then `synced R` (or `failed`, `rolled-back`, `abandoned`). A pass that finds `applying`
/// or `gating` left by a killed pass gates R again: only a completed gate ever makes R good.
public struct RegionStatus: Sendable, Hashable {
    /// How the last sync ended.
    public enum Result: String, Sendable, Hashable {
        /// Applied, ready, and the metric gate held.
        case synced
        /// A gate failed or the cluster refused the revision; the region was restored to its last good revision.
        case rolledBack = "rolled-back"
        /// A gate failed or the cluster refused the revision, and restoring the last good revision failed too (or
        /// there was none): the region needs a person.
        case failed
        /// The cluster could not be reached; the sync will be retried.
        case unavailable
        /// The rollout stopped before this region (an earlier region failed).
        case notReached = "not-reached"
        /// The sync was stopped (shutdown) part way; the next sync resumes.
        case abandoned
        /// Applies of `revision` began and have not been judged yet (a pass killed here gates it again).
        case applying
        /// `revision` is applied and its metric gate began (a pass killed here gates it again).
        case gating
    }

    /// A revision that passed every gate here.
    public struct GoodRevision: Sendable, Hashable {
        var revision: String
        var time: String
        /// The gate's verdict in a few words ("passed", "nothing changed").
        var gate: String
    }

    /// How many good revisions the record keeps.
    public static let historyLength = 10

    public static let configMapName = "syncagent-status"
    public static let configMapRef = ObjectRef(
        apiVersion: "v1", kind: "ConfigMap", namespace: Inventory.namespace, name: configMapName)

    public var revision: String
    public var result: Result
    public var time: String
    public var message: String = ""
    public var lastGoodRevision: String?
    /// The last good revisions, newest first (at most ``historyLength``).
    public var goodRevisions: [GoodRevision] = []
    public var failedRevision: String?
    /// What was ignored when the record was read (a revision that is not a commit id).
    public var warnings: [String] = []
    public var gate: Value?
    public var changes: Value?

    /// The ConfigMap body.
    public var configMap: Value {
        var data: Value = [
            "revision": .string(revision), "result": .string(result.rawValue), "time": .string(time),
            "message": .string(message),
        ]
        if let lastGoodRevision { data["lastGoodRevision"] = .string(lastGoodRevision) }
        if !goodRevisions.isEmpty {
            let history: Value = .array(
                goodRevisions.map {
                    ["revision": .string($0.revision), "time": .string($0.time), "gate": .string($0.gate)]
                })
            data["goodRevisions"] = .string(history.jsonString)
        }
        if let failedRevision { data["failedRevision"] = .string(failedRevision) }
        if let gate { data["gate"] = .string(gate.jsonString) }
        if let changes { data["changes"] = .string(changes.jsonString) }
        return [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(Self.configMapName), "namespace": .string(Inventory.namespace),
                "labels": ["app.kubernetes.io/managed-by": "syncagent"],
            ],
            "data": data,
        ]
    }

    public init(
        revision: String, result: Result, time: String = Date().formatted(.iso8601), message: String = "",
        lastGoodRevision: String? = nil, failedRevision: String? = nil, gate: Value? = nil, changes: Value? = nil
    ) {
        self.revision = revision
        self.result = result
        self.time = time
        self.message = message
        self.lastGoodRevision = lastGoodRevision
        self.failedRevision = failedRevision
        self.gate = gate
        self.changes = changes
    }

    /// Reads the ConfigMap's body; nil when it is not a status record.
    public init?(configMap body: Value) {
        func text(_ key: String) -> String? {
            body[path: ["data", key]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let revision = text("revision"), let result = text("result").flatMap(Result.init(rawValue:)) else {
            return nil
        }
        self.revision = revision
        self.result = result
        time = text("time") ?? ""
        message = text("message") ?? ""
        var warnings: [String] = []
        // Revisions read back from a cluster are trusted only as commit ids: anything else is ignored, loudly.
        func commit(_ text: String?, _ key: String) -> String? {
            guard let text else { return nil }
            if Self.isCommitID(text) { return text }
            warnings.append("\(Self.configMapRef): \(key) is not a 40-hex commit id; ignored")
            return nil
        }
        lastGoodRevision = commit(text("lastGoodRevision"), "lastGoodRevision")
        failedRevision = commit(text("failedRevision"), "failedRevision")
        let history = text("goodRevisions").flatMap { try? Value(json: $0) }?.arrayValue ?? []
        goodRevisions = history.compactMap { entry in
            guard let revision = commit(entry["revision"]?.stringValue, "goodRevisions[].revision") else { return nil }
            return GoodRevision(
                revision: revision, time: entry["time"]?.stringValue ?? "", gate: entry["gate"]?.stringValue ?? "")
        }
        if goodRevisions.isEmpty, let lastGoodRevision {  // a record written before the history existed
            goodRevisions = [GoodRevision(revision: lastGoodRevision, time: time, gate: "")]
        }
        self.warnings = warnings
        gate = text("gate").flatMap { try? Value(json: $0) }
        changes = text("changes").flatMap { try? Value(json: $0) }
    }

    /// Whether `text` is a full commit id (40 lowercase hex digits).
    public static func isCommitID(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The revision a failed rollout of `bad` restores: the newest good revision that is not `bad`.
    public func rollbackTarget(excluding bad: String) -> String? {
        goodRevisions.first { $0.revision != bad }?.revision
            ?? lastGoodRevision.flatMap { $0 == bad ? nil : $0 }
    }

    /// This record as written after `previous`: the good history carried over (never lost by one write), this
    /// record's revision added to it when it is a newly good one, and `lastGoodRevision` never erased. Only commits
    /// are rollback targets: a good local folder (`sync --dir`) leaves the history and `lastGoodRevision` as they
    /// were (its `result: synced` still says the region passed its gates at `revision`).
    public func carrying(_ previous: RegionStatus?) -> RegionStatus {
        var next = self
        var history = previous?.goodRevisions ?? []
        if history.isEmpty, let known = previous?.lastGoodRevision {
            history = [GoodRevision(revision: known, time: previous?.time ?? "", gate: "")]
        }
        let lastGoodRevision = lastGoodRevision.flatMap { Self.isCommitID($0) ? $0 : nil }
        if result == .synced, let good = lastGoodRevision, good == revision {
            history.removeAll { $0.revision == good }
            let verdict = gate.map { ($0["passed"]?.boolValue ?? false) ? "passed" : "failed" } ?? message
            history.insert(GoodRevision(revision: good, time: time, gate: verdict), at: 0)
        }
        next.goodRevisions = Array(history.prefix(Self.historyLength))
        next.lastGoodRevision = lastGoodRevision ?? previous?.lastGoodRevision ?? next.goodRevisions.first?.revision
        return next
    }

    /// The record of a region's cluster, or nil when it has none.
    public static func read(_ client: KubeClient) async throws(ApplierError) -> RegionStatus? {
        guard let found = try await client.getIfPresent(configMapRef) else { return nil }
        return RegionStatus(configMap: found.body)
    }

    /// The record, read for a pass that will write it: its `resourceVersion` becomes the pass's precondition
    /// (``RecordFence``).
    public static func read(_ applier: RegionApplier) async throws(ApplierError) -> RegionStatus? {
        let found = try await applier.client.getIfPresent(configMapRef)
        applier.records.observe(configMapRef, found)
        return found.flatMap { RegionStatus(configMap: $0.body) }
    }

    /// Writes the record, creating namespace `syncagent-system` when missing. Fenced: when another writer changed
    /// it since this pass read it, nothing is written and the error is ``RecordWriteError/conflict(_:)``.
    public func write(_ applier: RegionApplier) async throws(RecordWriteError) {
        guard let resource = try? Resource(body: configMap) else { return }
        try await applier.writeRecord(resource)
    }
}

extension GateResult {
    /// `{passed, reason, observations: [{check, time, value, held}]}`.
    public var json: Value {
        [
            "passed": .bool(passed), "reason": .string(reason),
            "observations": .array(
                observations.map { observation in
                    [
                        "check": .string(observation.check), "time": .double(observation.time.seconds),
                        "value": observation.value.isFinite ? .double(observation.value) : .null,
                        "held": .bool(observation.held),
                    ]
                }),
        ]
    }
}

extension ApplyReport {
    /// `{created: 1, configured: 0, ...}`.
    public var countsJSON: Value {
        var counts: Value = [:]
        for action in ApplyAction.allCases { counts["\(action)"] = .int(Int64(count(of: action))) }
        return counts
    }
}
