import Foundation
import SyncCore
import Testing
import TestSupport

/// Metadata-only reads (`Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`), which the
/// real server has served since 1.15 and client-go's metadata client sends: a list of PartialObjectMetadata, paged
/// like the objects, and `406 NotAcceptable` for a form it cannot give unless the header offers another.
@Suite struct MetadataTests {
    static let listForm = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    static let objectForm = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

    @Test func metadataFormsCarryTheMetadataAloneAndAnUnmetFormIsNotAcceptable() async throws {
        let sim = try await KubeSimCluster()
        let base = "/api/v1/namespaces/default/configmaps"
        for name in ["a", "b", "c"] {
            let manifest =
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)","labels":{"app":"x"}},"#
                + #""data":{"secret-looking":"value-\#(name)"}}"#
            #expect(try await sim.request("POST", base, body: manifest).status == 201)
        }

        // A page of the list: metadata only (no data), each item typed PartialObjectMetadata, and the page's
        // continue token and remaining count as on a list of objects.
        let page = try await sim.request("GET", base + "?limit=2", accept: Self.listForm)
        #expect(page.status == 200, "\(page.body)")
        let list = try Value(json: page.body)
        #expect(list["kind"] == "PartialObjectMetadataList" && list["apiVersion"] == "meta.k8s.io/v1")
        let items = list["items"]?.arrayValue ?? []
        #expect(items.compactMap { $0[path: ["metadata", "name"]]?.stringValue } == ["a", "b"])
        for item in items {
            #expect(item["kind"] == "PartialObjectMetadata" && item["apiVersion"] == "meta.k8s.io/v1")
            #expect(item["data"] == nil)
            #expect(item[path: ["metadata", "uid"]]?.stringValue?.isEmpty == false)
            #expect(item[path: ["metadata", "resourceVersion"]]?.stringValue?.isEmpty == false)
            #expect(item[path: ["metadata", "labels", "app"]] == "x")
            #expect(item[path: ["metadata", "managedFields"]]?.arrayValue?.isEmpty == false)
        }
        #expect(list[path: ["metadata", "remainingItemCount"]]?.intValue == 1)
        let token = try #require(list[path: ["metadata", "continue"]]?.stringValue)
        let rest = try await sim.request(
            "GET",
            base + "?limit=2&continue=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
            accept: Self.listForm)
        #expect(
            try Value(json: rest.body)["items"]?.arrayValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
                == ["c"])
        #expect(!page.body.contains("value-a") && !rest.body.contains("value-c"))

        // One object.
        let one = try await sim.request("GET", base + "/a", accept: Self.objectForm)
        let object = try Value(json: one.body)
        #expect(one.status == 200 && object["kind"] == "PartialObjectMetadata" && object["data"] == nil, "\(one.body)")
        #expect(object[path: ["metadata", "name"]] == "a")

        // The list form on one object (or the object form on a list), with JSON offered after it: the objects.
        let fallback = try await sim.request("GET", base + "/a", accept: Self.listForm + ",application/json")
        #expect(try fallback.status == 200 && Value(json: fallback.body)["kind"] == "ConfigMap")
        let listFallback = try await sim.request("GET", base, accept: Self.objectForm + ",application/json")
        #expect(try Value(json: listFallback.body)["kind"] == "ConfigMapList")
        // Alone: 406 NotAcceptable, as the real server answers.
        for (path, accept) in [(base + "/a", Self.listForm), (base, Self.objectForm)] {
            let refused = try await sim.request("GET", path, accept: accept)
            #expect(try refused.status == 406 && Value(json: refused.body)["reason"] == "NotAcceptable", "\(path)")
        }
        // Plain JSON and kubectl's Table negotiation are unchanged.
        #expect(
            try Value(json: try await sim.request("GET", base, accept: "application/json").body)["kind"]
                == "ConfigMapList")
        let table = try await sim.request(
            "GET", base, accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        #expect(try Value(json: table.body)["kind"] == "Table")
    }
}
