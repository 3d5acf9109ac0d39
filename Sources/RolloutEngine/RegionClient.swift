import Applier
import Differ
import Foundation
import Logging
import SyncCore

/// One region's cluster, as the diff and drift commands read it: live objects, dry-run applies (field manager
/// `syncagent`, forced, so another manager's fields never block a prediction) and the inventory.
public struct RegionClient: Sendable {
    public let region: RegionTarget
    public let client: KubeClient

    public init(_ region: RegionTarget, logger: Logger) throws {
        self.region = region
        let kubeconfig = try Kubeconfig.loadDefault(explicitFile: region.kubeconfig)
        var logger = logger
        logger[metadataKey: "region"] = "\(region.name)"
        client = try KubeClient(
            kubeconfig: kubeconfig, context: region.context, options: KubeClientOptions(maxConcurrentRequests: 32),
            logger: logger)
    }

    /// The region's inventory ConfigMap, or nil when none is recorded.
    public func inventory() async throws -> Inventory? {
        guard let configMap = try await client.getIfPresent(Inventory.configMapRef) else { return nil }
        return try Inventory(configMap: configMap.body)
    }

    /// Live objects, dry-run predictions and ownership for `desired`, compared; objects fetched concurrently. In
    /// server-side mode, objects that are in sync by ``Differ/diffWithoutDryRun(desired:live:options:ownership:)`` are
    /// not dry-run.
    public func diff(desired all: [Resource], options: DiffOptions, inventory: Inventory?) async throws -> RegionDiff {
        let dryRun = options.mode == .serverSide
        // Kinds the cluster does not serve: reported as `kind-not-served` (or `missing-live` when a CRD in the
        // revision defines them), and everything else still compared.
        let defined = ApplyOrder.definedKinds(all)
        let unserved = try await client.unservedKinds(Set(all.map(\.ref.gvk)))
        let notServed = Set(
            all.filter { unserved.contains($0.ref.gvk) && defined["\($0.ref.group)/\($0.kind)"] == nil }.map(\.key))
        let desired = all.filter { !unserved.contains($0.ref.gvk) }
        let desiredKeys = Set(desired.map(\.key))
        let extraRefs = (inventory?.objects ?? []).filter { !desiredKeys.contains($0.key) }
        var live: [Value] = []
        var predicted: [ObjectKey: Value] = [:]
        var compared: [ObjectKey: ResourceDiff] = [:]
        let ownership = Ownership(inventory: inventory)
        // Many objects of one kind in one namespace: one list instead of a get each.
        let groups = Dictionary(grouping: desired) { GroupKey(gvk: $0.ref.gvk, namespace: $0.namespace) }
        var listed: [ObjectKey: Value] = [:]
        var listedGroups: Set<GroupKey> = []
        try await withThrowingTaskGroup(of: (GroupKey, [Resource]).self) { group in
            for (key, members) in groups where members.count >= 8 && !key.namespace.isEmpty {
                group.addTask {
                    // Bound before the tuple is built (a Swift 6.3.1 -O miscompile, docs/compiler-crash.md).
                    let items = try await client.list(key.gvk, namespace: key.namespace).items
                    return (key, items)
                }
            }
            for try await (key, items) in group {
                listedGroups.insert(key)
                for item in items { listed[item.key] = item.body }
            }
        }
        try await withThrowingTaskGroup(of: (Value?, (ObjectKey, Value)?, ResourceDiff?).self) { group in
            for resource in desired {
                let wasListed = listedGroups.contains(GroupKey(gvk: resource.ref.gvk, namespace: resource.namespace))
                let known = listed[resource.key]
                group.addTask {
                    let found: Value?
                    if wasListed { found = known } else { found = try await client.getIfPresent(resource.ref)?.body }
                    guard let found else { return (nil, nil, nil) }
                    guard dryRun else { return (found, nil, nil) }
                    // Client-side first: an object that certainly needs no change skips the dry-run (and is reported
                    // as compared client-side); only objects that look changed are confirmed by the server.
                    if let done = Differ.diffWithoutDryRun(
                        desired: resource, live: found, options: options, ownership: ownership)
                    {
                        return (found, nil, done)
                    }
                    let response = try await client.apply(
                        resource, options: ApplyOptions(force: true, dryRun: true, fieldManager: options.fieldManager))
                    return (found, (resource.key, response.resource.body), nil)
                }
            }
            for ref in extraRefs {
                group.addTask {
                    // An inventory object whose kind is no longer served (its CRD was removed) is gone with it.
                    do throws(ApplierError) {
                        return (try await client.getIfPresent(ref)?.body, nil, nil)
                    } catch {
                        if case .unknownKind = error { return (nil, nil, nil) }
                        throw error
                    }
                }
            }
            for try await (object, prediction, done) in group {
                if let object { live.append(object) }
                if let prediction { predicted[prediction.0] = prediction.1 }
                if let done { compared[done.ref.key] = done }
            }
        }
        return Differ.diff(
            region: region.name, desired: all, live: live, predicted: predicted, options: options,
            ownership: ownership, compared: compared, notServed: notServed)
    }
}

/// A kind in a namespace: the unit one list request covers.
private struct GroupKey: Hashable, Sendable {
    public var gvk: GroupVersionKind
    public var namespace: String
}
