import KubeSchema
import SyncCore
import Testing

/// fieldsV1 field sets: reading, writing, and the sets of values under the built-in schemas.
@Suite struct FieldSetTests {
    static let fieldsV1 = #"""
        {"f:metadata":{"f:labels":{".":{},"f:app":{}}},
         "f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},
         "f:image":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}},
         "f:data":{"f:key":{}}}
        """#

    @Test func fieldsV1RoundTrips() throws {
        let value = try Value(json: Self.fieldsV1)
        let set = FieldSet(fieldsV1: value)
        #expect(set.contains([.field("spec"), .field("replicas")]))
        #expect(set.contains([.field("metadata"), .field("labels")]))
        let container: FieldPath = [
            .field("spec"), .field("template"), .field("spec"), .field("containers"),
            .key([.init(name: "name", value: "web")]),
        ]
        #expect(set.contains(container))
        #expect(set.contains(container + [.field("image")]))
        #expect(
            (container + [
                .field("ports"),
                .key([.init(name: "containerPort", value: 80), .init(name: "protocol", value: "TCP")]),
            ])
            .pathString == #".spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]"#)
        // Writing sorts members (f: before k:, then by name) and keeps "." for nodes that are members themselves.
        let again = FieldSet(fieldsV1: set.fieldsV1)
        #expect(again == set)
        #expect(set.fieldsV1[path: ["f:metadata", "f:labels", "."]] == .emptyObject)
        #expect(Array(set.fieldsV1.objectValue?.keys ?? []) == ["f:data", "f:metadata", "f:spec"])
    }

    @Test(arguments: ["f:x", #"k:{"name":"a"}"#, #"v:"b""#, "i:3"])
    func pathElementsRoundTrip(_ key: String) throws {
        let element = try #require(FieldPathElement(fieldsV1Key: key))
        #expect(element.fieldsV1Key == key)
    }

    @Test func malformedKeysAreSkipped() {
        #expect(FieldPathElement(fieldsV1Key: ".") == nil)
        #expect(FieldPathElement(fieldsV1Key: "k:{not json") == nil)
        #expect(FieldPathElement(fieldsV1Key: "i:x") == nil)
    }

    @Test func managedFieldsEntriesReadAndStoreInServerOrder() throws {
        var object: Value = ["metadata": ["name": "x"]]
        let set = FieldSet([[.field("spec"), .field("replicas")]])
        let update = ManagedFieldsEntry(
            manager: "kubectl-edit", operation: "Update", apiVersion: "apps/v1", time: "2024-01-02T00:00:00Z",
            fields: set)
        let apply = ManagedFieldsEntry(
            manager: "syncagent", operation: "Apply", apiVersion: "apps/v1", time: "2024-01-03T00:00:00Z", fields: set)
        ManagedFieldsEntry.store([update, apply], into: &object)
        let entries = ManagedFieldsEntry.entries(of: object)
        #expect(entries.map(\.manager) == ["syncagent", "kubectl-edit"])
        #expect(entries[1].fields == set && entries[1].time == "2024-01-02T00:00:00Z")
    }
}

/// List-map keys of the built-in schemas: what makes two list items "the same item".
@Suite struct ListMapKeyTests {
    static var containers: Schema? {
        BuiltinSchemas.schema(group: "apps", kind: "Deployment")?.child("spec")?.child("template")?.child("spec")?
            .child("containers")
    }

    @Test func containersAreKeyedByName() throws {
        let containers = try #require(Self.containers)
        #expect(containers.listType == .map(keys: ["name"]))
        #expect(containers.patchMergeKey == "name")
        let element = FieldSets.element(for: ["name": "web", "image": "x"], in: containers, index: 3)
        #expect(element == .key([.init(name: "name", value: "web")]))
    }

    @Test func containerPortsAreKeyedByPortAndProtocolDefaultingToTCP() throws {
        let ports = try #require(Self.containers?.element?.child("ports"))
        #expect(ports.listType == .map(keys: ["containerPort", "protocol"]))
        #expect(ports.patchMergeKey == "containerPort")
        let implicit = FieldSets.element(for: ["containerPort": 80], in: ports, index: 0)
        let explicit = FieldSets.element(for: ["containerPort": 80, "protocol": "TCP"], in: ports, index: 1)
        #expect(implicit == explicit)
        #expect(FieldSets.element(for: ["containerPort": 80, "protocol": "UDP"], in: ports, index: 0) != implicit)
    }

    @Test func envIsKeyedByName() throws {
        let env = try #require(Self.containers?.element?.child("env"))
        #expect(env.listType == .map(keys: ["name"]))
        #expect(
            FieldSets.element(for: ["name": "A", "value": "1"], in: env, index: 0)
                == .key([.init(name: "name", value: "A")]))
    }

    @Test func servicePortsAreKeyedByPortAndProtocol() throws {
        let ports = try #require(BuiltinSchemas.schema(group: "", kind: "Service")?.child("spec")?.child("ports"))
        #expect(ports.listType == .map(keys: ["port", "protocol"]))
    }

    @Test func unknownKindsGetObjectMetaAndAtomicLists() {
        let schema = BuiltinSchemas.schema(for: ["apiVersion": "networking.istio.io/v1", "kind": "VirtualService"])
        #expect(schema.child("metadata")?.child("labels")?.child("app") != nil)
        #expect(schema.child("spec")?.child("http")?.listType == .atomic)
    }

    @Test func fieldSetOfADeploymentNamesItemsByKey() throws {
        let deployment: Value = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": ["replicas": 2, "template": ["spec": ["containers": [["name": "web", "image": "nginx"]]]]],
        ]
        let schema = try #require(BuiltinSchemas.schema(group: "apps", kind: "Deployment"))
        let set = FieldSets.of(deployment, schema: schema, hasStatusSubresource: true)
        let paths = Set(set.paths.map(\.pathString))
        #expect(paths.contains(".spec.replicas"))
        #expect(paths.contains(#".spec.template.spec.containers[name="web"].image"#))
        #expect(!paths.contains(".metadata.name"))
    }

    @Test func defaultingFillsOnlyAbsentFields() {
        var service: Value = ["spec": ["ports": [["port": 80]], "sessionAffinity": "ClientIP"]]
        Defaulting.apply(&service, group: "", kind: "Service")
        #expect(service[path: ["spec", "type"]] == "ClusterIP")
        #expect(service[path: ["spec", "sessionAffinity"]] == "ClientIP")
        #expect(service[path: ["spec", "ports"]]?.arrayValue?.first?["targetPort"] == 80)
        #expect(service[path: ["spec", "ports"]]?.arrayValue?.first?["protocol"] == "TCP")
    }
}
