import KubeSchema
import KubeYAML
import SyncCore

/// Every region's comparison, in region order: what `syncagent diff` and `syncagent drift` print.
public struct DiffReport: Sendable, Hashable, CustomStringConvertible {
    /// Per region, in the order given.
    public var regions: [RegionDiff]
    /// Per region, the revision compared against (drift: the inventory's), when known.
    public var revisions: [String: String]

    /// A report from its regions.
    public init(regions: [RegionDiff], revisions: [String: String] = [:]) {
        self.regions = regions
        self.revisions = revisions
    }

    /// Whether anything differs in any region (exit code 1).
    public var hasDifferences: Bool { regions.contains(where: \.hasDifferences) }

    /// Every region's summary and changes (``RegionDiff/description``), one block per region.
    public var description: String { regions.map(\.description).joined(separator: "\n") }

    /// The text report: per region a unified diff of every drifted resource (live → desired, Secret values
    /// masked), each change with its last writer, then a summary table.
    public var text: String {
        var out: [String] = []
        for region in regions {
            for resource in region.resources where resource.drift.isDrift {
                out.append("# \(region.region): \(resource.drift.rawValue) \(resource.ref)")
                for change in resource.changes { out.append("#   " + change.description) }
                out += UnifiedDiff.lines(
                    old: resource.live.map { $0.yamlString } ?? "", new: resource.target.map { $0.yamlString } ?? "",
                    oldName: "live/\(region.region)/\(resource.ref)", newName: "desired/\(region.region)/\(resource.ref)")
            }
        }
        out.append(summaryTable)
        return out.joined(separator: "\n") + "\n"
    }

    /// `REGION  IN-SYNC  MODIFIED  MISSING-LIVE  EXTRA  UNMANAGED-CONFLICT` and one row per region.
    public var summaryTable: String {
        let headers = ["REGION"] + DriftClass.allCases.map { $0.rawValue.uppercased() }
        var rows = [headers]
        for region in regions {
            rows.append([region.region] + DriftClass.allCases.map { String(region.counts[$0] ?? 0) })
        }
        let widths = headers.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }

    /// The JSON report (schema in the README, "Drift detection"): `{"hasDifferences", "regions": [{"region", "revision",
    /// "summary", "resources": [{"apiVersion", "kind", "namespace", "name", "class", "mode", "changes": [{"path",
    /// "live", "desired", "manager", "time"}]}]}]}`; absent values are left out.
    public var json: Value {
        var regionValues: [Value] = []
        for region in regions {
            var summary: Value = .emptyObject
            for drift in DriftClass.allCases { summary[drift.rawValue] = .int(Int64(region.counts[drift] ?? 0)) }
            let resources: [Value] = region.resources.map { resource in
                let changes: [Value] = resource.changes.map { change in
                    var item: Value = ["path": .string(change.pathString)]
                    if let live = change.live { item["live"] = live }
                    if let desired = change.desired { item["desired"] = desired }
                    if let manager = change.manager { item["manager"] = .string(manager) }
                    if let time = change.time { item["time"] = .string(time) }
                    return item
                }
                return [
                    "apiVersion": .string(resource.ref.apiVersion), "kind": .string(resource.ref.kind),
                    "namespace": .string(resource.ref.namespace), "name": .string(resource.ref.name),
                    "class": .string(resource.drift.rawValue), "mode": .string(resource.mode.rawValue),
                    "changes": .array(changes),
                ]
            }
            var item: Value = ["region": .string(region.region)]
            if let revision = revisions[region.region] { item["revision"] = .string(revision) }
            item["hasDifferences"] = .bool(region.hasDifferences)
            item["summary"] = summary
            item["resources"] = .array(resources)
            regionValues.append(item)
        }
        return ["hasDifferences": .bool(hasDifferences), "regions": .array(regionValues)]
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// A unified diff of two texts, line by line (longest common subsequence), three lines of context.
enum UnifiedDiff {
    static func lines(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        // LCS table, from the ends.
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        enum Op { case same(String), removed(String), added(String) }
        var ops: [Op] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                ops.append(.same(a[i]))
                i += 1
                j += 1
            } else if j < b.count, i == a.count || table[i][j + 1] > table[i + 1][j] {
                ops.append(.added(b[j]))
                j += 1
            } else {
                ops.append(.removed(a[i]))
                i += 1
            }
        }
        let changed = ops.indices.filter { if case .same = ops[$0] { return false } else { return true } }
        guard !changed.isEmpty else { return [] }
        var output = ["--- \(oldName)", "+++ \(newName)"]
        let hunkStart = 0
        var index = 0
        while index < changed.count {
            let start = max(changed[index] - context, 0)
            var end = min(changed[index] + context, ops.count - 1)
            while index + 1 < changed.count, changed[index + 1] - context <= end + 1 {
                index += 1
                end = min(changed[index] + context, ops.count - 1)
            }
            // Line numbers of the hunk's first line on each side.
            var oldLine = 1
            var newLine = 1
            for op in ops[hunkStart..<start] {
                switch op {
                case .same: oldLine += 1; newLine += 1
                case .removed: oldLine += 1
                case .added: newLine += 1
                }
            }
            var body: [String] = []
            var oldCount = 0
            var newCount = 0
            for op in ops[start...end] {
                switch op {
                case .same(let line): body.append(" " + line); oldCount += 1; newCount += 1
                case .removed(let line): body.append("-" + line); oldCount += 1
                case .added(let line): body.append("+" + line); newCount += 1
                }
            }
            output.append("@@ -\(oldLine),\(oldCount) +\(newLine),\(newCount) @@")
            output += body
            index += 1
        }
        return output
    }
}
