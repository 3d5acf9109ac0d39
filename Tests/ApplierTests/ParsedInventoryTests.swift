import SyncCore
import Testing

@testable import Applier

/// A pass reads its inventory at each step; the list is parsed again only when the ConfigMap is another one or was
/// written since (another uid or resourceVersion), never served stale.
@Suite struct ParsedInventoryTests {
    static func record(_ names: [String], uid: String, resourceVersion: String?) throws -> Value {
        let inventory = Inventory(
            revision: "r1", time: "", objects: names.map { ObjectRef(apiVersion: "v1", kind: "ConfigMap", name: $0) })
        var body = inventory.configMap
        var metadata = body["metadata"] ?? [:]
        metadata["uid"] = .string(uid)
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        body["metadata"] = metadata
        return body
    }

    @Test func aRecordWrittenSinceOrAnotherOneIsReadAgain() throws {
        let parsed = ParsedInventory()
        let first = try parsed.parse(try Self.record(["a"], uid: "u1", resourceVersion: "7"))
        #expect(first.objects.map(\.name) == ["a"])
        // Same uid and resourceVersion: the same record, whatever else came with it.
        #expect(try parsed.parse(try Self.record(["a"], uid: "u1", resourceVersion: "7")).objects.map(\.name) == ["a"])
        // Written since, or recreated (a new uid at a resourceVersion seen before): read again.
        #expect(try parsed.parse(try Self.record(["a", "b"], uid: "u1", resourceVersion: "8")).objects.count == 2)
        #expect(try parsed.parse(try Self.record(["c"], uid: "u2", resourceVersion: "8")).objects.map(\.name) == ["c"])
        // Without a resourceVersion (not from a server) nothing is taken as known.
        #expect(try parsed.parse(try Self.record(["d"], uid: "u2", resourceVersion: nil)).objects.map(\.name) == ["d"])
        #expect(try parsed.parse(try Self.record(["e"], uid: "u2", resourceVersion: nil)).objects.map(\.name) == ["e"])
    }

    @Test func aDamagedRecordIsRefusedEveryTime() throws {
        let parsed = ParsedInventory()
        var body = try Self.record(["a"], uid: "u1", resourceVersion: "9")
        var data = body["data"] ?? [:]
        data["objects"] = .string("[{\"kind\": ")
        body["data"] = data
        #expect(throws: InventoryError.self) { try parsed.parse(body) }
        #expect(throws: InventoryError.self) { try parsed.parse(body) }
    }
}
