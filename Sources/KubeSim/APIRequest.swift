import SyncCore

/// An HTTP request as the API layer sees it, independent of the HTTP server library.
struct APIRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var contentType: String
    var accept: String
    var userAgent: String
    var body: [UInt8]
    /// The user the request acts as (after impersonation), for the authorization checks inside a verb.
    var user: String = Authorization.admin

    /// Splits a raw query string and percent-decodes it.
    static func parseQuery(_ raw: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(parts[0]))
            result[key] = parts.count > 1 ? percentDecode(String(parts[1])) : ""
        }
        return result
    }

    static func percentDecode(_ text: String) -> String {
        guard text.contains("%") || text.contains("+") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
                let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The manager a write is recorded under: `fieldManager`, else the User-Agent's program name.
    var fieldManager: String {
        if let manager = query["fieldManager"], !manager.isEmpty { return manager }
        let agent = userAgent.split(separator: "/").first.map(String.init) ?? "unknown"
        return agent.isEmpty ? "unknown" : agent
    }

    var isDryRun: Bool { query["dryRun"] == "All" }
}

/// An HTTP response from the API layer.
struct APIResponse: Sendable {
    var status: Int
    var body: [UInt8]
    var contentType: String = "application/json"
    var headers: [(String, String)] = []
    /// An open watch, streamed instead of `body`.
    var watch: WatchStream? = nil

    init(status: Int, body: [UInt8], contentType: String = "application/json", headers: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }

    init(status: Int = 200, value: Value, headers: [(String, String)] = []) {
        self.init(status: status, body: value.jsonBytes, headers: headers)
    }

    init(error: APIError) {
        var headers: [(String, String)] = []
        if let retry = error.retryAfter { headers.append(("Retry-After", String(retry))) }
        if error.code == 401 { headers.append(("WWW-Authenticate", "Bearer realm=\"kubesim\"")) }
        self.init(status: error.code, body: error.status.jsonBytes, headers: headers)
    }
}
