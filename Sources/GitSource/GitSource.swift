import CGit2

/// # GitSource
///
/// Reads the config repository with libgit2: clone or open a bare cache, the cheap "has the branch moved?" check,
/// fetch, commits, and the files of a tree at a commit, straight from the object database (no work tree).
/// It knows nothing of YAML or Kubernetes.
///
/// ## Types
/// - ``GitRepository``: the synchronous API over one repository (a bare cache of a remote, or any local
///   repository). Not `Sendable`: use it from one thread at a time (tests, the CLI).
/// - ``GitRepositoryCache``: the same operations as `async` methods of an actor whose executor is one dedicated
///   thread, for the agent's services.
/// - ``GitRemote``, ``GitCredentials``, ``GitSecret``: where the remote is and how to authenticate.
/// - ``GitFile``, ``GitFetchResult``, ``Revision`` (from SyncCore): the values that come out.
/// - ``GitSourceError``: every failure, with what failed, on what, why, and what to do.
///
/// ## Rules
/// - The cache is a **bare** repository. A branch `X` of the remote is fetched into the remote-tracking ref
///   `refs/remotes/origin/X`; the remote is used anonymously (its URL is never written to the cache's config, so
///   credentials in a URL are never stored), and the cache records the redacted URL it belongs to
///   (`syncagent.remote`) so one cache folder is never silently reused for another repository.
/// - "Has it moved?" is a ref listing only (`git_remote_connect` + `git_remote_ls`, like `git ls-remote`);
///   objects are downloaded only when the branch head differs from the last known SHA (or is missing locally),
///   and then over the same connection.
/// - Files are read from the object database at a commit. Only regular files are returned. A **symlink** is
///   resolved to the file it names when that file is inside the repository, at the same commit (up to 8 hops);
///   a symlink that escapes the repository (absolute target, or `..` past the root) is an error naming its path,
///   and so is one that dangles, loops or names a folder. A **submodule** (gitlink) under the path read is an
///   error: submodules are never followed.
/// - A revert is computed in memory (`git_revert_commit`), never in a work tree; a conflict writes nothing.
/// - Messages never contain secrets: URLs are redacted, and tokens reach libgit2 only through credential
///   callbacks. HTTPS certificates are verified by libgit2; SSH host keys are checked against the known_hosts file
///   the caller gives, with no trust on first use.
///
/// ## Transports
/// `file://` and plain paths, `git://`, `https://` (token as the basic-auth password, from a file or an environment
/// variable; certificates verified by libgit2, or pinned with ``GitRemote/pinnedCertificate``) and `ssh://` or
/// `user@host:path` (key file; host key checked against a known_hosts file). ``GitSourceModule/supportsHTTPS`` and
/// ``GitSourceModule/supportsSSH`` tell what this libgit2 was built with; a remote whose transport is missing is
/// refused when it is opened, with ``GitSourceError/transportUnsupported(scheme:remote:)``.
///
/// ## Timeouts
/// libgit2 1.5 has no connect or read timeout. ``GitRemote/timeout`` is the deadline of one operation: it is
/// enforced on the socket by ``GitSocketStreams`` (connect, reads and writes wait at most until it, and a timer
/// shuts the socket down when it passes), so a server that accepts a connection and then says nothing ends in
/// ``GitSourceError/timedOut(operation:remote:seconds:)``; it is also checked in every callback libgit2 makes.
///
/// ## Threading
/// libgit2 is initialised once per process (`git_libgit2_init` under `swift_once`) and never shut down. A libgit2
/// object (repository, remote, commit, ...) may be used by one thread at a time (`docs/threading.md`); its last
/// error is per thread, so the error helper reads it right after the failing call, on the same thread. Every C
/// handle has one owner (`GitHandle` or a scoped closure) that is not `Sendable`, so the compiler keeps each on
/// one thread. libgit2 calls block (network, disk): ``GitRepositoryCache`` runs them on its own thread, never on
/// Swift's cooperative pool, and its callers simply `await`.
public enum GitSourceModule {
    /// The libgit2 version linked, e.g. "1.5.1".
    public static var libgit2Version: String {
        LibGit2.ensureInitialised()
        var major: Int32 = 0
        var minor: Int32 = 0
        var revision: Int32 = 0
        git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// Whether this libgit2 was built with HTTPS support.
    public static var supportsHTTPS: Bool { LibGit2.features & Int32(GIT_FEATURE_HTTPS.rawValue) != 0 }

    /// Whether this libgit2 was built with SSH support (libssh2).
    public static var supportsSSH: Bool { LibGit2.features & Int32(GIT_FEATURE_SSH.rawValue) != 0 }

    /// Whether this libgit2 was built thread-safe (required: the agent uses several threads).
    public static var supportsThreads: Bool { LibGit2.features & Int32(GIT_FEATURE_THREADS.rawValue) != 0 }

    /// One line for messages and `syncagent version`: "libgit2 1.5.1 (https, ssh, threads)".
    public static var featureSummary: String {
        var features: [String] = []
        features.append(supportsHTTPS ? "https" : "no https")
        features.append(supportsSSH ? "ssh" : "no ssh")
        features.append(supportsThreads ? "threads" : "no threads")
        return "libgit2 \(libgit2Version) (\(features.joined(separator: ", ")))"
    }
}
