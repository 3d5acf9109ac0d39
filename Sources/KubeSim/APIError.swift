import SyncCore

/// One `metav1.StatusCause`: which field is wrong and why.
struct StatusCause: Sendable, Hashable {
    var reason: String
    var message: String
    var field: String

    /// A cause of the form the real server gives for invalid fields ("FieldValueRequired", ...).
    init(reason: String, message: String, field: String) {
        self.reason = reason
        self.message = message
        self.field = field
    }
}

/// A failure answered as `metav1.Status`, with the HTTP code and reason the real API server uses.
struct APIError: Error, Sendable {
    var code: Int
    var reason: String
    var message: String
    /// `details` of the Status: the object's name, group and kind, and the causes.
    var name: String = ""
    var group: String = ""
    var kind: String = ""
    var causes: [StatusCause] = []
    /// Extra response headers, e.g. `Retry-After` for 429.
    var retryAfter: Int? = nil

    /// The `metav1.Status` body.
    var status: Value {
        var details: Value = .emptyObject
        if !name.isEmpty { details["name"] = .string(name) }
        if !group.isEmpty { details["group"] = .string(group) }
        if !kind.isEmpty { details["kind"] = .string(kind) }
        if !causes.isEmpty {
            details["causes"] = .array(
                causes.map { cause in
                    var c: Value = .emptyObject
                    if !cause.reason.isEmpty { c["reason"] = .string(cause.reason) }
                    c["message"] = .string(cause.message)
                    if !cause.field.isEmpty { c["field"] = .string(cause.field) }
                    return c
                })
        }
        if let retryAfter { details["retryAfterSeconds"] = .int(Int64(retryAfter)) }
        var body: Value = [
            "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Failure",
            "message": .string(message), "reason": .string(reason),
        ]
        if details != .emptyObject { body["details"] = details }
        body["code"] = .int(Int64(code))
        return body
    }

    /// "deployments.apps" for messages: the resource and group.
    static func qualified(_ resource: String, _ group: String) -> String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }

    static func notFound(_ resource: String, group: String, name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(qualified(resource, group)) \"\(name)\" not found",
            name: name, group: group, kind: resource)
    }

    /// The 404 for a path that names no known resource, as the real server words it.
    static func pathNotFound() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    static func alreadyExists(_ resource: String, group: String, name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(qualified(resource, group)) \"\(name)\" already exists",
            name: name, group: group, kind: resource)
    }

    static func conflict(_ resource: String, group: String, name: String, why: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(qualified(resource, group)) \"\(name)\": \(why)",
            name: name, group: group, kind: resource)
    }

    /// A stale resourceVersion on update.
    static func staleResourceVersion(_ resource: String, group: String, name: String) -> APIError {
        conflict(
            resource, group: group, name: name,
            why: "the object has been modified; please apply your changes to the latest version and try again")
    }

    /// 422 with the causes: `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be ...`.
    static func invalid(kind: String, group: String, name: String, causes: [StatusCause]) -> APIError {
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        let list = causes.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }
        let joined = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        return APIError(
            code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(joined)",
            name: name, group: group, kind: kind, causes: causes)
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func unauthorized() -> APIError {
        APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    static func forbidden(_ message: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message)
    }

    static func methodNotAllowed(_ method: String, _ path: String) -> APIError {
        APIError(
            code: 405, reason: "MethodNotAllowed",
            message: "the server does not allow this method on the requested resource")
    }

    static func unsupportedMediaType(_ contentType: String, accepted: [String]) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: "
                + accepted.joined(separator: ", "))
    }

    static func internalError(_ message: String) -> APIError {
        APIError(
            code: 500, reason: "InternalError",
            message: "Internal error occurred: \(message)")
    }
}
