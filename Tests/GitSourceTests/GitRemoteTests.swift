import Foundation
import GitSource
import SyncCore
import TestSupport
import Testing

/// Talking to remotes: the moved-check, fetching only when moved, push, and the errors for missing branches and
/// unreachable servers. Over `git daemon` on 127.0.0.1, `file://` and plain paths.
@Suite struct GitRemoteTests {
    /// Pack and loose-object files in a bare repository: unchanged when nothing was fetched.
    private func objectFiles(_ path: String) -> Set<String> {
        let objects = URL(fileURLWithPath: path).appendingPathComponent("objects")
        let enumerator = FileManager.default.enumerator(atPath: objects.path)
        var files: Set<String> = []
        while let next = enumerator?.nextObject() as? String { files.insert(next) }
        return files
    }

    /// The agent opens a connection at every poll, for as long as it runs: a connection must cost no memory once it
    /// is closed. (libgit2 1.5's `insteadOf` lookup in `git_remote_create_anonymous` kept about 80 KB per remote:
    /// 2,500 polls held 200 MB.) Measured as the process's resident memory, with a bound far below the leak and far
    /// above what other tests running meanwhile could add.
    @Test func aConnectionPerPollCostsNoMemory() throws {
        let fixture = try GitFixture()
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: fixture.fileURL))
        let head = try cache.remoteHead(branch: "main")
        #expect(head == fixture.commits[3])
        func residentKiB() throws -> Int {
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
            return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        }
        let before = try residentKiB()
        for _ in 0..<2_500 {
            #expect(try cache.remoteHead(branch: "main") == head)
        }
        let grown = try residentKiB() - before
        #expect(grown < 100 * 1024, "2,500 connections left \(grown / 1024) MiB behind")
    }

    @Test func movedCheckOverGitDaemon() async throws {
        let fixture = try GitFixture()
        let daemon = try await GitDaemon(serving: fixture)
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: daemon.url))

        // Listing only: the head is known before anything is fetched.
        #expect(try cache.remoteHead(branch: "main") == fixture.commits[3])
        #expect(try cache.trackingHead(branch: "main") == nil)
        #expect(try cache.remoteRefs()["refs/tags/v1.0"] != nil)

        let first = try cache.fetchIfMoved(branch: "main", knownSHA: nil)
        #expect(first == GitFetchResult(branch: "main", head: fixture.commits[3], previous: nil, fetched: true))
        #expect(first.moved)

        // Not moved: nothing is downloaded.
        let before = objectFiles(cache.path)
        let same = try cache.fetchIfMoved(branch: "main", knownSHA: first.head)
        #expect(!same.moved)
        #expect(!same.fetched)
        #expect(objectFiles(cache.path) == before)

        // Someone pushes: the listing sees it, and the fetch brings it.
        let pushed = try fixture.pushNewCommit(
            path: "mesh/regions/ap-tokyo-1/values.yaml", text: "region: ap-tokyo-1\n", message: "Add ap-tokyo-1")
        #expect(try cache.remoteHead(branch: "main") == pushed)
        let moved = try cache.fetchIfMoved(branch: "main", knownSHA: first.head)
        #expect(moved == GitFetchResult(branch: "main", head: pushed, previous: first.head, fetched: true))
        #expect(moved.description.contains("moved"))
        #expect(objectFiles(cache.path) != before)
        let files = try cache.files(at: moved.head, under: "mesh/regions", extensions: ["yaml"])
        #expect(files.map(\.path).contains("mesh/regions/ap-tokyo-1/values.yaml"))
        // The old commit's tree still reads from the same cache.
        #expect(try cache.files(at: first.head, under: "mesh/regions", extensions: ["yaml"]).count == 2)
        #expect(try cache.revision(moved.head).parents == [first.head])

        // A cache that knows the head but lost its objects fetches anyway.
        let fresh = try GitRepository(cacheAt: fixture.cachePath("fresh"), remote: GitRemote(url: daemon.url))
        let refill = try fresh.fetchIfMoved(branch: "main", knownSHA: pushed)
        #expect(!refill.moved)
        #expect(refill.fetched)
        #expect(try fresh.resolve("main") == pushed)
    }

    @Test func reopeningTheCacheKeepsWhatWasFetched() throws {
        let fixture = try GitFixture()
        let remote = GitRemote(url: fixture.fileURL)
        let head = try GitRepository(cacheAt: fixture.cachePath(), remote: remote).fetch(branch: "main")
        let reopened = try GitRepository(cacheAt: fixture.cachePath(), remote: remote)
        #expect(try reopened.trackingHead(branch: "main") == head)
        #expect(try !reopened.fetchIfMoved(branch: "main", knownSHA: head).fetched)
    }

    @Test func aPlainLocalPathWorksLikeFileURL() throws {
        let fixture = try GitFixture()
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: fixture.served.path))
        #expect(try cache.fetch(branch: "main") == fixture.commits[3])
        #expect(try cache.files(at: "main", under: "mesh/base", extensions: ["yaml"]).count == 1)
    }

    @Test func aCacheOfAnotherRemoteIsRefused() throws {
        let fixture = try GitFixture()
        _ = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: fixture.fileURL))
        let other = GitRemote(url: "git://127.0.0.1:9/other.git")
        #expect(
            throws: GitSourceError.cacheMismatch(
                cache: fixture.cachePath(), expected: other.url, found: fixture.fileURL)
        ) {
            try GitRepository(cacheAt: fixture.cachePath(), remote: other)
        }
    }

    @Test func aMissingBranchListsTheRemoteBranches() async throws {
        let fixture = try GitFixture()
        let daemon = try await GitDaemon(serving: fixture)
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: daemon.url))
        let error = #expect(throws: GitSourceError.self) { try cache.fetchIfMoved(branch: "mian", knownSHA: nil) }
        guard case .branchNotFound(let branch, let remote, let available) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(branch == "mian")
        #expect(remote == daemon.url)
        #expect(available == ["absolute", "dangling", "dirlink", "escape", "main", "release", "submodule"])
        #expect(error?.description.contains("branch 'mian' not found") == true)
        #expect(throws: GitSourceError.self) { try cache.remoteHead(branch: "bad..name") }
    }

    @Test func anUnreachableRemoteSaysWhereAndWhatToDo() throws {
        let fixture = try GitFixture()
        let port = try freePort()  // nothing listens there
        let url = "git://127.0.0.1:\(port)/config.git"
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: url))
        let error = #expect(throws: GitSourceError.self) { try cache.remoteHead(branch: "main") }
        let message = error?.description ?? ""
        #expect(message.contains(url))
        #expect(message.contains("git_remote_connect"))
        #expect(message.contains("reachable"))

        let missing = GitRemote(url: "file://\(fixture.directory.path)/no-such-repo.git")
        let local = try GitRepository(cacheAt: fixture.cachePath("local"), remote: missing)
        #expect(throws: GitSourceError.self) { try local.remoteHead(branch: "main") }
    }

    @Test func credentialsNeverAppearInMessages() throws {
        let fixture = try GitFixture()
        let port = try freePort()
        let remote = GitRemote(url: "https://deploy:s3cr3t-t0ken@127.0.0.1:\(port)/config.git")
        #expect(remote.redactedURL == "https://deploy:***@127.0.0.1:\(port)/config.git")
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: remote)
        let error = #expect(throws: GitSourceError.self) { try cache.remoteHead(branch: "main") }
        #expect(error?.description.contains("s3cr3t") == false)
        #expect(error?.description.contains("deploy:***@127.0.0.1") == true)
        // Nor in the cache's config.
        let config = try String(contentsOfFile: "\(cache.path)/config", encoding: .utf8)
        #expect(!config.contains("s3cr3t"))
    }

    @Test func revertRestoresThePreviousTreeAndPushes() async throws {
        let fixture = try GitFixture()
        let daemon = try await GitDaemon(serving: fixture)
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: daemon.url))
        let head = try cache.fetch(branch: "main")
        let signer = Signature(
            name: "syncagent", email: "syncagent@example.com", time: Date(timeIntervalSince1970: 1_710_000_000))

        let revert = try cache.revert(head, onBranch: "main", signature: signer)
        #expect(revert.parents == [head])
        #expect(revert.summary == "Revert \"Scale reviews to 4\"")
        #expect(revert.message.contains("This reverts commit \(head)."))
        #expect(revert.author == signer)
        #expect(revert.committer == signer)
        #expect(try cache.files(at: revert.sha) == cache.files(at: fixture.commits[2]))
        // Not published yet: the remote-tracking ref still names the fetched head.
        #expect(try cache.trackingHead(branch: "main") == head)

        #expect(try cache.push(branch: "main") == revert.sha)
        #expect(try fixture.servedHead() == revert.sha)
        #expect(try cache.trackingHead(branch: "main") == revert.sha)
        #expect(try !cache.fetchIfMoved(branch: "main", knownSHA: revert.sha).moved)

        // Reverting an older commit on top of the revert restores its parent's content for that change.
        let again = try cache.revert(fixture.commits[2], onBranch: "main", signature: signer)
        let regions = try cache.files(at: again.sha, under: "mesh/regions")
        #expect(!regions.map(\.path).contains { $0.contains("eu-frankfurt-1") })
    }

    @Test func restoreCommitsAnEarlierTreeOnTopAndPushes() async throws {
        let fixture = try GitFixture()
        let daemon = try await GitDaemon(serving: fixture)
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: daemon.url))
        let head = try cache.fetch(branch: "main")
        let signer = Signature(name: "syncagent", email: "syncagent@example.com", time: Date())
        // Undo every commit after the first at once, even those a one-by-one revert would conflict on.
        let restored = try cache.restore(fixture.commits[0], onBranch: "main", signature: signer)
        #expect(restored.parents == [head])
        #expect(restored.summary.hasPrefix("Roll back to \""))
        #expect(restored.message.contains("This restores the tree of commit \(fixture.commits[0])."))
        #expect(try cache.files(at: restored.sha) == cache.files(at: fixture.commits[0]))
        #expect(try cache.push(branch: "main") == restored.sha)
        #expect(try fixture.servedHead() == restored.sha)
        // The branch already has that tree now: nothing to roll back, nothing written.
        #expect(throws: GitSourceError.self) {
            try cache.restore(fixture.commits[0], onBranch: "main", signature: signer)
        }
        // A commit that is not on the branch is refused.
        try cache.fetch(branch: "release")
        #expect(throws: GitSourceError.self) {
            try cache.restore(fixture.branches["release"] ?? "", onBranch: "main", signature: signer)
        }
    }

    @Test func aConflictingRevertWritesNothing() throws {
        let fixture = try GitFixture()
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: fixture.fileURL))
        try cache.fetch(branch: "main")
        let signer = Signature(name: "syncagent", email: "syncagent@example.com", time: Date())
        // c2 set replicas 3; c4 changed that line again, so undoing c2 conflicts.
        let expected = GitSourceError.revertConflict(
            commit: fixture.commits[1], branch: "main", paths: ["mesh/base/deployment.yaml"])
        #expect(throws: expected) { try cache.revert(fixture.commits[1], onBranch: "main", signature: signer) }
        #expect(expected.description.contains("nothing was written"))
        #expect(throws: GitSourceError.self) { try cache.push(branch: "main") }  // no local branch was made

        // A commit that is not on the branch is refused.
        try cache.fetch(branch: "release")
        #expect(throws: GitSourceError.self) {
            try cache.revert(fixture.branches["release"] ?? "", onBranch: "main", signature: signer)
        }
    }

    @Test func aPushIsRejectedWhenTheRemoteMoved() async throws {
        let fixture = try GitFixture()
        let daemon = try await GitDaemon(serving: fixture)
        let cache = try GitRepository(cacheAt: fixture.cachePath(), remote: GitRemote(url: daemon.url))
        let head = try cache.fetch(branch: "main")
        let signer = Signature(name: "syncagent", email: "syncagent@example.com", time: Date())
        try cache.revert(head, onBranch: "main", signature: signer)
        let theirs = try fixture.pushNewCommit(path: "late.yaml", text: "kind: ConfigMap\n", message: "Late change")

        let error = #expect(throws: GitSourceError.self) { try cache.push(branch: "main") }
        guard case .pushRejected(let branch, _, _) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(branch.contains("main"))
        #expect(try fixture.servedHead() == theirs)
    }

    @Test func theAsyncCacheServesConcurrentCallers() async throws {
        let fixture = try GitFixture()
        let daemon = try await GitDaemon(serving: fixture)
        let cache = GitRepositoryCache(cacheAt: fixture.cachePath(), remote: GitRemote(url: daemon.url))
        let result = try await cache.fetchIfMoved(branch: "main", knownSHA: nil)
        #expect(result.fetched)

        let heads = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await cache.remoteHead(branch: "main") } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(heads == Array(repeating: fixture.commits[3], count: 8))

        let files = try await cache.files(at: result.head, under: "mesh", extensions: ["yaml", "yml", "json"])
        #expect(files.count == 6)
        #expect(try await cache.revision("v1.0").sha == fixture.commits[1])
        await #expect(throws: GitSourceError.self) { try await cache.fetch(branch: "nope") }
    }
}
