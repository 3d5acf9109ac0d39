import RolloutEngine
import ArgumentParser
import Differ
import Foundation
import Logging
import SyncCore

/// `syncagent drift`: the revision last synced to each region (its inventory) against live, with attribution.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Show what changed in each region behind Git's back since the last sync, and who changed it.",
        discussion: """
            Reads each region's inventory (ConfigMap syncagent-system/syncagent-inventory) for the last revision \
            synced, renders that revision and compares it with live. Exit codes: 0 no drift, 1 drift, 2 error \
            (including a region with no inventory).
            """
    )

    @Option(help: "The agent's configuration file.")
    var config: String = "config/syncagent.yaml"

    @Option(name: [.short, .customLong("output")], help: "text, json, or markdown (as diff).")
    var output: OutputFormat = .text

    func run() async throws {
        let agent = try AgentConfig.load(file: config)
        guard agent.repo != nil else { throw ValidationError("\(config): drift needs a repo in the configuration") }
        var options = DiffOptions(mode: .serverSide)
        options.ignore = agent.ignore
        let sources = SnapshotCache(repository: agent.repo.map { ConfigRepository($0, cacheRoot: agent.agent.cache) })
        let report = try await DiffReport.gather(
            agent: agent, only: [], options: options, logger: Logger(label: "syncagent"),
            ledgerFolder: DiffReport.ledgerFolder(agent)
        ) { region, inventory in
            guard let inventory else {
                throw ValidationError(
                    "region \(region): no inventory (ConfigMap \(Inventory.namespace)/\(Inventory.configMapName)); "
                        + "nothing has been synced there, so there is no revision to compare with")
            }
            return try await sources.snapshot(inventory.revision).render(region: region)
        }
        if output == .text {
            for region in report.regions {
                Swift.print("region \(region.region) at \(report.revisions[region.region] ?? "?")")
                for resource in region.resources where resource.drift.isDrift {
                    Swift.print("  \(resource.drift.rawValue) \(resource.ref)")
                    for change in resource.changes { Swift.print("    " + change.attribution) }
                }
            }
        }
        try DiffCommand.print(report, output)
    }
}
