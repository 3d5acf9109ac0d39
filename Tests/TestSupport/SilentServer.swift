import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP server on 127.0.0.1 that accepts connections and then says nothing: a black-holed remote (a Git server,
/// an API server, Prometheus) that a client without its own deadline would wait on forever. It holds every
/// connection open until it is released.
public final class SilentServer: @unchecked Sendable {
    // @unchecked Sendable: `descriptor`, `port` and `state` are immutable; the state's members are read and written
    // only with its lock held.
    private let descriptor: Int32
    public let port: Int
    private let state = State()

    /// What the accepting thread shares with the server (the thread holds this, not the server, so the server's
    /// deinit still runs).
    private final class State: @unchecked Sendable {
        // @unchecked Sendable: every member is read and written only with `lock` held.
        let lock = NSLock()
        var connections: [Int32] = []
        var accepted = 0
    }

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            close(descriptor)
            throw TestSupportError("bind/listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
        let state = state
        Thread { Self.acceptLoop(descriptor, state) }.start()
    }

    /// How many connections it has accepted so far.
    public var accepted: Int {
        state.lock.lock()
        defer { state.lock.unlock() }
        return state.accepted
    }

    private static func acceptLoop(_ descriptor: Int32, _ state: State) {
        while true {
            let connection = accept(descriptor, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return  // shut down
            }
            state.lock.lock()
            state.connections.append(connection)
            state.accepted += 1
            state.lock.unlock()
        }
    }

    /// Stops accepting and closes every connection (the clients see end-of-file).
    public func release() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        state.lock.lock()
        let open = state.connections
        state.connections.removeAll()
        state.lock.unlock()
        for connection in open { close(connection) }
    }

    deinit {
        release()
        close(descriptor)
    }
}
