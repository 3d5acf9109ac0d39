import ArgumentParser
import Foundation
import ProcessThreads

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
            RollbackCommand.self, RunCommand.self, RBACCommand.self,
        ]
    )

    /// Runs the command line; every error that is not an explicit exit code exits 2 with its message on stderr.
    ///
    /// Every way out goes through ``finish(_:)``: the transport and git threads are stopped and joined before the
    /// process exits, so no C library is in use while its destructors run.
    static func main() async {
        // A line at a time, also into a pipe or a file (`sync | tee`, a CI log, a supervisor): progress is read
        // as it happens, and a process killed mid-pass leaves every line it printed.
        StandardOutput.lineBuffered()
        let code: Int32
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            code = 0
        } catch {
            code = report(error)
        }
        finish(code)
    }

    /// Prints the error as ArgumentParser would (help and version on stdout), and returns syncagent's exit code
    /// for it: the explicit one of an `ExitCode`, 0 for help and version, else 2.
    static func report(_ error: Error) -> Int32 {
        let message = fullMessage(for: error)
        if exitCode(for: error) == .success {
            if !message.isEmpty { print(message) }
            return 0
        }
        if let explicit = error as? ExitCode { return explicit.rawValue }
        if !message.isEmpty {
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
        return 2
    }

    /// Stops and joins every thread that calls a C library, then exits with `code`. A thread that does not stop
    /// within 10 s is named on stderr and the process leaves without running library destructors (`_exit`),
    /// rather than race them.
    static func finish(_ code: Int32) -> Never {
        let left = OwnedThreads.shared.stopAll(timeout: 10)
        guard left.isEmpty else {
            FileHandle.standardError.write(
                Data(
                    ("syncagent: thread(s) \(left.joined(separator: ", ")) did not stop within 10 s; exiting without "
                        + "library clean-up\n").utf8))
            OwnedThreads.exitProcess(code)
        }
        Foundation.exit(code)
    }
}

/// How a command prints resources or reports.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case yaml, json, text
    /// `diff` only: a pull-request comment.
    case markdown
}
