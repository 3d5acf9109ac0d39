import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

extension AgentHTTP {
    /// The connections open on the agent's endpoint, shared by every connection's ``ConnectionLimiter``: at most
    /// `limit` at once (`agent.maxConnections`).
    final class OpenConnections: Sendable {
        let limit: Int
        private let state = Mutex(State())
        private let logger: Logger
        private let onRefused: @Sendable () -> Void

        private struct State {
            var open = 0
            var lastWarning: ContinuousClock.Instant?
            var refusedSinceWarning = 0
        }

        /// - Parameter onRefused: called for each connection refused (counts `syncagent_http_connections_refused_total`).
        init(limit: Int, logger: Logger, onRefused: @escaping @Sendable () -> Void = {}) {
            self.limit = limit
            self.logger = logger
            self.onRefused = onRefused
        }

        /// How many are open now.
        var count: Int { state.withLock { $0.open } }

        /// Takes a place for a new connection; false when `limit` are open. A refusal is logged at most every 10 s
        /// (with how many were refused since), so a flood of connections cannot flood the log.
        func admit() -> Bool {
            let now = ContinuousClock.now
            let (admitted, warnAbout) = state.withLock { state -> (Bool, Int?) in
                if state.open < limit {
                    state.open += 1
                    return (true, nil)
                }
                state.refusedSinceWarning += 1
                if let last = state.lastWarning, now - last < .seconds(10) { return (false, nil) }
                state.lastWarning = now
                defer { state.refusedSinceWarning = 0 }
                return (false, state.refusedSinceWarning)
            }
            if !admitted {
                onRefused()
                if let refused = warnAbout {
                    logger.warning(
                        "connection refused: too many open; raise agent.maxConnections if this load is legitimate",
                        metadata: ["http.connections": "\(limit)", "http.refused": "\(refused)"])
                }
            }
            return admitted
        }

        /// Gives back the place of a connection that closed.
        func release() { state.withLock { $0.open -= 1 } }
    }

    /// Closes a new connection at once when ``OpenConnections`` has no place for it, so a client beyond the cap
    /// learns at once (end of stream) instead of waiting in the listen backlog, and the connections already open
    /// (a Prometheus scrape, a kubelet probe) are served as before. One per connection.
    final class ConnectionLimiter: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart

        private let connections: OpenConnections
        private var admitted = false

        init(_ connections: OpenConnections) { self.connections = connections }

        func channelActive(context: ChannelHandlerContext) {
            guard connections.admit() else {
                context.close(promise: nil)
                return
            }
            admitted = true
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            if admitted {
                admitted = false
                connections.release()
            }
            context.fireChannelInactive()
        }
    }

    /// Ends a connection after a response sent before its request's body had arrived (a 413 for a declared
    /// `Content-Length` over the limit, a 408, a 404 to a POST with a body) instead of reading the rest of the body
    /// to throw it away, as hummingbird would: such a response says `Connection: close`; once it is written the agent
    /// half-closes (the client reads the answer, then end of stream), reads nothing more, and closes fully after
    /// `linger`, time for the client to read the answer before the unread rest makes the kernel reset the
    /// connection. A body that has all arrived (in the agent's buffers) is not early: the connection stays open. One
    /// per connection; pipelined requests are counted.
    final class EarlyResponseCloser: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart

        private let linger: TimeAmount
        /// Requests whose `.end` has arrived.
        private var requestsEnded = 0
        /// Responses whose `.end` was written.
        private var responsesEnded = 0
        /// The response being written was started before its request ended: close after it.
        private var closeAfterResponse = false
        /// Answered early: nothing more is read.
        private var closing = false

        init(linger: TimeAmount = .milliseconds(500)) { self.linger = linger }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if closing { return }  // read in the same batch as the answer's last part: dropped
            if case .end = unwrapInboundIn(data) { requestsEnded += 1 }
            context.fireChannelRead(data)
        }

        func read(context: ChannelHandlerContext) {
            if closing { return }  // the rest of the body stays unread
            context.read()
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .head(var head) where requestsEnded <= responsesEnded && head.status.kind != .informational:
                closeAfterResponse = true
                head.headerFields[.connection] = "close"
                context.write(wrapOutboundOut(.head(head)), promise: promise)
            case .end where closeAfterResponse:
                responsesEnded += 1
                closing = true
                let linger = linger
                let written = context.writeAndFlush(data)
                written.cascade(to: promise)
                written.assumeIsolated().whenComplete { _ in
                    context.close(mode: .output, promise: nil)
                    context.eventLoop.assumeIsolated().scheduleTask(in: linger) { context.close(promise: nil) }
                }
            case .end:
                responsesEnded += 1
                context.write(data, promise: promise)
            default:
                context.write(data, promise: promise)
            }
        }
    }
}
