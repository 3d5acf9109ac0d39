import Foundation
import Hummingbird
import ServiceLifecycle
import HTTPTypes
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import SyncCore

/// The request context of the API server: Hummingbird's, plus the connection, to read a client certificate.
struct KubeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Serves one region's API: fault injection, authentication (bearer token or the issued client certificate),
/// then ``APIHandler``. Request bodies and Secret data are never logged.
struct APIResponder: HTTPResponder {
    typealias Context = KubeRequestContext
    let region: Region
    let handler: APIHandler

    init(region: Region) {
        self.region = region
        self.handler = APIHandler(region: region)
    }

    func respond(to request: Request, context: KubeRequestContext) async throws -> Response {
        let received = Date()
        let faults = region.faults.current
        if faults.latencyMilliseconds > 0 {
            try await Task.sleep(for: .milliseconds(faults.latencyMilliseconds))
        }
        let path = request.uri.path
        let response: APIResponse
        let authenticated = try await authenticate(request, context)
        let impersonated = request.headers[Self.impersonateUser].flatMap { $0.isEmpty ? nil : $0 }
        let user = authenticated.map { impersonated ?? $0 }
        if let cut = region.faults.partitionError(userAgent: request.headers[.userAgent] ?? "") {
            response = APIResponse(error: cut)
        } else if user == nil {
            response = APIResponse(error: .unauthorized())
        } else if let denied = authorize(
            authenticated: authenticated ?? "", user: user ?? "", method: request.method.rawValue, path: path,
            query: request.uri.query ?? "")
        {
            response = APIResponse(error: denied)
        } else if let injected = region.faults.injectedError() {
            response = APIResponse(error: injected)
        } else {
            let body = try await request.body.collect(upTo: 64 << 20)
            let apiRequest = APIRequest(
                method: request.method.rawValue, path: path, query: APIRequest.parseQuery(request.uri.query ?? ""),
                contentType: request.headers[.contentType] ?? "", accept: request.headers[.accept] ?? "",
                userAgent: request.headers[.userAgent] ?? "", body: Array(buffer: body), user: user ?? "")
            response = handler.handle(apiRequest)
        }
        region.logger.debug(
            "request",
            metadata: ["method": "\(request.method.rawValue)", "path": "\(path)", "status": "\(response.status)"])
        region.audit?.record(
            region: region.name, method: request.method.rawValue, path: path, query: request.uri.query ?? "",
            userAgent: request.headers[.userAgent] ?? "", user: user ?? "system:anonymous",
            status: response.status, received: received)
        var headers = HTTPFields()
        headers[.contentType] = response.contentType
        headers.append(HTTPField(name: HTTPField.Name("Audit-Id")!, value: "kubesim"))
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        if let watch = response.watch {
            // Chunked, one event a line, as the real server streams a watch. It ends when the region goes down, so
            // that the region's server shuts down gracefully (``RegionAPIServer``).
            let faults = region.faults
            return Response(
                status: HTTPResponse.Status(code: response.status), headers: headers,
                body: ResponseBody { writer in
                    let ender = Task {
                        for await down in faults.downStates() where down {
                            watch.continuation.finish()
                            return
                        }
                    }
                    defer { ender.cancel() }
                    try await watch.write(to: &writer)
                })
        }
        return Response(
            status: HTTPResponse.Status(code: response.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }

    /// The user a request authenticates as: `kubesim-admin` (the region's token or the issued client
    /// certificate), `kubesim-viewer` (the viewer token), or nil.
    private func authenticate(_ request: Request, _ context: KubeRequestContext) async throws -> String? {
        if let authorization = request.headers[.authorization] {
            if authorization == "Bearer \(region.token)" { return Authorization.admin }
            if !region.viewerToken.isEmpty && authorization == "Bearer \(region.viewerToken)" {
                return Authorization.viewer
            }
            return nil
        }
        // A client certificate was already verified against kubesim's CA during the handshake. Over HTTP/2 the
        // request comes on a stream channel; the TLS handler is its parent's, the connection's.
        var certificate = try? await context.channel.nioSSL_peerCertificate().get()
        if certificate == nil, let connection = context.channel.parent {
            certificate = try? await connection.nioSSL_peerCertificate().get()
        }
        return certificate != nil ? Authorization.admin : nil
    }

    /// The `Impersonate-User` header: the admin may act as any user, as kube-apiserver lets a user with the
    /// `impersonate` verb on `users` do.
    static let impersonateUser = HTTPField.Name("Impersonate-User")!

    /// The 403 the real server answers when `user` may not do the request (RBAC's wording), or nil when it may:
    /// impersonation by anyone but the admin, then ``Authorization`` on the request's attributes. Paths that are
    /// not API resources (discovery, `/version`, health) are open to every authenticated user, as the default
    /// `system:discovery` role makes them.
    private func authorize(authenticated: String, user: String, method: String, path: String, query: String)
        -> APIError?
    {
        if user != authenticated && authenticated != Authorization.admin {
            var error = APIError.forbidden(
                "users \"\(user)\" is forbidden: User \"\(authenticated)\" cannot impersonate resource \"users\" in API "
                    + "group \"\" at the cluster scope")
            error.kind = "users"
            error.name = user
            return error
        }
        if user == Authorization.admin { return nil }
        let attributes = Authorization.attributes(user: user, method: method, path: path, query: query)
        if attributes.resource.isEmpty { return nil }
        let allowed = region.withState { Authorization.decide(attributes, in: $0).allowed }
        return allowed ? nil : Authorization.forbidden(attributes)
    }
}

enum TLSSetup {
    static func configuration(_ certificates: Certificates) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificates.serverCertificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(certificates.serverKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificates.caPEM.utf8)))
        configuration.certificateVerification = .optionalVerification
        // ALPN offers h2 and http/1.1, as kube-apiserver does (``RegionAPIServer`` serves both): a client that
        // multiplexes its requests over one connection per region does so here too.
        configuration.applicationProtocols = ["h2", "http/1.1"]
        return configuration
    }
}

/// Runs one region's API port, closing it while the region is "down" (connections refused) and reopening it when
/// it comes back.
struct RegionAPIServer: Sendable {
    let region: Region
    let tls: TLSConfiguration
    let onFirstListen: @Sendable () async -> Void

    func run() async throws {
        var running: (group: ServiceGroup, task: Task<Void, any Error>)? = nil
        var announced = false
        for await down in region.faults.downStates() {
            if down {
                if let server = running {
                    await Self.stop(server)
                    running = nil
                    region.logger.info("region down: API port closed", metadata: ["region": "\(region.name)"])
                }
            } else if running == nil {
                let announce = !announced
                announced = true
                let app = Application(
                    responder: APIResponder(region: region), server: try .http2Upgrade(tlsConfiguration: tls),
                    configuration: ApplicationConfiguration(
                        address: .hostname("127.0.0.1", port: region.apiPort), serverName: nil),
                    onServerRunning: { _ in if announce { await onFirstListen() } },
                    logger: quietLogger(region.logger))
                let group = ServiceGroup(
                    configuration: ServiceGroupConfiguration(
                        services: [app], gracefulShutdownSignals: [], logger: quietLogger(region.logger)))
                running = (group, Task { try await group.run() })
            }
            if Task.isCancelled { break }
        }
        if let server = running { await Self.stop(server) }
    }

    /// Shuts a region's server down gracefully: the port closes at once, each connection ends its streams (a
    /// region's watches end as it goes down). Cancelled instead after 2 s. A server only cancelled could drop a
    /// connection's writer unfinished, which swift-nio traps on: the whole process, every region, died with it.
    private static func stop(_ server: (group: ServiceGroup, task: Task<Void, any Error>)) async {
        await server.group.triggerGracefulShutdown()
        let deadline = Task {
            try await Task.sleep(for: .seconds(2))
            server.task.cancel()
        }
        _ = await server.task.result
        deadline.cancel()
    }
}

/// Hummingbird's own logs at warning level and above only, tagged with the region.
func quietLogger(_ base: Logger) -> Logger {
    var logger = base
    logger.logLevel = max(base.logLevel, .warning)
    return logger
}
