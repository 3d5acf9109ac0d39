#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A lock across processes on one cache folder: an agent and a `syncagent sync` run by hand (or two of them) share
/// `~/.cache/syncagent`, and libgit2 refuses a fetch while another process holds the ref's `.lock` file. Each
/// operation on the cache takes an exclusive `flock` on `<cache>.lock` (beside the folder) for its duration.
///
/// Owns its file descriptor; it is closed (which releases the lock) when the value is released.
final class CacheLock {
    private let descriptor: Int32

    /// Takes the lock, waiting for another process to release it for at most `timeout` seconds (the longest a
    /// fetch may take is bounded by its own deadline).
    init(cache path: String, remote: String, timeout: Double = 300) throws(GitSourceError) {
        let file = path.hasSuffix("/") ? String(path.dropLast()) + ".lock" : path + ".lock"
        let parent = String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)])
        if !parent.isEmpty { Self.makeDirectories(parent) }
        let descriptor = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .invalidArgument("cannot open the cache lock \(file): \(String(cString: strerror(errno)))")
        }
        var waited = 0.0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, waited < timeout else {
                close(descriptor)
                throw .timedOut(
                    operation: "waiting for another process's use of the cache \(path)", remote: remote, seconds: waited
                )
            }
            usleep(20_000)
            waited += 0.02
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// `mkdir -p`: every missing folder of `path`.
    private static func makeDirectories(_ path: String) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            mkdir(prefix, 0o700)  // an existing folder answers EEXIST, which is fine
            prefix += "/"
        }
    }
}
