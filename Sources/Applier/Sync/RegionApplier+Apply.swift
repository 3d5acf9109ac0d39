import Synchronization
import SyncCore

extension RegionApplier {
    /// Server-side applies one object unless its live state already matches: `created`, `configured` or
    /// `unchanged`.
    ///
    /// An existing object is first applied as a server-side dry run; when what the server would store equals the
    /// live object (apart from `status` and `metadata.resourceVersion`, which controllers move on their own), the
    /// apply would change nothing, so nothing is sent. The dry run is sound where a client-side comparison is not:
    /// defaults, admission webhooks and field ownership are all the server's.
    ///
    /// Applies are forced: Git is the source of truth, so a field another manager (`kubectl edit`, a script) took
    /// over is taken back, as Argo CD and Flux do with server-side apply. The drift report names that manager
    /// before the sync; fields Git does not set stay theirs.
    func apply(_ resource: Resource) async throws(ApplierError) -> ApplyAction {
        let current: Resource?
        if let cached = live?.objects([resource.ref]), !written.holdsOlder(cached.values) {
            current = cached[resource.key]
        } else {
            current = try await client.getIfPresent(resource.ref)
        }
        guard let live = current else {
            let response = try await client.apply(resource, options: ApplyOptions(force: true))
            written.record(response.resource)
            return response.created ? .created : .configured
        }
        if let settled, settled(resource, live) { return .unchanged }
        if try await dryRunMatches(resource, live: live) { return .unchanged }
        let response = try await client.apply(resource, options: ApplyOptions(force: true))
        written.record(response.resource)
        return response.created ? .created : .configured
    }

    /// ``apply(_:)`` as the region's ``Preflight`` decided it: an object it accepted is applied at once (its dry run
    /// was the check), one it marked for recreation is deleted and created again, any other takes the ordinary path.
    func apply(_ resource: Resource, preflight: Preflight?) async throws(ApplierError) -> ApplyAction {
        guard let preflight else { return try await apply(resource) }
        if preflight.recreate[resource.key] != nil { return try await recreate(resource) }
        guard preflight.accepted.contains(resource.key) else { return try await apply(resource) }
        let response = try await client.apply(resource, options: ApplyOptions(force: true))
        written.record(response.resource)
        return response.created ? .created : .configured
    }

    /// Deletes `resource` and applies it again once the server no longer has it (an immutable field changes and
    /// the object says `syncagent.io/recreate: "true"`, as Flux's `force`): `recreated`.
    func recreate(_ resource: Resource) async throws(ApplierError) -> ApplyAction {
        _ = try await client.delete(resource.ref)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while try await client.getIfPresent(resource.ref) != nil {
            if clock.now >= deadline {
                throw .invalidResponse(
                    operation: "recreate \(resource.ref)", message: "still present 120 s after its delete")
            }
            do { try await Task.sleep(for: pollInterval) } catch { throw .cancelled(url: client.context.server) }
        }
        written.record(try await client.apply(resource, options: ApplyOptions(force: true)).resource)
        return .recreated
    }

    /// The action ``apply(_:)`` would take, from a server-side dry run only; nothing is stored. An object whose
    /// kind the cluster does not serve yet (its CRD comes in the same sync) counts as `created`.
    func predict(_ resource: Resource) async throws(ApplierError) -> ApplyAction {
        let live: Resource?
        do throws(ApplierError) {
            live = try await client.getIfPresent(resource.ref)
        } catch {
            if case .unknownKind = error { return .created }
            throw error
        }
        guard let live else {
            _ = try await client.apply(resource, options: ApplyOptions(force: true, dryRun: true))
            return .created
        }
        return try await dryRunMatches(resource, live: live) ? .unchanged : .configured
    }

    /// Whether a forced server-side dry run of `resource` stores what `live` already is (``comparable(_:)``): an
    /// apply would change nothing.
    ///
    /// The two must also have the same `resourceVersion`: a live object read from a cache that has not seen the
    /// latest write yet never passes for unchanged (the dry run answers from the server's current object).
    func dryRunMatches(_ resource: Resource, live: Resource) async throws(ApplierError) -> Bool {
        let dryRun = try await client.apply(resource, options: ApplyOptions(force: true, dryRun: true))
        return Self.resourceVersion(dryRun.resource.body) == Self.resourceVersion(live.body)
            && Self.comparable(dryRun.resource.body) == Self.comparable(live.body)
    }

    static func resourceVersion(_ body: Value) -> String? {
        body[path: ["metadata", "resourceVersion"]]?.stringValue
    }

    /// An object without the parts that change without an apply: `status` and `metadata.resourceVersion`.
    static func comparable(_ body: Value) -> Value {
        var body = body
        body["status"] = nil
        if var metadata = body["metadata"] {
            metadata["resourceVersion"] = nil
            body["metadata"] = metadata
        }
        return body
    }
}

/// The generation of each object as the server answered this applier's writes (``RegionApplier/written``).
final class WrittenGenerations: Sendable {
    private let generations = Mutex<[ObjectKey: Int64]>([:])

    /// Notes `object`'s generation, as a write's answer gives it.
    func record(_ object: Resource) {
        guard let generation = object.body[path: ["metadata", "generation"]]?.intValue else { return }
        generations.withLock { $0[object.key] = max($0[object.key] ?? generation, generation) }
    }

    /// Whether nothing was written yet.
    var isEmpty: Bool { generations.withLock { $0.isEmpty } }

    /// Whether `object` is older than the last write of it (its generation is below the one that write got).
    func isOlderThanWritten(_ object: Resource) -> Bool {
        holdsOlder(CollectionOfOne(object))
    }

    /// Whether any of `objects` is older than the last write of it; one look under the lock for all of them (a
    /// preflight reads thousands), none when nothing was written.
    func holdsOlder(_ objects: some Collection<Resource>) -> Bool {
        generations.withLock { generations in
            guard !generations.isEmpty else { return false }
            return objects.contains { object in
                guard let wrote = generations[object.key],
                    let generation = object.body[path: ["metadata", "generation"]]?.intValue
                else { return false }
                return generation < wrote
            }
        }
    }
}
