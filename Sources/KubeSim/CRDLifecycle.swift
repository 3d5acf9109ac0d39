import Foundation
import SyncCore

/// A CustomResourceDefinition's life as the real server runs it:
///
/// - **Established after a delay.** A new CRD has `NamesAccepted=True` and `Established=False` (`Installing`); its
///   kind is served (discovery, requests) only once the establishing step has run, `--crd-establish-seconds` later
///   (0.2 s by default). A request for its custom resources before then gets 404, as a real cluster answers.
/// - **Deleting cleans up first.** DELETE of a CRD sets `deletionTimestamp`, the
///   `customresourcecleanup.apiextensions.k8s.io` finalizer and a `Terminating` condition
///   (`InstanceDeletionInProgress`); creating its custom resources is then refused (405). The cleanup step deletes
///   every custom resource (watches see each DELETED), removes the finalizer, and the CRD goes away.
extension RegionState {
    /// The finalizer the real server puts on a CRD being deleted until its custom resources are gone.
    static let crdCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"
    /// Where CRDs are stored.
    static let crdStorageKey = "apiextensions.k8s.io/customresourcedefinitions"

    /// Whether `type` is CustomResourceDefinition itself.
    static func isCRD(_ type: ResourceType) -> Bool {
        type.kind == "CustomResourceDefinition" && type.group == "apiextensions.k8s.io"
    }

    /// The condition of `type` in a CRD's status, if any.
    static func crdCondition(_ crd: Value, _ type: String) -> Value? {
        crd[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    /// Whether a CRD's `Established` condition is True.
    static func isEstablished(_ crd: Value) -> Bool {
        crdCondition(crd, "Established")?["status"]?.stringValue == "True"
    }

    /// The conditions the server sets on a CRD itself; a write keeps the stored ones.
    static let crdServerConditions: Set<String> = ["NamesAccepted", "Established", "Terminating"]

    /// The status a written CRD carries: accepted names, stored versions, and its conditions: the written ones (a
    /// `/status` write's; any other write keeps the stored status), with the server's own conditions as stored (a
    /// CRD not yet established stays `Installing` until the establishing step runs).
    func crdStatus(_ object: inout Value, old: Value?) {
        let names = object[path: ["spec", "names"]] ?? .emptyObject
        var accepted = names
        if accepted["listKind"] == nil, let kind = names["kind"]?.stringValue {
            accepted["listKind"] = .string(kind + "List")
        }
        if accepted["singular"] == nil, let kind = names["kind"]?.stringValue {
            accepted["singular"] = .string(kind.lowercased())
        }
        var spec = object["spec"] ?? .emptyObject
        spec["names"] = accepted
        if spec["conversion"] == nil { spec["conversion"] = ["strategy": "None"] }
        object["spec"] = spec
        let now = Value.string(WallClock.timestamp())
        var stored = old?[path: ["status", "storedVersions"]]?.arrayValue ?? []
        for version in spec["versions"]?.arrayValue ?? [] where version["storage"]?.boolValue == true {
            if let name = version["name"], !stored.contains(name) { stored.append(name) }
        }
        var server = old?[path: ["status", "conditions"]]?.arrayValue ?? []
        if server.isEmpty {
            server = [
                [
                    "type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts",
                    "message": "no conflicts found",
                ],
                [
                    "type": "Established", "status": "False", "lastTransitionTime": now, "reason": "Installing",
                    "message": "the initial names have been accepted",
                ],
            ]
        }
        // In place, so that a write that changes no condition leaves the list exactly as stored.
        var conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
        for condition in server where RegionState.crdServerConditions.contains(condition["type"]?.stringValue ?? "") {
            if let index = conditions.firstIndex(where: { $0["type"] == condition["type"] }) {
                conditions[index] = condition
            } else {
                conditions.append(condition)
            }
        }
        object["status"] = [
            "acceptedNames": accepted, "conditions": .array(conditions), "storedVersions": .array(stored),
        ]
    }

    /// After a CRD was stored: serve it when established, or schedule its establishing.
    mutating func crdStored(_ crd: Value, now: Double = WallClock.now()) {
        let name = crd[path: ["metadata", "name"]]?.stringValue ?? ""
        if crd[path: ["metadata", "deletionTimestamp"]] != nil {
            terminatingCRDs.insert(name)
            return
        }
        if RegionState.isEstablished(crd) {
            pendingCRDs[name] = nil
            registry.add(crd: crd)
        } else if crdEstablishSeconds <= 0 {
            establishCRD(name, now: now)
        } else if pendingCRDs[name] == nil {
            pendingCRDs[name] = now + crdEstablishSeconds
        }
    }

    /// Runs what is due: CRDs to establish, deleted CRDs to clean up. Returns whether anything changed.
    @discardableResult
    mutating func crdTick(now: Double) -> Bool {
        guard !pendingCRDs.isEmpty || !terminatingCRDs.isEmpty else { return false }
        var changed = false
        for (name, due) in pendingCRDs where due <= now {
            establishCRD(name, now: now)
            changed = true
        }
        for name in terminatingCRDs {
            finishCRDDeletion(name)
            changed = true
        }
        return changed
    }

    /// The establishing step: `Established=True` (`InitialNamesAccepted`), and the kind is served.
    mutating func establishCRD(_ name: String, now: Double) {
        pendingCRDs[name] = nil
        guard let stored = store.get(RegionState.crdStorageKey, namespace: "", name: name),
            stored.value[path: ["metadata", "deletionTimestamp"]] == nil
        else { return }
        var crd = stored.value
        let time = Value.string(WallClock.timestamp(now))
        var conditions = crd[path: ["status", "conditions"]]?.arrayValue ?? []
        conditions.removeAll { $0["type"]?.stringValue == "Established" }
        conditions.append([
            "type": "Established", "status": "True", "lastTransitionTime": time, "reason": "InitialNamesAccepted",
            "message": "the initial names have been accepted",
        ])
        crd["status"]?["conditions"] = .array(conditions)
        recordStatusUpdate(old: stored.value, new: &crd, now: now)
        let saved = store.put(RegionState.crdStorageKey, namespace: "", name: name, value: crd)
        registry.add(crd: saved.value)
        generationCounter += 1
    }

    /// DELETE of a CRD: the finalizer and `Terminating` condition are set and the CRD is returned (200) with its
    /// `deletionTimestamp`; the cleanup step deletes its custom resources, then the CRD.
    mutating func beginCRDDeletion(_ old: StoredObject, dryRun: Bool) -> Value {
        var crd = old.value
        if crd[path: ["metadata", "deletionTimestamp"]] == nil {
            crd["metadata"]?["deletionTimestamp"] = .string(WallClock.timestamp())
            crd["metadata"]?["deletionGracePeriodSeconds"] = 0
        }
        var finalizers = crd[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if !finalizers.contains(.string(RegionState.crdCleanupFinalizer)) {
            finalizers.append(.string(RegionState.crdCleanupFinalizer))
        }
        crd["metadata"]?["finalizers"] = .array(finalizers)
        var conditions = crd[path: ["status", "conditions"]]?.arrayValue ?? []
        if !conditions.contains(where: { $0["type"]?.stringValue == "Terminating" }) {
            conditions.append([
                "type": "Terminating", "status": "True", "lastTransitionTime": .string(WallClock.timestamp()),
                "reason": "InstanceDeletionInProgress", "message": "CustomResource deletion is in progress",
            ])
        }
        crd["status"]?["conditions"] = .array(conditions)
        if dryRun || crd == old.value { return crd }
        let name = crd[path: ["metadata", "name"]]?.stringValue ?? ""
        let saved = store.put(RegionState.crdStorageKey, namespace: "", name: name, value: crd)
        pendingCRDs[name] = nil
        terminatingCRDs.insert(name)
        generationCounter += 1
        return saved.value
    }

    /// The cleanup step: every custom resource of the CRD is deleted, then the finalizer, then the CRD itself.
    mutating func finishCRDDeletion(_ name: String) {
        terminatingCRDs.remove(name)
        guard let stored = store.get(RegionState.crdStorageKey, namespace: "", name: name) else { return }
        let crd = stored.value
        let group = crd[path: ["spec", "group"]]?.stringValue ?? ""
        let plural = crd[path: ["spec", "names", "plural"]]?.stringValue ?? ""
        let key = "\(group)/\(plural)"
        for object in store.list(key, namespace: nil) {
            store.delete(
                key, namespace: object.value[path: ["metadata", "namespace"]]?.stringValue ?? "",
                name: object.value[path: ["metadata", "name"]]?.stringValue ?? "")
        }
        var finalizers = crd[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        finalizers.removeAll { $0 == .string(RegionState.crdCleanupFinalizer) }
        if finalizers.isEmpty {
            store.delete(RegionState.crdStorageKey, namespace: "", name: name)
            registry.remove(group: group, plural: plural)
        } else if finalizers != crd[path: ["metadata", "finalizers"]]?.arrayValue {
            // Another finalizer holds the CRD: it stays (still served, creates refused), its instances gone, until
            // that finalizer is removed.
            var updated = crd
            updated["metadata"]?["finalizers"] = .array(finalizers)
            var conditions = updated[path: ["status", "conditions"]]?.arrayValue ?? []
            conditions.removeAll { $0["type"]?.stringValue == "Terminating" }
            conditions.append([
                "type": "Terminating", "status": "True", "lastTransitionTime": .string(WallClock.timestamp()),
                "reason": "InstanceDeletionCompleted", "message": "removed all instances",
            ])
            updated["status"]?["conditions"] = .array(conditions)
            store.put(RegionState.crdStorageKey, namespace: "", name: name, value: updated)
        }
        generationCounter += 1
    }

    /// Creating a custom resource while its CRD is being deleted: 405, as the real server refuses it.
    func refuseCreateWhileTerminating(_ type: ResourceType) throws(APIError) {
        guard type.isCustom else { return }
        let name = "\(type.plural).\(type.group)"
        guard
            terminatingCRDs.contains(name)
                || store.get(RegionState.crdStorageKey, namespace: "", name: name)?.value[
                    path: ["metadata", "deletionTimestamp"]] != nil
        else { return }
        throw APIError(
            code: 405, reason: "MethodNotAllowed",
            message: "create not allowed while custom resource definition is terminating")
    }

    /// Re-derives CRD bookkeeping after a restart: established CRDs are served, others scheduled, deleted ones
    /// cleaned up.
    mutating func rebuildCRDs(now: Double = WallClock.now()) {
        for crd in store.list(RegionState.crdStorageKey, namespace: nil) {
            let value = crd.value
            if RegionState.isEstablished(value) { registry.add(crd: value) }
            crdStored(value, now: now)
        }
    }

    private func recordStatusUpdate(old: Value, new: inout Value, now: Double) {
        guard let type = registry.lookup(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition")
        else { return }
        ManagedFields.recordUpdate(
            old: old, new: &new, manager: "kube-apiserver", apiVersion: "apiextensions.k8s.io/v1", type: type,
            now: WallClock.timestamp(now), subresource: "status")
    }
}

/// The apiextensions controllers of one region: establishes new CRDs when due and cleans up deleted ones, on a
/// short tick, never from request handlers.
struct CRDController: Sendable {
    let region: Region

    func run() async {
        while !Task.isCancelled {
            let now = WallClock.now()
            _ = region.withState { state in state.crdTick(now: now) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
