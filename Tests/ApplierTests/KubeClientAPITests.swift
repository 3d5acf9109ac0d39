import Applier
import Foundation
import SyncCore
import TestSupport
import Testing

/// get, list, apply, dry-run, delete, create, update and discovery against kubesim over HTTPS.
@Suite struct KubeClientAPITests {
    @Test func applyDryRunAndDeleteRoundTrip() async throws {
        let sim = try await KubeSim()
        let client = try sim.client()
        let ref = ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings")

        #expect(try await client.getIfPresent(ref) == nil)
        let created = try await client.apply(try configMap("settings", data: ["mode": "blue"]))
        #expect(created.created)
        #expect(created.resource.body[path: ["data", "mode"]] == "blue")
        let managers = created.resource.body[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        #expect(managers.contains { $0["manager"] == "syncagent" && $0["operation"] == "Apply" })

        let again = try await client.apply(try configMap("settings", data: ["mode": "blue"]))
        #expect(!again.created)
        #expect(
            again.resource.body[path: ["metadata", "resourceVersion"]]
                == created.resource.body[path: ["metadata", "resourceVersion"]])

        // A dry run answers with the change, and stores nothing.
        let dry = try await client.apply(
            try configMap("settings", data: ["mode": "green"]), options: ApplyOptions(dryRun: true))
        #expect(dry.resource.body[path: ["data", "mode"]] == "green")
        #expect(try await client.get(ref).body[path: ["data", "mode"]] == "blue")

        // Another manager owning the field: a Conflict naming it, unless forced.
        _ = try await client.apply(
            try configMap("settings", data: ["mode": "red"]),
            options: ApplyOptions(force: true, fieldManager: "kubectl-edit"))
        await #expect {
            _ = try await client.apply(try configMap("settings", data: ["mode": "blue"]))
        } throws: { error in
            guard let status = (error as? ApplierError)?.status else { return false }
            return status.reason == .conflict && status.code == 409 && "\(error)".contains("kubectl-edit")
                && "\(error)".hasPrefix("apply v1/ConfigMap default/settings: Conflict (409)")
        }
        let forced = try await client.apply(
            try configMap("settings", data: ["mode": "blue"]), options: ApplyOptions(force: true))
        #expect(forced.resource.body[path: ["data", "mode"]] == "blue")

        #expect(try await client.delete(ref, dryRun: true))
        #expect(try await client.getIfPresent(ref) != nil)
        #expect(try await client.delete(ref))
        #expect(try await client.getIfPresent(ref) == nil)
        #expect(try await client.delete(ref) == false)  // already gone: not an error
        await #expect {
            _ = try await client.get(ref)
        } throws: { error in
            let status = (error as? ApplierError)?.status
            return status?.reason == .notFound && status?.code == 404 && status?.name == "settings"
        }
    }

    @Test func namespacedObjectsWithoutNamespaceGoToTheContexts() async throws {
        let sim = try await KubeSim()
        let client = try sim.client()
        var object = try configMap("no-namespace")
        object.body["metadata"]?["namespace"] = nil
        object = try Resource(body: object.body)
        let applied = try await client.apply(object)
        #expect(applied.resource.namespace == "default")
        let namespace = try Resource(body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bookinfo"]])
        #expect(try await client.apply(namespace).resource.namespace == "")
    }

    @Test func listsWithLabelSelectorAndPaging() async throws {
        let sim = try await KubeSim()
        let client = try sim.client()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<7 {
                group.addTask {
                    _ = try await client.apply(
                        try configMap(
                            "item-\(index)", labels: ["app": "reviews", "parity": index % 2 == 0 ? "even" : "odd"]))
                }
            }
            try await group.waitForAll()
        }
        let all = try await client.list(
            GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), namespace: "default",
            labelSelector: "app=reviews", pageSize: 3)
        #expect(all.items.map(\.name).sorted() == (0..<7).map { "item-\($0)" })
        #expect(all.items.allSatisfy { $0.apiVersion == "v1" && $0.kind == "ConfigMap" })
        #expect(!all.resourceVersion.isEmpty)
        let odd = try await client.list(
            GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), labelSelector: "app=reviews,parity!=even",
            pageSize: 2)
        #expect(odd.items.map(\.name).sorted() == ["item-1", "item-3", "item-5"])
        let namespaces = try await client.list(GroupVersionKind(group: "", version: "v1", kind: "Namespace"))
        #expect(namespaces.items.contains { $0.name == "kube-system" })
    }

    @Test func createAndUpdateWithOptimisticConcurrency() async throws {
        let sim = try await KubeSim()
        let client = try sim.client()
        let created = try await client.create(try configMap("inventory", data: ["revision": "abc"]))
        await #expect {
            _ = try await client.create(try configMap("inventory"))
        } throws: { error in
            (error as? ApplierError)?.status?.reason == .alreadyExists
        }
        var changed = created
        changed.body["data"] = ["revision": "def"]
        let updated = try await client.update(changed)
        #expect(updated.body[path: ["data", "revision"]] == "def")
        // The first version's resourceVersion is stale now.
        await #expect {
            _ = try await client.update(changed)
        } throws: { error in
            (error as? ApplierError)?.status?.reason == .conflict
        }
    }

    @Test func unknownKindIsAClearError() async throws {
        let sim = try await KubeSim()
        let client = try sim.client()
        let widget = GroupVersionKind(group: "example.com", version: "v1", kind: "Widget")
        await #expect {
            _ = try await client.get(ObjectRef(gvk: widget, namespace: "default", name: "w"))
        } throws: { error in
            guard case .unknownKind(let gvk, _) = error as? ApplierError else { return false }
            return gvk == widget && "\(error)".contains("kind \"Widget\" in version \"example.com/v1\"")
        }
        // A served group/version without the kind.
        await #expect {
            _ = try await client.list(GroupVersionKind(group: "apps", version: "v1", kind: "Gadget"))
        } throws: { error in
            if case .unknownKind = error as? ApplierError { return true }
            return false
        }
    }

    @Test func discoveryFindsAKindRightAfterItsCRDIsApplied() async throws {
        let sim = try await KubeSim()
        let client = try sim.client()
        let cronTab = GroupVersionKind(group: "stable.example.com", version: "v1", kind: "CronTab")
        let object = try Resource(body: [
            "apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": ["name": "nightly", "namespace": "default"],
            "spec": ["cronSpec": "0 3 * * *", "image": "backup:1"],
        ])
        await #expect(throws: ApplierError.self) { _ = try await client.apply(object) }  // cached as unknown

        let crd = try Resource(body: try Value(json: cronTabCRD))
        _ = try await client.apply(crd)
        // The kind is served once the CRD is established (after kubesim's establishing delay, as on a real
        // cluster); each miss until then refreshes discovery again.
        var applied: ApplyResponse? = nil
        try await waitUntil(timeout: 30, "CronTab to be served") {
            applied = try? await client.apply(object)
            return applied != nil
        }
        #expect(applied?.created == true)
        #expect(try await client.resource(for: cronTab).name == "crontabs")
        #expect(try await client.resource(for: cronTab).namespaced)
        let listed = try await client.list(cronTab, namespace: "default")
        #expect(listed.items.map(\.name) == ["nightly"])
    }

    @Test func serverVersion() async throws {
        let sim = try await KubeSim()
        let version = try await sim.client().serverVersion()
        #expect(version["gitVersion"]?.stringValue?.hasPrefix("v1.") == true)
    }
}

private let cronTabCRD = #"""
    {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"crontabs.stable.example.com"},
     "spec":{"group":"stable.example.com","scope":"Namespaced",
      "names":{"plural":"crontabs","singular":"crontab","kind":"CronTab","shortNames":["ct"]},
      "versions":[{"name":"v1","served":true,"storage":true,
       "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{
         "cronSpec":{"type":"string"},"image":{"type":"string"},"replicas":{"type":"integer"}}}}}}}]}}
    """#
