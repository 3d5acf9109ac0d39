import Foundation
import TestSupport

/// A config repository made with the git CLI, and a bare copy of it that tests fetch from (as `file://`, a plain
/// path, or over `git daemon`).
///
/// History of `main` (fixed dates, so `Revision` fields are known):
/// ```
/// c1 "Initial mesh"          mesh/base/{deployment.yaml, service.yml, README.md}, mesh/regions/us-sanjose-1/
///                            {kustomization.yaml, values.json, notes.txt}, docs/guide.md, top.yaml   tag v0.9
/// c2 "Scale reviews to 3"    mesh/base/deployment.yaml replicas 2 -> 3                               tag v1.0 (annotated)
/// c3 "Add eu-frankfurt-1"    mesh/regions/eu-frankfurt-1/values.yaml, .../service.yml -> ../../base/service.yml
/// c4 "Scale reviews to 4"    mesh/base/deployment.yaml replicas 3 -> 4
/// ```
/// Side branches, each one commit on top of c4, so `main` stays clean: `escape` (symlink `mesh/escape.yaml` ->
/// `../../etc/passwd`), `absolute` (`mesh/abs.yaml` -> `/etc/passwd`), `submodule` (gitlink `mesh/vendor/lib`),
/// `dirlink` (`mesh/folder.yaml` -> `base`), `dangling` (`mesh/gone.yaml` -> `base/missing.yaml`), and `release`
/// (one commit on top of c2).
final class GitFixture {
    let directory: TemporaryDirectory
    /// The work repository the history is made in.
    let work: URL
    /// The bare repository tests fetch from: `<served>/config.git`.
    let served: URL
    /// The folder `git daemon` serves (`--base-path`).
    let servedRoot: URL
    /// Commit ids of main: c1...c4.
    private(set) var commits: [String] = []
    /// Tip of each side branch.
    private(set) var branches: [String: String] = [:]

    static let environment: [String: String] = [
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Carl Committer", "GIT_COMMITTER_EMAIL": "carl@example.com",
    ]

    /// The author time of commit number `n` (1-based): 2024-01-0n 10:00:00 UTC.
    static func authorTime(_ n: Int) -> Date { Date(timeIntervalSince1970: 1_704_103_200 + Double(n - 1) * 86_400) }
    /// The committer time of commit number `n`: one hour after its author time.
    static func committerTime(_ n: Int) -> Date { authorTime(n).addingTimeInterval(3_600) }

    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: reviews
        spec:
          replicas: REPLICAS

        """

    init() throws {
        _ = try requireTool("git")
        directory = try TemporaryDirectory(prefix: "gitsource-test")
        work = directory.url.appendingPathComponent("work")
        servedRoot = directory.url.appendingPathComponent("served")
        served = servedRoot.appendingPathComponent("config.git")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"])

        try write("mesh/base/deployment.yaml", Self.deployment.replacingOccurrences(of: "REPLICAS", with: "2"))
        try write("mesh/base/service.yml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n")
        try write("mesh/base/README.md", "# base\n")
        try write("mesh/regions/us-sanjose-1/kustomization.yaml", "resources:\n- ../../base\n")
        try write("mesh/regions/us-sanjose-1/values.json", "{\"region\": \"us-sanjose-1\"}\n")
        try write("mesh/regions/us-sanjose-1/notes.txt", "not a manifest\n")
        try write("docs/guide.md", "# guide\n")
        try write("top.yaml", "kind: ConfigMap\n")
        commits.append(try commit("Initial mesh", number: 1))
        try git(["tag", "v0.9"])

        try write("mesh/base/deployment.yaml", Self.deployment.replacingOccurrences(of: "REPLICAS", with: "3"))
        commits.append(try commit("Scale reviews to 3\n\nMore traffic in us-sanjose-1.", number: 2))
        try git(["tag", "-a", "v1.0", "-m", "Release 1.0"], number: 2)

        try write("mesh/regions/eu-frankfurt-1/values.yaml", "region: eu-frankfurt-1\n")
        try symlink("mesh/regions/eu-frankfurt-1/service.yml", to: "../../base/service.yml")
        commits.append(try commit("Add eu-frankfurt-1", number: 3))

        try write("mesh/base/deployment.yaml", Self.deployment.replacingOccurrences(of: "REPLICAS", with: "4"))
        commits.append(try commit("Scale reviews to 4", number: 4))

        try sideBranch("escape") { try self.symlink("mesh/escape.yaml", to: "../../etc/passwd") }
        try sideBranch("absolute") { try self.symlink("mesh/abs.yaml", to: "/etc/passwd") }
        try sideBranch("dirlink") { try self.symlink("mesh/folder.yaml", to: "base") }
        try sideBranch("dangling") { try self.symlink("mesh/gone.yaml", to: "base/missing.yaml") }
        try sideBranch("submodule", stageAll: false) {
            try self.git(["update-index", "--add", "--cacheinfo", "160000,\(self.commits[0]),mesh/vendor/lib"])
        }
        try sideBranch("release", from: commits[1]) {
            try self.write("mesh/regions/us-sanjose-1/values.json", "{\"region\": \"us-sanjose-1\", \"tier\": 1}\n")
        }

        try FileManager.default.createDirectory(at: servedRoot, withIntermediateDirectories: true)
        try runChecked(
            ["git", "clone", "-q", "--bare", "--no-local", work.path, served.path], environment: Self.environment)
    }

    /// `file://` URL of the served repository.
    var fileURL: String { "file://\(served.path)" }

    /// Path of a new, not yet existing cache folder.
    func cachePath(_ name: String = "cache") -> String { directory.url.appendingPathComponent(name).path }

    /// Runs git in the work repository.
    @discardableResult
    func git(_ arguments: [String], number: Int? = nil) throws -> String {
        var environment = Self.environment
        if let number {
            environment["GIT_AUTHOR_DATE"] = "@\(Int(Self.authorTime(number).timeIntervalSince1970)) +0000"
            environment["GIT_COMMITTER_DATE"] = "@\(Int(Self.committerTime(number).timeIntervalSince1970)) +0000"
        }
        return try runChecked(["git"] + arguments, cwd: work, environment: environment)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a file in the work tree.
    func write(_ path: String, _ text: String) throws {
        let file = work.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }

    /// Makes a symlink in the work tree.
    func symlink(_ path: String, to target: String) throws {
        let file = work.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: target)
    }

    /// Commits everything (or, with `stageAll` false, just what is staged) with a fixed date; returns the id.
    func commit(_ message: String, number: Int, stageAll: Bool = true) throws -> String {
        if stageAll { try git(["add", "-A"]) }
        try git(["commit", "-q", "-m", message], number: number)
        return try git(["rev-parse", "HEAD"])
    }

    /// Commits `change` on a new branch from `base` (default: main's tip), then returns to main.
    private func sideBranch(
        _ name: String, from base: String? = nil, stageAll: Bool = true, _ change: () throws -> Void
    ) throws {
        try git(["checkout", "-q", "-b", name, base ?? "main"])
        try change()
        branches[name] = try commit("Branch \(name)", number: 5, stageAll: stageAll)
        try git(["checkout", "-q", "main"])
    }

    /// Adds a commit to the served repository's `branch` (through a clone, as a person would push); returns it.
    @discardableResult
    func pushNewCommit(branch: String = "main", path: String, text: String, message: String) throws -> String {
        let clone = directory.url.appendingPathComponent("pusher-\(UUID().uuidString)")
        try runChecked(["git", "clone", "-q", "-b", branch, served.path, clone.path], environment: Self.environment)
        let file = clone.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        try runChecked(["git", "add", "-A"], cwd: clone, environment: Self.environment)
        try runChecked(["git", "commit", "-q", "-m", message], cwd: clone, environment: Self.environment)
        try runChecked(["git", "push", "-q", "origin", branch], cwd: clone, environment: Self.environment)
        return try runChecked(["git", "rev-parse", "HEAD"], cwd: clone, environment: Self.environment)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The commit a ref names in the served repository.
    func servedHead(_ ref: String = "main") throws -> String {
        try runChecked(["git", "--git-dir", served.path, "rev-parse", ref], environment: Self.environment)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `git daemon` serving a fixture's bare repository on 127.0.0.1 (receive-pack enabled, so tests can push).
/// Started as the `git-daemon` binary itself, not through the `git` wrapper, so the process stopped is the daemon.
final class GitDaemon {
    let process: ChildProcess
    let port: Int

    init(serving fixture: GitFixture) async throws {
        _ = try requireTool("git")
        port = try freePort()
        let execPath = try await runChecked(["git", "--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        process = try ChildProcess(
            [
                "\(execPath)/git-daemon", "--export-all", "--base-path=\(fixture.servedRoot.path)",
                "--listen=127.0.0.1",
                "--port=\(port)", "--reuseaddr", "--enable=receive-pack", "--informative-errors",
                fixture.servedRoot.path,
            ], environment: GitFixture.environment)
        let port = port
        let process = process
        try await waitUntil(timeout: 300, "git daemon to listen on 127.0.0.1:\(port); log:\n\(process.log())") {
            if !process.isRunning { throw TestSupportError("git daemon exited: \(process.log())") }
            return isListening(port: port)
        }
    }

    /// `git://127.0.0.1:<port>/config.git`.
    var url: String { "git://127.0.0.1:\(port)/config.git" }

    deinit { process.stop() }
}
