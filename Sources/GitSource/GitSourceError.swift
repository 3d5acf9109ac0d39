import CGit2

/// Why a GitSource operation failed: what failed, on which repository, ref or path, why, and what to do.
///
/// Messages never contain credentials: URLs are shown with their password or token replaced by `***`, and
/// tokens are passed to libgit2 only through credential callbacks, so they never appear in its messages.
public enum GitSourceError: Error, CustomStringConvertible, Sendable, Hashable {
    /// A libgit2 call failed; `subject` names the repository, remote or ref it was working on.
    case libgit2(function: String, code: Int32, errorClass: Int32, message: String, subject: String)
    /// The remote has no branch of that name; `available` lists the branches it does have (at most 20).
    case branchNotFound(branch: String, remote: String, available: [String])
    /// A revision (branch, tag, full or short SHA) could not be found in the local repository.
    case revisionNotFound(spec: String, repository: String)
    /// A short SHA or name matches more than one object.
    case ambiguousRevision(spec: String, repository: String)
    /// The path does not exist in the tree of the commit.
    case pathNotFound(path: String, commit: String)
    /// A symlink in the tree points outside the repository (an absolute target, or `..` past the root).
    case symlinkEscapes(path: String, target: String, commit: String)
    /// A symlink in the tree cannot be read as a file: it dangles, points at a folder, or loops.
    case symlinkUnresolved(path: String, target: String, commit: String, reason: String)
    /// A submodule (gitlink) entry lies under the path being read; submodules are never followed.
    case submodule(path: String, commit: String)
    /// Reverting the commit onto the branch conflicts; nothing was written.
    case revertConflict(commit: String, branch: String, paths: [String])
    /// The remote refused the push of a branch.
    case pushRejected(branch: String, remote: String, reason: String)
    /// The URL's transport is not built into this libgit2 (`git_libgit2_features`).
    case transportUnsupported(scheme: String, remote: String)
    /// The credentials could not be read or were refused by the server.
    case authenticationFailed(remote: String, reason: String)
    /// The server's TLS certificate or SSH host key could not be verified.
    case hostVerificationFailed(remote: String, host: String, reason: String)
    /// The operation took longer than the remote's timeout.
    case timedOut(operation: String, remote: String, seconds: Double)
    /// Reading the revision would pass one of ``InputLimits``: `what` says which, at which file, and how to raise it.
    case limitExceeded(commit: String, path: String, what: String)
    /// The cache folder holds a repository for a different remote.
    case cacheMismatch(cache: String, expected: String, found: String)
    /// The caller passed something GitSource cannot use (an invalid branch name, an empty URL, ...).
    case invalidArgument(String)
    /// The commit is not signed by a key `repo.verify` allows; nothing of it is applied.
    case unverified(commit: String, reason: String)

    /// The message: what failed, on what, why, and what to do.
    public var description: String {
        switch self {
        case .libgit2(let function, let code, let errorClass, let message, let subject):
            let why = message.isEmpty ? "error \(code)" : message
            return
                "\(subject): \(function) failed: \(why); \(Self.hint(function: function, code: code, errorClass: errorClass))"
        case .branchNotFound(let branch, let remote, let available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(remote): branch '\(branch)' not found (remote branches: \(list)); check the branch name"
        case .revisionNotFound(let spec, let repository):
            return "\(repository): revision '\(spec)' not found; fetch the branch that contains it, or check the name"
        case .ambiguousRevision(let spec, let repository):
            return "\(repository): revision '\(spec)' is ambiguous; give more characters of the SHA or a full ref"
        case .pathNotFound(let path, let commit):
            return "\(commit): path '\(path)' not found in the tree; check the path in the configuration"
        case .symlinkEscapes(let path, let target, let commit):
            return "\(commit): \(path): symlink to '\(target)' points outside the repository; "
                + "replace it with a regular file or a link inside the repository"
        case .symlinkUnresolved(let path, let target, let commit, let reason):
            return "\(commit): \(path): symlink to '\(target)' \(reason); replace it with a regular file"
        case .submodule(let path, let commit):
            return "\(commit): \(path): is a submodule, which is never followed; "
                + "vendor its files into the repository or move it outside the synced path"
        case .revertConflict(let commit, let branch, let paths):
            return "revert of \(commit) onto \(branch) conflicts in \(paths.joined(separator: ", ")); "
                + "nothing was written: revert by hand, or roll back to an earlier commit"
        case .pushRejected(let branch, let remote, let reason):
            return "\(remote): push of \(branch) rejected: \(reason); fetch, re-apply the change and push again"
        case .transportUnsupported(let scheme, let remote):
            return "\(remote): the \(scheme) transport is not built into this libgit2 "
                + "(\(GitSourceModule.featureSummary)); use another URL scheme or a libgit2 built with it"
        case .authenticationFailed(let remote, let reason):
            return "\(remote): authentication failed: \(reason); check the credentials given to syncagent"
        case .hostVerificationFailed(let remote, let host, let reason):
            return "\(remote): cannot verify host \(host): \(reason); "
                + "check the server's certificate or add its key to the known_hosts file"
        case .timedOut(let operation, let remote, let seconds):
            return "\(remote): \(operation) did not finish within \(Self.format(seconds))s; "
                + "check that the server is reachable, or raise the timeout"
        case .limitExceeded(let commit, let path, let what):
            return "commit \(commit.prefix(12)): \(path): \(what)"
        case .cacheMismatch(let cache, let expected, let found):
            return "\(cache): cache holds a clone of \(found), not \(expected); "
                + "remove the folder or choose another cache directory"
        case .invalidArgument(let message):
            return message
        case .unverified(let commit, let reason):
            return "commit \(commit.prefix(12)) is not verified: \(reason); syncagent applies only commits signed by a "
                + "key repo.verify allows (sign it, or add the key)"
        }
    }

    /// What to do about a libgit2 failure, from the function, its code and class.
    static func hint(function: String, code: Int32, errorClass: Int32) -> String {
        switch code {
        case GIT_ENOTFOUND.rawValue: return "check that the object, ref or path exists"
        case GIT_EAMBIGUOUS.rawValue: return "use a longer SHA or a full ref name"
        case GIT_EAUTH.rawValue: return "check the credentials (token file, environment variable or SSH key)"
        case GIT_ECERTIFICATE.rawValue: return "check the server certificate (or the known_hosts file for SSH)"
        case GIT_ENONFASTFORWARD.rawValue: return "fetch first: the remote branch has moved"
        case GIT_ELOCKED.rawValue:
            return "another process holds a lock in the repository; retry, or remove a stale .lock file"
        case GIT_EMODIFIED.rawValue: return "the ref changed under us; retry"
        case GIT_EOWNER.rawValue: return "the repository is owned by another user; run as its owner"
        default: break
        }
        let errorClass = UInt32(bitPattern: errorClass)
        if function.hasPrefix("git_remote_"), errorClass == GIT_ERROR_OS.rawValue {
            return "check the URL and that the server is reachable"  // connect(), DNS, a refused port
        }
        switch errorClass {
        case GIT_ERROR_NET.rawValue, GIT_ERROR_HTTP.rawValue:
            return "check the URL and that the server is reachable"
        case GIT_ERROR_SSL.rawValue: return "check the server's TLS certificate"
        case GIT_ERROR_SSH.rawValue: return "check the SSH URL, key and known_hosts file"
        case GIT_ERROR_OS.rawValue, GIT_ERROR_FILESYSTEM.rawValue:
            return "check the path, its permissions and the free disk space"
        case GIT_ERROR_REPOSITORY.rawValue, GIT_ERROR_ODB.rawValue, GIT_ERROR_OBJECT.rawValue:
            return "the repository may be damaged; remove the cache folder to clone it again"
        default: return "see the libgit2 message above"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
