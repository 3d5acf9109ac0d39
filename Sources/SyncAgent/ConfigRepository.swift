import RolloutEngine
import Differ
import Foundation
import GitSource
import SyncCore

/// The configured config repository: one bare cache (libgit2), the tracked branch, snapshots at commits.
struct ConfigRepository: Sendable {
    let repo: AgentConfig.Repo
    let cache: GitRepositoryCache

    /// The cache for `repo`, under `cacheRoot` (default `$XDG_CACHE_HOME/syncagent` or `~/.cache/syncagent`): one
    /// bare repository per URL.
    /// syncagent's cache folder: `configured`, else `$XDG_CACHE_HOME/syncagent` or `~/.cache/syncagent`.
    static func cacheRoot(_ configured: String?) -> String {
        configured
            ?? ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { "\($0)/syncagent" }
            ?? "\(NSHomeDirectory())/.cache/syncagent"
    }

    init(_ repo: AgentConfig.Repo, cacheRoot: String?) {
        self.repo = repo
        let base = Self.cacheRoot(cacheRoot)
        let hash = StableHash.of(repo.url)  // a stable folder name per URL
        cache = GitRepositoryCache(
            cacheAt: "\(base)/repos/\(String(hash, radix: 16))",
            remote: GitRemote(url: repo.url, credentials: repo.credentials, timeout: repo.timeout))
    }

    /// Fetches the tracked branch (only when it moved since `known`) and returns its head.
    func head(known: String? = nil) async throws -> String {
        let result = try await cache.fetchIfMoved(branch: repo.branch, knownSHA: known)
        return result.head
    }

    /// The snapshot a ref names: the tracked branch by default; another branch (fetched); or a tag or a commit id,
    /// resolved after fetching every branch's head.
    func snapshot(ref: String? = nil) async throws -> Snapshot {
        guard let ref, ref != repo.branch else {
            return try await snapshot(sha: try await cache.fetch(branch: repo.branch))
        }
        let refs = try await cache.remoteRefs()
        if refs["refs/heads/\(ref)"] != nil { return try await snapshot(sha: try await cache.fetch(branch: ref)) }
        for name in refs.keys where name.hasPrefix("refs/heads/") {
            _ = try await cache.fetch(branch: String(name.dropFirst("refs/heads/".count)))
        }
        return try await snapshot(sha: try await cache.resolve(ref))
    }

    /// The snapshot at a commit already in the cache.
    func snapshot(sha: String) async throws -> Snapshot {
        let revision = try await cache.revision(sha)
        let files = try await cache.files(at: revision.sha, under: repo.path, limits: repo.limits)
        return Snapshot(
            revision: revision, files: files.map { ManifestFile(path: $0.path, bytes: $0.bytes) }, root: repo.path,
            limits: repo.limits)
    }

    /// Checks that the commit `sha` is signed by a key `repo.verify` allows (``CommitVerifier``); nil when the
    /// configuration asks for no check. Throws ``GitSourceError/unverified(commit:reason:)`` otherwise.
    func verify(_ sha: String) async throws -> VerifiedSignature? {
        guard let policy = repo.verify else { return nil }
        let signature = try await cache.commitSignature(sha)
        return try await CommitVerifier.verify(signature, commit: sha, policy: policy)
    }

    /// A loader for rollbacks: the commit may need a fetch first (a second agent's cache).
    var loader: SnapshotLoader {
        let repository = self
        return { sha in
            do {
                return try await repository.snapshot(sha: sha)
            } catch {
                _ = try await repository.cache.fetch(branch: repository.repo.branch)
                return try await repository.snapshot(sha: sha)
            }
        }
    }
}

extension Snapshot {
    /// How the revision of a local folder's snapshot starts.
    static let localPrefix = "local-"

    /// A local folder as a snapshot (uncommitted work): revision `local-<seconds since 1970>`.
    static func directory(_ dir: String) throws -> Snapshot {
        let files = try ManifestSource.readDirectory(dir)
        let now = Date()
        let signature = Signature(name: "local", email: "", time: now)
        return Snapshot(
            revision: Revision(
                sha: localPrefix + String(UInt64(now.timeIntervalSince1970)), author: signature, committer: signature,
                message: "local folder \(dir)", parents: []),
            files: files, root: dir)
    }
}
