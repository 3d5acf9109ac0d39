import ArgumentParser
import Foundation
import GitSource
import SyncCore

/// `syncagent rollback [--to REV]`: rollback by Git. Writes a revert commit on the tracked branch (libgit2, no work
/// tree) and pushes it; the agent then syncs it like any other revision, pruning what the reverted commit added.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract:
            "Write (and push) a commit on the tracked branch that undoes the newest commit, or every commit after REV.",
        discussion: """
            Without --to, reverts the branch head (git revert HEAD). With --to REV, commits REV's tree on top of \
            the branch (every later commit undone at once). The commit is pushed when the credentials allow; \
            otherwise (or with --no-push) syncagent prints the command that pushes it. Exit codes: 0 written \
            (and pushed), 1 written but not pushed, 2 error (nothing written).
            """
    )

    @Option(help: "The agent's configuration file.")
    var config: String = "config/syncagent.yaml"

    @Option(help: "Restore this earlier commit's tree (every commit after it is undone).")
    var to: String?

    @Flag(help: "Write the commit only; print the push command.")
    var noPush = false

    @Option(help: "Where the Git cache lives (default: $XDG_CACHE_HOME/syncagent or ~/.cache/syncagent).")
    var cache: String?

    func run() async throws {
        let agent = try AgentConfig.load(file: config)
        guard let repo = agent.repo else { throw ValidationError("\(config) has no repo to roll back") }
        if repo.verify != nil {
            // The agent would refuse the unsigned commit this command writes: the rollback would never happen.
            throw ValidationError(
                "\(config) verifies commit signatures (repo.verify), and syncagent cannot sign: revert with your own "
                    + "key instead (`git revert -S HEAD && git push`)")
        }
        let repository = ConfigRepository(repo, cacheRoot: cache ?? agent.agent.cache)
        let head = try await repository.cache.fetch(branch: repo.branch)
        let environment = ProcessInfo.processInfo.environment
        let signature = Signature(
            name: environment["GIT_AUTHOR_NAME"] ?? "syncagent",
            email: environment["GIT_AUTHOR_EMAIL"] ?? "syncagent@localhost", time: Date())
        let commit: Revision
        if let to {
            let target = try await repository.cache.resolve(to)
            commit = try await repository.cache.restore(target, onBranch: repo.branch, signature: signature)
        } else {
            commit = try await repository.cache.revert(head, onBranch: repo.branch, signature: signature)
        }
        Swift.print("wrote \(commit.shortSHA) \"\(commit.summary)\" on \(repo.branch) (parent \(head.prefix(12)))")
        let pushCommand =
            "git --git-dir '\(repository.cache.path)' push origin refs/heads/\(repo.branch):refs/heads/\(repo.branch)"
        if noPush {
            Swift.print("not pushed (--no-push); to publish it:\n  \(pushCommand)")
            throw ExitCode(1)
        }
        do {
            try await repository.cache.push(branch: repo.branch)
            Swift.print("pushed to \(repository.cache.remote.redactedURL) \(repo.branch)")
        } catch {
            Swift.print("not pushed: \(error)\nto publish it with your own credentials:\n  \(pushCommand)")
            throw ExitCode(1)
        }
    }
}
