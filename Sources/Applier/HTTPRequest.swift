/// One HTTP request as the transport sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Extra header lines, in order. An `Authorization` header here is sent but never logged.
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Seconds to wait for the TCP and TLS handshake.
    public var connectTimeout: Double
    /// Seconds the whole request may take once started.
    public var timeout: Double
    /// How to reach and trust the server.
    public var connection: ConnectionOptions
    /// A streamed response (a watch): each chunk of a 2xx response's body is handed here as it arrives, on the
    /// transport's thread, instead of being kept; the response's `body` is then empty. A non-2xx body is kept as
    /// usual (the error). nil keeps the whole body.
    public var onData: (@Sendable ([UInt8]) -> Void)?

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        connectTimeout: Double = 5, timeout: Double = 30, connection: ConnectionOptions = ConnectionOptions(),
        onData: (@Sendable ([UInt8]) -> Void)? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.connection = connection
        self.onData = onData
    }
}

/// How to reach a server and whom to trust: a kubeconfig cluster's TLS settings and a user's client certificate.
///
/// Certificates and keys are handed to libcurl in memory (copied blobs), never written to a file.
public struct ConnectionOptions: Sendable, Hashable {
    /// PEM certificates to trust instead of the system's store (`certificate-authority(-data)`); nil for the
    /// system's store.
    public var certificateAuthority: [UInt8]?
    /// The client certificate (PEM), presented when the server asks.
    public var clientCertificate: [UInt8]?
    /// The client certificate's private key (PEM).
    public var clientKey: SecretValue?
    /// False only for `insecure-skip-tls-verify: true`: no check of the server's certificate or name.
    public var verifyServer: Bool
    /// The name to check the server's certificate against and send as SNI, when not the URL's host
    /// (`tls-server-name`).
    public var serverName: String?
    /// A proxy URL (`http://`, `https://`, `socks5://`), or nil for libcurl's default (the `*_proxy` variables).
    public var proxy: String?
    /// Ask for compressed responses (gzip and the like); false for `disable-compression: true`.
    public var compression: Bool

    public init(
        certificateAuthority: [UInt8]? = nil, clientCertificate: [UInt8]? = nil, clientKey: SecretValue? = nil,
        verifyServer: Bool = true, serverName: String? = nil, proxy: String? = nil, compression: Bool = true
    ) {
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.verifyServer = verifyServer
        self.serverName = serverName
        self.proxy = proxy
        self.compression = compression
    }
}

/// One HTTP response: status, headers (names lower-cased) and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    /// The protocol the response came over: "1.1" or "2" (or "1.0").
    public var httpVersion: String
    /// How many new connections libcurl opened for this request: 0 when it reused a live one.
    public var newConnections: Int

    public init(
        status: Int, headers: [String: String], body: [UInt8], httpVersion: String = "1.1", newConnections: Int = 0
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.httpVersion = httpVersion
        self.newConnections = newConnections
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}
