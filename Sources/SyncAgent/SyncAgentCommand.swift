import ArgumentParser
import Foundation

/// The `syncagent` command line. Exit codes: 0 success, 1 a difference was found (diff), 2 any input or usage
/// error (printed on stderr).
@main
struct SyncAgentCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "syncagent",
        abstract: "GitOps sync agent and drift detector for one service mesh across several Kubernetes regions.",
        version: version,
        subcommands: [
            RenderCommand.self, DiffCommand.self, DriftCommand.self, SyncCommand.self, StatusCommand.self,
            RollbackCommand.self, RunCommand.self,
        ]
    )

    /// Runs the command line; every error that is not an explicit exit code exits 2 with its message on stderr.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error, mappingToUsageError: true)
        }
    }

    /// Prints the error as ArgumentParser would, but with syncagent's exit codes.
    static func exit(withError error: Error, mappingToUsageError: Bool) -> Never {
        let code = exitCode(for: error)
        if code == .success || error is ExitCode {
            Self.exit(withError: error)
        }
        let message = fullMessage(for: error)
        if !message.isEmpty {
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
        Foundation.exit(2)
    }
}

/// How a command prints resources or reports.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case yaml, json, text
}
