import SyncCore
import Testing

/// A list response read without parsing its items: each item's bytes and keys must be exactly what a full parse
/// finds, and anything that is not JSON must be refused as a full parse refuses it.
@Suite struct JSONListScanTests {
    static let list = #"""
        {"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"42","continue":"dGVhbS0w"},
         "items":[
          {"metadata":{"name":"web","namespace":"team-01","resourceVersion":"40","labels":{"a":"b"},
            "managedFields":[{"manager":"kubectl","fieldsV1":{"f:spec":{"f:replicas":{}}}}]},
           "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","image":"x:1","args":["a\"b\\c","\u00e9"]}]}}},
           "status":{"ready":true,"ratio":0.5,"none":null}},
          { },
          {"apiVersion":"","kind":"Deployment","metadata":{"name":"n\u0061me","resourceVersion":"41"}}
         ]}
        """#

    @Test func findsEachItemAndItsKeysAsAParseDoes() throws {
        let bytes = Array(Self.list.utf8)
        let scan = try JSONListScan(bytes)
        #expect(scan.resourceVersion == "42")
        #expect(scan.continueToken == "dGVhbS0w")
        #expect(scan.items.map(\.name) == ["web", "", "name"])
        #expect(scan.items.map(\.namespace) == ["team-01", "", ""])
        #expect(scan.items.map(\.resourceVersion) == ["40", "", "41"])
        #expect(scan.items.map(\.typed) == [false, false, true])
        #expect(scan.items.map(\.complete) == [false, false, false])  // an empty apiVersion is not one
        let parsed = try #require(try Value(json: bytes)["items"]?.arrayValue)
        for (item, value) in zip(scan.items, parsed) {
            #expect(try Value(json: bytes[item.range]) == value)
        }
    }

    @Test func anItemWithItsOwnApiVersionAndKindIsComplete() throws {
        let text =
            #"{"items":[{"kind":"VirtualService","apiVersion":"networking.istio.io/v1","metadata":{"name":"r"}}]}"#
        let scan = try JSONListScan(Array(text.utf8))
        #expect(scan.items.map(\.complete) == [true])
        #expect(scan.items.map(\.typed) == [true])
    }

    @Test func anItemIsTypedAsALoneObject() throws {
        let bytes = Array(Self.list.utf8)
        let scan = try JSONListScan(bytes)
        let parsed = try #require(try Value(json: bytes)["items"]?.arrayValue)
        for index in [0, 1] {
            let typed = JSONListScan.typedObject(
                bytes, scan.items[index].range, apiVersion: "apps/v1", kind: "Deployment")
            var expected: Value = ["apiVersion": "apps/v1", "kind": "Deployment"]
            for (key, member) in parsed[index].objectValue ?? [:] { expected[key] = member }
            #expect(try Value(json: typed) == expected)
            #expect(typed.starts(with: Array(#"{"apiVersion":"apps/v1","kind":"Deployment""#.utf8)))
        }
    }

    @Test(arguments: [
        #"{"items":[{"a":1},]}"#, #"{"items":[{"a":"x\u00zz"}]}"#, #"{"items":[{"a":"\q"}]}"#, #"{"items":[1]}"#,
        #"{"items":{}}"#, #"{"items":[{"a":01x}]}"#, #"{"items":[]} x"#, "{\"items\":[{\"a\":\"\u{01}\"}]}",
        #"{"metadata":{"resourceVersion":"1"}"#, #"{"items":[{"a":tru}]}"#,
    ])
    func refusesWhatIsNotAListOfObjects(text: String) {
        #expect(throws: JSONError.self) { try JSONListScan(Array(text.utf8)) }
    }

    @Test func nestingIsBoundedAsInAParse() {
        let deep = #"{"items":[{"a":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}]}"
        #expect(throws: JSONError.self) { try JSONListScan(Array(deep.utf8)) }
    }
}
