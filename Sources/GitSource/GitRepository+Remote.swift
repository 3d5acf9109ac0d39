import CGit2

/// What a moved-check found, and whether objects were fetched.
public struct GitFetchResult: Sendable, Hashable, CustomStringConvertible {
    /// The branch checked (without `refs/heads/`).
    public var branch: String
    /// The branch head now: on the remote, and in the local remote-tracking ref.
    public var head: String
    /// The SHA the caller knew before (nil when it knew none).
    public var previous: String?
    /// Whether objects were downloaded: the head differed from the local remote-tracking ref.
    public var fetched: Bool

    /// A result for `branch`.
    public init(branch: String, head: String, previous: String?, fetched: Bool) {
        self.branch = branch
        self.head = head
        self.previous = previous
        self.fetched = fetched
    }

    /// Whether the head differs from the SHA the caller knew.
    public var moved: Bool { head != previous }

    /// "main: moved 0123456789ab -> 89abcdef0123 (fetched)".
    public var description: String {
        let from = previous.map { String($0.prefix(12)) } ?? "nothing"
        let change = moved ? "moved \(from) -> \(head.prefix(12))" : "unchanged at \(head.prefix(12))"
        return "\(branch): \(change)\(fetched ? " (fetched)" : "")"
    }
}

extension GitRepository {
    /// Every ref the remote advertises (`refs/heads/...`, `refs/tags/...`, `HEAD`) and the object it names, like
    /// `git ls-remote`; peeled tag lines (`^{}`) are left out. One connection, no objects transferred.
    public func remoteRefs() throws(GitSourceError) -> [String: String] {
        let connection = try connect(operation: "ls-remote")
        return try connection.heads()
    }

    /// The commit at the head of `branch` on the remote, from a ref listing only (the cheap "has it moved?"
    /// check: compare with the last known SHA).
    public func remoteHead(branch: String) throws(GitSourceError) -> String {
        let name = try Self.validBranch(branch)
        let connection = try connect(operation: "ls-remote \(name)")
        return try head(of: name, in: try connection.heads(), connection: connection)
    }

    /// Lists the remote's refs and fetches `branch` into `refs/remotes/origin/<branch>` only when needed: when
    /// its head differs from the local remote-tracking ref (which is the case whenever it differs from
    /// `knownSHA` after an earlier fetch). The download reuses the listing's connection.
    public func fetchIfMoved(branch: String, knownSHA: String?) throws(GitSourceError) -> GitFetchResult {
        let name = try Self.validBranch(branch)
        let connection = try connect(operation: "fetch \(name)")
        let remoteHead = try head(of: name, in: try connection.heads(), connection: connection)
        let local = try trackingHead(branch: name)
        guard local != remoteHead else {
            return GitFetchResult(branch: name, head: remoteHead, previous: knownSHA, fetched: false)
        }
        try connection.fetch(refspec: "+refs/heads/\(name):\(Self.trackingRef(branch: name))")
        guard let fetched = try trackingHead(branch: name) else {
            throw GitSourceError.libgit2(
                function: "git_remote_fetch", code: -1, errorClass: 0,
                message: "the remote-tracking ref was not updated", subject: connection.subject)
        }
        return GitFetchResult(branch: name, head: fetched, previous: knownSHA, fetched: true)
    }

    /// Fetches `branch` (when it moved) and returns its head.
    @discardableResult
    public func fetch(branch: String) throws(GitSourceError) -> String {
        try fetchIfMoved(branch: branch, knownSHA: nil).head
    }

    /// Pushes the local branch `refs/heads/<branch>` (written by ``revert(_:onBranch:signature:message:)``) to the
    /// remote's branch of the same name, never forced: the remote refuses when its branch has moved since the
    /// fetch. On success the remote-tracking ref follows. Returns the SHA pushed.
    @discardableResult
    public func push(branch: String) throws(GitSourceError) -> String {
        let name = try Self.validBranch(branch)
        guard let local = try referenceTarget("refs/heads/\(name)") else {
            throw GitSourceError.invalidArgument(
                "\(subject): no local branch '\(name)' to push; create the commit first (revert)")
        }
        let connection = try openConnection(operation: "push \(name)")
        do {
            try connection.push(refspec: "refs/heads/\(name):refs/heads/\(name)")
        } catch {
            guard case .pushRejected(_, let remote, let reason) = error else { throw error }
            throw GitSourceError.pushRejected(branch: name, remote: remote, reason: reason)
        }
        if let rejected = connection.context.rejectedRefs.first {
            throw GitSourceError.pushRejected(
                branch: name, remote: connection.context.remote.redactedURL, reason: rejected.reason)
        }
        try setReference(Self.trackingRef(branch: name), to: local, message: "syncagent: push \(name)")
        return local
    }

    // MARK: - Internals

    /// The configured remote, or an error saying there is none.
    func requireRemote() throws(GitSourceError) -> GitRemote {
        guard let remote else {
            throw GitSourceError.invalidArgument("\(subject) was opened without a remote; give one to fetch or push")
        }
        return remote
    }

    /// A new, unconnected anonymous remote.
    func openConnection(operation: String) throws(GitSourceError) -> RemoteConnection {
        try RemoteConnection(repository: handle, remote: try requireRemote(), operation: operation)
    }

    /// A new connection, connected for fetching.
    func connect(operation: String) throws(GitSourceError) -> RemoteConnection {
        let connection = try openConnection(operation: operation)
        try connection.connect(direction: GIT_DIRECTION_FETCH)
        return connection
    }

    /// The commit of `refs/heads/<branch>` among the advertised refs.
    private func head(
        of branch: String, in heads: [String: String], connection: RemoteConnection
    ) throws(GitSourceError) -> String {
        if let sha = heads["refs/heads/\(branch)"] { return sha }
        let branches = heads.keys.filter { $0.hasPrefix("refs/heads/") }.map { String($0.dropFirst(11)) }.sorted()
        throw GitSourceError.branchNotFound(
            branch: branch, remote: connection.context.remote.redactedURL, available: Array(branches.prefix(20)))
    }
}

/// One anonymous `git_remote` of a repository and the callback context its C callbacks point at.
///
/// The remote is anonymous (no name, as `git_remote_create_anonymous` makes it): its URL is never written to the
/// repository's config, and no `insteadOf` rule rewrites it. This class is the remote's only owner and frees it in `deinit`, before its stored properties (the
/// context the callbacks use, and the repository the remote belongs to) are released.
final class RemoteConnection {
    private let pointer: OpaquePointer
    /// What the callbacks read and record.
    let context: RemoteCallbackContext
    /// Keeps the repository alive for as long as its remote.
    private let repository: GitHandle<RepositoryKind>

    /// "remote <redacted URL> (<operation>)" for messages.
    var subject: String { "remote \(context.remote.redactedURL) (\(context.operation))" }

    /// An anonymous remote of `repository` for `remote`; `operation` ("fetch main") names it in messages.
    init(repository: GitHandle<RepositoryKind>, remote: GitRemote, operation: String) throws(GitSourceError) {
        var out: OpaquePointer?
        try repository.withPointer { repositoryPointer throws(GitSourceError) in
            // Anonymous (no name: nothing written to the repository's config), as `git_remote_create_anonymous`
            // makes it, but without `url.<base>.insteadOf` rewriting: the URL syncagent's configuration gives is the
            // URL it fetches, and libgit2 1.5's insteadOf lookup leaks about 80 KB per remote (a connection per poll:
            // megabytes an hour; `GitRemoteTests.aConnectionPerPollCostsNoMemory`).
            var options = git_remote_create_options()
            git_remote_create_options_init(&options, UInt32(GIT_REMOTE_CREATE_OPTIONS_VERSION))
            options.repository = repositoryPointer
            options.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF.rawValue
            try git("git_remote_create_with_opts", "remote \(remote.redactedURL)") {
                git_remote_create_with_opts(&out, remote.url, &options)
            }
        }
        guard let out else {
            throw GitSourceError.invalidArgument("remote \(remote.redactedURL): libgit2 returned no remote")
        }
        self.pointer = out
        self.repository = repository
        self.context = RemoteCallbackContext(remote: remote, operation: operation)
    }

    deinit {
        git_remote_free(pointer)  // disconnects first
    }

    /// Connects (the first step of ls-remote, fetch or push).
    func connect(direction: git_direction) throws(GitSourceError) {
        var callbacks = context.makeCallbacks()
        try call("git_remote_connect") { git_remote_connect(pointer, direction, &callbacks, nil, nil) }
    }

    /// The refs the connected remote advertises, peeled tag entries left out.
    func heads() throws(GitSourceError) -> [String: String] {
        var list: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try call("git_remote_ls") { git_remote_ls(&list, &count, pointer) }
        var heads: [String: String] = [:]
        guard let list else { return heads }
        for index in 0..<count {
            guard let head = list[index], let namePointer = head.pointee.name else { continue }
            let name = String(cString: namePointer)
            if name.hasSuffix("^{}") { continue }
            heads[name] = ObjectID.hex(head.pointee.oid)
        }
        return heads
    }

    /// Downloads what `refspec` needs and updates the local refs (and tags that point into what was fetched).
    func fetch(refspec: String) throws(GitSourceError) {
        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        options.callbacks = context.makeCallbacks()
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_AUTO
        options.prune = GIT_FETCH_NO_PRUNE
        options.update_fetchhead = 0
        try withStrArray([refspec]) { refspecs throws(GitSourceError) in
            try call("git_remote_fetch") { git_remote_fetch(pointer, refspecs, &options, "syncagent: fetch") }
        }
    }

    /// Pushes `refspec`; the server's per-ref verdicts land in `context.rejectedRefs`.
    func push(refspec: String) throws(GitSourceError) {
        var options = git_push_options()
        git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION))
        options.callbacks = context.makeCallbacks()
        try withStrArray([refspec]) { refspecs throws(GitSourceError) in
            try call("git_remote_push") { git_remote_push(pointer, refspecs, &options) }
        }
    }

    /// Runs one libgit2 call on this remote; a failure a callback recorded wins over libgit2's own message.
    /// The call's sockets carry the operation's deadline (``GitSocketStreams``); a failure after the deadline
    /// passed is reported as the timeout it is.
    private func call(_ function: String, _ body: () -> Int32) throws(GitSourceError) {
        let previous = GitSocketStreams.setDeadline(context.deadline)
        defer { _ = GitSocketStreams.setDeadline(previous) }
        _ = GitSocketStreams.takeTimeout()
        do {
            try git(function, subject, body)
        } catch {
            if let failure = context.failure { throw failure }
            // The socket said the deadline passed (its own word, not a second reading of the clock).
            if GitSocketStreams.takeTimeout() { throw context.timeoutError }
            if context.checkDeadline() != 0, let failure = context.failure { throw failure }
            throw classify(error)
        }
    }

    /// Names authentication and certificate failures as such.
    private func classify(_ error: GitSourceError) -> GitSourceError {
        guard case .libgit2(_, let code, let errorClass, let message, _) = error else { return error }
        let url = context.remote.redactedURL
        switch code {
        case GIT_EAUTH.rawValue: return .authenticationFailed(remote: url, reason: message)
        case GIT_ECERTIFICATE.rawValue:
            return .hostVerificationFailed(
                remote: url, host: GitURLHost(url: context.remote.url)?.host ?? "?", reason: message)
        case GIT_ENONFASTFORWARD.rawValue:
            return .pushRejected(branch: context.operation, remote: url, reason: message)
        default:
            if UInt32(bitPattern: errorClass) == GIT_ERROR_HTTP.rawValue,
                message.contains("401") || message.contains("403")
            {
                return .authenticationFailed(remote: url, reason: message)
            }
            return error
        }
    }
}
