import Dispatch

/// Runs `work` (CPU only, or blocking on a lock) on a dispatch thread rather than on Swift concurrency's pool, and
/// returns its result.
///
/// The pool has one thread a core. A render holds one (a whole revision's YAML, tens of milliseconds), and a second
/// region's render waiting on the first's memo holds another: on two cores, no request's continuation (TLS,
/// discovery, the lists) could run until both are done. Off the pool, the kernel shares the cores among them.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
    }
}

/// ``offThePool(_:)`` for work that throws.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await offThePool { Result(catching: work) }.get()
}
