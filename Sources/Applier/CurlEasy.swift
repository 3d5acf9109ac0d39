import CCurl
import Foundation

/// libcurl's process-wide initialisation, done once before the first handle.
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// The owner of one libcurl easy handle (`CURL*`) and its error buffer: created in `init`, freed in `deinit`.
///
/// A handle keeps its TLS session cache between transfers, so the transport pools them. It is used by one thread
/// at a time, as libcurl requires, so it is not `Sendable`.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    /// `CURLOPT_ERRORBUFFER`: libcurl writes the detailed reason of a failure here. Heap memory, because libcurl
    /// keeps its address.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Makes a new handle; throws when libcurl cannot initialise.
    public init() throws(ApplierError) {
        guard curlGlobalInit == CURLE_OK else {
            throw .curl(
                function: "curl_global_init", code: Int(curlGlobalInit.rawValue), message: "initialisation failed")
        }
        guard let handle = curl_easy_init() else {
            throw .curl(function: "curl_easy_init", code: -1, message: "could not allocate a handle")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Runs `body` with the raw handle; the pointer must not escape the closure.
    public func withHandle<T, E: Error>(_ body: (UnsafeMutableRawPointer) throws(E) -> T) throws(E) -> T {
        try body(handle)
    }

    /// Sends one request and waits for the whole response. Blocking: call it off the cooperative pool (the
    /// ``HTTPTransport`` runs many at once on its own thread instead).
    public func perform(_ request: HTTPRequest) throws(ApplierError) -> HTTPResponse {
        let transfer = try prepare(request)
        let code = curl_easy_perform(handle)
        return try finish(transfer, code: code)
    }

    /// Resets the handle and sets every option of one transfer. The returned value owns what libcurl reads during
    /// the transfer (header lists, the response buffers) and must live until ``finish(_:code:)``.
    func prepare(_ request: HTTPRequest) throws(ApplierError) -> CurlTransfer {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        try check("ERRORBUFFER", syncagent_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        let options = request.connection
        var url = request.url
        var connectTo: [String] = []
        if let serverName = options.serverName, !serverName.isEmpty,
            let rewritten = CurlEasy.redirect(url, toServerName: serverName)
        {
            // libcurl checks the certificate against, and sends as SNI, the URL's host: put the server name there
            // and connect to the real address.
            url = rewritten.url
            connectTo.append(rewritten.connectTo)
        }
        let headerLines = request.headers.map { "\($0.0): \($0.1)" } + ["Expect:"]
        let transfer = CurlTransfer(
            url: request.url, headers: try CurlSlist(headerLines),
            connectTo: connectTo.isEmpty ? nil : try CurlSlist(connectTo))

        try setopt(CURLOPT_URL, string: url)
        try setopt(CURLOPT_NOSIGNAL, 1)
        try setopt(CURLOPT_TCP_KEEPALIVE, 1)
        try setopt(CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
        try setopt(CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        try setopt(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
        // Wait for a connection that may multiplex (HTTP/2) rather than open another one at once.
        try setopt(CURLOPT_PIPEWAIT, 1)
        if options.compression { try setopt(CURLOPT_ACCEPT_ENCODING, string: "") }
        try setMethod(request.method, body: request.body)
        try transfer.headers.withList { list throws(ApplierError) in
            try check("HTTPHEADER", syncagent_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list))
        }
        if let connectTo = transfer.connectTo {
            try connectTo.withList { list throws(ApplierError) in
                try check("CONNECT_TO", syncagent_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, list))
            }
        }
        try setTLS(options)
        if let proxy = options.proxy, !proxy.isEmpty {
            try setopt(CURLOPT_PROXY, string: proxy)
        }

        transfer.state.sink = request.onData
        let context = Unmanaged.passUnretained(transfer.state).toOpaque()
        try check("WRITEFUNCTION", syncagent_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, writeCallback))
        try check("WRITEDATA", syncagent_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        try check("HEADERFUNCTION", syncagent_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback))
        try check("HEADERDATA", syncagent_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        return transfer
    }

    /// The response of a finished transfer, or the error libcurl reported for it.
    func finish(_ transfer: CurlTransfer, code: CURLcode) throws(ApplierError) -> HTTPResponse {
        guard code == CURLE_OK else { throw failure(code, url: transfer.url) }
        var status = 0
        var version = 0
        var connects = 0
        _ = syncagent_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        _ = syncagent_curl_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        _ = syncagent_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        let versionName: String
        switch version {
        case CURL_HTTP_VERSION_1_0: versionName = "1.0"
        case CURL_HTTP_VERSION_2_0: versionName = "2"
        case CURL_HTTP_VERSION_3: versionName = "3"
        default: versionName = "1.1"
        }
        return HTTPResponse(
            status: status, headers: transfer.state.headers, body: transfer.state.received, httpVersion: versionName,
            newConnections: connects)
    }

    /// The error for a failed transfer: TLS problems apart from the rest, with libcurl's detailed message.
    func failure(_ code: CURLcode, url: String) -> ApplierError {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_PEER_FAILED_VERIFICATION,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_SSL_ENGINE_INITFAILED:
            return .tls(url: url, code: Int(code.rawValue), message: message)
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled(url: url)
        default:
            return .transport(url: url, code: Int(code.rawValue), message: message)
        }
    }

    private func setMethod(_ method: String, body: [UInt8]?) throws(ApplierError) {
        switch (method, body) {
        case ("GET", nil):
            try setopt(CURLOPT_HTTPGET, 1)
            return
        case ("HEAD", nil):
            try setopt(CURLOPT_NOBODY, 1)
            return
        default:
            break
        }
        if let body {
            // COPYPOSTFIELDS copies the bytes at once, so the buffer need not outlive this call.
            try setopt(CURLOPT_POSTFIELDSIZE_LARGE, body.count)
            let code = body.withUnsafeBytes { bytes -> CURLcode in
                var empty: UInt8 = 0
                guard let base = bytes.baseAddress else {
                    return syncagent_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, &empty)
                }
                return syncagent_curl_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
            }
            try check("COPYPOSTFIELDS", code)
        }
        if method != "POST" || body == nil {
            try setopt(CURLOPT_CUSTOMREQUEST, string: method)
        }
    }

    private func setTLS(_ options: ConnectionOptions) throws(ApplierError) {
        if let authority = options.certificateAuthority {
            try setBlob(CURLOPT_CAINFO_BLOB, authority, name: "CAINFO_BLOB")
            // Trust the cluster's CA only, not the system's folder of certificates besides.
            try check("CAPATH", syncagent_curl_setopt_pointer(handle, CURLOPT_CAPATH, nil))
        }
        if let certificate = options.clientCertificate {
            try setopt(CURLOPT_SSLCERTTYPE, string: "PEM")
            try setBlob(CURLOPT_SSLCERT_BLOB, certificate, name: "SSLCERT_BLOB")
        }
        if let key = options.clientKey {
            try setopt(CURLOPT_SSLKEYTYPE, string: "PEM")
            try key.withBytes { bytes throws(ApplierError) in
                try setBlob(CURLOPT_SSLKEY_BLOB, bytes, name: "SSLKEY_BLOB")
            }
        }
        if !options.verifyServer {
            try setopt(CURLOPT_SSL_VERIFYPEER, 0)
            try setopt(CURLOPT_SSL_VERIFYHOST, 0)
        }
    }

    /// Hands libcurl a copy of `bytes` (CURL_BLOB_COPY): nothing is written to disk and the array may go away.
    private func setBlob(_ option: CURLoption, _ bytes: [UInt8], name: String) throws(ApplierError) {
        let code = bytes.withUnsafeBytes { raw -> CURLcode in
            var blob = curl_blob(
                data: UnsafeMutableRawPointer(mutating: raw.baseAddress), len: raw.count, flags: UInt32(CURL_BLOB_COPY))
            return syncagent_curl_setopt_blob(handle, option, &blob)
        }
        try check(name, code)
    }

    private func setopt(_ option: CURLoption, _ value: Int) throws(ApplierError) {
        try check("\(option.rawValue)", syncagent_curl_setopt_long(handle, option, value))
    }

    private func setopt(_ option: CURLoption, string value: String) throws(ApplierError) {
        try check("\(option.rawValue)", syncagent_curl_setopt_string(handle, option, value))
    }

    private func check(_ option: String, _ code: CURLcode) throws(ApplierError) {
        guard code == CURLE_OK else {
            throw .curl(
                function: "curl_easy_setopt(\(option))", code: Int(code.rawValue),
                message: String(cString: curl_easy_strerror(code)))
        }
    }

    /// `https://10.0.0.1:6443/api` with server name `kubernetes` becomes `https://kubernetes:6443/api` plus the
    /// `CONNECT_TO` entry `kubernetes::10.0.0.1:` (any port, same port).
    static func redirect(_ url: String, toServerName serverName: String) -> (url: String, connectTo: String)? {
        guard var components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            return nil
        }
        let target = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        components.host = serverName
        guard let rewritten = components.string else { return nil }
        return (rewritten, "\(serverName)::\(target):")
    }
}

/// What one transfer owns while libcurl runs it: the header lists libcurl reads and the buffers it fills.
final class CurlTransfer {
    /// The URL as the caller gave it (before any server-name rewrite), for messages.
    let url: String
    let headers: CurlSlist
    let connectTo: CurlSlist?
    let state = TransferState()

    init(url: String, headers: CurlSlist, connectTo: CurlSlist?) {
        self.url = url
        self.headers = headers
        self.connectTo = connectTo
    }
}

/// The bytes and headers received; reached from libcurl's callbacks through an unretained pointer that the owning
/// ``CurlTransfer`` keeps valid.
final class TransferState {
    var received: [UInt8] = []
    var headers: [String: String] = [:]
    /// The status of the response being received (from its status line); 0 before it.
    var status = 0
    /// Where a streamed 2xx body goes (``HTTPRequest/onData``).
    var sink: (@Sendable ([UInt8]) -> Void)?
}

private let writeCallback: syncagent_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        let chunk = UnsafeBufferPointer(start: $0, count: length)
        if let sink = state.sink, (200..<300).contains(state.status) {
            sink(Array(chunk))
        } else {
            state.received.append(contentsOf: chunk)
        }
    }
    return length
}

private let headerCallback: syncagent_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: length) { start in
        let line = UnsafeBufferPointer(start: start, count: length)
        if line.starts(with: "HTTP/".utf8) {
            state.headers = [:]  // a new response (after a 100 Continue, or through a proxy's CONNECT)
            // "HTTP/2 200" or "HTTP/1.1 200 OK": the code is the second word.
            let words = String(decoding: line, as: UTF8.self).split(separator: " ", maxSplits: 2)
            state.status = words.count > 1 ? Int(words[1].prefix(3)) ?? 0 : 0
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            // Byte by byte (a header line is ASCII): the name in lowercase, the value without the optional
            // whitespace around it and the line's end.
            let name = String(decoding: line[..<colon].lazy.map(asciiLowercase), as: UTF8.self)
            var first = colon + 1
            var end = length
            while first < end, isOptionalWhitespace(line[first]) { first += 1 }
            while end > first, isOptionalWhitespace(line[end - 1]) { end -= 1 }
            state.headers[name] = String(decoding: line[first..<end], as: UTF8.self)
        }
    }
    return length
}

/// `byte` in lowercase when it is an ASCII capital letter.
private func asciiLowercase(_ byte: UInt8) -> UInt8 {
    (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
}

/// Space, tab, or a line's end.
private func isOptionalWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
}
