import SyncCore

/// The async API over the bare cache of one remote, for the agent's services (poller, rollback, HTTP).
///
/// An actor whose executor is one dedicated thread (``GitThread``): every method runs there, one at a time, so
/// the blocking libgit2 calls never occupy Swift's cooperative pool, and the repository handle is used by one
/// thread at a time, as libgit2 requires. The isolation is checked by the compiler: the non-`Sendable`
/// ``GitRepository`` never leaves the actor, and only `Sendable` values come out. No `@unchecked Sendable` here.
///
/// The cache is opened (or created) on first use, so `init` never blocks. Methods are the ones of
/// ``GitRepository``; see there for details.
public actor GitRepositoryCache {
    private let executor: GitThread
    private var repository: GitRepository?
    /// The cache folder.
    public nonisolated let path: String
    /// The remote it caches.
    public nonisolated let remote: GitRemote

    /// Runs every job of this actor on its git thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A cache of `remote` in the folder `path`, with its own thread. Nothing is opened or fetched yet.
    public init(cacheAt path: String, remote: GitRemote) {
        self.path = path
        self.remote = remote
        self.executor = GitThread(name: "git-cache")
    }

    deinit {
        executor.shutdown()
    }

    /// The repository, opened on the first call (on this actor's thread).
    private func open() throws(GitSourceError) -> GitRepository {
        #if DEBUG
            executor.checkIsolated()  // every method runs on the git thread, never on the cooperative pool
        #endif
        if let repository { return repository }
        let opened = try GitRepository(cacheAt: path, remote: remote)
        repository = opened
        return opened
    }

    /// Runs `body` holding the cache's lock across processes (``CacheLock``).
    private func locked<T>(_ body: () throws(GitSourceError) -> T) throws(GitSourceError) -> T {
        let lock = try CacheLock(cache: path, remote: remote.redactedURL)
        defer { withExtendedLifetime(lock) {} }
        return try body()
    }

    /// The signature of the commit `spec` names, or nil when it is not signed (see
    /// ``GitRepository/commitSignature(_:)``).
    public func commitSignature(_ spec: String) throws(GitSourceError) -> CommitSignature? {
        try locked { () throws(GitSourceError) in try open().commitSignature(spec) }
    }

    /// The head of `branch` on the remote, from a ref listing only. See ``GitRepository/remoteHead(branch:)``.
    public func remoteHead(branch: String) throws(GitSourceError) -> String {
        try locked { () throws(GitSourceError) in try open().remoteHead(branch: branch) }
    }

    /// The remote's refs, like `git ls-remote`. See ``GitRepository/remoteRefs()``.
    public func remoteRefs() throws(GitSourceError) -> [String: String] {
        try locked { () throws(GitSourceError) in try open().remoteRefs() }
    }

    /// Fetches `branch` only when its head moved. See ``GitRepository/fetchIfMoved(branch:knownSHA:)``.
    public func fetchIfMoved(branch: String, knownSHA: String?) throws(GitSourceError) -> GitFetchResult {
        try locked { () throws(GitSourceError) in try open().fetchIfMoved(branch: branch, knownSHA: knownSHA) }
    }

    /// Fetches `branch` and returns its head. See ``GitRepository/fetch(branch:)``.
    @discardableResult
    public func fetch(branch: String) throws(GitSourceError) -> String {
        try locked { () throws(GitSourceError) in try open().fetch(branch: branch) }
    }

    /// The fetched head of `branch`, or nil before the first fetch.
    public func trackingHead(branch: String) throws(GitSourceError) -> String? {
        try locked { () throws(GitSourceError) in try open().trackingHead(branch: branch) }
    }

    /// The full SHA a branch, tag or (short) SHA names. See ``GitRepository/resolve(_:)``.
    public func resolve(_ spec: String) throws(GitSourceError) -> String {
        try locked { () throws(GitSourceError) in try open().resolve(spec) }
    }

    /// Whether `commit` descends from `ancestor`. See ``GitRepository/isDescendant(_:of:)``.
    public func isDescendant(_ commit: String, of ancestor: String) throws(GitSourceError) -> Bool {
        try locked { () throws(GitSourceError) in try open().isDescendant(commit, of: ancestor) }
    }

    /// A commit's metadata. See ``GitRepository/revision(_:)``.
    public func revision(_ spec: String) throws(GitSourceError) -> Revision {
        try locked { () throws(GitSourceError) in try open().revision(spec) }
    }

    /// The files under a path at a commit. See ``GitRepository/files(at:under:extensions:)``.
    public func files(
        at revision: String, under path: String = "", extensions: Set<String> = [], limits: InputLimits = .standard
    ) throws(GitSourceError) -> [GitFile] {
        try locked { () throws(GitSourceError) in
            try open().files(at: revision, under: path, extensions: extensions, limits: limits)
        }
    }

    /// Commits the revert of a commit on a branch. See ``GitRepository/revert(_:onBranch:signature:message:)``.
    @discardableResult
    public func revert(
        _ revision: String, onBranch branch: String, signature: Signature, message: String? = nil
    ) throws(GitSourceError) -> Revision {
        try locked { () throws(GitSourceError) in
            try open().revert(revision, onBranch: branch, signature: signature, message: message)
        }
    }

    /// Commits an earlier commit's tree on a branch. See ``GitRepository/restore(_:onBranch:signature:message:)``.
    @discardableResult
    public func restore(
        _ revision: String, onBranch branch: String, signature: Signature, message: String? = nil
    ) throws(GitSourceError) -> Revision {
        try locked { () throws(GitSourceError) in
            try open().restore(revision, onBranch: branch, signature: signature, message: message)
        }
    }

    /// Pushes the local branch to the remote. See ``GitRepository/push(branch:)``.
    @discardableResult
    public func push(branch: String) throws(GitSourceError) -> String {
        try locked { () throws(GitSourceError) in try open().push(branch: branch) }
    }
}
