import KubeSchema
import SyncCore

/// What the real server's strategies do to an apply before it is merged: the fields a subresource does not own
/// ("reset fields") are dropped from the applied configuration, so they are neither changed nor owned, and an
/// apply that would create an object is checked as a create.
extension RegionState {
    /// The applied configuration without the fields the endpoint resets: `status` on the main resource of a kind
    /// with a status subresource; everything but `status` and the object's identity, labels and annotations on
    /// `/status`.
    static func resetFields(_ config: Value, type: ResourceType, subresource: String) -> Value {
        guard type.hasStatusSubresource else { return config }
        var config = config
        if subresource == "status" {
            var kept: Value = .emptyObject
            for key in ["apiVersion", "kind", "status"] {
                if let value = config[key] { kept[key] = value }
            }
            var metadata: Value = .emptyObject
            for key in ["name", "namespace", "labels", "annotations"] {
                if let value = config[path: ["metadata", key]] { metadata[key] = value }
            }
            kept["metadata"] = metadata
            config = kept
        } else if subresource.isEmpty {
            config["status"] = nil
        }
        return config
    }

    /// An apply to an object that does not exist is a create: it needs `create` permission besides `patch`, the
    /// status subresource cannot create (404), and it may not name a uid (409), as the real server answers.
    func checkCreateOnApply(_ config: Value, target: ResourceTarget, request: APIRequest) throws(APIError) {
        let type = target.type
        if !target.subresource.isEmpty {
            throw .notFound(type.plural, group: type.group, name: target.name)
        }
        let attributes = AuthorizationAttributes(
            user: request.user, groups: Authorization.groups(of: request.user), verb: "create", group: type.group,
            resource: type.plural, namespace: target.namespace, name: target.name)
        if !Authorization.decide(attributes, in: self).allowed {
            throw Authorization.forbidden(attributes)
        }
        if let uid = config[path: ["metadata", "uid"]]?.stringValue, !uid.isEmpty {
            throw .conflict(
                type.plural, group: type.group, name: target.name,
                why: "uid mismatch: the provided object specified uid \(uid), and no existing object was found")
        }
    }

    /// Server-side apply through an endpoint: on `/status` the status fields are the ones owned (the main
    /// resource's apply leaves them out), and the manager's Apply entry is marked with the subresource.
    static func applyManaged(
        live: Value?, config: Value, manager: String, force: Bool, type: ResourceType, subresource: String
    ) throws(APIError) -> Value {
        var endpoint = type
        if subresource == "status" { endpoint.hasStatusSubresource = false }
        let now = WallClock.timestamp()
        // The same manager's Apply through another endpoint is another identity: the engine sees it under a
        // stand-in name for the duration of this apply.
        var standIns: [String: String] = [:]
        let live = live.map { live -> Value in
            var object = ownedBeforeFirstApply(live, type: type, now: now)
            let raw = object[path: ["metadata", "managedFields"]]?.arrayValue ?? []
            let elsewhere = raw.contains {
                $0["manager"]?.stringValue == manager && $0["operation"] == "Apply"
                    && ($0["subresource"]?.stringValue ?? "") != subresource
            }
            guard elsewhere else { return object }
            var entries = ManagedFieldsEntry.entries(of: object)
            for index in entries.indices
            where entries[index].manager == manager && entries[index].operation == "Apply"
                && entries[index].subresource != subresource
            {
                let standIn = "\(manager)\u{1F}\(entries[index].subresource)"
                standIns[standIn] = manager
                entries[index].manager = standIn
            }
            if !standIns.isEmpty { ManagedFieldsEntry.store(entries, into: &object) }
            return object
        }
        var merged: Value
        do throws(APIError) {
            do throws(APIError) {
                merged = try ManagedFields.apply(
                    live: live, config: config, manager: manager, force: force, apiVersion: type.apiVersion,
                    type: endpoint, now: now)
            } catch let error where error.code == 409 && !force && manager == "kubectl" && live != nil {
                // Upgrading from client-side apply: kubectl may take the fields its last-applied-configuration
                // recorded and nobody changed since.
                guard let live, lastAppliedAllows(live: live, config: config, manager: manager, type: endpoint)
                else { throw error }
                merged = try ManagedFields.apply(
                    live: live, config: config, manager: manager, force: true, apiVersion: type.apiVersion,
                    type: endpoint, now: now)
            }
        } catch {
            var named = error
            for (standIn, name) in standIns {
                named.message = named.message.replacingOccurrences(of: standIn, with: name)
                for index in named.causes.indices {
                    named.causes[index].message = named.causes[index].message.replacingOccurrences(
                        of: standIn, with: name)
                }
            }
            throw named
        }
        guard !subresource.isEmpty || !standIns.isEmpty else { return merged }
        var entries = ManagedFieldsEntry.entries(of: merged)
        if !subresource.isEmpty,
            let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Apply" })
        {
            entries[index].subresource = subresource
        }
        for index in entries.indices {
            if let name = standIns[entries[index].manager] { entries[index].manager = name }
        }
        ManagedFieldsEntry.store(entries, into: &merged)
        return merged
    }

    /// Whether every conflict of `config` is a field of the live object's
    /// `kubectl.kubernetes.io/last-applied-configuration` whose live value is still the last-applied one (the
    /// fieldmanager's last-applied manager: such conflicts are forced for the manager `kubectl`).
    static func lastAppliedAllows(live: Value, config: Value, manager: String, type: ResourceType) -> Bool {
        let annotation = "kubectl.kubernetes.io/last-applied-configuration"
        guard let text = live[path: ["metadata", "annotations", annotation]]?.stringValue,
            let lastApplied = try? Value(json: text)
        else { return false }
        let schema = type.schema
        let status = type.hasStatusSubresource
        let configSet = FieldSets.of(config, schema: schema, hasStatusSubresource: status)
        let recorded = FieldSets.of(lastApplied, schema: schema, hasStatusSubresource: status)
        var others = FieldSet()
        for entry in ManagedFieldsEntry.entries(of: live)
        where !(entry.manager == manager && entry.operation == "Apply") {
            others.formUnion(entry.fields)
        }
        for path in others.intersection(configSet).paths {
            guard let last = path.last, case .field = last else { continue }
            guard let liveValue = FieldSets.lookup(live, path, schema: schema),
                liveValue != FieldSets.lookup(config, path, schema: schema)
            else { continue }
            let unchanged = FieldSets.lookup(lastApplied, path, schema: schema) == liveValue
            if !(recorded.contains(path) && unchanged) { return false }
        }
        return true
    }

    /// The `fieldManager` of a write, checked as the real server checks its options: at most 128 bytes, printable
    /// characters only (422 on the request's `CreateOptions`, `UpdateOptions` or `PatchOptions`).
    static func validateFieldManager(_ request: APIRequest) throws(APIError) {
        guard let manager = request.query["fieldManager"] else { return }
        let options: String
        switch request.method {
        case "POST": options = "CreateOptions"
        case "PUT": options = "UpdateOptions"
        case "PATCH": options = "PatchOptions"
        default: return
        }
        let cause: StatusCause
        if manager.utf8.count > 128 {
            cause = StatusCause(
                reason: "FieldValueTooLong", message: "Too long: may not be more than 128 bytes", field: "fieldManager")
        } else if manager.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            cause = StatusCause(
                reason: "FieldValueInvalid", message: "Invalid value: \"\(manager)\": invalid characters",
                field: "fieldManager")
        } else {
            return
        }
        throw .invalid(kind: options, group: "meta.k8s.io", name: "", causes: [cause])
    }
}
