import CGit2
import Foundation
import SyncCore

/// One repository opened with libgit2: a bare cache of a remote, or any local repository.
///
/// The synchronous API, for tests and the CLI. It is not `Sendable`: libgit2 lets one thread at a time use a
/// repository, so keep an instance on one thread (or use ``GitRepositoryCache``, which does that for you).
public final class GitRepository {
    /// The handle; every libgit2 call on this repository goes through it.
    let handle: GitHandle<RepositoryKind>
    /// The repository's folder (for a bare repository, the folder holding `objects` and `refs`).
    public let path: String
    /// The remote that `remoteHead`, `fetch` and `push` talk to; nil for a repository opened without one.
    public let remote: GitRemote?

    /// The remote name used in remote-tracking refs: a branch `X` is fetched into `refs/remotes/origin/X`.
    public static let remoteName = "origin"
    /// The config key where a cache records the (redacted) URL it belongs to.
    static let remoteConfigKey = "syncagent.remote"

    /// Opens the bare cache of `remote` in `path`, creating it (as `git init --bare` would) when the folder is
    /// missing or empty. Nothing is fetched yet.
    ///
    /// Throws ``GitSourceError/cacheMismatch(cache:expected:found:)`` when the folder caches another remote, and
    /// ``GitSourceError/transportUnsupported(scheme:remote:)`` when libgit2 cannot speak the URL's scheme.
    public init(cacheAt path: String, remote: GitRemote) throws(GitSourceError) {
        LibGit2.ensureInitialised()
        guard !remote.url.isEmpty else { throw GitSourceError.invalidArgument("the remote URL is empty") }
        guard remote.transport.isSupported else {
            throw GitSourceError.transportUnsupported(scheme: remote.transport.name, remote: remote.redactedURL)
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        if contents.isEmpty {
            handle = try gitHandle(RepositoryKind.self, "git_repository_init", "cache \(path)") {
                git_repository_init(&$0, path, 1)
            }
        } else {
            handle = try gitHandle(RepositoryKind.self, "git_repository_open_bare", "cache \(path)") {
                git_repository_open_bare(&$0, path)
            }
        }
        self.path = path
        self.remote = remote
        let recorded = try configString(Self.remoteConfigKey)
        if let recorded, recorded != remote.redactedURL {
            throw GitSourceError.cacheMismatch(cache: path, expected: remote.redactedURL, found: recorded)
        }
        if recorded == nil { try setConfigString(Self.remoteConfigKey, remote.redactedURL) }
    }

    /// Opens an existing repository, bare or with a work tree (which is never read or written), optionally with
    /// a remote to fetch from and push to.
    public init(openingExisting path: String, remote: GitRemote? = nil) throws(GitSourceError) {
        LibGit2.ensureInitialised()
        if let remote, !remote.transport.isSupported {
            throw GitSourceError.transportUnsupported(scheme: remote.transport.name, remote: remote.redactedURL)
        }
        handle = try gitHandle(RepositoryKind.self, "git_repository_open_ext", "repository \(path)") {
            git_repository_open_ext(&$0, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
        }
        self.path = path
        self.remote = remote
    }

    /// "repository <path>" for messages.
    var subject: String { "repository \(path)" }

    // MARK: - Refs and revisions

    /// The remote-tracking ref of a branch: `refs/remotes/origin/<branch>`.
    public static func trackingRef(branch: String) -> String { "refs/remotes/\(remoteName)/\(branch)" }

    /// The commit the remote-tracking ref of `branch` points at (what was last fetched), or nil before the
    /// first fetch.
    public func trackingHead(branch: String) throws(GitSourceError) -> String? {
        try referenceTarget(Self.trackingRef(branch: try Self.validBranch(branch)))
    }

    /// The full SHA of the commit that `spec` names.
    ///
    /// `spec` is a full SHA, a short SHA (at least 4 hex digits), a branch (the fetched remote-tracking branch
    /// first, then a local one), a tag (annotated tags are peeled), a full ref name, or any `git rev-parse`
    /// expression such as `main~2`.
    public func resolve(_ spec: String) throws(GitSourceError) -> String {
        try withCommit(spec) { commit in ObjectID.hex(git_commit_id(commit)) }
    }

    /// Whether `commit` descends from `ancestor` (or is it): false when the branch was rewritten (a force-push to
    /// an older or unrelated commit). Both must be in the repository.
    public func isDescendant(_ commit: String, of ancestor: String) throws(GitSourceError) -> Bool {
        let descendant = try resolve(commit)
        let base = try resolve(ancestor)
        if descendant == base { return true }
        var descendantID = try ObjectID.parse(descendant)
        var baseID = try ObjectID.parse(base)
        let result = handle.withPointer { git_graph_descendant_of($0, &descendantID, &baseID) }
        guard result >= 0 else {
            let (errorClass, message) = lastGitError()
            throw GitSourceError.libgit2(
                function: "git_graph_descendant_of", code: result, errorClass: errorClass, message: message,
                subject: subject)
        }
        return result == 1
    }

    /// The commit `spec` names (see ``resolve(_:)``), as a ``Revision``.
    ///
    /// `message` is the whole message as stored (usually ending in a newline); times are UTC instants (the
    /// committer's time zone offset is not kept).
    public func revision(_ spec: String) throws(GitSourceError) -> Revision {
        try withCommit(spec) { commit in Self.revision(of: commit) }
    }

    /// Reads a commit's metadata.
    static func revision(of commit: OpaquePointer) -> Revision {
        var parents: [String] = []
        for index in 0..<git_commit_parentcount(commit) {
            if let id = git_commit_parent_id(commit, index) { parents.append(ObjectID.hex(id)) }
        }
        return Revision(
            sha: ObjectID.hex(git_commit_id(commit)),
            author: signature(git_commit_author(commit)),
            committer: signature(git_commit_committer(commit)),
            message: git_commit_message(commit).map { String(cString: $0) } ?? "",
            parents: parents)
    }

    private static func signature(_ signature: UnsafePointer<git_signature>?) -> Signature {
        guard let signature else { return Signature(name: "", email: "", time: Date(timeIntervalSince1970: 0)) }
        return Signature(
            name: signature.pointee.name.map { String(cString: $0) } ?? "",
            email: signature.pointee.email.map { String(cString: $0) } ?? "",
            time: Date(timeIntervalSince1970: TimeInterval(signature.pointee.when.time)))
    }

    /// Runs `body` with the commit `spec` names.
    func withCommit<Result>(
        _ spec: String, _ body: (OpaquePointer) throws(GitSourceError) -> Result
    ) throws(GitSourceError) -> Result {
        let commit = try lookupCommit(spec)
        return try commit.withPointer(body)
    }

    /// Looks up the commit `spec` names; see ``resolve(_:)`` for what `spec` may be.
    func lookupCommit(_ spec: String) throws(GitSourceError) -> GitHandle<CommitKind> {
        let spec = spec.trimmingCharacters(in: .whitespaces)
        guard !spec.isEmpty else { throw GitSourceError.invalidArgument("\(subject): empty revision") }
        if ObjectID.isFullSHA(spec) {
            var oid = try ObjectID.parse(spec)
            return try commitHandle(for: &oid, spec: spec)
        }
        // In a cache, `main` and `main~2` mean the fetched branch: try `origin/<spec>` first.
        let candidates = remote == nil ? [spec] : ["\(Self.remoteName)/\(spec)", spec]
        var found: GitHandle<ObjectKind>?
        for candidate in candidates {
            do {
                found = try handle.withPointer { repository throws(GitSourceError) in
                    try gitHandle(ObjectKind.self, "git_revparse_single", subject) {
                        git_revparse_single(&$0, repository, candidate)
                    }
                }
                break
            } catch {
                let classified = Self.classify(error, spec: spec, repository: path)
                guard case .revisionNotFound = classified else { throw classified }
            }
        }
        guard let object = found else { throw GitSourceError.revisionNotFound(spec: spec, repository: path) }
        let peeled = try object.withPointer { object throws(GitSourceError) in
            try gitHandle(ObjectKind.self, "git_object_peel", "\(subject) revision '\(spec)'") {
                git_object_peel(&$0, object, GIT_OBJECT_COMMIT)
            }
        }
        var oid = peeled.withPointer { git_object_id($0).pointee }
        return try commitHandle(for: &oid, spec: spec)
    }

    private func commitHandle(for oid: inout git_oid, spec: String) throws(GitSourceError) -> GitHandle<CommitKind> {
        do {
            return try handle.withPointer { repository throws(GitSourceError) in
                try gitHandle(CommitKind.self, "git_commit_lookup", "\(subject) revision '\(spec)'") {
                    git_commit_lookup(&$0, repository, &oid)
                }
            }
        } catch {
            throw Self.classify(error, spec: spec, repository: path)
        }
    }

    /// Turns libgit2's not-found and ambiguous codes into the errors that name the revision.
    private static func classify(_ error: GitSourceError, spec: String, repository: String) -> GitSourceError {
        guard case .libgit2(_, let code, _, _, _) = error else { return error }
        switch code {
        case GIT_ENOTFOUND.rawValue, GIT_EINVALIDSPEC.rawValue:
            return .revisionNotFound(spec: spec, repository: repository)
        case GIT_EAMBIGUOUS.rawValue: return .ambiguousRevision(spec: spec, repository: repository)
        default: return error
        }
    }

    /// The commit a direct ref points at, or nil when the ref does not exist.
    func referenceTarget(_ name: String) throws(GitSourceError) -> String? {
        var oid = git_oid()
        let code = handle.withPointer { git_reference_name_to_id(&oid, $0, name) }
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue {
            git_error_clear()
            return nil
        }
        try git("git_reference_name_to_id", "\(subject) ref \(name)") { code }
        return ObjectID.hex(oid)
    }

    /// Points a ref at a commit, creating it when missing.
    func setReference(_ name: String, to sha: String, message: String) throws(GitSourceError) {
        var oid = try ObjectID.parse(sha)
        let reference = try handle.withPointer { repository throws(GitSourceError) in
            try gitHandle(ReferenceKind.self, "git_reference_create", "\(subject) ref \(name)") {
                git_reference_create(&$0, repository, name, &oid, 1, message)
            }
        }
        withExtendedLifetime(reference) {}
    }

    /// Checks a branch name (`main`, `release/1.2`, or `refs/heads/main`) and returns it without `refs/heads/`.
    static func validBranch(_ branch: String) throws(GitSourceError) -> String {
        let name = branch.hasPrefix("refs/heads/") ? String(branch.dropFirst("refs/heads/".count)) : branch
        var valid: Int32 = 0
        LibGit2.ensureInitialised()
        let code = git_reference_name_is_valid(&valid, "refs/heads/\(name)")
        guard code == 0, valid == 1, !name.isEmpty else {
            git_error_clear()
            throw GitSourceError.invalidArgument("'\(branch)' is not a valid branch name")
        }
        return name
    }

    // MARK: - Config

    private func configString(_ key: String) throws(GitSourceError) -> String? {
        let config = try handle.withPointer { repository throws(GitSourceError) in
            try gitHandle(ConfigKind.self, "git_repository_config", subject) { git_repository_config(&$0, repository) }
        }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let code = config.withPointer { git_config_get_string_buf(&buffer, $0, key) }
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try git("git_config_get_string_buf", "\(subject) config \(key)") { code }
        return buffer.ptr.map { String(cString: $0) }
    }

    private func setConfigString(_ key: String, _ value: String) throws(GitSourceError) {
        let config = try handle.withPointer { repository throws(GitSourceError) in
            try gitHandle(ConfigKind.self, "git_repository_config", subject) { git_repository_config(&$0, repository) }
        }
        try config.withPointer { config throws(GitSourceError) in
            try git("git_config_set_string", "\(subject) config \(key)") { git_config_set_string(config, key, value) }
        }
    }
}
