import ArgumentParser
import Differ
import Foundation
import KubeYAML
import SyncCore

/// `syncagent render`: parse every manifest (from a folder or a Git commit) and print the resources.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Parse every manifest and print the resources in a stable order.",
        discussion: """
            Reads .yaml, .yml and .json files, all of them or none: any problem in any file is printed as \
            file:line:column and nothing is printed on stdout. Exit code 2 on any error.
            """
    )

    @Option(help: "A local folder of manifests (no Git).")
    var dir: String?

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Render the folder's base/ plus regions/<region>/ (the region's objects replace base ones).")
    var region: String?

    @Option(name: [.short, .customLong("output")], help: "yaml or json.")
    var output: OutputFormat = .yaml

    func validate() throws {
        if (dir == nil) == (repository.repo == nil) {
            throw ValidationError("give exactly one of --dir DIR or --repo URL")
        }
        if output == .text || output == .markdown { throw ValidationError("render prints yaml or json") }
    }

    func run() async throws {
        let source: ManifestSource
        if let dir {
            source = .directory(dir)
        } else {
            source = try await repository.manifestSource()
        }
        let resources = try source.render(region: region)
        switch output {
        case .json:
            let list: Value = [
                "apiVersion": "v1", "kind": "List", "items": .array(resources.map(\.body)),
            ]
            print(list.prettyJSONString)
        case .yaml, .text, .markdown:
            print(resources.map { $0.body.yamlString }.joined(separator: "---\n"), terminator: "")
        }
    }
}
