import KubeSchema
import SyncCore

/// What a resource's comparison found, in one word.
public enum DriftClass: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Live equals desired (after normalisation).
    case inSync = "in-sync"
    /// Some fields differ; ``ResourceDiff/changes`` names them.
    case modified
    /// Desired but not in the cluster: a sync would create it.
    case missingLive = "missing-live"
    /// In the cluster and in syncagent's inventory, no longer in Git: a sync with prune would delete it.
    case extra
    /// Desired and present, but not created by syncagent (not in the inventory, or without one, never written by
    /// its field manager): a sync would take it over.
    case unmanagedConflict = "unmanaged-conflict"
    /// Desired, but the cluster does not serve its kind and no CustomResourceDefinition in the revision defines it:
    /// a sync would be refused (install the CRD first).
    case kindNotServed = "kind-not-served"

    /// Whether the class means "something differs" (everything but in-sync).
    public var isDrift: Bool { self != .inSync }

    public static func < (a: DriftClass, b: DriftClass) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// One field that differs: where, the live and desired values, and who last wrote the live one.
public struct FieldChange: Sendable, Hashable, CustomStringConvertible {
    /// From the object's root; keyed list items by their keys (`.spec.ports[port=80,protocol="TCP"]`), atomic list
    /// items by position.
    public var path: FieldPath
    /// The live value; nil when the field is absent live.
    public var live: Value?
    /// What it would be after a sync; nil when a sync removes it.
    public var desired: Value?
    /// The field manager that last wrote the live field (from managedFields), when known.
    public var manager: String?
    /// When that manager last wrote its fields (managedFields `time`), when known.
    public var time: String?

    /// A change from its parts.
    public init(path: FieldPath, live: Value?, desired: Value?, manager: String? = nil, time: String? = nil) {
        self.path = path
        self.live = live
        self.desired = desired
        self.manager = manager
        self.time = time
    }

    /// `.spec.replicas`.
    public var pathString: String { path.isEmpty ? "." : path.pathString }

    /// `.spec.replicas: 5 → 3 (live set by kubectl-edit at 2024-05-01T10:00:00Z)`: live first, as a sync would
    /// change it.
    /// A changed Secret value reads `.data.password: <changed, value hidden>`.
    public var description: String {
        var text = "\(pathString): \(FieldChange.show(live)) → \(FieldChange.show(desired))"
        if SecretMasking.isMaskedChange(self) { text = "\(pathString): <changed, value hidden>" }
        if let manager {
            text += " (live set by \(manager)\(time.map { " at \($0)" } ?? ""))"
        }
        return text
    }

    /// `kubectl-edit changed .spec.http[0].route[1].weight 30 → 60 at T`: the drift reading, desired first.
    public var attribution: String {
        let who = manager ?? "an unknown manager"
        var text = "\(who) changed \(pathString) \(FieldChange.show(desired)) → \(FieldChange.show(live))"
        if SecretMasking.isMaskedChange(self) { text = "\(who) changed \(pathString) (value hidden)" }
        if let time { text += " at \(time)" }
        return text
    }

    /// A value in one line: JSON, `(absent)` for nil, long values cut at 80 characters.
    static func show(_ value: Value?) -> String {
        guard let value else { return "(absent)" }
        let json = value.jsonString
        return json.count > 80 ? String(json.prefix(77)) + "..." : json
    }
}

/// The comparison of one object: its class, the fields that differ, and both sides as compared.
public struct ResourceDiff: Sendable, Hashable, CustomStringConvertible {
    /// The object (the desired reference when there is one, else the live object's).
    public var ref: ObjectRef
    /// In sync, modified, missing live, extra or unmanaged conflict.
    public var drift: DriftClass
    /// The differing fields, sorted by path; empty for missing-live and extra objects.
    public var changes: [FieldChange]
    /// How it was compared.
    public var mode: DiffOptions.Mode
    /// The live object as compared (bookkeeping removed, Secret values masked); nil when missing, and for an
    /// object in sync by a settled proof (never read in full).
    public var live: Value?
    /// What the object would be after a sync (as compared, masked); nil for an extra object (pruned), and for an
    /// object in sync by a settled proof.
    public var target: Value?

    /// A result from its parts.
    public init(
        ref: ObjectRef, drift: DriftClass, changes: [FieldChange], mode: DiffOptions.Mode, live: Value?, target: Value?
    ) {
        self.ref = ref
        self.drift = drift
        self.changes = changes
        self.mode = mode
        self.live = live
        self.target = target
    }

    /// `modified apps/v1/Deployment default/web` and one indented line per change.
    public var description: String {
        var lines = ["\(drift.rawValue) \(ref)"]
        lines += changes.map { "  " + $0.description }
        return lines.joined(separator: "\n")
    }
}

/// One region's comparison: every resource's result, sorted by reference.
public struct RegionDiff: Sendable, Hashable, CustomStringConvertible {
    /// The region's name.
    public var region: String
    /// The results, sorted by reference.
    public var resources: [ResourceDiff]

    /// A region's results; they are sorted.
    public init(region: String, resources: [ResourceDiff]) {
        self.region = region
        self.resources = resources.sorted { $0.ref < $1.ref }
    }

    /// Whether anything differs (the CLI exits 1).
    public var hasDifferences: Bool { resources.contains { $0.drift.isDrift } }

    /// How many resources fall in each class.
    public var counts: [DriftClass: Int] {
        var counts: [DriftClass: Int] = [:]
        for resource in resources { counts[resource.drift, default: 0] += 1 }
        return counts
    }

    /// `region us-sanjose-1: 12 in-sync, 1 modified, ...` then every drifted resource.
    public var description: String {
        let summary = DriftClass.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        var lines = ["region \(region): \(summary)"]
        for resource in resources where resource.drift.isDrift { lines.append(resource.description) }
        return lines.joined(separator: "\n")
    }
}
