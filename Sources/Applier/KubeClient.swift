import Foundation
import Logging
import SyncCore

/// Settings of one ``KubeClient``.
public struct KubeClientOptions: Sendable, Hashable {
    /// Requests on the wire at once (HTTP/2 streams, or HTTP/1.1 connections); more wait in order.
    public var maxConcurrentRequests: Int
    /// Seconds for the TCP and TLS handshake.
    public var connectTimeout: Double
    /// Seconds one request may take once started (each try of it).
    public var requestTimeout: Double
    public var retry: RetryPolicy
    /// The `fieldManager` of server-side applies.
    public var fieldManager: String
    public var userAgent: String
    /// Seconds an exec credential plugin may run.
    public var execTimeout: Double

    public init(
        maxConcurrentRequests: Int = 16, connectTimeout: Double = 10, requestTimeout: Double = 60,
        retry: RetryPolicy = RetryPolicy(), fieldManager: String = "syncagent", userAgent: String = "syncagent",
        execTimeout: Double = 60
    ) {
        self.maxConcurrentRequests = maxConcurrentRequests
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.fieldManager = fieldManager
        self.userAgent = userAgent
        self.execTimeout = execTimeout
    }
}

/// A client of one Kubernetes API server (one kubeconfig context): get, list, server-side apply, delete, create
/// and update, with discovery, over libcurl.
///
/// One client per cluster: it keeps its connections alive (HTTP/2 multiplexed where the server offers it) and
/// runs up to ``KubeClientOptions/maxConcurrentRequests`` requests at once from any number of tasks. Every request
/// carries the user's current credentials (a refused exec or token-file credential is refreshed once), is retried
/// on connection failures, 429 and 5xx with backoff (each retry logged at debug with its reason), and fails with a
/// typed ``ApplierError`` — `.api` with the server's ``KubeStatus`` for API failures. Credentials never appear in
/// logs or errors.
public final class KubeClient: Sendable {
    /// The cluster, user and default namespace this client talks to and as.
    public let context: KubeContext
    /// Limits, retries and names the client was made with.
    public let options: KubeClientOptions
    let transport: HTTPTransport
    /// Long-lived streamed requests (watches) ride apart, so that they never hold a slot ordinary requests wait for.
    let streams: HTTPTransport
    let credentials: CredentialProvider
    let discovery = DiscoveryCache()
    let logger: Logger
    /// The Lease fence: armed by an agent that runs with leader election, so that no write leaves this client
    /// while the process does not hold the region's Lease.
    public let fence = WriteFence()

    /// A client for a resolved context. Logs with `logger` (metadata `kube.context`), warning once when the
    /// context skips TLS verification.
    public init(context: KubeContext, options: KubeClientOptions = KubeClientOptions(), logger: Logger)
        throws(ApplierError)
    {
        var logger = logger
        logger[metadataKey: "kube.context"] = "\(context.name)"
        self.context = context
        self.options = options
        self.logger = logger
        self.transport = try HTTPTransport(options: .init(maxConcurrentTransfers: options.maxConcurrentRequests))
        self.streams = try HTTPTransport(options: .init(maxConcurrentTransfers: 256))
        self.credentials = CredentialProvider(context: context, execTimeout: options.execTimeout, logger: logger)
        if !context.connection.verifyServer {
            logger.warning(
                "TLS verification is off for this cluster (insecure-skip-tls-verify): its identity is not checked",
                metadata: ["kube.cluster": "\(context.clusterName)", "kube.server": "\(context.server)"])
        }
    }

    /// A client for a kubeconfig's context (the current one when nil).
    public convenience init(
        kubeconfig: Kubeconfig, context name: String? = nil, options: KubeClientOptions = KubeClientOptions(),
        logger: Logger
    ) throws(ApplierError) {
        try self.init(context: try kubeconfig.resolve(context: name), options: options, logger: logger)
    }

    /// Sends one request to the API server (path from the server's root, query included) and returns the
    /// response when it is a success (2xx); throws `.api` with the server's Status otherwise. For calls the typed
    /// methods do not cover.
    public func request(
        _ method: String, _ path: String, body: [UInt8]? = nil, contentType: String? = nil
    ) async throws(ApplierError) -> HTTPResponse {
        try await perform(
            APIRequest(method: method, path: path, body: body, contentType: contentType, operation: "\(method) \(path)")
        )
    }

    /// The server's `/version`: `gitVersion`, `major`, `minor`, ...
    public func serverVersion() async throws(ApplierError) -> Value {
        try decode(try await request("GET", "/version"), operation: "GET /version")
    }

    /// Sends with credentials, retries and Status errors; the heart of every verb.
    func perform(_ request: APIRequest) async throws(ApplierError) -> HTTPResponse {
        try await perform(request, timeout: options.requestTimeout, onData: nil)
    }

    /// ``perform(_:)`` with its own deadline, streaming a 2xx body to `onData` when given (a watch).
    func perform(_ request: APIRequest, timeout: Double, onData: (@Sendable ([UInt8]) -> Void)?)
        async throws(ApplierError) -> HTTPResponse
    {
        var attempt = 0
        var refreshedCredentials = false
        let fenced = WriteFence.changesCluster(method: request.method, path: request.path)
        while true {
            attempt += 1
            // Asked again before each try: a retry after the Lease was lost must not go out either.
            var deadline = timeout
            if fenced {
                if let refusal = fence.refusal() { throw .notHolder(operation: request.operation, message: refusal) }
                if let remaining = fence.remaining() { deadline = min(deadline, remaining) }
            }
            let used = try await credentials.current()
            let failure: ApplierError
            var retryAfter: Double? = nil
            let outcome: Result<HTTPResponse, ApplierError>
            do {
                var http = httpRequest(request, credentials: used)
                http.timeout = deadline
                http.onData = onData
                outcome = .success(try await (onData == nil ? transport : streams).send(http))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                if (200..<300).contains(response.status) { return response }
                let status = KubeStatus(response: response)
                if response.status == 401 && !refreshedCredentials && credentials.refused(used) {
                    refreshedCredentials = true
                    attempt -= 1
                    logger.debug(
                        "credentials refused (401); retrying with fresh ones",
                        metadata: ["http.method": "\(request.method)", "http.path": "\(request.path)"])
                    continue
                }
                failure = .api(operation: request.operation, status: status)
                guard status.isRetryable else { throw failure }
                retryAfter = status.retryAfterSeconds.map(Double.init)
            case .failure(let error):
                guard RetryPolicy.isRetryable(error) else { throw error }
                failure = error
            }
            guard attempt < options.retry.maxAttempts else {
                throw attempt > 1 ? .retriesExhausted(attempts: attempt, last: failure) : failure
            }
            let delay = options.retry.delay(afterAttempt: attempt, retryAfter: retryAfter)
            logger.debug(
                "retrying request",
                metadata: [
                    "http.method": "\(request.method)", "http.path": "\(request.path)",
                    "attempt": "\(attempt + 1)/\(options.retry.maxAttempts)",
                    "delay": "\(String(format: "%.3f", delay))s", "reason": "\(failure)",
                ])
            do {
                try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            } catch {
                throw .cancelled(url: context.server + request.path)
            }
        }
    }

    private func httpRequest(_ request: APIRequest, credentials: RequestCredentials) -> HTTPRequest {
        var headers: [(String, String)] = [("Accept", request.accept), ("User-Agent", options.userAgent)]
        if let contentType = request.contentType { headers.append(("Content-Type", contentType)) }
        if let authorization = credentials.authorization { headers.append(("Authorization", authorization.text)) }
        if let user = context.impersonateUser { headers.append(("Impersonate-User", user)) }
        if let uid = context.impersonateUID { headers.append(("Impersonate-Uid", uid)) }
        for group in context.impersonateGroups { headers.append(("Impersonate-Group", group)) }
        var connection = context.connection
        if let certificate = credentials.clientCertificate, let key = credentials.clientKey {
            connection.clientCertificate = certificate
            connection.clientKey = key
        }
        return HTTPRequest(
            method: request.method, url: context.server + request.path, headers: headers, body: request.body,
            connectTimeout: options.connectTimeout, timeout: options.requestTimeout, connection: connection)
    }

    /// The JSON body of a response.
    func decode(_ response: HTTPResponse, operation: String) throws(ApplierError) -> Value {
        do {
            return try Value(json: response.body)
        } catch {
            throw .invalidResponse(operation: operation, message: "\(error)")
        }
    }

    /// The JSON body of a response, as an object.
    func decodeResource(_ response: HTTPResponse, operation: String) throws(ApplierError) -> Resource {
        let body = try decode(response, operation: operation)
        do {
            return try Resource(body: body)
        } catch {
            throw .invalidResponse(operation: operation, message: "\(error)")
        }
    }
}

/// One call to the API, before credentials are added.
struct APIRequest: Sendable {
    var method: String
    /// From the server's root, with the query.
    var path: String
    var body: [UInt8]?
    var contentType: String?
    /// What is being done, for error messages: "get v1/ConfigMap default/settings".
    var operation: String
    /// The `Accept` header: the media types the response may come in, the first the server can give chosen.
    var accept = "application/json"
}
