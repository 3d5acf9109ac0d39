import Foundation
import SyncCore

/// What an `Accept` header asks a resource request for, as the real server negotiates it
/// (`k8s.io/apiserver/pkg/endpoints/handlers/negotiation`): the first media type of the list that the server can give
/// for this request wins; none of them is `406 NotAcceptable`.
enum ResponseForm: Equatable {
    /// The objects themselves (`application/json`, `*/*`, or no `Accept` header).
    case objects
    /// `meta.k8s.io` Table (`as=Table`), which `kubectl get` prints.
    case table
    /// Metadata only (`as=PartialObjectMetadata` for one object, `as=PartialObjectMetadataList` for a list, group
    /// `meta.k8s.io`, version `v1`): a client that needs an object's identity and versions but not its body.
    case partialMetadata

    /// The form `accept` asks for on a list (`list` true) or on one object; throws `406` when it names only `as=`
    /// forms the server cannot give here (a metadata form of the other shape, an unknown group or version). kubesim
    /// answers in JSON only: a list of other media types alone (protobuf, YAML) still gets the objects in JSON, as
    /// before this negotiation, for kubectl's typed clients.
    static func negotiate(_ accept: String, list: Bool) throws(APIError) -> ResponseForm {
        let trimmed = accept.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || !trimmed.contains("as=") { return .objects }
        for entry in trimmed.split(separator: ",") {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let type = parts.first?.lowercased() ?? ""
            guard ["application/json", "application/*", "*/*"].contains(type) else { continue }
            var parameters: [String: String] = [:]
            for part in parts.dropFirst() {
                let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            guard let form = parameters["as"] else { return .objects }
            let group = parameters["g"] ?? ""
            let version = parameters["v"] ?? ""
            switch form {
            case "Table" where group == "meta.k8s.io" && ["v1", "v1beta1"].contains(version):
                return .table
            case "PartialObjectMetadataList" where list && group == "meta.k8s.io" && version == "v1":
                return .partialMetadata
            case "PartialObjectMetadata" where !list && group == "meta.k8s.io" && version == "v1":
                return .partialMetadata
            default:
                continue
            }
        }
        throw .notAcceptable()
    }

    /// One object's metadata as the server sends it for `as=PartialObjectMetadata`.
    static func partialObject(_ object: Value) -> [UInt8] {
        var out = Array(#"{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":"#.utf8)
        out += (object["metadata"] ?? .emptyObject).jsonBytes
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension APIError {
    static func notAcceptable() -> APIError {
        APIError(
            code: 406, reason: "NotAcceptable",
            message: "only the following media types are accepted: application/json, application/yaml, "
                + "application/vnd.kubernetes.protobuf")
    }
}
