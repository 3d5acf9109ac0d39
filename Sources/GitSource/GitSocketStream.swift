import CGit2
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The socket under every Git network operation, with the deadline libgit2 1.5 does not have.
///
/// libgit2 1.5 has no connect or read timeout: a server that accepts a connection and then says nothing holds a
/// fetch until TCP gives up, which on a black-holed route is never. libgit2 lets a program replace its plain
/// socket (`git_stream_register(GIT_STREAM_STANDARD, …)`), and every network transport opens its socket through
/// that registration: `git://`, `http://`, `https://` (the TLS stream wraps this socket) and `ssh://` (libssh2 is
/// handed this socket's descriptor). This stream is libgit2's own, plus the deadline of the operation it belongs
/// to (``GitRemote/timeout``, set by ``RemoteConnection`` on the calling thread):
///
/// - connect is non-blocking, bounded by the deadline, and tries each resolved address in turn;
/// - every read and write first waits (`poll`) for the socket, at most until the deadline;
/// - a timer shuts the socket down at the deadline (`shutdown(2)`), which also ends a read that does not go
///   through this stream (libssh2 reads the descriptor itself);
/// - ``abortAll()`` shuts every open socket at once, so the process stops promptly on SIGTERM even with a fetch
///   in flight, and refuses new connections from then on.
///
/// A descriptor is shut down only while it is registered, under the registry's lock, and unregistered before it is
/// closed, so a timer never touches a descriptor that was closed and reused.
public enum GitSocketStreams {
    /// The deadline of an operation that did not set one (a call outside ``RemoteConnection``).
    static let defaultTimeout: Duration = .seconds(60)

    /// Registers this stream with libgit2; called once, right after `git_libgit2_init`.
    static func install() -> Int32 {
        var registration = git_stream_registration()
        registration.version = 1  // GIT_STREAM_VERSION
        registration.`init` = streamInit
        registration.wrap = nil
        return git_stream_register(GIT_STREAM_STANDARD, &registration)
    }

    /// Sets the deadline of the operations the calling thread makes next; returns the one it replaces, to restore.
    static func setDeadline(_ deadline: ContinuousClock.Instant?) -> ContinuousClock.Instant? {
        registry.setDeadline(deadline)
    }

    /// Whether an operation of the calling thread timed out on a socket since the last call; clears the mark.
    static func takeTimeout() -> Bool { registry.takeTimeout() }

    /// Shuts every open Git socket down and refuses new connections: the process is stopping.
    public static func abortAll() { registry.abortAll() }

    /// How many Git sockets are open now.
    public static var openCount: Int { registry.openCount }

    fileprivate static let registry = Registry()
}

/// The open sockets, the per-thread deadlines, and whether the process is stopping.
private final class Registry: @unchecked Sendable {
    // @unchecked Sendable: every stored property is read and written only with `lock` held.
    private let lock = NSLock()
    private var deadlines: [UInt: ContinuousClock.Instant] = [:]
    private var open: [UInt64: (descriptor: Int32, thread: UInt)] = [:]
    /// Threads whose operation a socket timed out (a wait past the deadline, or the timer's shutdown).
    private var timedOut: Set<UInt> = []
    private var nextID: UInt64 = 1
    private var aborting = false

    func setDeadline(_ deadline: ContinuousClock.Instant?) -> ContinuousClock.Instant? {
        let thread = UInt(pthread_self())
        lock.lock()
        defer { lock.unlock() }
        let previous = deadlines[thread]
        deadlines[thread] = deadline
        return previous
    }

    /// Records that the calling thread's operation ran past its deadline on a socket.
    func noteTimeout() {
        let thread = UInt(pthread_self())
        lock.lock()
        timedOut.insert(thread)
        lock.unlock()
    }

    /// Whether the calling thread's operation timed out on a socket since the last call; clears it.
    func takeTimeout() -> Bool {
        let thread = UInt(pthread_self())
        lock.lock()
        defer { lock.unlock() }
        return timedOut.remove(thread) != nil
    }

    func deadline() -> ContinuousClock.Instant {
        let thread = UInt(pthread_self())
        lock.lock()
        let deadline = deadlines[thread]
        lock.unlock()
        return deadline ?? ContinuousClock.now.advanced(by: GitSocketStreams.defaultTimeout)
    }

    /// Registers a connected socket and arms its deadline timer; nil when the process is stopping.
    func register(_ descriptor: Int32, deadline: ContinuousClock.Instant) -> UInt64? {
        lock.lock()
        guard !aborting else {
            lock.unlock()
            return nil
        }
        let id = nextID
        nextID += 1
        open[id] = (descriptor, UInt(pthread_self()))
        lock.unlock()
        let remaining = ContinuousClock.now.duration(to: deadline)
        let nanoseconds =
            max(0, remaining.components.seconds) * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [self] in
            expire(id)
        }
        return id
    }

    /// Shuts the socket down if it is still open (its operation outlived its deadline).
    func expire(_ id: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if let entry = open[id] {
            shutdown(entry.descriptor, Int32(SHUT_RDWR))
            timedOut.insert(entry.thread)
        }
    }

    /// Unregisters and closes a socket.
    func close(_ id: UInt64) {
        lock.lock()
        let descriptor = open.removeValue(forKey: id)?.descriptor
        lock.unlock()
        if let descriptor { _ = Glibc.close(descriptor) }
    }

    func abortAll() {
        lock.lock()
        defer { lock.unlock() }
        aborting = true
        for entry in open.values { shutdown(entry.descriptor, Int32(SHUT_RDWR)) }
    }

    var openCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return open.count
    }
}

// MARK: - The stream's callbacks (C function pointers: no captures)

private typealias Stream = syncagent_git_socket_stream

private func setError(_ message: String) {
    git_error_set_str(Int32(GIT_ERROR_NET.rawValue), message)
}

private func describe(_ stream: UnsafeMutablePointer<Stream>) -> String {
    let host = stream.pointee.host.map { String(cString: $0) } ?? "?"
    let port = stream.pointee.port.map { String(cString: $0) } ?? "?"
    return "\(host):\(port)"
}

/// Waits until `descriptor` is ready for `events` or `deadline` passes; false on timeout.
private func wait(_ descriptor: Int32, _ events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
    while true {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return false }
        let milliseconds =
            remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        let ready = poll(&entry, 1, Int32(clamping: max(1, milliseconds)))
        if ready < 0 && errno == EINTR { continue }
        return ready != 0  // an error or a hang-up is "ready": the read or write that follows reports it
    }
}

private let streamInit:
    @convention(c) (
        UnsafeMutablePointer<UnsafeMutablePointer<git_stream>?>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?
    ) -> Int32 = { out, host, port in
        guard let out, let host, let port else { return -1 }
        guard let raw = calloc(1, MemoryLayout<Stream>.size) else {
            setError("out of memory")
            return -1
        }
        let stream = raw.assumingMemoryBound(to: Stream.self)
        stream.pointee.parent.version = 1  // GIT_STREAM_VERSION
        stream.pointee.parent.connect = streamConnect
        stream.pointee.parent.read = streamRead
        stream.pointee.parent.write = streamWrite
        stream.pointee.parent.close = streamClose
        stream.pointee.parent.free = streamFree
        stream.pointee.host = strdup(host)
        stream.pointee.port = strdup(port)
        stream.pointee.s = -1
        out.pointee = UnsafeMutableRawPointer(stream).assumingMemoryBound(to: git_stream.self)
        return 0
    }

private func streamOf(_ pointer: UnsafeMutablePointer<git_stream>?) -> UnsafeMutablePointer<Stream>? {
    pointer.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Stream.self) }
}

private let streamConnect: @convention(c) (UnsafeMutablePointer<git_stream>?) -> Int32 = { pointer in
    guard let stream = streamOf(pointer) else { return -1 }
    let registry = GitSocketStreams.registry
    let deadline = registry.deadline()
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var addresses: UnsafeMutablePointer<addrinfo>?
    let resolved = getaddrinfo(stream.pointee.host, stream.pointee.port, &hints, &addresses)
    guard resolved == 0, let first = addresses else {
        setError("failed to resolve address for \(describe(stream)): \(String(cString: gai_strerror(resolved)))")
        return -1
    }
    defer { freeaddrinfo(first) }
    var failure = "failed to connect to \(describe(stream))"
    var candidate: UnsafeMutablePointer<addrinfo>? = first
    while let address = candidate {
        candidate = address.pointee.ai_next
        let descriptor = socket(
            address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue),
            address.pointee.ai_protocol)
        guard descriptor >= 0 else { continue }
        let flags = fcntl(descriptor, F_GETFL, 0)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        var connected = connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0
        if !connected && errno == EINPROGRESS {
            if wait(descriptor, Int16(POLLOUT), until: deadline) {
                var socketError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
                connected = socketError == 0
                if !connected {
                    failure = "failed to connect to \(describe(stream)): \(String(cString: strerror(socketError)))"
                }
            } else {
                _ = Glibc.close(descriptor)
                registry.noteTimeout()
                setError("failed to connect to \(describe(stream)): timed out")
                return -1
            }
        } else if !connected {
            failure = "failed to connect to \(describe(stream)): \(String(cString: strerror(errno)))"
        }
        guard connected else {
            _ = Glibc.close(descriptor)
            continue
        }
        _ = fcntl(descriptor, F_SETFL, flags)  // blocking again: libssh2 expects the socket as libgit2 leaves it
        guard let id = registry.register(descriptor, deadline: deadline) else {
            _ = Glibc.close(descriptor)
            setError("not connecting to \(describe(stream)): syncagent is stopping")
            return -1
        }
        stream.pointee.s = descriptor
        stream.pointee.syncagent_id = id
        return 0
    }
    setError(failure)
    return -1
}

/// One read or write of `stream`: waits (at most until the operation's deadline) for the socket to be ready for
/// `events`, then runs `io` once, retried on EINTR. A timeout is marked for ``RemoteConnection`` and named in
/// libgit2's error; a failed `io` is named with `verb`.
private func transfer(
    _ pointer: UnsafeMutablePointer<git_stream>?, _ events: Int16, timeout: (String) -> String, verb: String,
    _ io: (Int32) -> Int
) -> Int {
    guard let stream = streamOf(pointer), stream.pointee.s >= 0 else { return -1 }
    guard wait(stream.pointee.s, events, until: GitSocketStreams.registry.deadline()) else {
        GitSocketStreams.registry.noteTimeout()
        setError(timeout(describe(stream)))
        return -1
    }
    while true {
        let count = io(stream.pointee.s)
        if count < 0 && errno == EINTR { continue }
        if count < 0 { setError("could not \(verb) \(describe(stream)): \(String(cString: strerror(errno)))") }
        return count
    }
}

private let streamRead: @convention(c) (UnsafeMutablePointer<git_stream>?, UnsafeMutableRawPointer?, Int) -> Int = {
    pointer, buffer, length in
    transfer(pointer, Int16(POLLIN), timeout: { "timed out waiting for \($0) to send data" }, verb: "read from") {
        recv($0, buffer, length, 0)
    }
}

private let streamWrite: @convention(c) (UnsafeMutablePointer<git_stream>?, UnsafePointer<CChar>?, Int, Int32) -> Int =
    { pointer, data, length, _ in
        transfer(pointer, Int16(POLLOUT), timeout: { "timed out writing to \($0)" }, verb: "write to") {
            send($0, data, length, Int32(MSG_NOSIGNAL))
        }
    }

private let streamClose: @convention(c) (UnsafeMutablePointer<git_stream>?) -> Int32 = { pointer in
    guard let stream = streamOf(pointer) else { return 0 }
    if stream.pointee.s >= 0 {
        GitSocketStreams.registry.close(stream.pointee.syncagent_id)
        stream.pointee.s = -1
    }
    return 0
}

private let streamFree: @convention(c) (UnsafeMutablePointer<git_stream>?) -> Void = { pointer in
    guard let stream = streamOf(pointer) else { return }
    if stream.pointee.s >= 0 { GitSocketStreams.registry.close(stream.pointee.syncagent_id) }
    free(stream.pointee.host)
    free(stream.pointee.port)
    free(stream)
}
