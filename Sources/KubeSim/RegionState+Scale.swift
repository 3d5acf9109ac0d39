import SyncCore

/// The `scale` subresource of Deployments and StatefulSets: an `autoscaling/v1` `Scale` view of the workload whose
/// writes change only its `spec.replicas` (recorded for the writing manager under subresource "scale", generation
/// bumped), as the real server serves `kubectl scale` and horizontal pod autoscalers.
extension RegionState {
    /// Whether `type` has a scale subresource.
    static func hasScale(_ type: ResourceType) -> Bool {
        (type.group == "apps" && ["Deployment", "StatefulSet", "ReplicaSet"].contains(type.kind))
            || (type.group.isEmpty && type.kind == "ReplicationController")
    }

    /// The `Scale` of a workload: desired replicas, observed replicas and the pod selector as a string.
    static func scale(of workload: Value) -> Value {
        var metadata: Value = .emptyObject
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let field = workload[path: ["metadata", key]] { metadata[key] = field }
        }
        var status: Value = ["replicas": workload[path: ["status", "replicas"]] ?? 0]
        let selector = labelSelectorString(workload[path: ["spec", "selector"]])
        if !selector.isEmpty { status["selector"] = .string(selector) }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
            "spec": ["replicas": workload[path: ["spec", "replicas"]] ?? 1], "status": status,
        ]
    }

    /// A `LabelSelector` object in its text form (`app=x,tier in (a,b)`), as `Scale.status.selector` shows it.
    static func labelSelectorString(_ selector: Value?) -> String {
        guard let selector else { return "" }
        // A ReplicationController's selector is a plain label map.
        let labels: Value? = selector["matchLabels"] ?? (selector["matchExpressions"] == nil ? selector : nil)
        var parts = (labels?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for expression in selector["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue).sorted().joined(separator: ",")
            switch expression["operator"]?.stringValue ?? "" {
            case "In": parts.append("\(key) in (\(values))")
            case "NotIn": parts.append("\(key) notin (\(values))")
            case "Exists": parts.append(key)
            case "DoesNotExist": parts.append("!\(key)")
            default: continue
            }
        }
        return parts.joined(separator: ",")
    }

    private func scaledWorkload(_ target: ResourceTarget) throws(APIError) -> StoredObject {
        guard let object = store.get(target.type.storageKey, namespace: target.namespace, name: target.name) else {
            throw .notFound(target.type.plural, group: target.type.group, name: target.name)
        }
        return object
    }

    /// `GET .../NAME/scale`.
    func getScale(_ target: ResourceTarget) throws(APIError) -> APIResponse {
        APIResponse(value: RegionState.scale(of: try scaledWorkload(target).value))
    }

    /// `PUT` or `PATCH .../NAME/scale`: the new Scale (the body, or the current one patched) sets `spec.replicas`.
    mutating func writeScale(_ target: ResourceTarget, request: APIRequest) throws(APIError) -> APIResponse {
        try RegionState.requireTextBody(request)
        let old = try scaledWorkload(target)
        let current = RegionState.scale(of: old.value)
        let scale: Value
        let contentType = request.contentType.split(separator: ";").first.map { String($0).trimming(" ") } ?? ""
        if request.method == "PATCH" && contentType == "application/apply-patch+yaml" {
            return try applyScale(target, old: old, request: request)
        }
        if request.method == "PUT" {
            scale = try BodyDecoder.decode(request.body, allowYAML: true)
        } else {
            let patch = try BodyDecoder.decode(request.body, allowYAML: false)
            switch contentType {
            case "application/merge-patch+json", "application/strategic-merge-patch+json": scale = Patch.merge(current, patch)
            case "application/json-patch+json": scale = try Patch.json(current, patch)
            default:
                throw .unsupportedMediaType(contentType, accepted: ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"])
            }
        }
        if let kind = scale["kind"]?.stringValue, !kind.isEmpty, kind != "Scale" {
            throw .badRequest("the object provided is unrecognized (must be of type Scale)")
        }
        if let rv = scale[path: ["metadata", "resourceVersion"]]?.stringValue, !rv.isEmpty, rv != String(old.resourceVersion) {
            throw .staleResourceVersion(target.type.plural, group: target.type.group, name: target.name)
        }
        guard let replicas = scale[path: ["spec", "replicas"]]?.intValue else {
            throw .invalid(kind: "Scale", group: "autoscaling", name: target.name, causes: [StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.replicas")])
        }
        if replicas < 0 {
            throw .invalid(kind: "Scale", group: "autoscaling", name: target.name, causes: [StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \(replicas): must be greater than or equal to 0", field: "spec.replicas")])
        }
        var workload = old.value
        workload["spec"]?["replicas"] = .int(replicas)
        var warnings: [String] = []
        let result = try commit(workload, old: old, target: target, request: request, applyManaged: true, warnings: &warnings)
        return APIResponse(value: RegionState.scale(of: result.value))
    }

    /// Server-side apply of a `Scale`: its `spec.replicas` is applied to the workload's `spec.replicas` by the
    /// manager, under subresource "scale" (conflicts with other owners of the replicas, `force` takes them).
    private mutating func applyScale(_ target: ResourceTarget, old: StoredObject, request: APIRequest)
        throws(APIError) -> APIResponse
    {
        guard let manager = request.query["fieldManager"], !manager.isEmpty else {
            throw .invalid(
                kind: "PatchOptions", group: "meta.k8s.io", name: "",
                causes: [
                    StatusCause(
                        reason: "FieldValueRequired", message: "Required value: is required for apply patch",
                        field: "fieldManager")
                ])
        }
        let scale = try BodyDecoder.decode(request.body, allowYAML: true)
        if let kind = scale["kind"]?.stringValue, !kind.isEmpty, kind != "Scale" {
            throw .badRequest("the object provided is unrecognized (must be of type Scale)")
        }
        if let managed = scale[path: ["metadata", "managedFields"]], !managed.isNull {
            throw .badRequest("metadata.managedFields must be nil")
        }
        let type = target.type
        var config: Value = [
            "apiVersion": .string(type.apiVersion), "kind": .string(type.kind),
            "metadata": ["name": .string(target.name)],
        ]
        if let replicas = scale[path: ["spec", "replicas"]] { config["spec"] = ["replicas": replicas] }
        let merged = try RegionState.applyManaged(
            live: old.value, config: config, manager: manager, force: request.query["force"] == "true", type: type,
            subresource: "scale")
        var warnings: [String] = []
        let result = try commit(merged, old: old, target: target, request: request, applyManaged: false, warnings: &warnings)
        return APIResponse(value: RegionState.scale(of: result.value))
    }
}
