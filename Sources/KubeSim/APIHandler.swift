import SyncCore

/// Routes an authenticated API request to discovery, OpenAPI or a resource verb, as the real server lays out its
/// paths: `/api/v1/namespaces/NS/PLURAL/NAME[/SUB]`, `/apis/GROUP/VERSION/...`.
struct APIHandler: Sendable {
    let region: Region

    func handle(_ request: APIRequest) -> APIResponse {
        do {
            return try route(request)
        } catch {
            return APIResponse(error: error)
        }
    }

    private func route(_ request: APIRequest) throws(APIError) -> APIResponse {
        let segments = request.path.split(separator: "/").map(String.init)
        guard let first = segments.first else {
            return APIResponse(value: ["paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]])
        }
        switch first {
        case "version":
            return APIResponse(value: Discovery.version())
        case "healthz", "livez", "readyz":
            return APIResponse(status: 200, body: Array("ok".utf8), contentType: "text/plain; charset=utf-8")
        case "openapi":
            return try openAPI(Array(segments.dropFirst()), accept: request.accept)
        case "api":
            if segments.count == 1 {
                guard request.method == "GET" else { throw .methodNotAllowed(request.method, request.path) }
                return APIResponse(value: Discovery.coreVersions(address: "127.0.0.1:\(region.apiPort)"))
            }
            return try resources(group: "", version: segments[1], Array(segments.dropFirst(2)), request)
        case "apis":
            if segments.count == 1 {
                let list = region.withState { $0.registry }
                return APIResponse(value: Discovery.groupList(list))
            }
            if segments.count == 2 {
                let registry = region.withState { $0.registry }
                guard let versions = registry.groups[segments[1]] else { throw .pathNotFound() }
                var group = Discovery.group(segments[1], versions: versions)
                group["kind"] = "APIGroup"
                group["apiVersion"] = "v1"
                return APIResponse(value: group)
            }
            return try resources(group: segments[1], version: segments[2], Array(segments.dropFirst(3)), request)
        default:
            throw .pathNotFound()
        }
    }

    private func openAPI(_ rest: [String], accept: String) throws(APIError) -> APIResponse {
        if rest == ["v2"] {
            // Older kubectl (≤1.28) fetch OpenAPI v2 as protobuf before a client-side apply. An (almost) empty
            // document — `swagger: "2.0"`, no definitions — makes them fall back to their compiled-in types.
            if accept.contains("protobuf") || !accept.contains("json") {
                return APIResponse(
                    status: 200, body: [0x0a, 0x03, 0x32, 0x2e, 0x30],
                    contentType: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            }
            return APIResponse(value: ["swagger": "2.0", "info": ["title": "Kubernetes", "version": "v1.34.1"], "paths": .emptyObject])
        }
        guard rest.first == "v3" else { throw .pathNotFound() }
        let registry = region.withState { $0.registry }
        let path = Array(rest.dropFirst())
        if path.isEmpty { return APIResponse(value: OpenAPI.index(registry)) }
        let document: Value?
        switch path.first {
        case "api" where path.count == 2: document = OpenAPI.document(registry, group: "", version: path[1])
        case "apis" where path.count == 3: document = OpenAPI.document(registry, group: path[1], version: path[2])
        case "api" where path.count == 1, "apis" where path.count == 1, "version":
            document = OpenAPI.document(registry, group: "", version: "")
        default: document = nil
        }
        guard let document else { throw .pathNotFound() }
        return APIResponse(value: document)
    }

    private func resources(group: String, version: String, _ rest: [String], _ request: APIRequest) throws(APIError) -> APIResponse {
        if group == "authorization.k8s.io" && version == "v1" && !rest.isEmpty {
            let namespaced = rest.count == 3 && rest[0] == "namespaces"
            guard rest.count == 1 || namespaced else { throw .pathNotFound() }
            return try region.withState { (state: inout RegionState) throws(APIError) -> APIResponse in
                try Authorization.review(
                    plural: rest[rest.count - 1], namespace: namespaced ? rest[1] : nil, request: request, state: state)
            }
        }
        if rest.isEmpty {
            let registry = region.withState { $0.registry }
            guard let list = Discovery.resourceList(registry, group: group, version: version) else { throw .pathNotFound() }
            return APIResponse(value: list)
        }
        try RegionState.validateFieldManager(request)
        return try region.withState { (state: inout RegionState) throws(APIError) -> APIResponse in
            var namespace: String? = nil
            var parts = rest[...]
            if parts.first == "namespaces", parts.count >= 3,
                state.registry.lookup(group: group, version: version, plural: parts[parts.startIndex + 2]) != nil
                    || !(group.isEmpty && ["status", "finalize"].contains(parts[parts.startIndex + 2]))
            {
                namespace = parts[parts.startIndex + 1]
                parts = parts.dropFirst(2)
            }
            let plural = parts[parts.startIndex]
            guard let type = state.registry.lookup(group: group, version: version, plural: plural) else {
                throw .pathNotFound()
            }
            if namespace != nil && !type.namespaced { throw .pathNotFound() }
            let name = parts.count > 1 ? parts[parts.startIndex + 1] : nil
            let subresource = parts.count > 2 ? parts[parts.startIndex + 2] : ""
            if parts.count > 3 { throw .pathNotFound() }
            if !subresource.isEmpty && subresource != "status" && !(subresource == "scale" && RegionState.hasScale(type)) {
                throw .pathNotFound()
            }
            guard let name else {
                // Collection verbs.
                if type.namespaced && namespace == nil && request.method != "GET" { throw .methodNotAllowed(request.method, request.path) }
                switch request.method {
                case "GET" where ["true", "1"].contains(request.query["watch"] ?? ""):
                    return try state.watch(type, namespace: namespace, request: request)
                case "GET":
                    let form = try ResponseForm.negotiate(request.accept, list: true)
                    let response = try state.list(
                        type, namespace: namespace, query: request.query, metadataOnly: form == .partialMetadata)
                    return form == .table ? Tables.table(fromList: response, type: type, request: request) : response
                case "POST":
                    return try state.create(ResourceTarget(type: type, namespace: namespace ?? "", name: ""), request: request)
                case "DELETE":
                    return try state.deleteCollection(type, namespace: namespace, request: request)
                default:
                    throw .methodNotAllowed(request.method, request.path)
                }
            }
            if type.namespaced && namespace == nil { throw .pathNotFound() }
            let target = ResourceTarget(type: type, namespace: namespace ?? "", name: name, subresource: subresource)
            if subresource == "scale" {
                switch request.method {
                case "GET": return try state.getScale(target)
                case "PUT", "PATCH": return try state.writeScale(target, request: request)
                default: throw .methodNotAllowed(request.method, request.path)
                }
            }
            switch request.method {
            case "GET":
                switch try ResponseForm.negotiate(request.accept, list: false) {
                case .objects: return try state.get(target)
                case .table: return Tables.table(fromObject: try state.get(target), type: type, request: request)
                case .partialMetadata: return try state.getMetadata(target)
                }
            case "PUT": return try state.update(target, request: request)
            case "PATCH": return try state.patch(target, request: request)
            case "DELETE":
                guard subresource.isEmpty else { throw .methodNotAllowed(request.method, request.path) }
                return try state.delete(target, request: request)
            default: throw .methodNotAllowed(request.method, request.path)
            }
        }
    }
}
