import SyncCore
import Testing

@testable import Applier

/// A wait must not judge an object by a copy older than syncagent's own write of it: a watch-fed cache that has not
/// received the write's event still holds the previous revision's object, ready as it was (seen once under load:
/// a broken revision recorded as good because its Deployment was judged by the cached copy from before the PATCH).
@Suite struct WrittenGenerationsTests {
    static func deployment(generation: Int64?) throws -> Resource {
        var metadata: Value = ["name": "reviews-v3", "namespace": "bookinfo"]
        if let generation { metadata["generation"] = .int(generation) }
        return try Resource(body: ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata])
    }

    @Test func aCopyOlderThanTheWriteIsNotJudged() throws {
        let written = WrittenGenerations()
        // Nothing written: any copy is judged.
        #expect(!written.isOlderThanWritten(try Self.deployment(generation: 1)))
        written.record(try Self.deployment(generation: 5))
        #expect(written.isOlderThanWritten(try Self.deployment(generation: 4)))
        #expect(!written.isOlderThanWritten(try Self.deployment(generation: 5)))
        #expect(!written.isOlderThanWritten(try Self.deployment(generation: 6)))
        // An answer of an earlier write arriving late never lowers what is awaited.
        written.record(try Self.deployment(generation: 3))
        #expect(written.isOlderThanWritten(try Self.deployment(generation: 4)))
        // Kinds without a generation (ConfigMaps) are judged as they are.
        #expect(!written.isOlderThanWritten(try Self.deployment(generation: nil)))
    }
}
