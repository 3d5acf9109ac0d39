import RolloutEngine
import ArgumentParser
import Differ
import Foundation
import Logging
import SyncCore

/// `syncagent status`: per region the synced revision, the last result, the gate's values and the drift count,
/// read from the clusters (so it shows what any agent did).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each region's synced revision, last sync result, gate values and drift count.",
        discussion: "Exit codes: 0 every region synced and in sync; 1 a region failed, is behind or drifted; 2 error."
    )

    @Option(help: "The agent's configuration file.")
    var config: String = "config/syncagent.yaml"

    @Option(name: [.short, .customLong("output")], help: "text or json.")
    var output: OutputFormat = .text

    @Option(help: "Where the Git cache lives (default: $XDG_CACHE_HOME/syncagent or ~/.cache/syncagent).")
    var cache: String?

    func validate() throws {
        if output == .yaml || output == .markdown { throw ValidationError("status prints text or json") }
    }

    func run() async throws {
        let agent = try AgentConfig.load(file: config)
        var logger = Logger(label: "syncagent", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        let repository = agent.repo.map { ConfigRepository($0, cacheRoot: cache ?? agent.agent.cache) }
        let rows = await RegionState.gather(agent: agent, repository: repository, logger: logger)
        switch output {
        case .json: Swift.print(Value.object(["regions": .array(rows.map(\.json))]).prettyJSONString)
        case .text, .yaml, .markdown: Swift.print(RegionState.table(rows), terminator: "")
        }
        if rows.contains(where: { !$0.healthy }) { throw ExitCode(1) }
    }
}

/// One region as `status` and the agent's drift check see it.
struct RegionState: Sendable {
    var region: String
    var inventory: Inventory?
    var status: RegionStatus?
    /// Drifted resources (modified, missing-live, extra, unmanaged-conflict) against the inventory's revision.
    var drifted: Int?
    var diff: RegionDiff?
    /// Why the region could not be read or compared.
    var error: String?
    /// The region's Lease (`agent.leaderElection`): who holds it, when it was last renewed, how often it changed
    /// hands.
    var lease: LeaseRecord?

    struct LeaseRecord: Sendable {
        var holder: String
        var renewTime: String
        var transitions: Int
    }

    /// Synced, no drift, readable.
    var healthy: Bool {
        error == nil && status?.result == .synced && (drifted ?? 0) == 0
    }

    /// Reads every region concurrently; a region that fails carries its error instead.
    static func gather(agent: AgentConfig, repository: ConfigRepository?, logger: Logger) async -> [RegionState] {
        var diffOptions = DiffOptions(mode: .serverSide)
        diffOptions.ignore = agent.ignore
        let options = diffOptions
        let sources = SnapshotCache(repository: repository)
        let ledgerFolder = DiffReport.ledgerFolder(agent)
        return await withTaskGroup(of: (Int, RegionState).self) { group in
            for (index, region) in agent.regions.enumerated() {
                group.addTask {
                    var state = RegionState(region: region.name)
                    do {
                        let client = try RegionClient(region, logger: logger)
                        state.status = try await RegionStatus.read(client.client)
                        if let lease = try await client.client.getIfPresent(Self.leaseRef) {
                            let spec = lease.body["spec"]
                            state.lease = LeaseRecord(
                                holder: spec?["holderIdentity"]?.stringValue ?? "",
                                renewTime: spec?["renewTime"]?.stringValue ?? "",
                                transitions: spec?["leaseTransitions"]?.intValue.map(Int.init) ?? 0)
                        }
                        state.inventory = try await client.inventory()
                        // A sync from a local folder (`sync --dir`) records no Git revision to compare with.
                        if let inventory = state.inventory, !inventory.revision.isEmpty,
                            !inventory.revision.hasPrefix(Snapshot.localPrefix)
                        {
                            // As `diff` reads (``DiffReport/gather``): the settled ledger of this machine's syncs
                            // (read only), and the inventory's objects read while the revision renders.
                            let diff = try await DiffReport.compare(
                                client, inventory: inventory, options: options,
                                ledger: DiffReport.ledger(in: ledgerFolder, of: client)
                            ) { try await sources.snapshot(inventory.revision).render(region: region.name) }
                            state.diff = diff
                            state.drifted = diff.resources.filter { $0.drift.isDrift }.count
                        }
                    } catch {
                        state.error = "\(error)"
                    }
                    return (index, state)
                }
            }
            var rows: [(Int, RegionState)] = []
            for await row in group { rows.append(row) }
            return rows.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The Lease of leader election (`syncagent-system/syncagent`).
    static let leaseRef = ObjectRef(
        apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: Inventory.namespace, name: "syncagent")

    var json: Value {
        var object: Value = ["region": .string(region)]
        if let lease {
            object["lease"] = [
                "holder": lease.holder.isEmpty ? .null : .string(lease.holder), "renewTime": .string(lease.renewTime),
                "transitions": .int(Int64(lease.transitions)),
            ]
        }
        if let inventory {
            object["syncedRevision"] = inventory.revision.isEmpty ? .null : .string(inventory.revision)
            object["objects"] = .int(Int64(inventory.objects.count))
            if let pending = inventory.pendingRevision { object["pendingRevision"] = .string(pending) }
        }
        if let status {
            object["lastResult"] = .string(status.result.rawValue)
            object["lastRevision"] = .string(status.revision)
            object["time"] = .string(status.time)
            if !status.message.isEmpty { object["message"] = .string(status.message) }
            if let good = status.lastGoodRevision { object["lastGoodRevision"] = .string(good) }
            if let failed = status.failedRevision { object["failedRevision"] = .string(failed) }
            if let gate = status.gate { object["gate"] = gate }
        }
        if let drifted { object["drifted"] = .int(Int64(drifted)) }
        if let error { object["error"] = .string(error) }
        return object
    }

    /// The text table, then each region's gate values.
    static func table(_ rows: [RegionState]) -> String {
        var lines = ["REGION          REVISION      RESULT        DRIFTED  OBJECTS  TIME"]
        for row in rows {
            func cell(_ text: String, _ width: Int) -> String {
                text.padding(toLength: width, withPad: " ", startingAt: 0)
            }
            let revision = row.inventory.map { $0.revision.isEmpty ? "-" : String($0.revision.prefix(12)) } ?? "-"
            lines.append(
                cell(row.region, 16) + cell(revision, 14) + cell(row.status?.result.rawValue ?? "never", 14)
                    + cell(row.drifted.map(String.init) ?? "-", 9)
                    + cell(row.inventory.map { String($0.objects.count) } ?? "-", 9) + (row.status?.time ?? ""))
        }
        for row in rows {
            if let error = row.error { lines.append("\(row.region): cannot read it: \(error)") }
            if let lease = row.lease {
                lines.append(
                    lease.holder.isEmpty
                        ? "\(row.region): Lease free (released at \(lease.renewTime))"
                        : "\(row.region): Lease held by \(lease.holder) (renewed \(lease.renewTime))")
            }
            if let status = row.status, !status.message.isEmpty { lines.append("\(row.region): \(status.message)") }
            if let failed = row.status?.failedRevision {
                lines.append(
                    "\(row.region): revision \(failed.prefix(12)) failed a gate; not retried until the branch moves")
            }
            for observation in row.status?.gate?["observations"]?.arrayValue ?? [] {
                let held = observation["held"]?.boolValue == true ? "✓" : "✗"
                let value =
                    observation["value"].flatMap { value -> String? in
                        if case .double(let number) = value { return String(format: "%.4f", number) }
                        return value.intValue.map(String.init)
                    } ?? "no data"
                let time = observation["time"].map { "\($0.jsonString)s" } ?? ""
                lines.append(
                    "\(row.region): gate t+\(time) \(observation["check"]?.stringValue ?? "?") \(value) \(held)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Snapshots by commit, each read once (regions compared concurrently share it).
actor SnapshotCache {
    let repository: ConfigRepository?
    private var reading: [String: Task<Snapshot, any Error>] = [:]

    init(repository: ConfigRepository?) { self.repository = repository }

    func snapshot(_ sha: String) async throws -> Snapshot {
        if let task = reading[sha] { return try await task.value }
        guard let repository else { throw ValidationError("the configuration has no repo to read \(sha) from") }
        let task = Task { try await repository.loader(sha) }
        reading[sha] = task
        return try await task.value
    }
}
