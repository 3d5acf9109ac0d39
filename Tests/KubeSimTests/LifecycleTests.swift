import Foundation
import SyncCore
import Testing
import TestSupport

/// Deletion as the real server does it (finalizers, Terminating namespaces) and watches that follow objects in and
/// out of their selectors.
@Suite
struct LifecycleTests {
    static let held = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: held
          namespace: shop
          finalizers: [example.com/hold]
        data: {a: "1"}
        """

    @Test func aNamespaceWithAFinalizedObjectStaysTerminatingUntilTheFinalizerIsRemoved() async throws {
        let sim = try await KubeSimCluster()
        try await sim.kubectlChecked(["create", "namespace", "shop"])
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: Self.held)
        try await sim.kubectlChecked(["create", "configmap", "plain", "-n", "shop", "--from-literal=b=2"])

        try await sim.kubectlChecked(["delete", "namespace", "shop", "--wait=false"])
        // The namespace controller deletes what it can; the finalized object is only marked.
        try await waitUntil(timeout: 30, "plain deleted") {
            try await sim.request("GET", "/api/v1/namespaces/shop/configmaps/plain").status == 404
        }
        let phase = try await sim.kubectlChecked(["get", "namespace", "shop", "-o", "jsonpath={.status.phase}"])
        #expect(phase == "Terminating")
        let marked = try await Value(json: try sim.request("GET", "/api/v1/namespaces/shop/configmaps/held").body)
        #expect(marked[path: ["metadata", "deletionTimestamp"]]?.stringValue?.isEmpty == false)
        try await waitUntil(timeout: 30, "the namespace's conditions name what remains") {
            let ns = try await Value(json: try sim.request("GET", "/api/v1/namespaces/shop").body)
            let conditions = ns[path: ["status", "conditions"]]?.arrayValue ?? []
            return conditions.contains {
                $0["type"] == "NamespaceFinalizersRemaining"
                    && $0["message"]?.stringValue?.contains("example.com/hold in 1 resource instances") == true
            }
        }

        // Nothing new may be created in it: 403, as the real server answers.
        let refused = try await sim.kubectl(["create", "configmap", "late", "-n", "shop", "--from-literal=c=3"])
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("unable to create new content in namespace shop because it is being terminated"),
            "\(refused.stderr)")
        let raw = try await sim.request(
            "POST", "/api/v1/namespaces/shop/configmaps",
            body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}"#)
        #expect(raw.status == 403)
        #expect(
            try Value(json: raw.body)[path: ["details", "causes"]]?.arrayValue?.first?["reason"]
                == "NamespaceTerminating")
        // Finalizers of an object being deleted can be removed, never added.
        let added = try await sim.request(
            "PATCH", "/api/v1/namespaces/shop/configmaps/held",
            body: #"{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}"#,
            contentType: "application/merge-patch+json")
        #expect(added.status == 422)
        #expect(added.body.contains("no new finalizers can be added"))

        // Removing the finalizer lets the object go, and then the namespace.
        try await sim.kubectlChecked([
            "patch", "configmap", "held", "-n", "shop", "--type=merge", "-p", #"{"metadata":{"finalizers":null}}"#,
        ])
        try await sim.kubectlChecked(["wait", "--for=delete", "namespace/shop", "--timeout=30s"])
        await #expect(try sim.request("GET", "/api/v1/namespaces/shop/configmaps/held").status == 404)
    }

    @Test func anObjectWithAFinalizerIsMarkedAndDeletedByTheUpdateThatRemovesIt() async throws {
        let sim = try await KubeSimCluster()
        let base = "/api/v1/namespaces/default/configmaps"
        let body = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"held","finalizers":["example.com/x"]}}"#
        await #expect(try sim.request("POST", base, body: body).status == 201)
        let listed = try await Value(json: try sim.request("GET", base).body)
        let version = listed[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""

        let first = try await sim.request("DELETE", "\(base)/held")
        #expect(first.status == 200)
        let marked = try Value(json: first.body)
        let timestamp = marked[path: ["metadata", "deletionTimestamp"]]?.stringValue
        #expect(timestamp?.isEmpty == false)
        // A second DELETE changes nothing: the same deletionTimestamp.
        let second = try await Value(json: try sim.request("DELETE", "\(base)/held").body)
        #expect(second[path: ["metadata", "deletionTimestamp"]]?.stringValue == timestamp)
        await #expect(try sim.request("GET", "\(base)/held").status == 200)

        let cleared = try await sim.request(
            "PATCH", "\(base)/held", body: #"{"metadata":{"finalizers":null}}"#,
            contentType: "application/merge-patch+json")
        #expect(cleared.status == 200)
        await #expect(try sim.request("GET", "\(base)/held").status == 404)
        let events = try await sim.request("GET", "\(base)?watch=true&timeoutSeconds=1&resourceVersion=\(version)")
            .body.split(separator: "\n").map { try Value(json: String($0)) }
        #expect(events.map { $0["type"]?.stringValue ?? "" } == ["MODIFIED", "DELETED"])
        #expect(events.last?[path: ["object", "metadata", "finalizers"]] == nil)
    }

    @Test func aWatchWithASelectorSeesObjectsLeaveAndEnterIt() async throws {
        let sim = try await KubeSimCluster()
        let base = "/api/v1/namespaces/default/configmaps"
        await #expect(
            try sim.request(
                "POST", base,
                body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"tier":"web"}}}"#
            ).status == 201)
        let listed = try await Value(json: try sim.request("GET", base).body)
        let version = listed[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
        func relabel(_ tier: String) async throws {
            let patch = #"{"metadata":{"labels":{"tier":"\#(tier)"}}}"#
            await #expect(
                try sim.request("PATCH", "\(base)/a", body: patch, contentType: "application/merge-patch+json").status
                    == 200)
        }
        try await relabel("db")  // leaves tier=web
        try await relabel("web")  // enters it again
        let patch = #"{"data":{"k":"v"}}"#
        await #expect(
            try sim.request("PATCH", "\(base)/a", body: patch, contentType: "application/merge-patch+json").status
                == 200)
        let events = try await sim.request(
            "GET", "\(base)?watch=true&timeoutSeconds=1&labelSelector=tier%3Dweb&resourceVersion=\(version)"
        ).body.split(separator: "\n").map { try Value(json: String($0)) }
        #expect(events.map { $0["type"]?.stringValue ?? "" } == ["DELETED", "ADDED", "MODIFIED"])
        // The DELETED event shows the object as the watch last matched it, at the change's resourceVersion.
        #expect(events.first?[path: ["object", "metadata", "labels", "tier"]] == "web")
        let versions = events.compactMap { $0[path: ["object", "metadata", "resourceVersion"]]?.stringValue }
        #expect(Set(versions).count == 3)
    }
}
