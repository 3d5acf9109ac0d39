import CCurl
import Foundation
import ProcessThreads
import Synchronization

/// Sends HTTP requests concurrently over kept-alive connections, from async code, without blocking Swift's
/// cooperative thread pool.
///
/// One transport per server (a cluster's API, a Prometheus): it owns one libcurl multi handle, driven by one
/// dedicated thread started on the first request. At most ``Options/maxConcurrentTransfers`` requests are on the
/// wire at once; the rest wait in order. Each request is bridged to its caller with a continuation, and cancelling
/// the calling task abandons the transfer. The transport neither retries nor logs: ``KubeClient`` does both.
///
/// The thread is one of the process's ``OwnedThreads``: when the transport goes away, or the process stops them
/// all before it exits, the thread fails what is left, frees every easy handle and the multi handle (closing its
/// connections) and ends. Once the process began to stop, requests fail at once instead of starting a thread.
public final class HTTPTransport: Sendable {
    /// Limits of one transport.
    public struct Options: Sendable, Hashable {
        /// Requests on the wire at once; more wait in order. Also the connection limit per host.
        public var maxConcurrentTransfers: Int

        public init(maxConcurrentTransfers: Int = 16) {
            self.maxConcurrentTransfers = max(1, maxConcurrentTransfers)
        }
    }

    private let mailbox: TransferMailbox

    /// Makes the multi handle; the thread starts with the first request.
    public init(options: Options = Options()) throws(ApplierError) {
        let multi = try CurlMulti()
        try multi.setOption(CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        try multi.setOption(CURLMOPT_MAX_HOST_CONNECTIONS, options.maxConcurrentTransfers)
        try multi.setOption(CURLMOPT_MAXCONNECTS, options.maxConcurrentTransfers)
        mailbox = TransferMailbox(multi: multi, capacity: options.maxConcurrentTransfers)
    }

    deinit {
        mailbox.stop()
    }

    /// Sends one request and returns its response, whatever the status code; throws on transport failures
    /// (connection refused, TLS, timeouts) and when the calling task is cancelled.
    public func send(_ request: HTTPRequest) async throws(ApplierError) -> HTTPResponse {
        let id = mailbox.nextID()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<TransferResult, Never>) in
                mailbox.submit(PendingTransfer(id: id, request: request, continuation: continuation))
            }
        } onCancel: {
            mailbox.cancel(id)
        }
        return try result.get()
    }
}

typealias TransferResult = Result<HTTPResponse, ApplierError>

/// A request waiting for a slot, and the caller waiting for its response.
struct PendingTransfer: Sendable {
    let id: UInt64
    let request: HTTPRequest
    let continuation: CheckedContinuation<TransferResult, Never>

    func resume(_ result: TransferResult) { continuation.resume(returning: result) }
}

/// What callers and the transport thread exchange: new requests, cancellations, the stop signal. Callers add under
/// the lock and wake the thread; the thread takes under the lock and never blocks while holding it.
final class TransferMailbox: Sendable {
    struct State {
        var pending: [PendingTransfer] = []
        var cancelled: [UInt64] = []
        var stopping = false
        var started = false
        var lastID: UInt64 = 0
    }

    let multi: CurlMulti
    let capacity: Int
    private let state = Mutex(State())

    init(multi: CurlMulti, capacity: Int) {
        self.multi = multi
        self.capacity = capacity
    }

    func nextID() -> UInt64 {
        state.withLock {
            $0.lastID += 1
            return $0.lastID
        }
    }

    /// Queues a request, starting the thread on first use. A task already cancelled, or a stopped transport,
    /// gets its answer at once.
    func submit(_ transfer: PendingTransfer) {
        let accepted = state.withLock { state -> Bool in
            // Checked under the lock that `cancel` takes: a cancellation either sees the request queued or is
            // seen here.
            if Task.isCancelled || state.stopping { return false }
            if !state.started {
                let started = OwnedThreads.shared.start(name: "syncagent-curl", stop: { [self] in stop() }) {
                    [self] in
                    TransferWorker(mailbox: self).run()
                    // Every easy handle is freed (the worker is gone); now the connections, on this thread.
                    multi.close()
                }
                guard started else {
                    state.stopping = true  // the process is exiting: no new transfer thread
                    return false
                }
                state.started = true
            }
            state.pending.append(transfer)
            return true
        }
        if accepted {
            multi.wakeup()
        } else {
            transfer.resume(.failure(.cancelled(url: transfer.request.url)))
        }
    }

    /// Abandons a request: dropped if still waiting, else handed to the thread to take out of libcurl.
    func cancel(_ id: UInt64) {
        let waiting = state.withLock { state -> PendingTransfer? in
            if let index = state.pending.firstIndex(where: { $0.id == id }) {
                return state.pending.remove(at: index)
            }
            state.cancelled.append(id)
            return nil
        }
        if let waiting {
            waiting.resume(.failure(.cancelled(url: waiting.request.url)))
        } else {
            multi.wakeup()
        }
    }

    /// Tells the thread to fail what is left and end.
    func stop() {
        state.withLock { $0.stopping = true }
        multi.wakeup()
    }

    /// Up to `free` waiting requests, the cancellations, and whether to stop; for the thread only.
    func take(free: Int) -> (new: [PendingTransfer], cancelled: [UInt64], stopping: Bool, morePending: Bool) {
        state.withLock { state in
            let count = min(max(free, 0), state.pending.count)
            var new = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            let cancelled = state.cancelled
            state.cancelled.removeAll()
            if state.stopping {
                new.append(contentsOf: state.pending)
                state.pending.removeAll()
            }
            return (new, cancelled, state.stopping, !state.pending.isEmpty)
        }
    }
}

/// The transport thread's own state: the easy handles running or idle. Lives and dies on that thread, so it is
/// neither shared nor locked.
private final class TransferWorker {
    struct Active {
        let pending: PendingTransfer
        let easy: CurlEasy
        let transfer: CurlTransfer
    }

    let mailbox: TransferMailbox
    var active: [UnsafeMutableRawPointer: Active] = [:]
    var idle: [CurlEasy] = []

    init(mailbox: TransferMailbox) { self.mailbox = mailbox }

    func run() {
        let multi = mailbox.multi
        while true {
            let work = mailbox.take(free: mailbox.capacity - active.count)
            if work.stopping {
                for pending in work.new { pending.resume(.failure(.cancelled(url: pending.request.url))) }
                abandonAll(multi)
                idle.removeAll()  // curl_easy_cleanup of each, here, before the multi handle is cleaned up
                return
            }
            if !work.cancelled.isEmpty { abandon(Set(work.cancelled), multi) }
            for pending in work.new { start(pending, multi) }
            do {
                try multi.perform()
            } catch {
                fail(all: error, multi)
            }
            var finishedAny = false
            while let (easy, code) = multi.nextFinished() {
                finish(easy, code, multi)
                finishedAny = true
            }
            if finishedAny && work.morePending { continue }  // slots freed: start the next ones at once
            do {
                try multi.poll(milliseconds: 1000)
            } catch {
                fail(all: error, multi)
            }
        }
    }

    private func start(_ pending: PendingTransfer, _ multi: CurlMulti) {
        do {
            let easy = try idle.popLast() ?? CurlEasy()
            let transfer = try easy.prepare(pending.request)
            try multi.add(easy)
            let key = easy.withHandle { $0 }
            active[key] = Active(pending: pending, easy: easy, transfer: transfer)
        } catch {
            pending.resume(.failure(error as? ApplierError ?? .curl(function: "start", code: -1, message: "\(error)")))
        }
    }

    private func finish(_ key: UnsafeMutableRawPointer, _ code: CURLcode, _ multi: CurlMulti) {
        guard let done = active.removeValue(forKey: key) else { return }
        multi.remove(done.easy)
        let result: TransferResult
        do {
            result = .success(try done.easy.finish(done.transfer, code: code))
        } catch {
            result = .failure(error)
        }
        idle.append(done.easy)
        done.pending.resume(result)
    }

    private func abandon(_ ids: Set<UInt64>, _ multi: CurlMulti) {
        for (key, running) in active where ids.contains(running.pending.id) {
            active[key] = nil
            multi.remove(running.easy)
            idle.append(running.easy)
            running.pending.resume(.failure(.cancelled(url: running.pending.request.url)))
        }
    }

    private func abandonAll(_ multi: CurlMulti) {
        abandon(Set(active.values.map(\.pending.id)), multi)
    }

    private func fail(all error: ApplierError, _ multi: CurlMulti) {
        for (_, running) in active {
            multi.remove(running.easy)
            running.pending.resume(.failure(error))
        }
        active.removeAll()
    }
}
