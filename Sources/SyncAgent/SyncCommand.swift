import RolloutEngine
import ArgumentParser
import Foundation
import Logging

/// `syncagent sync`: one rollout pass in the foreground, region by region, with a line per step.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Apply a revision to every region in order, behind the gates; roll back on a failed gate.",
        discussion: """
            Exit codes: 0 every region synced; 1 a gate failed or a region refused the revision (touched regions \
            were rolled back to their last good revision); 2 invalid input (nothing was applied anywhere); 3 a \
            region could not be reached (the regions before it keep the revision; run again to retry), or the \
            sync was stopped (SIGTERM, SIGINT: the region records `abandoned` and the next sync gates it again).
            """
    )

    @Option(help: "The agent's configuration file.")
    var config: String = "config/syncagent.yaml"

    @Option(help: "Branch, tag or commit of the config repository (default: the tracked branch head).")
    var ref: String?

    @Option(help: "A local folder of manifests instead of Git (no rollback target is recorded from it).")
    var dir: String?

    @Option(name: .customLong("region"), help: "Only these regions (repeatable), still in config order.")
    var regions: [String] = []

    @Flag(help: "Plan and predict every change with server-side dry runs; change nothing.")
    var dryRun = false

    @Flag(help: "Apply and gate even when a region already has the revision.")
    var force = false

    @Flag(help: "Allow this sync to prune more than sync.maxPrune objects from a region (once; not an empty render).")
    var allowMassPrune = false

    @Option(name: [.short, .customLong("output")], help: "text or json (the summary at the end).")
    var output: OutputFormat = .text

    @Option(help: "Where the Git cache lives (default: $XDG_CACHE_HOME/syncagent or ~/.cache/syncagent).")
    var cache: String?

    func validate() throws {
        if ref != nil && dir != nil { throw ValidationError("give at most one of --ref REF and --dir DIR") }
        if output == .yaml || output == .markdown { throw ValidationError("sync prints text or json") }
    }

    func run() async throws {
        let agent = try AgentConfig.load(file: config)
        let unknown = regions.filter { agent.region($0) == nil }
        if !unknown.isEmpty {
            throw ValidationError(
                "no region \(unknown.joined(separator: ", ")) in \(config); regions: "
                    + agent.regions.map(\.name).joined(separator: ", "))
        }
        var logger = Logging.Logger(label: "syncagent", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        // One client and a watch-fed cache per region, as the agent has: one list per kind instead of one per kind
        // and namespace, and readiness seen as the watch delivers it instead of by polling each object. What
        // earlier passes proved settled is kept next to the Git cache: an object nobody wrote since is not checked
        // again.
        let connections = RegionConnections(
            logger: logger, ledgerFolder: ConfigRepository.cacheRoot(cache ?? agent.agent.cache) + "/settled")
        defer { connections.stop() }
        // The regions get ready (reads only) while the revision is read and rendered.
        let only = regions
        let warming = agent.rollout.regions.filter { only.isEmpty || only.contains($0.name) }.map { region in
            Task { await connections.warm(region) }
        }
        defer { for task in warming { task.cancel() } }
        let snapshot: Snapshot
        let loader: SnapshotLoader
        if let dir {
            snapshot = try Snapshot.directory(dir)
            loader = { sha in throw ValidationError("no Git repository to read \(sha) from (--dir was given)") }
        } else {
            guard let repo = agent.repo else { throw ValidationError("\(config) has no repo: give --dir DIR") }
            let repository = ConfigRepository(repo, cacheRoot: cache ?? agent.agent.cache)
            snapshot = try await repository.snapshot(ref: ref)
            // A commit not signed by an allowed key is refused before anything is planned or applied.
            _ = try await repository.verify(snapshot.revision.sha)
            loader = repository.loader
        }
        let text = output == .text
        let printLine: @Sendable (String) -> Void = { (line: String) in Swift.print(line) }
        let printer: (@Sendable (String) -> Void)? = text ? printLine : nil
        var rollout = Rollout(config: agent.rollout, logger: logger, progress: printer)
        rollout.allowMassPrune = allowMassPrune
        rollout.connections = connections
        if text { Swift.print("syncing \(snapshot.revision.shortSHA) \"\(snapshot.revision.summary)\"") }
        // SIGTERM or SIGINT (a cancelled CI job, Ctrl-C) stops the pass at its next step: the region records
        // `abandoned` and the command exits 3, instead of dying with the record saying `applying` or `gating`.
        let (dryRun, force, regions) = (dryRun, force, regions)
        let pass = Task {
            await rollout.sync(snapshot, regions: regions, dryRun: dryRun, force: force, loadSnapshot: loader)
        }
        let stops = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { pass.cancel() }
            source.resume()
            return source
        }
        let report = await pass.value
        for source in stops { source.cancel() }
        switch output {
        case .json: Swift.print(report.json.prettyJSONString)
        case .text, .yaml, .markdown:
            Swift.print("")
            Swift.print(report.text, terminator: "")
        }
        StandardOutput.finish(report.exitCode)
    }
}
