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
    /// Seconds between a CRD's creation and its `Established` condition (and its kind being served).
    var crdEstablishSeconds: Double = 0.2
    /// Seconds between the bookmarks of a watch that allows them (`--watch-bookmark-seconds`).
    var watchBookmarkSeconds: Double = 60
    /// CRDs waiting to be established, by name → when (seconds since the epoch).
    var pendingCRDs: [String: Double] = [:]
    /// Deleted CRDs whose custom resources are still to be cleaned up, by name.
    var terminatingCRDs: Set<String> = []

    init(store: ObjectStore, regionIndex: Int) {
        self.store = store
        self.registry = .builtin
        self.ipPrefix = "10.\(96 + regionIndex)"
    }

    /// Re-derives what depends on stored objects (CRD types, allocated IPs) after a restore.
    mutating func rebuildIndexes() {
        rebuildCRDs()
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
