import SyncCore

/// Everything a region's API holds, kept under one lock: objects, resource types (built-ins plus CRDs), the service
/// IP allocator. Every method runs with the lock held and never blocks.
struct RegionState: Sendable {
    var store: ObjectStore
    var registry: Registry
    /// Cluster IPs in use → the service holding them.
    var allocatedIPs: Set<String> = []
    var nextIP: UInt32 = 10
    /// The region's service range: 10.(96+index).0.0/16.
    let ipPrefix: String
    /// Bumped on every change that the controllers or telemetry care about.
    var generationCounter: UInt64 = 0

    init(store: ObjectStore, regionIndex: Int) {
        self.store = store
        self.registry = .builtin
        self.ipPrefix = "10.\(96 + regionIndex)"
    }

    /// Re-derives what depends on stored objects (CRD types, allocated IPs) after a restore.
    mutating func rebuildIndexes() {
        for crd in store.list("apiextensions.k8s.io/customresourcedefinitions", namespace: nil) {
            registry.add(crd: crd.value)
        }
        for service in store.list("/services", namespace: nil) {
            for ip in service.value[path: ["spec", "clusterIPs"]]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                allocatedIPs.insert(ip)
            }
        }
    }

    /// The next free cluster IP of the region's range.
    mutating func allocateIP() -> String {
        while true {
            let candidate = "\(ipPrefix).\(nextIP / 256 % 256).\(nextIP % 256)"
            nextIP += 1
            if nextIP >= 65534 { nextIP = 10 }
            if !allocatedIPs.contains(candidate) {
                allocatedIPs.insert(candidate)
                return candidate
            }
        }
    }
}
