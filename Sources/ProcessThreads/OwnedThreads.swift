import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// # ProcessThreads
///
/// Every thread syncagent starts that calls into a C library (a libcurl transport, a libgit2 thread) is started
/// here, so that the process can stop and join all of them before it exits.
///
/// Why it matters: `exit()` runs the C libraries' destructors (OpenSSL's `OPENSSL_cleanup`, libsasl2's, libgit2's)
/// on the exiting thread. A transport thread that is still closing a TLS connection at that moment uses freed
/// locks, and the process dies with SIGSEGV after its work is done. The rule is therefore:
///
/// 1. a thread that uses a C library is started with ``OwnedThreads/start(name:stop:body:)``, which refuses once
///    shutdown began;
/// 2. its `body` frees every handle it owns before it returns (so the library is idle when the thread ends);
/// 3. the executable calls ``OwnedThreads/stopAll(timeout:)`` before it exits: every thread is asked to stop and
///    joined. A thread that does not end within the timeout is named, and the process must then leave with
///    `_exit` (``OwnedThreads/exitProcess(_:)``), which runs no destructor, rather than race it.
public final class OwnedThreads: @unchecked Sendable {
    // @unchecked Sendable: `entries`, `closed` and `nextID` are read and written only with `condition` locked.

    /// The process's registry.
    public static let shared = OwnedThreads()

    private struct Entry {
        let name: String
        let stop: @Sendable () -> Void
    }

    private let condition = NSCondition()
    private var entries: [UInt64: Entry] = [:]
    private var closed = false
    private var nextID: UInt64 = 0

    /// A registry of its own (tests); the process uses ``shared``.
    public init() {}

    /// Starts a thread running `body`, registered until `body` returns. `stop` asks the thread to end soon (it may
    /// be called from any thread, more than once, and also after the thread ended). Returns false, and starts
    /// nothing, once ``stopAll(timeout:)`` has begun.
    @discardableResult
    public func start(
        name: String, stackSize: Int = 1 << 20, stop: @escaping @Sendable () -> Void,
        body: @escaping @Sendable () -> Void
    ) -> Bool {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return false
        }
        nextID += 1
        let id = nextID
        entries[id] = Entry(name: name, stop: stop)
        condition.unlock()

        let thread = Thread { [self] in
            body()
            condition.lock()
            entries[id] = nil
            condition.broadcast()
            condition.unlock()
        }
        thread.name = String(name.prefix(15))  // Linux thread names are at most 15 bytes
        thread.stackSize = stackSize
        thread.start()
        return true
    }

    /// The names of the threads running now.
    public var running: [String] {
        condition.lock()
        defer { condition.unlock() }
        return entries.values.map(\.name).sorted()
    }

    /// Refuses new threads, asks every running one to stop, and waits until all have ended or `timeout` seconds
    /// passed. Returns the names of the threads still running (empty: every one was joined). Blocking: call it
    /// when the process's work is done.
    @discardableResult
    public func stopAll(timeout: Double = 10) -> [String] {
        condition.lock()
        closed = true
        let stops = entries.values.map(\.stop)
        condition.unlock()
        for stop in stops { stop() }

        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !entries.isEmpty {
            if !condition.wait(until: deadline) { break }
        }
        return entries.values.map(\.name).sorted()
    }

    /// Flushes standard output and error and ends the process with `code` without running `atexit` handlers or
    /// library destructors: the exit for a process with a thread that would not stop.
    public static func exitProcess(_ code: Int32) -> Never {
        fflush(nil)  // every output stream
        _exit(code)
    }
}
