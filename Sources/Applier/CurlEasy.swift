import CCurl
import Foundation

/// One HTTP request as the transport sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Seconds to wait for the TCP and TLS handshake.
    public var connectTimeout: Double
    /// Seconds the whole request may take.
    public var timeout: Double

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        connectTimeout: Double = 5, timeout: Double = 30
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}

/// One HTTP response: status, headers (names lower-cased) and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// libcurl's process-wide initialisation, done once before the first handle.
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// The owner of one libcurl easy handle (`CURL*`): created in `init`, cleaned up in `deinit`.
///
/// A handle keeps its connection (and TLS session) alive between requests, so reuse one per cluster
/// endpoint. It is used by one thread at a time, as libcurl requires, so it is not `Sendable`.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer

    /// Makes a new handle; throws when libcurl cannot initialise.
    public init() throws(ApplierError) {
        guard curlGlobalInit == CURLE_OK else {
            throw .curl(function: "curl_global_init", code: Int(curlGlobalInit.rawValue), message: "initialisation failed")
        }
        guard let handle = curl_easy_init() else {
            throw .curl(function: "curl_easy_init", code: -1, message: "could not allocate a handle")
        }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Runs `body` with the raw handle; the pointer must not escape the closure.
    public func withHandle<T>(_ body: (UnsafeMutableRawPointer) throws -> T) rethrows -> T {
        try body(handle)
    }

    /// Sends one request and waits for the whole response (blocking: call it off the cooperative pool).
    public func perform(_ request: HTTPRequest) throws(ApplierError) -> HTTPResponse {
        curl_easy_reset(handle)
        let state = TransferState(upload: request.body ?? [])
        let context = Unmanaged.passRetained(state)
        defer { context.release() }

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }

        try setopt(CURLOPT_URL, string: request.url)
        try setopt(CURLOPT_CUSTOMREQUEST, string: request.method)
        try setopt(CURLOPT_NOSIGNAL, 1)
        try setopt(CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
        try setopt(CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        try setopt(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        if let headerList {
            try check("curl_easy_setopt(HTTPHEADER)", syncagent_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        }
        if request.body != nil {
            try setopt(CURLOPT_UPLOAD, 1)
            try setopt(CURLOPT_INFILESIZE_LARGE, Int(state.upload.count))
            try check("curl_easy_setopt(READFUNCTION)", syncagent_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, readCallback))
            try check("curl_easy_setopt(READDATA)", syncagent_curl_setopt_pointer(handle, CURLOPT_READDATA, context.toOpaque()))
        }
        try check("curl_easy_setopt(WRITEFUNCTION)", syncagent_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, writeCallback))
        try check("curl_easy_setopt(WRITEDATA)", syncagent_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()))
        try check("curl_easy_setopt(HEADERFUNCTION)", syncagent_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback))
        try check("curl_easy_setopt(HEADERDATA)", syncagent_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque()))

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            throw .transport(url: request.url, code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        _ = syncagent_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: state.headers, body: state.received)
    }

    private func setopt(_ option: CURLoption, _ value: Int) throws(ApplierError) {
        try check("curl_easy_setopt(\(option.rawValue))", syncagent_curl_setopt_long(handle, option, value))
    }

    private func setopt(_ option: CURLoption, string value: String) throws(ApplierError) {
        try check("curl_easy_setopt(\(option.rawValue))", syncagent_curl_setopt_string(handle, option, value))
    }

    private func check(_ function: String, _ code: CURLcode) throws(ApplierError) {
        guard code == CURLE_OK else {
            throw .curl(function: function, code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
    }
}

/// What one transfer reads and writes; reached from libcurl's callbacks through an Unmanaged pointer.
private final class TransferState {
    let upload: [UInt8]
    var uploadOffset = 0
    var received: [UInt8] = []
    var headers: [String: String] = [:]

    init(upload: [UInt8]) { self.upload = upload }
}

private let writeCallback: syncagent_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        state.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

private let readCallback: syncagent_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let length = min(size * count, state.upload.count - state.uploadOffset)
    state.upload.withUnsafeBufferPointer { source in
        guard let base = source.baseAddress else { return }
        buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
            $0.update(from: base + state.uploadOffset, count: length)
        }
    }
    state.uploadOffset += length
    return length
}

private let headerCallback: syncagent_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
    if line.hasPrefix("HTTP/") {
        state.headers = [:]  // a new response (after a 100 Continue or a redirect)
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        state.headers[name] = value
    }
    return length
}
