import Applier
import Foundation
import SyncCore

/// What the last sync did in one region, kept in the cluster beside the inventory (ConfigMap
/// `syncagent-system/syncagent-status`), so `syncagent status`, a restarted agent and a second agent all read the
/// same record.
///
/// Data keys: `revision` (the revision last attempted), `result` (see ``Result``), `time`, `message`,
/// `lastGoodRevision` (the last revision that passed every gate here: what a failed rollout restores),
/// `failedRevision` (a revision a gate rejected: not retried until the branch moves), `gate` (JSON: the gate's
/// verdict and every value seen), `changes` (JSON: created/configured/unchanged/pruned/skipped counts).
struct RegionStatus: Sendable, Hashable {
    /// How the last sync ended.
    enum Result: String, Sendable, Hashable {
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
    }

    static let configMapName = "syncagent-status"
    static let configMapRef = ObjectRef(
        apiVersion: "v1", kind: "ConfigMap", namespace: Inventory.namespace, name: configMapName)

    var revision: String
    var result: Result
    var time: String
    var message: String = ""
    var lastGoodRevision: String?
    var failedRevision: String?
    var gate: Value?
    var changes: Value?

    /// The ConfigMap body.
    var configMap: Value {
        var data: Value = [
            "revision": .string(revision), "result": .string(result.rawValue), "time": .string(time),
            "message": .string(message),
        ]
        if let lastGoodRevision { data["lastGoodRevision"] = .string(lastGoodRevision) }
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

    init(
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
    init?(configMap body: Value) {
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
        lastGoodRevision = text("lastGoodRevision")
        failedRevision = text("failedRevision")
        gate = text("gate").flatMap { try? Value(json: $0) }
        changes = text("changes").flatMap { try? Value(json: $0) }
    }

    /// The record of a region's cluster, or nil when it has none.
    static func read(_ client: KubeClient) async throws(ApplierError) -> RegionStatus? {
        guard let found = try await client.getIfPresent(configMapRef) else { return nil }
        return RegionStatus(configMap: found.body)
    }

    /// Writes the record (server-side apply, field manager `syncagent`), creating namespace `syncagent-system`
    /// when missing.
    func write(_ applier: RegionApplier) async throws(ApplierError) {
        try await applier.ensureSystemNamespace()
        guard let resource = try? Resource(body: configMap) else { return }
        _ = try await applier.client.apply(resource, options: ApplyOptions(force: true))
    }
}

extension GateResult {
    /// `{passed, reason, observations: [{check, time, value, held}]}`.
    var json: Value {
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
    var countsJSON: Value {
        var counts: Value = [:]
        for action in ApplyAction.allCases { counts["\(action)"] = .int(Int64(count(of: action))) }
        return counts
    }
}
