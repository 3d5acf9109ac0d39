import Foundation
import SyncCore

/// A failure as the Kubernetes API reports it: a `metav1.Status` (code, reason, message, details, causes).
///
/// Built from the response body when the server sent a Status, or from the HTTP code alone otherwise (a proxy's
/// 502 page, say), worded as client-go words it.
public struct KubeStatus: Error, CustomStringConvertible, Sendable, Hashable {
    /// `metav1.StatusReason`: a machine-readable word. Unknown reasons are kept as written.
    public struct Reason: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public var description: String { rawValue }

        public static let unknown: Reason = ""
        public static let unauthorized: Reason = "Unauthorized"
        public static let forbidden: Reason = "Forbidden"
        public static let notFound: Reason = "NotFound"
        public static let alreadyExists: Reason = "AlreadyExists"
        public static let conflict: Reason = "Conflict"
        public static let gone: Reason = "Gone"
        public static let invalid: Reason = "Invalid"
        public static let serverTimeout: Reason = "ServerTimeout"
        public static let timeout: Reason = "Timeout"
        public static let tooManyRequests: Reason = "TooManyRequests"
        public static let badRequest: Reason = "BadRequest"
        public static let methodNotAllowed: Reason = "MethodNotAllowed"
        public static let notAcceptable: Reason = "NotAcceptable"
        public static let requestEntityTooLarge: Reason = "RequestEntityTooLarge"
        public static let unsupportedMediaType: Reason = "UnsupportedMediaType"
        public static let internalError: Reason = "InternalError"
        public static let expired: Reason = "Expired"
        public static let serviceUnavailable: Reason = "ServiceUnavailable"
    }

    /// One `metav1.StatusCause`: which field is wrong and why.
    public struct Cause: Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var message: String
        /// A JSON-path-like field name, e.g. `spec.replicas`; empty when the cause concerns the whole object.
        public var field: String

        public init(reason: String, message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }

        public var description: String { field.isEmpty ? message : "\(field): \(message)" }
    }

    /// The HTTP status code, e.g. 404.
    public var code: Int
    public var reason: Reason
    public var message: String
    /// `details.name`, `details.group`, `details.kind`: the object concerned, when the server said.
    public var name: String
    public var group: String
    public var kind: String
    public var causes: [Cause]
    /// `details.retryAfterSeconds`, or the `Retry-After` header.
    public var retryAfterSeconds: Int?

    public init(
        code: Int, reason: Reason, message: String, name: String = "", group: String = "", kind: String = "",
        causes: [Cause] = [], retryAfterSeconds: Int? = nil
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Reads a failed response: its Status body when it has one, else a Status made from the code.
    init(response: HTTPResponse) {
        let retryAfter = response.headers["retry-after"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if let body = try? Value(json: response.body), body["kind"]?.stringValue == "Status" {
            let details = body["details"]
            self.init(
                code: body["code"]?.intValue.map { Int($0) } ?? response.status,
                reason: Reason(rawValue: body["reason"]?.stringValue ?? ""),
                message: body["message"]?.stringValue ?? "",
                name: details?["name"]?.stringValue ?? "", group: details?["group"]?.stringValue ?? "",
                kind: details?["kind"]?.stringValue ?? "",
                causes: (details?["causes"]?.arrayValue ?? []).map {
                    Cause(
                        reason: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "",
                        field: $0["field"]?.stringValue ?? "")
                },
                retryAfterSeconds: details?["retryAfterSeconds"]?.intValue.map { Int($0) } ?? retryAfter)
            if code == 0 { code = response.status }
            return
        }
        let (reason, message) = KubeStatus.generic(response.status)
        let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(
            code: response.status, reason: reason,
            message: excerpt.isEmpty ? message : "\(message): \(excerpt)", retryAfterSeconds: retryAfter)
    }

    /// The reason and message client-go gives a code that came without a Status body.
    static func generic(_ code: Int) -> (Reason, String) {
        switch code {
        case 400: return (.badRequest, "the server rejected our request for an unknown reason")
        case 401: return (.unauthorized, "the server has asked for the client to provide credentials")
        case 403: return (.forbidden, "the server does not allow access to the requested resource")
        case 404: return (.notFound, "the server could not find the requested resource")
        case 405: return (.methodNotAllowed, "the server does not allow this method on the requested resource")
        case 406:
            return (.notAcceptable, "the server was unable to respond with a content type that the client supports")
        case 409: return (.conflict, "the server reported a conflict")
        case 410: return (.gone, "the server no longer has the requested resource")
        case 413: return (.requestEntityTooLarge, "the server has rejected the request because it is too large")
        case 415: return (.unsupportedMediaType, "the server was unable to handle the request's media type")
        case 422: return (.invalid, "the server rejected our request due to an error in our request")
        case 429:
            return (.tooManyRequests, "the server has received too many requests and has asked us to try again later")
        case 503: return (.serviceUnavailable, "the server is currently unable to handle the request")
        case 504: return (.timeout, "the server was unable to return a response in the time allotted")
        case 500...: return (.internalError, "an error on the server has prevented the request from succeeding")
        default: return (.unknown, "the server responded with the status code \(code)")
        }
    }

    /// True for the codes worth retrying: 429 and every 5xx.
    public var isRetryable: Bool { code == 429 || code >= 500 }

    /// "NotFound (404): configmaps \"x\" not found", with causes after the message.
    public var description: String {
        var text = reason == .unknown ? "HTTP \(code)" : "\(reason) (\(code))"
        if !message.isEmpty { text += ": \(message)" }
        let extra = causes.map(\.description).filter { !message.contains($0) }
        if !extra.isEmpty { text += " [" + extra.joined(separator: "; ") + "]" }
        return text
    }
}
