import Applier
import RolloutEngine
import ArgumentParser
import Differ
import Foundation
import Logging
import SyncCore

/// `syncagent diff`: desired (a folder or a Git ref) against every region, or offline against saved objects.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare the desired state with each region's live objects.",
        discussion: """
            Exit codes: 0 nothing differs, 1 something differs, 2 error (kubectl diff's convention). \
            Classes: in-sync, modified, missing-live, extra, unmanaged-conflict. Secret values are always masked. \
            With --live FILE, compares --dir against objects saved with `kubectl get -o yaml`, without a cluster.
            """
    )

    @Option(help: "The agent's configuration file.")
    var config: String = "config/syncagent.yaml"

    @Option(help: "Branch, tag or commit of the config repository (default: the tracked branch head).")
    var ref: String?

    @Option(help: "A local folder of manifests instead of Git (e.g. a working copy before commit).")
    var dir: String?

    @Option(name: .customLong("region"), help: "Only these regions (repeatable); default: all, in config order.")
    var regions: [String] = []

    @Option(help: "Saved live objects (a List or several documents): compare offline, client-side.")
    var live: String?

    @Option(
        help: ArgumentHelp(
            "With --live: the region's inventory ConfigMap as saved by `kubectl get -o yaml`, to classify extra and "
                + "unmanaged-conflict objects as online."))
    var inventory: String?

    @Flag(help: "Normalise client-side instead of a server-side dry-run apply (for read-only credentials).")
    var readOnly = false

    @Flag(
        help: ArgumentHelp(
            "Parse and compare every object, even one that a sync on this machine proved in sync and nobody wrote "
                + "since (by default such an object is in sync by that proof)."))
    var full = false

    @Option(
        name: [.short, .customLong("output")],
        help: "text, json, or markdown (a pull-request comment: summary table, a collapsible section per object).")
    var output: OutputFormat = .text

    func validate() throws {
        if ref != nil && dir != nil { throw ValidationError("give at most one of --ref REF and --dir DIR") }
        if live != nil && dir == nil { throw ValidationError("--live FILE needs --dir DIR") }
        if inventory != nil && live == nil { throw ValidationError("--inventory FILE needs --live FILE") }
        if output == .yaml { throw ValidationError("diff prints text, json or markdown") }
    }

    func run() async throws {
        let report: DiffReport
        if let live, let dir {
            report = try offlineReport(live: live, dir: dir)
        } else {
            let agent = try AgentConfig.load(file: config)
            var options = DiffOptions(mode: readOnly ? .clientSide : .serverSide)
            options.ignore = agent.ignore
            // The desired state is read (the folder, or the commit fetched) and its render's part shared by the
            // regions begun at once, beside the regions' connections, TLS handshakes and inventory reads; each
            // region's render then takes it from the snapshot's memo.
            let (ref, dir) = (ref, dir)
            let loading = Task.detached { try await DesiredSource(agent: agent, ref: ref, dir: dir) }
            if let first = agent.regions.first(where: { regions.isEmpty || regions.contains($0.name) })?.name {
                Task.detached { _ = try? await loading.value.render(region: first) }
            }
            do {
                report = try await DiffReport.gather(
                    agent: agent, only: regions, options: options, logger: Logger(label: "syncagent"),
                    ledgerFolder: full ? nil : DiffReport.ledgerFolder(agent)
                ) { region, _ in try await loading.value.render(region: region) }
            } catch {
                // A desired state that cannot be read is the error to report, not the regions' wrapping of it.
                if case .failure(let unreadable) = await loading.result { throw unreadable }
                throw error
            }
        }
        do {
            try Self.print(report, output)
        } catch let code as ExitCode {
            StandardOutput.finish(code.rawValue)
        }
        StandardOutput.finish(0)
    }

    /// `--dir` against `--live`, client-side; the region is the one named with --region (for region overlays).
    private func offlineReport(live: String, dir: String) throws -> DiffReport {
        guard let data = FileManager.default.contents(atPath: live) else {
            throw ValidationError("\(live): cannot read the file")
        }
        let region = regions.first
        let desired = try ManifestSource.render(directory: dir, region: region)
        let objects = try renderLiveObjects(ManifestFile(path: live, bytes: Array(data)))
        var options = DiffOptions(mode: .clientSide)
        if FileManager.default.fileExists(atPath: config) { options.ignore = try AgentConfig.load(file: config).ignore }
        let recorded = try inventory.map(Self.readInventory)
        let result = Differ.diff(
            region: region ?? "offline", desired: desired, live: objects, options: options,
            ownership: Ownership(inventory: recorded))
        return DiffReport(regions: [result], revisions: recorded.map { [region ?? "offline": $0.revision] } ?? [:])
    }

    /// The inventory ConfigMap in `file` (as `kubectl get -o yaml` saves it; a List holding it is accepted too).
    static func readInventory(file: String) throws -> Inventory {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("\(file): cannot read the file")
        }
        let objects = try renderLiveObjects(ManifestFile(path: file, bytes: Array(data)))
        let found = objects.first {
            $0["kind"]?.stringValue == "ConfigMap"
                && $0[path: ["metadata", "name"]]?.stringValue == Inventory.configMapName
        }
        guard let found else {
            throw ValidationError("\(file): no ConfigMap \(Inventory.namespace)/\(Inventory.configMapName) in the file")
        }
        do { return try Inventory(configMap: found) } catch { throw ValidationError("\(file): \(error)") }
    }

    /// Prints the report (coloured on a terminal) and exits 1 when something differs.
    static func print(_ report: DiffReport, _ output: OutputFormat) throws {
        switch output {
        case .json: Swift.print(report.json.prettyJSONString)
        case .markdown: Swift.print(report.markdown(), terminator: "")
        case .text, .yaml:
            let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            for line in report.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                if colour, line.hasPrefix("+"), !line.hasPrefix("+++") {
                    Swift.print("\u{1B}[32m\(line)\u{1B}[0m")
                } else if colour, line.hasPrefix("-"), !line.hasPrefix("---") {
                    Swift.print("\u{1B}[31m\(line)\u{1B}[0m")
                } else {
                    Swift.print(line)
                }
            }
        }
        if report.hasDifferences { throw ExitCode(1) }
    }
}

/// Where `diff` reads the desired state: a folder, or the config repository at a ref.
struct DesiredSource: Sendable {
    let source: ManifestSource

    init(agent: AgentConfig, ref: String?, dir: String?) async throws {
        if let dir {
            // Read once (off the pool), rendered once for every region (the snapshot memoizes what the regions
            // share).
            source = .git(try await offThePool { try Snapshot.directory(dir) })
            return
        }
        guard let repo = agent.repo else {
            throw ValidationError("the configuration has no repo: give --dir DIR")
        }
        source = .git(try await ConfigRepository(repo, cacheRoot: agent.agent.cache).snapshot(ref: ref))
    }

    /// Off the pool (``offThePool(_:)``): the regions' connections go on beside it.
    func render(region: String) async throws -> [Resource] {
        let source = source
        return try await offThePool { try source.render(region: region) }
    }
}

extension ManifestSource {
    /// A folder's resources for a region (or all, without one).
    static func render(directory: String, region: String?) throws -> [Resource] {
        try Differ.render(try readDirectory(directory), root: directory, region: region)
    }
}

extension DiffReport {
    /// The settled ledger that `sync` and `run` keep in `folder` for `client`'s region (read only here).
    static func ledger(in folder: String, of client: RegionClient) -> SettledLedger {
        SettledLedger(
            file: RegionConnections.ledgerFile(in: folder, for: client.region, server: client.client.context.server),
            checker: RegionConnections.settleChecker)
    }

    /// `client`'s region compared with the resources `render` gives: the live objects `inventory` names are read
    /// while it renders (for metadata alone where `ledger`'s proofs will answer), then the rest.
    static func compare(
        _ client: RegionClient, inventory: Inventory?, options: DiffOptions, ledger: SettledLedger?,
        render: @Sendable () async throws -> [Resource]
    ) async throws -> RegionDiff {
        let forProofs = ledger != nil && RegionClient.proves(options, desired: [])
        let ahead = inventory.map { inventory in Task { try await client.readAhead(inventory, forProofs: forProofs) } }
        let resources: [Resource]
        do {
            resources = try await render()
        } catch {
            ahead?.cancel()
            throw error
        }
        return try await client.diff(
            desired: resources, options: options, inventory: inventory, ledger: ledger,
            readAhead: try await ahead?.value)
    }

    /// Where `sync` and `run` keep each region's settled ledger (``SettledLedger``) on this machine.
    static func ledgerFolder(_ agent: AgentConfig) -> String {
        ConfigRepository.cacheRoot(agent.agent.cache) + "/settled"
    }

    /// Compares every selected region concurrently; `desired` renders a region's resources. Each region reads the
    /// live objects its inventory names while the revision renders (``RegionClient/readAhead(_:)``). With
    /// `ledgerFolder`, each region's settled ledger there (read only) spares the objects its proofs settle
    /// (``RegionClient/diff(desired:options:inventory:cache:only:ledger:readAhead:)``).
    static func gather(
        agent: AgentConfig, only: [String], options: DiffOptions, logger: Logger, ledgerFolder: String? = nil,
        desired: @escaping @Sendable (String, Inventory?) async throws -> [Resource]
    ) async throws -> DiffReport {
        let unknown = only.filter { name in !agent.regions.contains { $0.name == name } }
        if !unknown.isEmpty {
            throw ValidationError(
                "no region \(unknown.joined(separator: ", ")) in the configuration; regions: "
                    + agent.regions.map(\.name).joined(separator: ", "))
        }
        let selected = agent.regions.filter { only.isEmpty || only.contains($0.name) }
        var results: [String: (RegionDiff, String?)] = [:]
        try await withThrowingTaskGroup(of: (String, RegionDiff, String?).self) { group in
            for region in selected {
                group.addTask {
                    do {
                        let client = try RegionClient(region, logger: logger)
                        let ledger = ledgerFolder.map { Self.ledger(in: $0, of: client) }
                        // Read beside the inventory's request, off the path of the first proof asked for.
                        let reading = ledger.map { ledger in Task.detached { ledger.load() } }
                        let inventory = try await client.inventory()
                        let result = try await Self.compare(
                            client, inventory: inventory, options: options, ledger: ledger
                        ) {
                            let resources = try await desired(region.name, inventory)
                            await reading?.value
                            return resources
                        }
                        return (region.name, result, inventory?.revision)
                    } catch let error as ValidationError {
                        throw error
                    } catch {
                        throw RegionError(region: region.name, underlying: error)
                    }
                }
            }
            for try await (name, result, revision) in group { results[name] = (result, revision) }
        }
        var revisions: [String: String] = [:]
        for (name, value) in results { revisions[name] = value.1 }
        return DiffReport(regions: selected.compactMap { results[$0.name]?.0 }, revisions: revisions)
    }
}

/// A region that could not be compared: names the region, then what failed.
struct RegionError: Error, CustomStringConvertible, Sendable {
    var region: String
    var underlying: any Error

    var description: String { "region \(region): \(underlying)" }
}
