import Foundation
import SyncCore
import TestSupport
import Testing

@Suite struct ValueJSONTests {
    @Test func keepsMemberOrderAndTypes() throws {
        let value = try Value(json: #"{"b":1,"a":[true,null,"x",2.5],"c":{"z":-3,"y":18446744073709551615}}"#)
        #expect(value.objectValue.map { Array($0.keys) } == ["b", "a", "c"])
        #expect(value["b"] == .int(1))
        #expect(value["a"] == [true, nil, "x", 2.5])
        #expect(value[path: ["c", "y"]] == .uint(18_446_744_073_709_551_615))
        #expect(value.jsonString == #"{"b":1,"a":[true,null,"x",2.5],"c":{"z":-3,"y":18446744073709551615}}"#)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try Value(json: #"["a\"b\\c\/\n\t", "\u00e9\ud83d\ude00"]"#)
        #expect(value == ["a\"b\\c/\n\t", "é😀"])
        #expect(value.jsonString == #"["a\"b\\c/\n\t","é😀"]"#)
    }

    @Test func escapesControlCharactersAndKeepsLongRunsWhole() throws {
        let value: Value = ["k\u{01}\"": .string("a\u{00}b\u{1f}c\r\u{7f}é")]
        #expect(value.jsonString == #"{"k\u0001\"":"a\u0000b\u001fc\r\#u{7f}é"}"#)
        #expect(try Value(json: value.jsonBytes) == value)
        // A JSON list inside a string (an inventory): every quote escaped, the runs between copied.
        let inner = Value.array((0..<2000).map { ["name": .string("svc-\($0)"), "namespace": "team-01"] }).jsonString
        let outer: Value = ["objects": .string(inner)]
        #expect(try Value(json: outer.jsonString) == outer)
        #expect(outer.jsonBytes == Array(outer.jsonString.utf8))
    }

    @Test(arguments: [
        (1.0, "1"), (2.5, "2.5"), (-0.5, "-0.5"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
        (1.5e-7, "1.5e-07"), (0.000001, "0.000001"), (123456.789, "123456.789"),
    ])
    func formatsFloatsAsGoDoes(value: Double, expected: String) {
        #expect(Value.goFloatString(value) == expected)
    }

    @Test(arguments: [
        "", "{", #"{"a":}"#, "[1,]", "tru", #""unterminated"#, "01x", #"{"a":1} 2"#, "\"\u{01}\"",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONError.self) { try Value(json: text) }
    }

    @Test func prettyPrintsForPeople() throws {
        let value: Value = ["kind": "Status", "items": [1, 2], "empty": [:]]
        #expect(
            value.prettyJSONString
                == "{\n  \"kind\": \"Status\",\n  \"items\": [\n    1,\n    2\n  ],\n  \"empty\": {}\n}")
    }
}

@Suite struct ResourceTests {
    @Test func takesIdentityFromTheBody() throws {
        let resource = try Resource(body: [
            "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": ["name": "reviews", "namespace": "bookinfo", "labels": ["app": "reviews"]],
        ])
        #expect(resource.ref.group == "networking.istio.io")
        #expect(resource.ref.version == "v1")
        #expect(
            resource.key
                == ObjectKey(
                    group: "networking.istio.io", kind: "VirtualService", namespace: "bookinfo", name: "reviews"))
        #expect(resource.labels == ["app": "reviews"])
        #expect(resource.ref.description == "networking.istio.io/v1/VirtualService bookinfo/reviews")
    }

    @Test func coreGroupHasNoPrefix() throws {
        let resource = try Resource(body: ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "details"]])
        #expect(resource.ref.group == "")
        #expect(resource.apiVersion == "v1")
        #expect(resource.ref.description == "v1/Service details")
    }

    static let incomplete: [(Value, ResourceError)] = [
        (.array([]), ResourceError.notAMapping(found: "sequence")),
        (["kind": "Service", "metadata": ["name": "x"]], .missingField("apiVersion")),
        (["apiVersion": "v1", "metadata": ["name": "x"]], .missingField("kind")),
        (["apiVersion": "v1", "kind": "Service"], .missingField("metadata.name")),
        (["apiVersion": "v1", "kind": "Service", "metadata": ["name": ""]], .missingField("metadata.name")),
        (
            ["apiVersion": "v1", "kind": "Service", "metadata": ["name": 12]],
            .wrongType(field: "metadata.name", expected: "string", found: "integer")
        ),
        (
            ["apiVersion": "v1", "kind": "Service", "metadata": "x"],
            .wrongType(field: "metadata", expected: "mapping", found: "string")
        ),
    ]

    @Test(arguments: incomplete)
    func rejectsIncompleteObjects(body: Value, expected: ResourceError) {
        #expect(throws: expected) { try Resource(body: body) }
    }

    @Test func versionIsNotPartOfIdentity() {
        let a = ObjectRef(apiVersion: "apps/v1", kind: "Deployment", namespace: "bookinfo", name: "reviews-v1")
        let b = ObjectRef(apiVersion: "apps/v1beta1", kind: "Deployment", namespace: "bookinfo", name: "reviews-v1")
        #expect(a != b)
        #expect(a.key == b.key)
    }

    @Test func setNamespaceUpdatesBodyAndRef() throws {
        var resource = try Resource(body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"]])
        resource.setNamespace("bookinfo")
        #expect(resource.namespace == "bookinfo")
        #expect(resource.body[path: ["metadata", "namespace"]] == "bookinfo")
    }
}

/// Inputs FuzzJSON (scripts/fuzz.sh) crashed the reader with, kept in `FuzzCrashes/`; each must now read or fail.
@Suite struct JSONFuzzRegressionTests {
    @Test func nestingIsBoundedAt512Levels() throws {
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try Value(json: fine).jsonString == fine)
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(readError(Array(deep.utf8))?.description == "invalid JSON at byte 512: nesting deeper than 512 levels")
        let objects = String(repeating: #"{"a":"#, count: 600) + "1" + String(repeating: "}", count: 600)
        #expect(
            readError(Array(objects.utf8))?.description == "invalid JSON at byte 2560: nesting deeper than 512 levels")
    }

    /// 10,542 nested arrays overflowed the stack under AddressSanitizer (the limit was 10,000 levels then).
    @Test func deepArraysFromTheFuzzerAreAnError() throws {
        let bytes = try fuzzCrash("json-stack-overflow-deep-arrays")
        #expect(readError(bytes)?.description == "invalid JSON at byte 513: nesting deeper than 512 levels")
    }

    private func readError(_ bytes: [UInt8]) -> JSONError? {
        do {
            _ = try Value(json: bytes)
            return nil
        } catch {
            return error
        }
    }

    private func fuzzCrash(_ name: String) throws -> [UInt8] {
        let url = packageRoot.appendingPathComponent("Tests/SyncCoreTests/FuzzCrashes/\(name)")
        return Array(try Data(contentsOf: url))
    }
}
