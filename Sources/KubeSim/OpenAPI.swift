import SyncCore

/// OpenAPI v3 as kubectl reads it: an index of group versions, and per group version the paths with their
/// operations, query parameters and `x-kubernetes-group-version-kind`. kubectl's `--validate=strict` looks for the
/// `fieldValidation` parameter on each kind's PATCH operation and, finding it, leaves validation to the server.
///
/// Component schemas are left empty for built-in kinds on purpose: kubectl then computes strategic merge patches
/// from its compiled-in types, which are exact, rather than from an approximate schema.
enum OpenAPI {
    static func index(_ registry: Registry) -> Value {
        var paths: [(String, Value)] = []
        func add(_ path: String, group: String, version: String) {
            let hash = String(stableHash(fingerprint(registry, group: group, version: version)), radix: 16).uppercased()
            paths.append((path, ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hash)")]))
        }
        add("api/v1", group: "", version: "v1")
        add("api", group: "", version: "")
        add("apis", group: "", version: "")
        for (group, versions) in registry.groups where !group.isEmpty {
            for version in versions { add("apis/\(group)/\(version)", group: group, version: version) }
        }
        add("version", group: "", version: "")
        return ["paths": .object(.init(uniqueKeysWithValues: paths))]
    }

    private static func fingerprint(_ registry: Registry, group: String, version: String) -> String {
        registry.resources(group: group, version: version).map { "\($0.plural):\($0.kind):\($0.namespaced)" }
            .joined(separator: ",") + "\(group)/\(version)"
    }

    private static func parameter(_ name: String, _ type: String = "string", in location: String = "query") -> Value {
        ["name": .string(name), "in": .string(location), "schema": ["type": .string(type), "uniqueItems": true]]
    }

    /// The document of one group version; nil when the registry serves no such version.
    static func document(_ registry: Registry, group: String, version: String) -> Value? {
        let types = registry.resources(group: group, version: version)
        if types.isEmpty && !(group.isEmpty && (version.isEmpty)) { return nil }
        var paths: [(String, Value)] = []
        let prefix = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        for type in types {
            let gvk: Value = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            let ref: Value = ["$ref": .string("#/components/schemas/\(schemaName(type))")]
            let ok: Value = ["200": ["description": "OK", "content": ["application/json": ["schema": ref]]]]
            func operation(_ action: String, _ parameters: [Value]) -> Value {
                [
                    "operationId": .string("\(action)\(type.kind)"), "x-kubernetes-action": .string(action),
                    "x-kubernetes-group-version-kind": gvk, "parameters": .array(parameters), "responses": ok,
                ]
            }
            let write = [parameter("dryRun"), parameter("fieldManager"), parameter("fieldValidation")]
            let item: Value = [
                "get": operation("get", []),
                "put": operation("put", write),
                "patch": operation("patch", write + [parameter("force", "boolean")]),
                "delete": operation("delete", [parameter("dryRun"), parameter("gracePeriodSeconds", "integer"), parameter("propagationPolicy")]),
                "parameters": .array(
                    [["name": "name", "in": "path", "required": true, "schema": ["type": "string"]]]
                        + (type.namespaced ? [["name": "namespace", "in": "path", "required": true, "schema": ["type": "string"]]] : [])),
            ]
            let collection: Value = [
                "get": operation("list", [parameter("labelSelector"), parameter("fieldSelector"), parameter("limit", "integer"), parameter("continue")]),
                "post": operation("post", write),
            ]
            let base = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)" : "\(prefix)/\(type.plural)"
            paths.append((base, collection))
            paths.append(("\(base)/{name}", item))
        }
        var schemas: [(String, Value)] = []
        for type in types where type.isCustom {
            schemas.append((schemaName(type), [
                "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                "x-kubernetes-group-version-kind": [["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]],
            ]))
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.34.1"],
            "paths": .object(.init(paths, uniquingKeysWith: { a, _ in a })),
            "components": ["schemas": .object(.init(schemas, uniquingKeysWith: { a, _ in a }))],
        ]
    }

    /// The reversed-domain schema name Kubernetes uses: `io.istio.networking.v1.VirtualService`.
    static func schemaName(_ type: ResourceType) -> String {
        let group = type.group.isEmpty ? "core" : type.group
        let reversed = group.split(separator: ".").reversed().joined(separator: ".")
        return type.isCustom ? "\(reversed).\(type.version).\(type.kind)" : "io.k8s.api.\(group.split(separator: ".").first ?? "core").\(type.version).\(type.kind)"
    }
}
