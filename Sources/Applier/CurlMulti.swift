import CCurl
import Synchronization

/// The owner of one libcurl multi handle (`CURLM*`): many transfers over shared, kept-alive connections (HTTP/2
/// streams multiplexed on one where the server offers it). Created in `init`, cleaned up by ``close()`` (on the
/// transport's thread, before it ends) or else in `deinit`.
///
/// `@unchecked Sendable`: every method except ``wakeup()`` is called only from the transport's own thread (see
/// ``HTTPTransport``); `curl_multi_wakeup` is documented as safe to call from any thread. `wakeup` and `close`
/// both hold `closed`'s lock, so a wake-up never reaches a handle that is being, or has been, cleaned up.
final class CurlMulti: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let closed = Mutex(false)

    init() throws(ApplierError) {
        _ = try CurlEasy()  // runs libcurl's global initialisation first
        guard let handle = curl_multi_init() else {
            throw .curl(function: "curl_multi_init", code: -1, message: "could not allocate a multi handle")
        }
        self.handle = handle
    }

    deinit {
        close()
    }

    /// Cleans the handle up: every cached connection is closed (TLS shut down) now, on the calling thread. Call
    /// after every easy handle was removed; idempotent; later wake-ups do nothing.
    func close() {
        closed.withLock { closed in
            guard !closed else { return }
            closed = true
            curl_multi_cleanup(handle)
        }
    }

    /// Sets a numeric option.
    func setOption(_ option: CURLMoption, _ value: Int) throws(ApplierError) {
        try check("curl_multi_setopt(\(option.rawValue))", syncagent_curl_multi_setopt_long(handle, option, value))
    }

    /// Starts a prepared easy handle's transfer.
    func add(_ easy: CurlEasy) throws(ApplierError) {
        try easy.withHandle { easyHandle throws(ApplierError) in
            try check("curl_multi_add_handle", curl_multi_add_handle(handle, easyHandle))
        }
    }

    /// Takes an easy handle out (finished or abandoned); it may be prepared again afterwards.
    func remove(_ easy: CurlEasy) {
        easy.withHandle { _ = curl_multi_remove_handle(handle, $0) }
    }

    /// Moves every transfer as far as it can go without blocking.
    func perform() throws(ApplierError) {
        var running: Int32 = 0
        try check("curl_multi_perform", curl_multi_perform(handle, &running))
    }

    /// Waits until a socket is ready, libcurl's own timeout expires, ``wakeup()`` is called, or `milliseconds`
    /// pass.
    func poll(milliseconds: Int32) throws(ApplierError) {
        try check("curl_multi_poll", curl_multi_poll(handle, nil, 0, milliseconds, nil))
    }

    /// Ends a ``poll(milliseconds:)`` in progress, or makes the next one return at once. Any thread.
    func wakeup() {
        closed.withLock { closed in
            if !closed { _ = curl_multi_wakeup(handle) }
        }
    }

    /// The next finished transfer: its easy handle's address and result; nil when there is none.
    func nextFinished() -> (easy: UnsafeMutableRawPointer, result: CURLcode)? {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(handle, &queued) {
            if syncagent_curl_msg_is_done(message) != 0, let easy = message.pointee.easy_handle {
                return (easy, syncagent_curl_msg_result(message))
            }
        }
        return nil
    }

    private func check(_ function: String, _ code: CURLMcode) throws(ApplierError) {
        guard code == CURLM_OK else {
            throw .curl(
                function: function, code: Int(code.rawValue), message: String(cString: curl_multi_strerror(code)))
        }
    }
}
