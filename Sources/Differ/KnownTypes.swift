import SyncCore

/// Normalisation that specific kinds need, applied to both sides before comparing.
enum KnownTypes {
    /// - ClusterRole with an `aggregationRule` (when ignored): `rules` are the aggregation controller's.
    /// - Endpoints: addresses and ports are sets; the API server does not keep their order.
    static func normalize(_ object: Value, key: ObjectKey, desired: Value, options: DiffOptions) -> Value {
        var object = object
        switch (key.group, key.kind) {
        case ("rbac.authorization.k8s.io", "ClusterRole"):
            if options.ignoreAggregatedRoles, let rule = desired["aggregationRule"], !rule.isNull {
                object["rules"] = nil
            }
        case ("", "Endpoints"):
            if var subsets = object["subsets"]?.arrayValue {
                for index in subsets.indices {
                    for (list, by) in [("addresses", ["ip"]), ("notReadyAddresses", ["ip"]), ("ports", ["name", "port"])] {
                        guard let items = subsets[index][list]?.arrayValue else { continue }
                        subsets[index][list] = .array(items.sorted { sortKey($0, by) < sortKey($1, by) })
                    }
                }
                object["subsets"] = .array(subsets)
            }
        default: break
        }
        return object
    }

    private static func sortKey(_ item: Value, _ fields: [String]) -> String {
        fields.map { item[$0]?.jsonString ?? "" }.joined(separator: "\u{0}")
    }
}
