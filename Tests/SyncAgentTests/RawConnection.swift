import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP connection to 127.0.0.1 driven byte by byte, to play the clients curl will not: one that sends nothing,
/// sends its head or body slowly, or declares a body it never sends. Blocking: call it through ``blocking(_:)``.
final class RawConnection: Sendable {
    private let fd: Int32

    init(port: Int) throws {
        fd = try connectLoopback(port: port).get()
    }

    deinit { close(fd) }

    /// Sends `bytes` whole; false when the server has closed the connection (EPIPE, ECONNRESET).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until `done` holds for what arrived, the server closes (end of stream or reset), or `timeout` seconds
    /// pass: the text read and whether the server closed.
    func read(timeout: Double, until done: (String) -> Bool = { _ in false }) -> (text: String, closed: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if done(String(decoding: bytes, as: UTF8.self)) { return (String(decoding: bytes, as: UTF8.self), false) }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return (String(decoding: bytes, as: UTF8.self), false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 1) * 1000) + 1)
            if ready < 0 && errno != EINTR { return (String(decoding: bytes, as: UTF8.self), true) }
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                bytes += buffer[..<count]
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                return (String(decoding: bytes, as: UTF8.self), true)  // end of stream, or reset
            }
        }
    }

    /// One HTTP/1.1 request on this connection, kept alive; the status of its response, or nil when the server
    /// closed the connection instead of answering within `timeout` seconds.
    func request(_ method: String, _ path: String, timeout: Double = 60) -> (status: Int, body: String)? {
        guard send("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n") else { return nil }
        let response = read(timeout: timeout) { Self.completeResponse($0) != nil }
        return Self.completeResponse(response.text)
    }

    /// The status and body of the first complete response in `text` (one with a `Content-Length`).
    static func completeResponse(_ text: String) -> (status: Int, body: String)? {
        guard let status = status(text), let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let body = text[end.upperBound...].utf8
        guard body.count >= length else { return nil }
        return (status, String(decoding: body.prefix(length), as: UTF8.self))
    }

    /// The status code of the response `text` starts with.
    static func status(_ text: String) -> Int? {
        guard text.hasPrefix("HTTP/1.1 "), text.count >= 12 else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}
