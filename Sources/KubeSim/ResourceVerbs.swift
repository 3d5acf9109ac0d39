import KubeSchema
import Foundation
import SyncCore

/// Where a resource request points: its type, namespace and name.
struct ResourceTarget: Sendable {
    var type: ResourceType
    var namespace: String
    var name: String
    var subresource: String = ""
}

/// The API verbs on resources, run under the region's lock. Each returns the response to send.
extension RegionState {
    /// The stored object's value in the version requested (CRD objects are shared by all served versions).
    static func render(_ object: StoredObject, as type: ResourceType) -> [UInt8] {
        // Structural defaults apply on read too, so a default added to a CRD shows on objects stored before.
        if let validation = type.validation, validation.hasDefaults {
            var value = object.value
            if validation.applyDefaults(&value, pruneNulls: false) {
                value["apiVersion"] = .string(type.apiVersion)
                return value.jsonBytes
            }
        }
        if object.value["apiVersion"]?.stringValue == type.apiVersion { return object.json }
        var value = object.value
        value["apiVersion"] = .string(type.apiVersion)
        return value.jsonBytes
    }

    static func renderValue(_ value: Value, as type: ResourceType) -> Value {
        var value = value
        if value["apiVersion"]?.stringValue != type.apiVersion { value["apiVersion"] = .string(type.apiVersion) }
        return value
    }

    func get(_ target: ResourceTarget) throws(APIError) -> APIResponse {
        guard let object = store.get(target.type.storageKey, namespace: target.namespace, name: target.name) else {
            throw .notFound(target.type.plural, group: target.type.group, name: target.name)
        }
        return APIResponse(status: 200, body: RegionState.render(object, as: target.type))
    }

    /// The object's metadata alone (`as=PartialObjectMetadata`).
    func getMetadata(_ target: ResourceTarget) throws(APIError) -> APIResponse {
        guard let object = store.get(target.type.storageKey, namespace: target.namespace, name: target.name) else {
            throw .notFound(target.type.plural, group: target.type.group, name: target.name)
        }
        return APIResponse(status: 200, body: ResponseForm.partialObject(object.value))
    }

    /// The objects of a kind; with `metadataOnly`, a `meta.k8s.io/v1` PartialObjectMetadataList of their metadata
    /// (`as=PartialObjectMetadataList`), selected and paged the same way.
    func list(_ type: ResourceType, namespace: String?, query: [String: String], metadataOnly: Bool = false)
        throws(APIError) -> APIResponse
    {
        let labels = try query["labelSelector"].map { (text) throws(APIError) in try LabelSelector(text) }
        let fields = try query["fieldSelector"].map { (text) throws(APIError) in try FieldSelector(text, kind: type.kind) }
        var objects = store.list(type.storageKey, namespace: namespace)
        if labels != nil || fields != nil {
            objects = objects.filter { object in
                if let labels, !labels.matches(object.value[path: ["metadata", "labels"]]?.stringMap ?? [:]) {
                    return false
                }
                if let fields, !fields.matches(object.value) { return false }
                return true
            }
        }
        // limit/continue: the token is the namespace/name to start after.
        if let token = query["continue"], !token.isEmpty {
            guard let decoded = Data(base64Encoded: token).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw .badRequest("continue key is not valid: illegal base64 data")
            }
            objects = objects.filter { RegionState.continueKey($0.value) > decoded }
        }
        var remaining: Int64? = nil
        var next = ""
        if let limitText = query["limit"], let limit = Int(limitText), limit > 0, objects.count > limit {
            remaining = Int64(objects.count - limit)
            objects = Array(objects.prefix(limit))
            if let last = objects.last {
                next = Data(RegionState.continueKey(last.value).utf8).base64EncodedString()
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(objects.reduce(200) { $0 + $1.json.count + 1 })
        var metadata: Value = ["resourceVersion": .string(String(store.resourceVersion))]
        if !next.isEmpty { metadata["continue"] = .string(next) }
        if let remaining { metadata["remainingItemCount"] = .int(remaining) }
        let (listKind, listVersion) =
            metadataOnly ? ("PartialObjectMetadataList", "meta.k8s.io/v1") : ("\(type.kind)List", type.apiVersion)
        out += Array("{\"kind\":\"\(listKind)\",\"apiVersion\":\"\(listVersion)\",\"metadata\":".utf8)
        out += metadata.jsonBytes
        out += Array(",\"items\":[".utf8)
        for (index, object) in objects.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += metadataOnly ? ResponseForm.partialObject(object.value) : RegionState.render(object, as: type)
        }
        out += Array("]}".utf8)
        return APIResponse(status: 200, body: out)
    }

    static func continueKey(_ value: Value) -> String {
        let ns = value[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let name = value[path: ["metadata", "name"]]?.stringValue ?? ""
        return ns + "/" + name
    }

    /// Checks the body's apiVersion, kind, namespace and name against the request path.
    private func checkIdentity(_ body: inout Value, _ target: ResourceTarget, requireName: Bool) throws(APIError) {
        guard case .object = body else {
            throw .badRequest("the object provided is unrecognized (must be of type \(target.type.kind))")
        }
        let type = target.type
        if let kind = body["kind"]?.stringValue, !kind.isEmpty, kind != type.kind {
            throw .badRequest("the API version in the data (\(body["apiVersion"]?.stringValue ?? "")) does not match the expected API version (\(type.apiVersion))")
        }
        if let apiVersion = body["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != type.apiVersion {
            let other = GroupVersionKind(apiVersion: apiVersion, kind: type.kind)
            if other.group != type.group || registry.lookup(group: other.group, version: other.version, kind: type.kind) == nil {
                throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))")
            }
        }
        body["apiVersion"] = .string(type.apiVersion)
        body["kind"] = .string(type.kind)
        if body["metadata"] == nil || body["metadata"]?.isNull == true { body["metadata"] = .emptyObject }
        if type.namespaced {
            if let ns = body[path: ["metadata", "namespace"]]?.stringValue, !ns.isEmpty, ns != target.namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            body["metadata"]?["namespace"] = .string(target.namespace)
        } else {
            body["metadata"]?["namespace"] = nil
        }
        if requireName {
            let name = body[path: ["metadata", "name"]]?.stringValue ?? ""
            if name.isEmpty { body["metadata"]?["name"] = .string(target.name) }
            if !name.isEmpty && name != target.name {
                throw .badRequest("the name of the object (\(name)) does not match the name on the URL (\(target.name))")
            }
        }
    }

    /// Applies `fieldValidation` to what the schema walk found: Strict fails, Warn warns, Ignore drops silently.
    private func schemaCheck(_ object: inout Value, _ type: ResourceType, _ query: [String: String], warnings: inout [String]) throws(APIError) {
        let findings = Validation.checkSchema(&object, schema: type.schema)
        let directive = query["fieldValidation"] ?? "Warn"
        if !findings.unknownFields.isEmpty {
            let list = findings.unknownFields.map { "unknown field \"\($0)\"" }
            if directive == "Strict" {
                throw .badRequest("strict decoding error: " + list.joined(separator: ", "))
            } else if directive == "Warn" {
                warnings += list
            }
        }
        if !findings.typeErrors.isEmpty {
            if type.isCustom {
                let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
                throw .invalid(kind: type.kind, group: type.group, name: name, causes: findings.typeErrors)
            }
            let first = findings.typeErrors[0]
            throw .badRequest("json: cannot unmarshal into Go struct field \(type.kind).\(first.field): \(first.message)")
        }
    }

    /// The common end of every write: bookkeeping metadata, defaulting, validation, managed fields, storage.
    /// `old` is nil for a create. Returns the stored (or, for dry runs, would-be-stored) value.
    mutating func commit(
        _ new: Value, old: StoredObject?, target: ResourceTarget, request: APIRequest, applyManaged: Bool,
        warnings: inout [String]
    ) throws(APIError) -> (value: Value, created: Bool) {
        var object = new
        let type = target.type
        let now = WallClock.timestamp()
        try schemaCheck(&object, type, request.query, warnings: &warnings)
        // Bookkeeping the client cannot set.
        if let old = old?.value {
            for key in ["uid", "creationTimestamp", "generation", "deletionTimestamp"] {
                object["metadata"]?[key] = old[path: ["metadata", key]]
            }
            if type.hasStatusSubresource && target.subresource != "status" { object["status"] = old["status"] }
        } else {
            object["metadata"]?["uid"] = .string(UUID().uuidString.lowercased())
            object["metadata"]?["creationTimestamp"] = .string(now)
            object["metadata"]?["generation"] = nil
            if type.hasStatusSubresource { object["status"] = nil }
        }
        object["metadata"]?["resourceVersion"] = nil
        object["metadata"]?["selfLink"] = nil
        if !type.isCustom { Defaulting.apply(&object, group: type.group, kind: type.kind) }
        type.validation?.applyDefaults(&object)
        if type.group.isEmpty && type.kind == "Service" { allocateClusterIP(&object, old: old?.value) }
        if RegionState.isCRD(type) { crdStatus(&object, old: old?.value) }
        var causes = Validation.validate(object, old: old?.value, type: type)
        causes += RegionState.finalizerCauses(object, old: old?.value)
        if let validation = type.validation { causes += validation.validate(object, path: "") }
        if !causes.isEmpty {
            throw .invalid(kind: type.kind, group: type.group, name: object[path: ["metadata", "name"]]?.stringValue ?? target.name, causes: causes)
        }
        if type.hasGeneration {
            if let old = old?.value {
                let generation = old[path: ["metadata", "generation"]]?.intValue ?? 1
                let changed = !RegionState.sameContent(RegionState.specPart(old), RegionState.specPart(object))
                object["metadata"]?["generation"] = .int(changed ? generation + 1 : generation)
            } else {
                object["metadata"]?["generation"] = 1
            }
        }
        if applyManaged {
            RegionState.recordUpdate(
                old: old?.value, new: &object, manager: request.fieldManager, type: type, now: now,
                subresource: target.subresource)
        }
        RegionState.capUpdateManagers(&object)
        if let old {
            var previous = old.value
            previous["metadata"]?["resourceVersion"] = nil
            if RegionState.sameContent(previous, object) {
                return (old.value, false)
            }
        }
        if request.isDryRun {
            if let old { object["metadata"]?["resourceVersion"] = old.value[path: ["metadata", "resourceVersion"]] }
            return (object, old == nil)
        }
        let name = object[path: ["metadata", "name"]]?.stringValue ?? target.name
        let isNamespace = type.group.isEmpty && type.kind == "Namespace"
        if !isNamespace, object[path: ["metadata", "deletionTimestamp"]] != nil,
            (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty
        {
            // The last finalizer of an object being deleted is gone: the update deletes it.
            purge(type.storageKey, namespace: target.namespace, name: name, finalState: object)
            generationCounter += 1
            return (object, false)
        }
        try RegionState.fitStorage(
            &object, isApply: !applyManaged, bound: (old?.json.count ?? 0) * 2 + request.body.count * 3)
        let stored = store.put(type.storageKey, namespace: target.namespace, name: name, value: object)
        if RegionState.isCRD(type) { crdStored(stored.value) }
        generationCounter += 1
        return (stored.value, old == nil)
    }

    /// The real server's rule for an object being deleted: its finalizers may be removed, never added.
    static func finalizerCauses(_ object: Value, old: Value?) -> [StatusCause] {
        guard let old, old[path: ["metadata", "deletionTimestamp"]] != nil else { return [] }
        let before = Set(old[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let added = (object[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? [])
            .filter { !before.contains($0) }
        guard !added.isEmpty else { return [] }
        let list = added.map { "\"\($0)\"" }.joined(separator: ", ")
        return [
            StatusCause(
                reason: "FieldValueForbidden",
                message: "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\(list)}",
                field: "metadata.finalizers")
        ]
    }

    /// What generation tracks: everything but metadata and status.
    static func specPart(_ value: Value) -> Value {
        var copy = value
        copy["metadata"] = nil
        copy["status"] = nil
        return copy
    }

    private mutating func allocateClusterIP(_ object: inout Value, old: Value?) {
        guard var spec = object["spec"] else { return }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        if type == "ExternalName" { return }
        if spec["clusterIP"] == nil, let oldIP = old?[path: ["spec", "clusterIP"]] { spec["clusterIP"] = oldIP }
        if spec["clusterIPs"] == nil, let oldIPs = old?[path: ["spec", "clusterIPs"]] { spec["clusterIPs"] = oldIPs }
        let ip = spec["clusterIP"]?.stringValue ?? ""
        if ip.isEmpty {
            let allocated = allocateIP()
            spec["clusterIP"] = .string(allocated)
            spec["clusterIPs"] = [.string(allocated)]
        } else if spec["clusterIPs"] == nil {
            spec["clusterIPs"] = [.string(ip)]
            if ip != "None" { allocatedIPs.insert(ip) }
        }
        if spec["ipFamilies"] == nil { spec["ipFamilies"] = ["IPv4"] }
        if spec["ipFamilyPolicy"] == nil { spec["ipFamilyPolicy"] = "SingleStack" }
        if type == "NodePort" || type == "LoadBalancer", var ports = spec["ports"]?.arrayValue {
            for index in ports.indices where ports[index]["nodePort"] == nil {
                ports[index]["nodePort"] = .int(30000 + Int64(allocatedIPs.count % 2700) + Int64(index))
            }
            spec["ports"] = .array(ports)
        }
        object["spec"] = spec
        if object["status"] == nil { object["status"] = ["loadBalancer": .emptyObject] }
    }

    private func requireNamespace(_ target: ResourceTarget) throws(APIError) {
        guard target.type.namespaced else { return }
        guard let ns = store.get("/namespaces", namespace: "", name: target.namespace) else {
            throw .notFound("namespaces", group: "", name: target.namespace)
        }
        if ns.value[path: ["metadata", "deletionTimestamp"]] != nil {
            var error = APIError.forbidden("\(target.type.plural) \"\(target.name)\" is forbidden: unable to create new content in namespace \(target.namespace) because it is being terminated")
            error.reason = "Forbidden"
            error.causes = [
                StatusCause(
                    reason: "NamespaceTerminating", message: "namespace \(target.namespace) is being terminated",
                    field: "metadata.namespace")
            ]
            throw error
        }
    }

    private static func response(_ value: Value, type: ResourceType, created: Bool, warnings: [String]) -> APIResponse {
        APIResponse(
            status: created ? 201 : 200, value: renderValue(value, as: type),
            headers: warnings.map { ("Warning", "299 - \"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"") })
    }

    /// kubesim reads JSON, YAML, and protobuf for the built-in kinds it has field tables for (``KubeProtobuf``); a
    /// protobuf body of any other kind gets 415, as a server without protobuf answers.
    static func requireTextBody(_ request: APIRequest) throws(APIError) {
        let contentType = request.contentType.split(separator: ";").first.map { String($0).trimming(" ") } ?? ""
        if contentType.contains("protobuf") {
            throw .unsupportedMediaType(contentType, accepted: ["application/json", "application/yaml"])
        }
    }

    /// A create or update body: protobuf when the content type says so, else JSON or YAML.
    static func objectBody(_ request: APIRequest) throws(APIError) -> Value {
        let contentType = request.contentType.split(separator: ";").first.map { String($0).trimming(" ") } ?? ""
        if KubeProtobuf.isProtobuf(contentType) {
            return try KubeProtobuf.decode(request.body, contentType: contentType)
        }
        try requireTextBody(request)
        return try BodyDecoder.decode(request.body, allowYAML: true)
    }

    mutating func create(_ target: ResourceTarget, request: APIRequest) throws(APIError) -> APIResponse {
        var body = try RegionState.objectBody(request)
        var target = target
        try checkIdentity(&body, target, requireName: false)
        var name = body[path: ["metadata", "name"]]?.stringValue ?? ""
        if name.isEmpty, let prefix = body[path: ["metadata", "generateName"]]?.stringValue, !prefix.isEmpty {
            let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
            name = prefix + String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
            body["metadata"]?["name"] = .string(name)
        }
        target.name = name
        if name.isEmpty {
            throw .invalid(kind: target.type.kind, group: target.type.group, name: "", causes: [StatusCause(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")])
        }
        try requireNamespace(target)
        try refuseCreateWhileTerminating(target.type)
        if store.get(target.type.storageKey, namespace: target.namespace, name: name) != nil {
            throw .alreadyExists(target.type.plural, group: target.type.group, name: name)
        }
        var warnings: [String] = []
        let result = try commit(body, old: nil, target: target, request: request, applyManaged: true, warnings: &warnings)
        return RegionState.response(result.value, type: target.type, created: true, warnings: warnings)
    }

    mutating func update(_ target: ResourceTarget, request: APIRequest) throws(APIError) -> APIResponse {
        var body = try RegionState.objectBody(request)
        try checkIdentity(&body, target, requireName: true)
        guard let old = store.get(target.type.storageKey, namespace: target.namespace, name: target.name) else {
            throw .notFound(target.type.plural, group: target.type.group, name: target.name)
        }
        if let rv = body[path: ["metadata", "resourceVersion"]]?.stringValue, !rv.isEmpty, rv != String(old.resourceVersion) {
            throw .staleResourceVersion(target.type.plural, group: target.type.group, name: target.name)
        }
        if let uid = body[path: ["metadata", "uid"]]?.stringValue, !uid.isEmpty,
            uid != old.value[path: ["metadata", "uid"]]?.stringValue
        {
            throw .conflict(target.type.plural, group: target.type.group, name: target.name, why: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.value[path: ["metadata", "uid"]]?.stringValue ?? "")")
        }
        if target.subresource == "status" {
            var merged = old.value
            merged["status"] = body["status"]
            body = merged
        }
        var warnings: [String] = []
        let result = try commit(body, old: old, target: target, request: request, applyManaged: true, warnings: &warnings)
        return RegionState.response(result.value, type: target.type, created: false, warnings: warnings)
    }

    mutating func patch(_ target: ResourceTarget, request: APIRequest) throws(APIError) -> APIResponse {
        let type = target.type
        let contentType = request.contentType.split(separator: ";").first.map { String($0).trimming(" ") } ?? ""
        let old = store.get(type.storageKey, namespace: target.namespace, name: target.name)
        var warnings: [String] = []
        switch contentType {
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            guard let manager = request.query["fieldManager"], !manager.isEmpty else {
                throw .invalid(kind: "PatchOptions", group: "meta.k8s.io", name: "", causes: [StatusCause(reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager")])
            }
            var config = try BodyDecoder.decode(request.body, allowYAML: true)
            try checkIdentity(&config, target, requireName: true)
            guard config["apiVersion"] != nil, config["kind"] != nil else {
                throw .badRequest("apiVersion and kind must be set")
            }
            if let managed = config[path: ["metadata", "managedFields"]], !managed.isNull {
                throw .badRequest("metadata.managedFields must be nil")
            }
            if old == nil {
                try checkCreateOnApply(config, target: target, request: request)
                try requireNamespace(target)
            }
            config = RegionState.resetFields(config, type: type, subresource: target.subresource)
            // Unknown fields are found before merging, so an applied typo fails in Strict mode.
            var checked = config
            try schemaCheck(&checked, type, request.query, warnings: &warnings)
            config = checked
            config["metadata"]?["resourceVersion"] = nil
            let force = request.query["force"] == "true"
            let merged = try RegionState.applyManaged(
                live: old?.value, config: config, manager: manager, force: force, type: type,
                subresource: target.subresource)
            let result = try commit(merged, old: old, target: target, request: request, applyManaged: false, warnings: &warnings)
            return RegionState.response(result.value, type: type, created: result.created, warnings: warnings)
        case "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json":
            guard let old else { throw .notFound(type.plural, group: type.group, name: target.name) }
            let patch = try BodyDecoder.decode(request.body, allowYAML: false)
            var patched: Value
            var current = old.value
            current["metadata"]?["managedFields"] = old.value[path: ["metadata", "managedFields"]]
            if contentType == "application/merge-patch+json" {
                patched = Patch.merge(current, patch)
            } else if contentType == "application/json-patch+json" {
                patched = try Patch.json(current, patch)
            } else {
                if type.isCustom {
                    throw .unsupportedMediaType(contentType, accepted: ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"])
                }
                patched = try Patch.strategic(current, patch, schema: type.schema)
            }
            if let rv = patch[path: ["metadata", "resourceVersion"]]?.stringValue, rv != String(old.resourceVersion) {
                throw .staleResourceVersion(type.plural, group: type.group, name: target.name)
            }
            try checkIdentity(&patched, target, requireName: true)
            if target.subresource == "status" {
                var merged = old.value
                merged["status"] = patched["status"]
                patched = merged
            }
            let result = try commit(patched, old: old, target: target, request: request, applyManaged: true, warnings: &warnings)
            return RegionState.response(result.value, type: type, created: false, warnings: warnings)
        default:
            throw .unsupportedMediaType(contentType, accepted: ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"] + (type.isCustom ? [] : ["application/strategic-merge-patch+json"]))
        }
    }

    mutating func delete(_ target: ResourceTarget, request: APIRequest) throws(APIError) -> APIResponse {
        let type = target.type
        guard let old = store.get(type.storageKey, namespace: target.namespace, name: target.name) else {
            throw .notFound(type.plural, group: type.group, name: target.name)
        }
        var dryRun = request.isDryRun
        if !request.body.isEmpty, let options = try? Value(json: request.body) {
            if options["dryRun"]?.arrayValue?.contains("All") == true { dryRun = true }
            if let uid = options[path: ["preconditions", "uid"]]?.stringValue,
                uid != old.value[path: ["metadata", "uid"]]?.stringValue
            {
                throw .conflict(type.plural, group: type.group, name: target.name, why: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.value[path: ["metadata", "uid"]]?.stringValue ?? "")")
            }
            if let rv = options[path: ["preconditions", "resourceVersion"]]?.stringValue, rv != String(old.resourceVersion) {
                throw .conflict(type.plural, group: type.group, name: target.name, why: "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(old.resourceVersion)")
            }
        }
        if RegionState.isCRD(type) {
            // A CRD's own deletion: its cleanup finalizer first, then its custom resources, then any other finalizer.
            let terminating = beginCRDDeletion(old, dryRun: dryRun)
            return APIResponse(status: 200, value: RegionState.renderValue(terminating, as: type))
        }
        let isNamespace = type.group.isEmpty && type.kind == "Namespace"
        let finalizers = old.value[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if isNamespace || !finalizers.isEmpty {
            // A namespace, or an object with finalizers, is only marked: it stays, Terminating, until its finalizers
            // are gone (the namespace controller's, in `finalizeNamespaces`; anyone else's, by an update).
            if old.value[path: ["metadata", "deletionTimestamp"]] != nil {
                return APIResponse(status: 200, value: RegionState.renderValue(old.value, as: type))
            }
            var marked = old.value
            marked["metadata"]?["deletionTimestamp"] = .string(WallClock.timestamp())
            marked["metadata"]?["deletionGracePeriodSeconds"] = 0
            if isNamespace { marked["status"]?["phase"] = "Terminating" }
            if dryRun { return APIResponse(status: 200, value: RegionState.renderValue(marked, as: type)) }
            let stored = store.put(type.storageKey, namespace: target.namespace, name: target.name, value: marked)
            generationCounter += 1
            return APIResponse(status: 200, value: RegionState.renderValue(stored.value, as: type))
        }
        var gone = old.value
        gone["metadata"]?["deletionTimestamp"] = .string(WallClock.timestamp())
        gone["metadata"]?["deletionGracePeriodSeconds"] = 0
        if dryRun { return APIResponse(status: 200, value: RegionState.renderValue(gone, as: type)) }
        purge(type.storageKey, namespace: target.namespace, name: target.name)
        generationCounter += 1
        return APIResponse(status: 200, value: RegionState.renderValue(gone, as: type))
    }

    /// Removes a stored object and what hangs on it (a Service's cluster IPs).
    private mutating func purge(_ key: String, namespace: String, name: String, finalState: Value? = nil) {
        guard let removed = store.delete(key, namespace: namespace, name: name, finalState: finalState) else { return }
        if key == "/services" {
            for ip in removed.value[path: ["spec", "clusterIPs"]]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                allocatedIPs.remove(ip)
            }
        }
    }

    /// The namespace controller's pass over every Terminating namespace (run by the region's controllers).
    mutating func finalizeNamespaces() {
        for namespace in store.list("/namespaces", namespace: nil)
        where namespace.value[path: ["metadata", "deletionTimestamp"]] != nil {
            finalizeNamespace(namespace.value[path: ["metadata", "name"]]?.stringValue ?? "")
        }
    }

    /// What the namespace controller does for one Terminating namespace: deletes its content (objects with
    /// finalizers are marked and wait for them), reports what remains in the namespace's conditions, and removes the
    /// namespace once it is empty.
    mutating func finalizeNamespace(_ name: String) {
        guard var namespace = store.get("/namespaces", namespace: "", name: name)?.value,
            namespace[path: ["metadata", "deletionTimestamp"]] != nil
        else { return }
        var remaining: [String: Int] = [:]
        var held: [String: Int] = [:]
        for key in store.keys(inNamespace: name) {
            for object in store.list(key, namespace: name) {
                let objectName = object.value[path: ["metadata", "name"]]?.stringValue ?? ""
                let finalizers = object.value[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? []
                if finalizers.isEmpty {
                    purge(key, namespace: name, name: objectName)
                    generationCounter += 1
                    continue
                }
                let resource = String(key.split(separator: "/").last ?? "")
                let group = key.split(separator: "/", omittingEmptySubsequences: false).first.map(String.init) ?? ""
                remaining[group.isEmpty ? resource : "\(resource).\(group)", default: 0] += 1
                for finalizer in finalizers { held[finalizer, default: 0] += 1 }
                if object.value[path: ["metadata", "deletionTimestamp"]] == nil {
                    var marked = object.value
                    marked["metadata"]?["deletionTimestamp"] = .string(WallClock.timestamp())
                    marked["metadata"]?["deletionGracePeriodSeconds"] = 0
                    store.put(key, namespace: name, name: objectName, value: marked)
                    generationCounter += 1
                }
            }
        }
        if remaining.isEmpty {
            store.delete("/namespaces", namespace: "", name: name)
            generationCounter += 1
            return
        }
        let now = WallClock.timestamp()
        let content = remaining.sorted { $0.key < $1.key }.map { "\($0.key) has \($0.value) resource instances" }
        let finalizers = held.sorted { $0.key < $1.key }.map { "\($0.key) in \($0.value) resource instances" }
        let conditions: Value = [
            [
                "type": "NamespaceContentRemaining", "status": "True", "lastTransitionTime": .string(now),
                "reason": "SomeResourcesRemain",
                "message": .string("Some resources are remaining: \(content.joined(separator: ", "))"),
            ],
            [
                "type": "NamespaceFinalizersRemaining", "status": "True", "lastTransitionTime": .string(now),
                "reason": "SomeFinalizersRemain",
                "message": .string("Some content in the namespace has finalizers remaining: \(finalizers.joined(separator: ", "))"),
            ],
        ]
        let messages = { (value: Value?) in value?.arrayValue?.map { $0["message"] } }
        if messages(namespace[path: ["status", "conditions"]]) != messages(conditions) {
            namespace["status"]?["conditions"] = conditions
            store.put("/namespaces", namespace: "", name: name, value: namespace)
        }
    }

    mutating func deleteCollection(_ type: ResourceType, namespace: String?, request: APIRequest) throws(APIError) -> APIResponse {
        let listed = try list(type, namespace: namespace, query: request.query)
        let items = (try? Value(json: listed.body))?["items"]?.arrayValue ?? []
        for item in items {
            let target = ResourceTarget(type: type, namespace: item[path: ["metadata", "namespace"]]?.stringValue ?? "", name: item[path: ["metadata", "name"]]?.stringValue ?? "")
            _ = try delete(target, request: APIRequest(method: "DELETE", path: "", query: request.query, contentType: "", accept: "", userAgent: request.userAgent, body: []))
        }
        return listed
    }

    /// Creates the namespaces every cluster has, when missing.
    mutating func bootstrap() {
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"]
        where store.get("/namespaces", namespace: "", name: name) == nil {
            var object: Value = [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": ["name": .string(name), "uid": .string(UUID().uuidString.lowercased()), "creationTimestamp": .string(WallClock.timestamp())],
            ]
            Defaulting.namespace(&object)
            object["metadata"]?["managedFields"] = nil
            store.put("/namespaces", namespace: "", name: name, value: object)
        }
    }
}
