import Foundation
import TestSupport
import Testing

/// `syncagent --generate-completion-script bash|zsh|fish` (swift-argument-parser): scripts that name every command
/// and its options, and that the shell accepts.
@Suite
struct CompletionTests {
    static let commands = ["render", "diff", "drift", "sync", "status", "rollback", "run", "rbac"]

    @Test(arguments: ["bash", "zsh", "fish"])
    func theCompletionScriptNamesEveryCommand(shell: String) async throws {
        let output = try await runChecked([productPath("syncagent"), "--generate-completion-script", shell])
        for command in Self.commands {
            #expect(output.contains(command), "\(shell) completion lacks \(command)")
        }
        // Options of a command are completed too (fish names them without their dashes).
        #expect(output.contains("dry-run"), "\(shell) completion lacks sync's --dry-run")
        #expect(output.contains("allow-mass-prune"), "\(shell) completion lacks sync's --allow-mass-prune")
    }

    @Test func bashAcceptsTheBashScript() async throws {
        let script = try await runChecked([productPath("syncagent"), "--generate-completion-script", "bash"])
        let directory = try TemporaryDirectory(prefix: "completion")
        let file = directory.url.appendingPathComponent("syncagent.bash")
        try script.write(to: file, atomically: true, encoding: .utf8)
        // Sourced in a shell, the script registers its completion function for `syncagent`.
        let registered = try await runChecked(["bash", "-c", "source '\(file.path)' && complete -p syncagent"])
        #expect(registered.contains("syncagent"), "\(registered)")
    }
}
