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

    /// A region's view through an existing client (the agent's long-lived one).
    public init(_ region: RegionTarget, client: KubeClient) {
        self.region = region
        self.client = client
    }

    public init(
        _ region: RegionTarget, logger: Logger,
        options: KubeClientOptions = KubeClientOptions(maxConcurrentRequests: 32)
    ) throws {
        self.region = region
        let kubeconfig = try Kubeconfig.loadDefault(explicitFile: region.kubeconfig)
        var logger = logger
        logger[metadataKey: "region"] = "\(region.name)"
        client = try KubeClient(kubeconfig: kubeconfig, context: region.context, options: options, logger: logger)
    }

    /// The region's inventory ConfigMap, or nil when none is recorded.
    public func inventory() async throws -> Inventory? {
        guard let configMap = try await client.getIfPresent(Inventory.configMapRef) else { return nil }
        return try Inventory(configMap: configMap.body)
    }

    /// Live objects, dry-run predictions and ownership for `desired`, compared; objects fetched concurrently. In
    /// server-side mode, objects that are in sync by ``Differ/diffWithoutDryRun(desired:live:options:ownership:)`` are
    /// not dry-run.
    ///
    /// With `cache` current for the kinds involved, live objects are read from it (no list, no get); only objects
    /// that look changed are sent to the server (their dry run). `only` restricts the comparison to those objects
    /// (the drift checker re-compares what a watch event touched).
    ///
    /// Without a cache, objects are read by bounded lists and GETs (``read(_:single:)``), those `readAhead` holds
    /// excepted. With `ledger` (what syncs in this region proved settled, ``SettledLedger``), an object of the
    /// inventory read so that a proof settles is in sync without being parsed or compared: nobody wrote it since a
    /// sync found this very manifest in sync with it. Only where the proof answers the question asked: server-side,
    /// for the field manager `syncagent`, webhook mutations ignored, and no admission webhook in `desired`.
    public func diff(
        desired all: [Resource], options: DiffOptions, inventory: Inventory?, cache: LiveCache? = nil,
        only: Set<ObjectKey>? = nil, ledger: SettledLedger? = nil, readAhead: ReadAhead? = nil
    ) async throws -> RegionDiff {
        // Kinds the cluster does not serve: reported as `kind-not-served` (or `missing-live` when a CRD in the
        // revision defines them), and everything else still compared.
        let defined = ApplyOrder.definedKinds(all)
        let unserved = try await client.unservedKinds(Set(all.map(\.ref.gvk)))
        let notServed = Set(
            all.filter { unserved.contains($0.ref.gvk) && defined["\($0.ref.group)/\($0.kind)"] == nil }.map(\.key))
        let selected = only.map { keys in all.filter { keys.contains($0.key) } } ?? all
        let desired = selected.filter { !unserved.contains($0.ref.gvk) }
        let desiredKeys = Set(all.map(\.key))
        let extraRefs = (inventory?.objects ?? []).filter {
            !desiredKeys.contains($0.key) && (only?.contains($0.key) ?? true)
        }
        let ownership = Ownership(inventory: inventory)
        // From the cache when it is current for every kind (an extra whose kind is no longer served is gone).
        if let cache {
            let unservedExtras = try await client.unservedKinds(Set(extraRefs.map(\.gvk)))
            let extras = extraRefs.filter { !unservedExtras.contains($0.gvk) }
            if let cached = cache.objects(desired.map(\.ref) + extras) {
                var listed: [ObjectKey: Listed] = [:]
                for (_, object) in cached { listed[object.key] = .parsed(object.body) }
                return try await compare(
                    selected, desired: desired, extraRefs: extras, options: options, ownership: ownership,
                    notServed: notServed, listed: listed, fromCache: true)
            }
        }
        let proofs = ledger.flatMap { Self.proves(options, desired: all) ? $0 : nil }
        // What was read ahead (the inventory's objects, while the revision rendered), then the rest.
        var read = readAhead ?? ReadAhead()
        read.merge(
            try await self.read(
                desired.filter { !read.knows($0.key, namespace: $0.namespace, gvk: $0.ref.gvk) }.map(\.ref),
                single: false, metadata: proofs != nil))
        return try await compare(
            selected, desired: desired, extraRefs: extraRefs, options: options, ownership: ownership,
            notServed: notServed, listed: read.listed, listedGroups: read.listedGroups, absent: read.absent,
            fromCache: false,
            proofs: proofs.map { ($0, inventory?.keys ?? []) })
    }

    /// Live objects read ahead for ``diff(desired:options:inventory:cache:only:ledger:readAhead:)``.
    public struct ReadAhead: Sendable {
        fileprivate var listed: [ObjectKey: Listed] = [:]
        /// Groups listed whole: an object of one that is not in `listed` does not exist.
        fileprivate var listedGroups: Set<GroupKey> = []
        /// Objects read one by one and found missing.
        fileprivate var absent: Set<ObjectKey> = []

        public init() {}

        fileprivate func knows(_ key: ObjectKey, namespace: String, gvk: GroupVersionKind) -> Bool {
            listed[key] != nil || absent.contains(key)
                || listedGroups.contains(GroupKey(gvk: gvk, namespace: namespace))
        }

        fileprivate mutating func merge(_ other: ReadAhead) {
            listed.merge(other.listed) { mine, _ in mine }
            listedGroups.formUnion(other.listedGroups)
            absent.formUnion(other.absent)
        }
    }

    /// The live objects `inventory` names, of kinds the cluster serves, read as ``diff`` reads objects (bounded
    /// lists, GETs, kept as bytes): a one-shot diff reads them while the revision renders, and the diff then reads
    /// only what the revision adds.
    ///
    /// `forProofs`: the diff will take a settled ledger's proofs (``proves(_:desired:)``), so cluster-scoped kinds may
    /// be listed for their metadata alone (``read(_:single:metadata:)``).
    public func readAhead(_ inventory: Inventory, forProofs: Bool = false) async throws -> ReadAhead {
        let unserved = try await client.unservedKinds(Set(inventory.objects.map(\.gvk)))
        return try await read(
            inventory.objects.filter { !unserved.contains($0.gvk) }, single: true, metadata: forProofs)
    }

    /// Reads `refs`: several of one kind in one namespace by one list instead of a get each, kept as bytes (an
    /// item is parsed only when compared: not when a proof settles it, nor when it is no desired object). One page
    /// of at most twice the objects wanted (and 8 more): a namespace holding many others of the kind is not read
    /// whole, its objects not on that page are read one by one. Never Secrets: others' data is not read. With
    /// `single`, the objects no list covers are read by a GET each; otherwise they are left to ``compare``.
    ///
    /// Several Namespaces are listed too (small objects, and often name-only manifests, which no proof settles). With
    /// `metadata` (proofs will answer the diff), lists that would read many objects not ours ask for metadata alone:
    /// several objects of another cluster-scoped kind (a cluster's CustomResourceDefinitions are megabytes, most of
    /// them not ours), and a kind with one object in each of several namespaces (one list across the namespaces
    /// instead of a GET each). An object a proof settles is then never read whole; the others are read by a GET each
    /// when compared. A list the credentials may not make (403) leaves its objects to GETs.
    private func read(_ refs: [ObjectRef], single: Bool, metadata: Bool = false) async throws -> ReadAhead {
        var read = ReadAhead()
        let client = client
        let groups = Dictionary(grouping: refs) { GroupKey(gvk: $0.gvk, namespace: $0.namespace) }
        /// One bounded list: `namespace` nil lists a cluster-scoped kind, or a namespaced kind in every namespace;
        /// `covers` are the groups it answers for when complete.
        struct Listing: Sendable {
            var gvk: GroupVersionKind
            var namespace: String?
            var wanted: Int
            var metadataOnly: Bool
            var covers: [GroupKey]
        }
        var listings: [Listing] = []
        var singles: [GroupVersionKind: [GroupKey]] = [:]
        for (key, members) in groups where !(key.gvk.group.isEmpty && key.gvk.kind == "Secret") {
            if !key.namespace.isEmpty {
                if members.count >= 2 {
                    listings.append(
                        Listing(
                            gvk: key.gvk, namespace: key.namespace, wanted: members.count, metadataOnly: false,
                            covers: [key]))
                } else if metadata {
                    singles[key.gvk, default: []].append(key)
                }
            } else if members.count >= 2 && (metadata || key.gvk == Self.namespaceKind) {
                listings.append(
                    Listing(
                        gvk: key.gvk, namespace: nil, wanted: members.count,
                        metadataOnly: key.gvk != Self.namespaceKind, covers: [key]))
            }
        }
        for (gvk, keys) in singles where keys.count >= 2 {
            listings.append(Listing(gvk: gvk, namespace: nil, wanted: keys.count, metadataOnly: true, covers: keys))
        }
        try await withThrowingTaskGroup(of: (Listing, RawResourceList?).self) { group in
            for listing in listings {
                group.addTask {
                    // A list with no namespace reads a cluster-scoped kind for objects written without one, and a
                    // namespaced kind for objects written with one (a namespaced kind written without a namespace
                    // is in the context's, which such a list would not name; a cluster-scoped kind written with a
                    // namespace is not in it).
                    let namespaced = try await client.resource(for: listing.gvk).namespaced
                    let spansNamespaces = listing.covers.contains { !$0.namespace.isEmpty }
                    guard namespaced == spansNamespaces else { return (listing, nil) }
                    do throws(ApplierError) {
                        // Bound before the tuple is built (a Swift 6.3.1 -O miscompile, docs/compiler-crash.md).
                        let list = try await client.listRaw(
                            listing.gvk, namespace: listing.namespace, pageSize: 2 * listing.wanted + 8, maxPages: 1,
                            metadataOnly: listing.metadataOnly)
                        return (listing, list)
                    } catch {
                        if error.status?.reason == .forbidden { return (listing, nil) }
                        throw error
                    }
                }
            }
            for try await (listing, list) in group {
                guard let list else { continue }
                if list.complete { read.listedGroups.formUnion(listing.covers) }
                for item in list.items {
                    if !item.metadataOnly {
                        read.listed[item.key] = .raw(RawObject(listed: item, of: listing.gvk))
                    } else if read.listed[item.key] == nil {
                        // Never over an object's bytes: a list across namespaces also holds those of namespaces
                        // listed whole.
                        read.listed[item.key] = .metadata(LiveVersion(scanned: item.uid, item.resourceVersion))
                    }
                }
            }
        }
        guard single else { return read }
        let rest = refs.filter { !read.knows($0.key, namespace: $0.namespace, gvk: $0.gvk) }
        let found = try await concurrentMap(rest) { ref in (ref.key, try await client.getRawIfPresent(ref)) }
        for (key, raw) in found {
            if let raw { read.listed[key] = .raw(raw) } else { read.absent.insert(key) }
        }
        return read
    }

    /// Whether a settled ledger's proofs (``RegionConnections/settleChecker``) answer a diff with `options`: they
    /// are the client-side settle check's, for the manager `syncagent`, which stands for a server-side dry run
    /// only where webhook mutations are ignored and no admission webhook is being configured.
    public static func proves(_ options: DiffOptions, desired: [Resource]) -> Bool {
        options.mode == .serverSide && options.fieldManager == "syncagent" && options.ignoreMutationWebhook
            && !desired.contains { $0.ref.group == "admissionregistration.k8s.io" }
    }

    private static let namespaceKind = GroupVersionKind(group: "", version: "v1", kind: "Namespace")

    /// A live object as it was read: parsed (from the cache), the bytes a list or a GET returned, or only that it
    /// exists and at which version (a metadata list: nil when its uid or resourceVersion is missing).
    fileprivate enum Listed: Sendable {
        case parsed(Value)
        case raw(RawObject)
        case metadata(LiveVersion?)
    }

    /// The comparison once the live objects are known (`fromCache`: all of them are in `listed`, absent ones do not
    /// exist) or partly known (those in `listed`, those known `absent`, and every one of the `listedGroups`, listed
    /// whole; the rest are read one by one). With `proofs`, an object of `owned` read as bytes that a proof settles
    /// is not parsed.
    private func compare(
        _ selected: [Resource], desired: [Resource], extraRefs: [ObjectRef], options: DiffOptions, ownership: Ownership,
        notServed: Set<ObjectKey>, listed: [ObjectKey: Listed], listedGroups: Set<GroupKey> = [],
        absent: Set<ObjectKey> = [], fromCache: Bool,
        proofs: (ledger: SettledLedger, owned: Set<ObjectKey>)? = nil
    ) async throws -> RegionDiff {
        let dryRun = options.mode == .serverSide
        var live: [Value] = []
        var predicted: [ObjectKey: Value] = [:]
        var compared: [ObjectKey: ResourceDiff] = [:]
        enum Work: Sendable {
            case desired(Resource, wasListed: Bool, known: Listed?)
            case extra(ObjectRef, known: Listed?)
        }
        var work: [Work] = desired.map { resource in
            .desired(
                resource,
                wasListed: fromCache || listed[resource.key] != nil || absent.contains(resource.key)
                    || listedGroups.contains(GroupKey(gvk: resource.ref.gvk, namespace: resource.namespace)),
                known: listed[resource.key])
        }
        work += extraRefs.map { .extra($0, known: listed[$0.key]) }
        let client = client
        /// An object of the inventory that a proof settles, when the proofs answer this diff.
        @Sendable func settled(_ resource: Resource, _ version: LiveVersion?) -> ResourceDiff? {
            guard let proofs, proofs.owned.contains(resource.key), let version,
                let digest = SettledLedger.digest(resource),
                proofs.ledger.isSettled(resource.key, version: version, digest: digest)
            else { return nil }
            // Never parsed: in sync by the proof, as the client-side check found it then.
            return ResourceDiff(
                ref: resource.ref, drift: .inSync, changes: [], mode: .clientSide, live: nil, target: nil)
        }
        let outcomes = try await concurrentMap(work) { item -> (Value?, (ObjectKey, Value)?, ResourceDiff?) in
            switch item {
            case .desired(let resource, let wasListed, let known):
                let found: Value?
                if wasListed {
                    switch known {
                    case nil: found = nil
                    case .parsed(let value): found = value
                    case .raw(let raw):
                        if let done = settled(resource, raw.version) { return (nil, nil, done) }
                        found = try raw.value()
                    case .metadata(let version):
                        if let done = settled(resource, version) { return (nil, nil, done) }
                        // Not settled: read whole (and again the proof: it may have been written since).
                        guard let raw = try await client.getRawIfPresent(resource.ref) else { return (nil, nil, nil) }
                        if let done = settled(resource, raw.version) { return (nil, nil, done) }
                        found = try raw.value()
                    }
                } else if proofs != nil {
                    guard let raw = try await client.getRawIfPresent(resource.ref) else { return (nil, nil, nil) }
                    if let done = settled(resource, raw.version) { return (nil, nil, done) }
                    found = try raw.value()
                } else {
                    found = try await client.getIfPresent(resource.ref)?.body
                }
                guard let found else { return (nil, nil, nil) }
                guard dryRun else { return (found, nil, nil) }
                // Client-side first: an object that certainly needs no change skips the dry-run (and is reported
                // as compared client-side); only objects that look changed are confirmed by the server.
                if let done = Differ.diffWithoutDryRun(
                    desired: resource, live: found, options: options, ownership: ownership, bookkeepingWrites: true)
                {
                    return (found, nil, done)
                }
                let response = try await client.apply(
                    resource, options: ApplyOptions(force: true, dryRun: true, fieldManager: options.fieldManager))
                return (found, (resource.key, response.resource.body), nil)
            case .extra(let ref, let known):
                switch known {
                case .parsed(let value): return (value, nil, nil)
                case .raw(let raw): return (try raw.value(), nil, nil)
                case .metadata: break  // read whole below
                case nil:
                    let group = GroupKey(gvk: ref.gvk, namespace: ref.namespace)
                    if fromCache || absent.contains(ref.key) || listedGroups.contains(group) { return (nil, nil, nil) }
                }
                // An inventory object whose kind is no longer served (its CRD was removed) is gone with it.
                do throws(ApplierError) {
                    return (try await client.getIfPresent(ref)?.body, nil, nil)
                } catch {
                    if case .unknownKind = error { return (nil, nil, nil) }
                    throw error
                }
            }
        }
        for (object, prediction, done) in outcomes {
            if let object { live.append(object) }
            if let prediction { predicted[prediction.0] = prediction.1 }
            if let done { compared[done.ref.key] = done }
        }
        return Differ.diff(
            region: region.name, desired: selected, live: live, predicted: predicted, options: options,
            ownership: ownership, compared: compared, notServed: notServed)
    }
}

/// A kind in a namespace: the unit one list request covers.
private struct GroupKey: Hashable, Sendable {
    public var gvk: GroupVersionKind
    public var namespace: String
}
