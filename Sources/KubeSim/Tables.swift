import SyncCore

/// `meta.k8s.io/v1` Table responses, which `kubectl get` asks for: the columns the real server prints per kind.
enum Tables {
    private struct Column {
        var name: String
        var type: String = "string"
        var format: String = ""
        var priority: Int = 0
        var cell: (Value) -> Value
    }

    static func table(fromList response: APIResponse, type: ResourceType, request: APIRequest) -> APIResponse {
        guard response.status == 200, let list = try? Value(json: response.body) else { return response }
        return build(items: list["items"]?.arrayValue ?? [], metadata: list["metadata"] ?? .emptyObject, type: type, request: request)
    }

    static func table(fromObject response: APIResponse, type: ResourceType, request: APIRequest) -> APIResponse {
        guard response.status == 200, let object = try? Value(json: response.body) else { return response }
        return build(items: [object], metadata: ["resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? ""], type: type, request: request)
    }

    private static func build(items: [Value], metadata: Value, type: ResourceType, request: APIRequest) -> APIResponse {
        let columns = self.columns(for: type)
        let includeObject = request.query["includeObject"] ?? "Metadata"
        let definitions: [Value] = columns.map {
            ["name": .string($0.name), "type": .string($0.type), "format": .string($0.format), "description": .string($0.name), "priority": .int(Int64($0.priority))]
        }
        let rows: [Value] = items.map { item in
            var row: Value = ["cells": .array(columns.map { $0.cell(item) })]
            switch includeObject {
            case "None": break
            case "Object": row["object"] = item
            default:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": item["metadata"] ?? .emptyObject]
            }
            return row
        }
        let table: Value = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": .array(definitions), "rows": .array(rows)]
        return APIResponse(status: 200, value: table)
    }

    private static func name(_ v: Value) -> Value { v[path: ["metadata", "name"]] ?? "" }
    private static func age(_ v: Value) -> Value {
        guard let created = v[path: ["metadata", "creationTimestamp"]]?.stringValue, let t = WallClock.parse(created) else { return "<unknown>" }
        return .string(humanDuration(WallClock.now() - t))
    }

    /// kubectl's short durations: 45s, 5m, 3h, 2d.
    static func humanDuration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s)s" }
        if s < 60 * 60 { return "\(s / 60)m" }
        if s < 48 * 3600 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }

    private static func int(_ v: Value, _ path: [String]) -> Int64 { v[path: path]?.intValue ?? 0 }

    private static func columns(for type: ResourceType) -> [Column] {
        let nameColumn = Column(name: "Name", format: "name", cell: name)
        let ageColumn = Column(name: "Age", cell: age)
        let containers = Column(name: "Containers", priority: 1) { v in
            .string((v[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
        }
        let images = Column(name: "Images", priority: 1) { v in
            .string((v[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
        }
        let selector = Column(name: "Selector", priority: 1) { v in
            .string((v[path: ["spec", "selector", "matchLabels"]]?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
        if type.isCustom {
            var columns = [nameColumn]
            for column in type.printerColumns {
                guard let title = column["name"]?.stringValue, let path = column["jsonPath"]?.stringValue else { continue }
                let keys = path.split(separator: ".").map(String.init)
                let kind = column["type"]?.stringValue ?? "string"
                columns.append(Column(name: title, type: kind == "date" ? "date" : kind, priority: Int(column["priority"]?.intValue ?? 0)) { v in
                    guard let found = v[path: keys] else { return .null }
                    if kind == "date", let s = found.stringValue, let t = WallClock.parse(s) { return .string(humanDuration(WallClock.now() - t)) }
                    if case .array = found { return .string(found.jsonString) }
                    return found
                })
            }
            if !type.printerColumns.contains(where: { $0["name"]?.stringValue == "Age" }) { columns.append(ageColumn) }
            return columns
        }
        switch (type.group, type.kind) {
        case ("apps", "Deployment"):
            return [
                nameColumn,
                Column(name: "Ready") { v in .string("\(int(v, ["status", "readyReplicas"]))/\(int(v, ["spec", "replicas"]))") },
                Column(name: "Up-to-date", type: "integer") { v in .int(int(v, ["status", "updatedReplicas"])) },
                Column(name: "Available", type: "integer") { v in .int(int(v, ["status", "availableReplicas"])) },
                ageColumn, containers, images, selector,
            ]
        case ("apps", "StatefulSet"):
            return [nameColumn, Column(name: "Ready") { v in .string("\(int(v, ["status", "readyReplicas"]))/\(int(v, ["spec", "replicas"]))") }, ageColumn, containers, images]
        case ("apps", "DaemonSet"):
            return [
                nameColumn,
                Column(name: "Desired", type: "integer") { v in .int(int(v, ["status", "desiredNumberScheduled"])) },
                Column(name: "Current", type: "integer") { v in .int(int(v, ["status", "currentNumberScheduled"])) },
                Column(name: "Ready", type: "integer") { v in .int(int(v, ["status", "numberReady"])) },
                Column(name: "Up-to-date", type: "integer") { v in .int(int(v, ["status", "updatedNumberScheduled"])) },
                Column(name: "Available", type: "integer") { v in .int(int(v, ["status", "numberAvailable"])) },
                Column(name: "Node Selector") { v in .string((v[path: ["spec", "template", "spec", "nodeSelector"]]?.stringMap ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",").isEmpty ? "<none>" : "") },
                ageColumn, containers, images, selector,
            ]
        case ("", "Service"):
            return [
                nameColumn,
                Column(name: "Type") { v in v[path: ["spec", "type"]] ?? "" },
                Column(name: "Cluster-IP") { v in v[path: ["spec", "clusterIP"]] ?? "" },
                Column(name: "External-IP") { v in
                    let ips = v[path: ["spec", "externalIPs"]]?.arrayValue?.compactMap(\.stringValue) ?? []
                    if !ips.isEmpty { return .string(ips.joined(separator: ",")) }
                    return v[path: ["spec", "type"]]?.stringValue == "LoadBalancer" ? "<pending>" : "<none>"
                },
                Column(name: "Port(s)") { v in
                    let ports = (v[path: ["spec", "ports"]]?.arrayValue ?? []).map { p -> String in
                        let node = p["nodePort"]?.intValue.map { ":\($0)" } ?? ""
                        return "\(p["port"]?.intValue ?? 0)\(node)/\(p["protocol"]?.stringValue ?? "TCP")"
                    }
                    return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
                },
                ageColumn,
                Column(name: "Selector", priority: 1) { v in .string((v[path: ["spec", "selector"]]?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")) },
            ]
        case ("", "Namespace"):
            return [nameColumn, Column(name: "Status") { v in v[path: ["status", "phase"]] ?? "" }, ageColumn]
        case ("", "ConfigMap"):
            return [nameColumn, Column(name: "Data", type: "integer") { v in .int(Int64((v["data"]?.objectValue?.count ?? 0) + (v["binaryData"]?.objectValue?.count ?? 0))) }, ageColumn]
        case ("", "Secret"):
            return [nameColumn, Column(name: "Type") { v in v["type"] ?? "" }, Column(name: "Data", type: "integer") { v in .int(Int64(v["data"]?.objectValue?.count ?? 0)) }, ageColumn]
        case ("", "ServiceAccount"):
            return [nameColumn, Column(name: "Secrets", type: "integer") { v in .int(Int64(v["secrets"]?.arrayValue?.count ?? 0)) }, ageColumn]
        case ("", "Pod"):
            return [
                nameColumn,
                Column(name: "Ready") { v in
                    let statuses = v[path: ["status", "containerStatuses"]]?.arrayValue ?? []
                    let total = v[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
                    return .string("\(statuses.filter { $0["ready"]?.boolValue == true }.count)/\(total)")
                },
                Column(name: "Status") { v in v[path: ["status", "phase"]] ?? "Pending" },
                Column(name: "Restarts", type: "integer") { _ in 0 },
                ageColumn,
            ]
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            return [nameColumn, Column(name: "Created At", type: "date") { v in v[path: ["metadata", "creationTimestamp"]] ?? "" }]
        default:
            return [nameColumn, ageColumn]
        }
    }
}
