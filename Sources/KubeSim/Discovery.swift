import SyncCore

/// Discovery documents: `/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`, and the server's `/version`.
enum Discovery {
    static func version() -> Value {
        [
            "major": "1", "minor": "34", "emulationMajor": "1", "emulationMinor": "34", "minCompatibilityMajor": "1",
            "minCompatibilityMinor": "33", "gitVersion": "v1.34.1", "gitCommit": "kubesim",
            "gitTreeState": "clean", "buildDate": "2025-09-09T00:00:00Z", "goVersion": "go1.24.6",
            "compiler": "gc", "platform": "linux/amd64",
        ]
    }

    static func coreVersions(address: String) -> Value {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(address)]],
        ]
    }

    static func groupList(_ registry: Registry) -> Value {
        var groups: [Value] = []
        for (group, versions) in registry.groups where !group.isEmpty {
            groups.append(self.group(group, versions: versions))
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    static func group(_ group: String, versions: [String]) -> Value {
        let sorted = versions.sorted { versionPriority($0) > versionPriority($1) }
        let entries: [Value] = sorted.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }
        return [
            "name": .string(group), "versions": .array(entries),
            "preferredVersion": entries.first ?? .null,
        ]
    }

    static func resourceList(_ registry: Registry, group: String, version: String) -> Value? {
        let types = registry.resources(group: group, version: version)
        guard !types.isEmpty else { return nil }
        var resources: [Value] = []
        for type in types {
            var entry: Value = [
                "name": .string(type.plural), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            entry["storageVersionHash"] = .string(String(stableHash(type.storageKey) % 1_000_000_000, radix: 36))
            resources.append(entry)
            if type.hasStatusSubresource
                && (type.isCustom || type.group == "apps" || type.kind == "Service" || type.kind == "Namespace"
                    || type.kind == "Pod")
            {
                resources.append([
                    "name": .string("\(type.plural)/status"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
                ])
            }
            if type.group == "apps" && ["Deployment", "StatefulSet", "ReplicaSet"].contains(type.kind) {
                resources.append([
                    "name": .string("\(type.plural)/scale"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
                ])
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion),
            "resources": .array(resources),
        ]
    }
}

/// FNV-1a: a hash that stays the same across runs (Swift's `hashValue` does not).
func stableHash(_ text: String) -> UInt64 { StableHash.of(text) }
