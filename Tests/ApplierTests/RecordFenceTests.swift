import Applier
import Foundation
import Logging
import SyncCore
import TestSupport
import Testing

/// syncagent's own records are written with the version the pass read as a precondition: a second writer in between
/// is refused by the server (409), never silently replaced. Against kubesim over HTTPS.
@Suite
struct RecordFenceTests {
    static func applier(_ sim: KubeSim) throws -> RegionApplier {
        RegionApplier(client: try sim.client("us-sanjose-1"), logger: Logger(label: "test"))
    }

    static func record(_ value: String) throws -> Resource {
        try Resource(body: [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "syncagent-status", "namespace": "syncagent-system"],
            "data": ["result": .string(value)],
        ])
    }

    static func stored(_ applier: RegionApplier) async throws -> String? {
        let ref = try record("").ref
        return try await applier.client.getIfPresent(ref)?.body[path: ["data", "result"]]?.stringValue
    }

    @Test func aPassWritesItsRecordAgainAtTheVersionItLastWrote() async throws {
        let sim = try await KubeSim()
        let pass = try Self.applier(sim)
        try await pass.writeRecord(try Self.record("applying"))
        try await pass.writeRecord(try Self.record("gating"))
        try await pass.writeRecord(try Self.record("synced"))
        #expect(try await Self.stored(pass) == "synced")
    }

    @Test func aWriteAfterAnotherWriterIsRefusedAndStoresNothing() async throws {
        let sim = try await KubeSim()
        let first = try Self.applier(sim)
        let second = try Self.applier(sim)
        try await first.writeRecord(try Self.record("applying"))
        // The second pass reads the record (at the first pass's version) and writes over it: it holds that version.
        let ref = try Self.record("").ref
        second.records.observe(ref, try await second.client.getIfPresent(ref))
        try await second.writeRecord(try Self.record("applying by the second"))
        // The first pass's next write is refused: its version is stale.
        await #expect {
            try await first.writeRecord(try Self.record("synced"))
        } throws: { error in
            guard case .conflict(let conflict) = error as? RecordWriteError else { return false }
            return conflict.record == ref && conflict.expectedVersion != nil
                && "\(conflict)".contains("another syncagent is writing this region")
        }
        #expect(try await Self.stored(first) == "applying by the second")
    }

    @Test func twoPassesThatFoundNoRecordCannotBothCreateIt() async throws {
        let sim = try await KubeSim()
        let first = try Self.applier(sim)
        let second = try Self.applier(sim)
        let ref = try Self.record("").ref
        first.records.observe(ref, nil)
        second.records.observe(ref, nil)
        try await first.writeRecord(try Self.record("first"))
        await #expect {
            try await second.writeRecord(try Self.record("second"))
        } throws: { error in
            guard case .conflict(let conflict) = error as? RecordWriteError else { return false }
            return conflict.expectedVersion == nil
        }
        #expect(try await Self.stored(first) == "first")
    }

    @Test func laterReadsDoNotMoveTheFence() async throws {
        let sim = try await KubeSim()
        let pass = try Self.applier(sim)
        let other = try Self.applier(sim)
        let ref = try Self.record("").ref
        try await pass.writeRecord(try Self.record("applying"))
        try await other.writeRecord(try Self.record("other"))
        // The pass reads the record again (the other writer's version); its next write must still fail.
        pass.records.observe(ref, try await pass.client.getIfPresent(ref))
        await #expect(throws: RecordWriteError.self) {
            try await pass.writeRecord(try Self.record("synced"))
        }
        #expect(try await Self.stored(pass) == "other")
    }
}

extension RecordFenceTests {
    /// The status record is the claim: the pass that wrote it last holds the region.
    @Test func thePassThatWroteTheClaimLastHoldsTheRegion() async throws {
        let sim = try await KubeSim()
        let ref = try Self.record("").ref
        func pass() throws -> RegionApplier {
            RegionApplier(
                client: try sim.client("us-sanjose-1"), logger: Logger(label: "test"), records: RecordFence(claim: ref))
        }
        let first = try pass()
        let second = try pass()
        #expect(await first.records.holdsClaim(with: first.client) == false, "nothing written yet")
        try await first.writeRecord(try Self.record("applying"))
        #expect(await first.records.holdsClaim(with: first.client))
        second.records.observe(ref, try await second.client.getIfPresent(ref))
        #expect(await second.records.holdsClaim(with: second.client) == false, "read is not a claim")
        try await second.writeRecord(try Self.record("applying (second)"))
        #expect(await second.records.holdsClaim(with: second.client))
        #expect(await first.records.holdsClaim(with: first.client) == false)
    }
}
