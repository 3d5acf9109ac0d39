import Foundation
import GitSource
import SyncCore
import Testing
import TestSupport

/// Reading commits and trees from a bare cache fetched over `file://`: files, symlink and submodule rules,
/// revisions and ref resolution.
@Suite struct GitTreeTests {
    let fixture: GitFixture
    let repository: GitRepository
    let head: String

    static let manifests: Set<String> = [".yaml", "yml", "JSON"]

    init() throws {
        fixture = try GitFixture()
        repository = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: fixture.fileURL))
        head = try repository.fetch(branch: "main")
    }

    private func text(_ file: GitFile) -> String { String(decoding: file.bytes, as: UTF8.self) }

    @Test func listsManifestsUnderAPathRecursively() throws {
        #expect(head == fixture.commits[3])
        let files = try repository.files(at: head, under: "mesh", extensions: Self.manifests)
        #expect(
            files.map(\.path) == [
                "mesh/base/deployment.yaml",
                "mesh/base/service.yml",
                "mesh/regions/eu-frankfurt-1/service.yml",
                "mesh/regions/eu-frankfurt-1/values.yaml",
                "mesh/regions/us-sanjose-1/kustomization.yaml",
                "mesh/regions/us-sanjose-1/values.json",
            ])
        #expect(text(files[0]).contains("replicas: 4"))
    }

    @Test func aSymlinkInsideTheRepositoryReadsAsItsTarget() throws {
        let files = try repository.files(at: head, under: "mesh/regions/eu-frankfurt-1", extensions: ["yml"])
        let base = try repository.files(at: head, under: "mesh/base/service.yml")
        #expect(files.map(\.path) == ["mesh/regions/eu-frankfurt-1/service.yml"])
        #expect(files.first?.bytes == base.first?.bytes)
        #expect(text(files[0]).contains("kind: Service"))
    }

    @Test func noExtensionsMeansEveryFileAndTheRootIsTheWholeTree() throws {
        let files = try repository.files(at: head)
        #expect(files.count == 10)
        #expect(files.map(\.path).contains("docs/guide.md"))
        #expect(try repository.files(at: head, under: "./").count == 10)
    }

    @Test func readsAnOldCommitsTree() throws {
        let old = try repository.files(at: fixture.commits[0], under: "mesh/base", extensions: Self.manifests)
        #expect(old.map(\.path) == ["mesh/base/deployment.yaml", "mesh/base/service.yml"])
        #expect(text(old[0]).contains("replicas: 2"))
        let regions = try repository.files(at: fixture.commits[0], under: "mesh/regions", extensions: Self.manifests)
        #expect(!regions.map(\.path).contains { $0.contains("eu-frankfurt-1") })
    }

    @Test func aMissingPathIsAnError() throws {
        #expect(throws: GitSourceError.pathNotFound(path: "mesh/nowhere", commit: head)) {
            try repository.files(at: head, under: "mesh/nowhere")
        }
        #expect(throws: GitSourceError.self) { try repository.files(at: head, under: "mesh/../etc") }
    }

    @Test func revisionFields() throws {
        let revision = try repository.revision(fixture.commits[1])
        #expect(revision.sha == fixture.commits[1])
        #expect(
            revision.author == Signature(name: "Ada Author", email: "ada@example.com", time: GitFixture.authorTime(2)))
        #expect(
            revision.committer
                == Signature(name: "Carl Committer", email: "carl@example.com", time: GitFixture.committerTime(2)))
        #expect(revision.message == "Scale reviews to 3\n\nMore traffic in us-sanjose-1.\n")
        #expect(revision.summary == "Scale reviews to 3")
        #expect(revision.parents == [fixture.commits[0]])
        #expect(try repository.revision(fixture.commits[0]).parents.isEmpty)
    }

    @Test func resolvesBranchesTagsAndShortSHAs() throws {
        #expect(try repository.resolve("main") == fixture.commits[3])
        #expect(try repository.resolve("refs/remotes/origin/main") == fixture.commits[3])
        #expect(try repository.resolve(String(fixture.commits[1].prefix(7))) == fixture.commits[1])
        #expect(try repository.resolve(fixture.commits[2]) == fixture.commits[2])
        #expect(try repository.resolve("main~3") == fixture.commits[0])
        // Tags pointing into the fetched history come with the fetch; the annotated one is peeled.
        #expect(try repository.resolve("v0.9") == fixture.commits[0])
        #expect(try repository.resolve("v1.0") == fixture.commits[1])
        // Another branch resolves once fetched.
        #expect(throws: GitSourceError.revisionNotFound(spec: "release", repository: repository.path)) {
            try repository.resolve("release")
        }
        try repository.fetch(branch: "release")
        #expect(try repository.resolve("release") == fixture.branches["release"])
    }

    @Test func unknownRevisionsAreNamedInTheError() throws {
        #expect(throws: GitSourceError.revisionNotFound(spec: "nope", repository: repository.path)) {
            try repository.resolve("nope")
        }
        let missing = String(repeating: "0", count: 40)
        #expect(throws: GitSourceError.revisionNotFound(spec: missing, repository: repository.path)) {
            try repository.resolve(missing)
        }
        #expect(throws: GitSourceError.revisionNotFound(spec: "deadbeef", repository: repository.path)) {
            try repository.resolve("deadbeef")
        }
    }

    @Test(arguments: [
        ("escape", "mesh/escape.yaml", "../../etc/passwd"),
        ("absolute", "mesh/abs.yaml", "/etc/passwd"),
    ])
    func aSymlinkThatEscapesIsRefused(branch: String, path: String, target: String) throws {
        let tip = try repository.fetch(branch: branch)
        let expected = GitSourceError.symlinkEscapes(path: path, target: target, commit: tip)
        #expect(throws: expected) { try repository.files(at: tip, under: "mesh", extensions: Self.manifests) }
        // Refused even when its name is not wanted: an escaping link is never silently skipped.
        #expect(throws: expected) { try repository.files(at: tip, under: "mesh", extensions: ["md"]) }
        #expect(expected.description.contains(path))
        // Other paths of the same commit still read.
        #expect(try repository.files(at: tip, under: "mesh/base", extensions: Self.manifests).count == 2)
    }

    @Test(arguments: [
        ("dirlink", "mesh/folder.yaml", "names a folder"), ("dangling", "mesh/gone.yaml", "does not name"),
    ])
    func aSymlinkThatIsNotAFileIsRefused(branch: String, path: String, reason: String) throws {
        let tip = try repository.fetch(branch: branch)
        let error = #expect(throws: GitSourceError.self) {
            try repository.files(at: tip, under: "mesh", extensions: Self.manifests)
        }
        guard case .symlinkUnresolved(let errorPath, _, let commit, let errorReason) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(errorPath == path)
        #expect(commit == tip)
        #expect(errorReason.contains(reason))
        // Not wanted by name, inside the repository: ignored like any other non-manifest file.
        #expect(try repository.files(at: tip, under: "mesh", extensions: ["md"]).map(\.path) == ["mesh/base/README.md"])
    }

    @Test func aSubmoduleIsRefused() throws {
        let tip = try repository.fetch(branch: "submodule")
        let expected = GitSourceError.submodule(path: "mesh/vendor/lib", commit: tip)
        #expect(throws: expected) { try repository.files(at: tip, under: "mesh", extensions: Self.manifests) }
        #expect(expected.description.contains("never followed"))
        #expect(try repository.files(at: tip, under: "mesh/base").count == 3)
    }
}

/// A tree thousands of folders deep is read on the cache's git thread (a small stack) without recursion: the walk
/// keeps its own stack. (A recursive walk of this tree died with SIGSEGV.)
@Suite struct DeepTreeTests {
    @Test func aTreeThreeThousandFoldersDeepIsReadOnTheGitThread() async throws {
        let work = try TemporaryDirectory(prefix: "deep-tree")
        let origin = work.path + "/origin.git"
        try await runChecked(["git", "init", "-q", "--bare", "-b", "main", origin])
        let depth = 3_000
        let deep = Array(repeating: "d", count: depth).joined(separator: "/") + "/deep.yaml"
        let stream = """
            commit refs/heads/main
            committer Dana Developer <dana@example.invalid> 1700000000 +0000
            data 5
            deep

            M 100644 inline \(deep)
            data 8
            deep: 1

            M 100644 inline top.yaml
            data 7
            top: 1

            done

            """
        let imported = try await run(["git", "-C", origin, "fast-import", "--quiet", "--done"], input: stream)
        try #require(imported.status == 0, "\(imported.stderr)")

        let cache = GitRepositoryCache(cacheAt: work.path + "/cache", remote: GitRemote(url: "file://" + origin))
        let head = try await cache.fetch(branch: "main")
        let files = try await cache.files(at: head, extensions: ["yaml"])
        #expect(files.map(\.path) == [deep, "top.yaml"])
        #expect(files.first.map { String(decoding: $0.bytes, as: UTF8.self) } == "deep: 1\n")
    }
}

/// ``InputLimits``' file and byte limits: a revision past one is refused naming the file, before its bytes are
/// read.
@Suite struct TreeLimitTests {
    @Test func aFilePastTheByteLimitOrTheFileLimitIsRefusedUnread() async throws {
        let work = try TemporaryDirectory(prefix: "tree-limits")
        let origin = work.path + "/origin.git"
        try await runChecked(["git", "init", "-q", "--bare", "-b", "main", origin])
        let big = String(repeating: "# padding\n", count: 20_000)  // 200,000 bytes
        var stream = """
            commit refs/heads/main
            committer Dana Developer <dana@example.invalid> 1700000000 +0000
            data 5
            many

            M 100644 inline mesh/big.yaml
            data \(big.utf8.count)
            \(big)
            """
        for index in 0..<20 { stream += "M 100644 inline mesh/small-\(index).yaml\ndata 7\nsmall: \n" }
        stream += "done\n"
        let imported = try await run(["git", "-C", origin, "fast-import", "--quiet", "--done"], input: stream)
        try #require(imported.status == 0, "\(imported.stderr)")
        let cache = GitRepositoryCache(cacheAt: work.path + "/cache", remote: GitRemote(url: "file://" + origin))
        let head = try await cache.fetch(branch: "main")

        #expect(try await cache.files(at: head, under: "mesh").count == 21)  // the defaults take it all

        do {
            _ = try await cache.files(at: head, under: "mesh", limits: InputLimits(maxBytes: 100_000))
            Issue.record("a 200 KB file passed a 100 KB limit")
        } catch {
            #expect(
                "\(error)"
                    == "commit \(head.prefix(12)): mesh/big.yaml: this file (195.3 KiB) takes the revision past 97.7 KiB "
                    + "(repo.limits.maxBytes; 0 B read before it); nothing was applied")
        }
        do {
            _ = try await cache.files(at: head, under: "mesh", limits: InputLimits(maxFiles: 10))
            Issue.record("21 files passed a limit of 10")
        } catch {
            #expect("\(error)".contains("more than 10 files under the config folder (repo.limits.maxFiles)"))
        }
    }
}
