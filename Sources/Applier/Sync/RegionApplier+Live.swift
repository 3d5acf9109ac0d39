import SyncCore

extension RegionApplier {
    /// How many objects of one kind in one namespace make a list cheaper than a get each.
    static let listThreshold = 8

    /// The live objects among `refs`: from the live-state cache when it is current for their kinds (no request),
    /// else read in few requests: one list per kind and namespace holding at least
    /// ``listThreshold`` of them, a get for each of the others, all concurrently (the client bounds how many are
    /// on the wire). An object that does not exist, or whose kind the cluster does not serve yet, is absent.
    func readLive(_ refs: [ObjectRef]) async throws(ApplierError) -> [ObjectKey: Resource] {
        // Not from the cache while it holds an object older than this applier's write of it (its event is on the
        // way): a rollback must not take the revision it undoes for the one it restores.
        if let live, let cached = live.objects(refs), !written.holdsOlder(cached.values) {
            return cached
        }
        let wanted = Set(refs.map(\.key))
        let groups = Dictionary(grouping: refs) { LiveGroup(gvk: $0.gvk, namespace: $0.namespace) }
        do {
            return try await withThrowingTaskGroup(of: [Resource].self) { group in
                for (key, members) in groups {
                    if members.count >= Self.listThreshold && !key.namespace.isEmpty {
                        group.addTask {
                            do throws(ApplierError) {
                                return try await client.list(key.gvk, namespace: key.namespace).items
                            } catch {
                                if case .unknownKind = error { return [] }
                                throw error
                            }
                        }
                    } else {
                        for ref in members {
                            group.addTask {
                                do throws(ApplierError) {
                                    return try await client.getIfPresent(ref).map { [$0] } ?? []
                                } catch {
                                    if case .unknownKind = error { return [] }
                                    throw error
                                }
                            }
                        }
                    }
                }
                var live: [ObjectKey: Resource] = [:]
                for try await items in group {
                    for item in items where wanted.contains(item.key) { live[item.key] = item }
                }
                return live
            }
        } catch let error as ApplierError {
            throw error
        } catch {
            throw ApplierError.cancelled(url: client.context.server)
        }
    }

    /// The objects of `plan` that need no apply, found before the plan starts: those that exist live and whose
    /// server-side dry run (forced, field manager `syncagent`) equals live, dry-run concurrently. So a sync that
    /// changes one object of a thousand sends a thousand dry runs at once instead of two thousand requests one by
    /// one.
    ///
    /// Left out (they take the ordinary path, in plan order): objects of a kind a CustomResourceDefinition in the
    /// plan defines (its schema may change first), and everything when the plan holds admission webhooks (they may
    /// change what a dry run returns). An object whose dry run fails is left out too: its own step reports it.
    func unchangedBeforehand(_ plan: RegionPlan, live: [ObjectKey: Resource]) async -> Set<ObjectKey> {
        let applied = plan.applied
        if applied.contains(where: { $0.ref.group == "admissionregistration.k8s.io" }) { return [] }
        let defined = ApplyOrder.definedKinds(applied)
        let candidates = applied.filter { live[$0.key] != nil && defined["\($0.ref.group)/\($0.kind)"] == nil }
        let checked = candidates.compactMap { resource in live[resource.key].map { (resource, $0) } }
        let keys = await concurrentMap(checked) { resource, current in
            // A dry run that fails leaves the object to its own step, which reports it.
            (try? await dryRunMatches(resource, live: current)) == true ? resource.key : nil
        }
        return Set(keys.compactMap { $0 })
    }
}

/// A kind in a namespace: what one list request covers.
private struct LiveGroup: Hashable, Sendable {
    var gvk: GroupVersionKind
    var namespace: String
}
