import SyncCore

/// What a region's preflight found before the first write anywhere (``RegionApplier/preflight(_:inventory:adoptAll:)``):
/// the live objects, which objects need no apply, which ones the server already accepted in a dry run, and every
/// reason the region refuses the revision.
public struct Preflight: Sendable {
    /// One reason a region refuses the revision, with the object and where it was written.
    public struct Refusal: Sendable, Hashable, CustomStringConvertible {
        public enum Reason: String, Sendable, Hashable {
            /// The cluster does not serve the kind and no CustomResourceDefinition in the revision defines it.
            case kindNotServed = "kind-not-served"
            /// The server's dry run refused the object (422 Invalid, 403 Forbidden, 404 for a missing namespace).
            case rejected
            /// The change touches a field the API does not let change; `syncagent.io/recreate: "true"` allows a
            /// delete and create.
            case immutable
            /// The object exists but syncagent did not create it (it is in no inventory); `syncagent.io/adopt` or
            /// `sync.adopt` takes it over.
            case adoption
        }

        public var reason: Reason
        public var object: ObjectRef
        public var source: SourceLocation?
        public var message: String

        public init(_ reason: Reason, _ object: ObjectRef, source: SourceLocation?, _ message: String) {
            self.reason = reason
            self.object = object
            self.source = source
            self.message = message
        }

        /// `mesh/base/50-alerts.yaml:1:1: monitoring.coreos.com/v1/PrometheusRule bookinfo/mesh-alerts: …`.
        public var description: String {
            (source.map { "\($0): " } ?? "") + "\(object): \(message)"
        }
    }

    /// Objects whose server-side dry run stores exactly what is live: no apply is sent.
    public var unchanged: Set<ObjectKey> = []
    /// Objects whose dry run the server accepted and that differ from live (or do not exist yet): applied without
    /// asking again.
    public var accepted: Set<ObjectKey> = []
    /// Objects deleted and created again (an immutable field changes and the object says
    /// `syncagent.io/recreate: "true"`), with the field the server named.
    public var recreate: [ObjectKey: String] = [:]
    /// Every reason the region refuses the revision; empty when it may be applied.
    public var refusals: [Refusal] = []

    public init() {}
}

extension RegionApplier {
    /// The annotation that lets syncagent take over an object it did not create.
    public static let adoptAnnotation = "syncagent.io/adopt"
    /// The annotation that lets syncagent delete and create an object again when an immutable field changes.
    public static let recreateAnnotation = "syncagent.io/recreate"

    /// Checks `plan` against the cluster before anything is written, with reads and server-side dry runs only:
    ///
    /// - every kind is served by the cluster, or defined by a CustomResourceDefinition in the plan;
    /// - no object exists live that `inventory` does not list (syncagent would take over something Git never
    ///   created), unless `adoptAll` or the object's `syncagent.io/adopt: "true"`;
    /// - every object of a served kind passes a forced server-side dry run (the same request that decides whether
    ///   the apply is needed: ``RegionApplier/execute(_:revision:readinessTimeout:preflight:)`` does not ask
    ///   again). A refusal for an immutable field is allowed by `syncagent.io/recreate: "true"` (delete, create).
    ///
    /// Not dry-run (they take the ordinary path when applied): objects of a kind a CRD in the plan defines (their
    /// schema is checked client-side by the caller) and objects in a namespace the plan creates (the server has
    /// nowhere to put them yet). With admission webhooks in the plan, no object is taken as unchanged.
    ///
    /// Throws only when the cluster cannot be read (the region is unavailable); every refusal is in the result.
    ///
    /// `settled`, when given, settles objects client-side first: an object it says is in sync with its live state
    /// (the apply would neither set nor remove anything) is `unchanged` without a dry run. With a ``ledger``, an
    /// object a proof settles is not even read, and what this preflight finds settled is proved for the next one;
    /// `digests` are the ledger's digests of the plan's manifests (``SettledLedger/digests(_:)``) when the caller
    /// made them ahead (nil: made here).
    public func preflight(
        _ plan: RegionPlan, inventory: Inventory?, adoptAll: Bool,
        settled: SettledCheck? = nil, digests: [ObjectKey: ManifestDigest]? = nil
    ) async throws(ApplierError) -> Preflight {
        let settled = settled ?? self.settled
        var result = Preflight()
        let applied = plan.applied
        // Kinds defined by the plan's CRDs, with their served versions.
        let defined = ApplyOrder.definedKinds(applied)
        // 1. Served kinds.
        let kinds = Set(applied.map(\.ref.gvk))
        var unserved = try await client.unservedKinds(kinds.filter { defined["\($0.group)/\($0.kind)"] == nil })
        for gvk in kinds {
            if let versions = defined["\(gvk.group)/\(gvk.kind)"], !versions.contains(gvk.version) {
                unserved.insert(gvk)
            }
        }
        for resource in applied where unserved.contains(resource.ref.gvk) {
            let gvk = resource.ref.gvk
            let message =
                defined["\(gvk.group)/\(gvk.kind)"] != nil
                ? "the CustomResourceDefinition in the revision does not serve version \(gvk.version) of \(gvk.kind)"
                : "the cluster does not serve \(gvk.apiVersion) \(gvk.kind), and no CustomResourceDefinition in the "
                    + "revision defines it (install its CRD first, or add the CRD to the revision)"
            result.refusals.append(.init(.kindNotServed, resource.ref, source: resource.source, message))
        }
        let served = applied.filter { !unserved.contains($0.ref.gvk) }
        let owned = inventory?.keys ?? []
        let webhooks = applied.contains { $0.ref.group == "admissionregistration.k8s.io" }

        // 2. What exists. An object of the inventory that a ledger proof settles (nobody wrote it since a pass
        // found this manifest in sync with it) is not read: its version, from the cache, is enough. With webhooks
        // in the plan nothing is settled, and once this applier wrote, the cache may lag behind its writes.
        let ledger = webhooks || settled == nil || !written.isEmpty ? nil : self.ledger
        let digests = ledger == nil ? [:] : digests ?? SettledLedger.digests(applied)
        var proven: Set<ObjectKey> = []
        if let ledger, let versions = self.live?.versions(served.map(\.ref)) {
            for resource in served where owned.contains(resource.key) {
                if let version = versions[resource.key], let digest = digests[resource.key],
                    ledger.isSettled(resource.key, version: version, digest: digest)
                {
                    proven.insert(resource.key)
                }
            }
        }
        let live = try await readLive(served.filter { !proven.contains($0.key) }.map(\.ref))

        // 3. Adoption: never take over silently what another tool created.
        for resource in served where live[resource.key] != nil && !owned.contains(resource.key) {
            if adoptAll || resource.annotation(Self.adoptAnnotation) == "true" { continue }
            let manager = Self.managers(of: live[resource.key]).first.map { " (written by \($0))" } ?? ""
            result.refusals.append(
                .init(
                    .adoption, resource.ref, source: resource.source,
                    "exists in the cluster\(manager) but syncagent did not create it (it is in no inventory); "
                        + "annotate it syncagent.io/adopt: \"true\" or set sync.adopt: true to take it over, or "
                        + "remove it from Git"))
        }

        // 4. Server-side dry runs, concurrently (the client bounds how many are on the wire).
        let creating = Set(
            applied.filter {
                $0.ref.group.isEmpty && $0.kind == "Namespace" && live[$0.key] == nil && !proven.contains($0.key)
            }.map(\.name))
        let checked = served.filter { resource in
            defined["\(resource.ref.group)/\(resource.kind)"] == nil
                && (resource.namespace.isEmpty || !creating.contains(resource.namespace))
        }
        for resource in checked where proven.contains(resource.key) { result.unchanged.insert(resource.key) }
        let verdicts = await concurrentMap(checked.filter { !proven.contains($0.key) }) {
            resource -> (Resource, DryRunVerdict) in
            // Settled client-side first (in the child task: the checks of many objects use every core).
            if !webhooks, let settled, let current = live[resource.key], settled(resource, current) {
                return (resource, .unchanged)
            }
            let verdict: DryRunVerdict
            do throws(ApplierError) {
                // The same dry run `apply` would send (``dryRunMatches(_:live:)``); a create for a new one.
                let same: Bool
                if let current = live[resource.key] {
                    same = try await dryRunMatches(resource, live: current)
                } else {
                    _ = try await client.apply(resource, options: ApplyOptions(force: true, dryRun: true))
                    same = false
                }
                verdict = same && !webhooks ? .unchanged : .accepted
            } catch {
                verdict = .refused(error)
            }
            return (resource, verdict)
        }
        for (resource, verdict) in verdicts {
            switch verdict {
            case .unchanged: result.unchanged.insert(resource.key)
            case .accepted: result.accepted.insert(resource.key)
            case .refused(let error):
                if error.pointsAtCluster { throw error }
                if let field = Self.immutableField(error) {
                    if resource.annotation(Self.recreateAnnotation) == "true" {
                        result.recreate[resource.key] = field
                    } else {
                        result.refusals.append(
                            .init(
                                .immutable, resource.ref, source: resource.source,
                                "\(field) cannot be changed on a live object (the API says: \(Self.apiMessage(error))); "
                                    + "annotate it syncagent.io/recreate: \"true\" to delete and create it again"))
                    }
                } else {
                    result.refusals.append(
                        .init(.rejected, resource.ref, source: resource.source, Self.apiMessage(error)))
                }
            }
        }
        // 5. Objects of a kind a CRD in the plan defines were not dry-run: that CRD may change their schema before
        // they are applied. Where every CRD defining the kind is unchanged by this revision, they are applied under
        // today's schema, so one settled client-side now is as unchanged as at its own step, which would ask the
        // same question of the same cache.
        if !webhooks, let settled {
            for key in await Self.settledUnderStableDefinitions(
                applied, served: served, live: live, proven: proven, preflight: result, settled: settled)
            {
                result.unchanged.insert(key)
            }
            if let ledger {
                // Everything found unchanged here (settled, an equal dry run, step 5) is proved, once.
                for resource in served where result.unchanged.contains(resource.key) && !proven.contains(resource.key) {
                    Self.prove(resource, live: live, digests: digests, in: ledger)
                }
                // What stays unchanged keeps its proof (a new one where it was just checked); the rest are dropped.
                // The file is written after the region's apply (``execute``), off this path.
                ledger.keep(only: result.unchanged)
            }
        }
        let order = Dictionary(applied.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
        result.refusals.sort {
            (order[$0.object.key] ?? 0, $0.reason.rawValue) < (order[$1.object.key] ?? 0, $1.reason.rawValue)
        }
        return result
    }

    /// Notes in `ledger` that `resource` was found in sync with its live object (read in `live`).
    private static func prove(
        _ resource: Resource, live: [ObjectKey: Resource], digests: [ObjectKey: ManifestDigest],
        in ledger: SettledLedger
    ) {
        guard let current = live[resource.key], let version = LiveVersion(of: current.body),
            let digest = digests[resource.key]
        else { return }
        ledger.prove(resource.key, version: version, digest: digest)
    }

    /// The objects among `served` of a kind that CRDs in `applied` define, all of them found unchanged by the
    /// `preflight` so far, that exist live and that a ledger proof (`proven`) or `settled` finds in sync: checked
    /// concurrently.
    private static func settledUnderStableDefinitions(
        _ applied: [Resource], served: [Resource], live: [ObjectKey: Resource], proven: Set<ObjectKey>,
        preflight: Preflight, settled: @escaping SettledCheck
    ) async -> [ObjectKey] {
        var stable: Set<String> = []
        var changing: Set<String> = []
        for resource in applied {
            guard let kind = ApplyOrder.definedKind(resource) else { continue }
            if preflight.unchanged.contains(resource.key) {
                stable.insert(kind)
            } else {
                changing.insert(kind)
            }
        }
        stable.subtract(changing)
        guard !stable.isEmpty else { return [] }
        let candidates = served.filter { stable.contains("\($0.ref.group)/\($0.kind)") }
        var keys: [ObjectKey] = []
        var checked: [(Resource, Resource)] = []
        for resource in candidates {
            if proven.contains(resource.key) {
                keys.append(resource.key)
            } else if let current = live[resource.key] {
                checked.append((resource, current))
            }
        }
        keys += await concurrentMap(checked) { resource, current in settled(resource, current) ? resource.key : nil }
            .compactMap { $0 }
        return keys
    }

    private enum DryRunVerdict: Sendable {
        case unchanged
        case accepted
        case refused(ApplierError)
    }

    /// The field a refusal says cannot change ("field is immutable"), or nil for any other refusal.
    static func immutableField(_ error: ApplierError) -> String? {
        guard let status = error.status, status.code == 422 || status.reason == .invalid else { return nil }
        if let cause = status.causes.first(where: { $0.message.contains("immutable") }) {
            return cause.field.isEmpty ? "a field" : cause.field
        }
        return status.message.contains("field is immutable") ? "a field" : nil
    }

    /// The API's own words for a refusal: `Invalid (422): …` without the request line.
    static func apiMessage(_ error: ApplierError) -> String {
        guard let status = error.status else { return "\(error)" }
        return "\(status)"
    }

    /// The field managers in an object's managedFields, in order.
    static func managers(of object: Resource?) -> [String] {
        (object?.body[path: ["metadata", "managedFields"]]?.arrayValue ?? []).compactMap { $0["manager"]?.stringValue }
    }
}

extension Resource {
    /// The value of annotation `key`, when set.
    func annotation(_ key: String) -> String? {
        body[path: ["metadata", "annotations", key]]?.stringValue
    }
}
