import Foundation
import SyncCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The region record is a state machine that survives the process: a revision is good only after a completed gate,
/// a stopped pass says so, and no write loses the rollback target. The release binary, two kubesim regions, a gate
/// made of HTTP probes held over a bake time (kubesim's metrics port answers them).
@Suite(.serialized)
struct SyncRecordTests {
    /// A gate of one probe held for `bake`: `path` on us-sanjose-1's metrics port must answer 200. (A gate needs a
    /// Prometheus check; this one has no Prometheus to ask and `onUnreachable: pass`, so the probe decides.)
    static func probeGate(_ mesh: SyncMesh, path: String, bake: String) -> String {
        let port = mesh.cluster.metricsPorts["us-sanjose-1"] ?? 0
        return """
            gates:
              readinessTimeout: 120s
              prometheus:
                url: "http://127.0.0.1:1"
                onUnreachable: pass
                bakeTime: \(bake)
                interval: 1s
                checks: [{name: up, query: up, threshold: 2}]
              probes: [{url: "http://127.0.0.1:\(port)\(path)", expectedStatus: 200}]

            """
    }

    /// Replaces the configuration's `gates:` block.
    static func setGates(_ mesh: SyncMesh, _ gates: String) throws {
        let text = try String(contentsOfFile: mesh.configPath, encoding: .utf8)
        guard let start = text.range(of: "gates:\n"),
            let end = text.range(of: "agent:", range: start.upperBound..<text.endIndex)
        else { throw TestSupportError("no gates block in \(text)") }
        try (text[..<start.lowerBound] + gates + text[end.lowerBound...]).write(
            toFile: mesh.configPath, atomically: true, encoding: .utf8)
    }

    /// The region's status record's data.
    static func record(_ mesh: SyncMesh, _ region: String) async throws -> Value? {
        try await mesh.get("/api/v1/namespaces/syncagent-system/configmaps/syncagent-status", region: region)?["data"]
    }

    /// Synced R0, then R1 (a new ConfigMap) started under a gate that holds for ten minutes; returns the running
    /// sync once us-sanjose-1's record says `gating R1`.
    static func gatingSecondRevision(_ mesh: SyncMesh) async throws -> (r1: String, sync: ChildProcess) {
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let r1 = try mesh.commit("flags", file: "base/60-flags.yaml") { _ in
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: bookinfo}\n"
        }
        try setGates(mesh, probeGate(mesh, path: "/metrics", bake: "600s"))
        let sync = try ChildProcess([mesh.syncagent, "sync", "--config", mesh.configPath])
        try await waitUntil(timeout: 300, "us-sanjose-1 to record gating \(r1); sync log:\n\(sync.log())") {
            let data = try await record(mesh, "us-sanjose-1")
            return data?["result"]?.stringValue == "gating" && data?["revision"]?.stringValue == r1
        }
        return (r1, sync)
    }

    static func flags(_ mesh: SyncMesh, _ region: String) async throws -> Value? {
        try await mesh.get("/api/v1/namespaces/bookinfo/configmaps/flags", region: region)
    }

    @Test func aSyncKilledDuringTheGateIsGatedAgainAndRolledBackWhenItFails() async throws {
        let mesh = try await SyncMesh()
        let (r1, sync) = try await Self.gatingSecondRevision(mesh)
        sync.signal(SIGKILL)
        _ = sync.stop()
        #expect(try await Self.flags(mesh, "us-sanjose-1") != nil, "R1 was applied in the primary before the kill")
        #expect(try await Self.flags(mesh, "us-chicago-1") == nil)

        // The restarted pass finds every object as R1 wants it, but R1 never passed its gate: it is gated again,
        // fails (the probe now answers 404), and the primary is rolled back; the secondary never sees R1.
        try Self.setGates(mesh, Self.probeGate(mesh, path: "/no-such-page", bake: "0s"))
        let again = try await mesh.syncagent(["sync"])
        #expect(again.status == 1, "\(again.stdout)\(again.stderr)")
        #expect(!again.stdout.contains("nothing changed (the region already is"), "\(again.stdout)")
        #expect(again.stdout.contains("us-sanjose-1  rolled-back"), "\(again.stdout)")
        #expect(try await Self.flags(mesh, "us-sanjose-1") == nil)
        #expect(try await Self.flags(mesh, "us-chicago-1") == nil)
        let primary = try await Self.record(mesh, "us-sanjose-1")
        #expect(primary?["result"]?.stringValue == "rolled-back")
        #expect(primary?["lastGoodRevision"]?.stringValue == mesh.initial)
        #expect(primary?["failedRevision"]?.stringValue == r1)
        let secondary = try await Self.record(mesh, "us-chicago-1")
        #expect(secondary?["revision"]?.stringValue == mesh.initial)
        let chicagoWrites = try mesh.audit().filter {
            $0.isStoredWrite && $0.region == "us-chicago-1" && $0.name == "flags"
        }
        #expect(chicagoWrites.isEmpty)
    }

    @Test func aSyncKilledDuringTheGateConvergesWhenTheGatePasses() async throws {
        let mesh = try await SyncMesh()
        let (r1, sync) = try await Self.gatingSecondRevision(mesh)
        sync.signal(SIGKILL)
        _ = sync.stop()
        try Self.setGates(mesh, Self.probeGate(mesh, path: "/metrics", bake: "0s"))
        let again = try await mesh.syncagent(["sync"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        for region in SyncMesh.regionNames {
            let data = try await Self.record(mesh, region)
            #expect(data?["result"]?.stringValue == "synced", "\(region)")
            #expect(data?["lastGoodRevision"]?.stringValue == r1, "\(region)")
            let history = try Value(json: data?["goodRevisions"]?.stringValue ?? "[]").arrayValue ?? []
            #expect(history.compactMap { $0["revision"]?.stringValue } == [r1, mesh.initial], "\(region)")
            // Created once per region, never twice.
            let creates = try mesh.audit().filter {
                $0.isStoredWrite && $0.region == region && $0.name == "flags" && $0.verb == "patch"
            }
            #expect(creates.count == 1, "\(region): \(creates.map(\.uri))")
        }
    }

    @Test func aSyncStoppedDuringTheGateRecordsAbandonedAndKeepsTheLastGoodRevision() async throws {
        let mesh = try await SyncMesh()
        let (r1, sync) = try await Self.gatingSecondRevision(mesh)
        let status = sync.stop(grace: 120)  // SIGTERM: the pass stops at the gate and records it
        #expect(status == 3, "exit \(status); log:\n\(sync.log())")
        let data = try await Self.record(mesh, "us-sanjose-1")
        #expect(data?["result"]?.stringValue == "abandoned", "\(String(describing: data))")
        #expect(data?["revision"]?.stringValue == r1)
        #expect(data?["lastGoodRevision"]?.stringValue == mesh.initial)
    }

    @Test func aFailedReGateOfAGoodRevisionKeepsItAsTheLastGoodRevision() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        try Self.setGates(mesh, Self.probeGate(mesh, path: "/no-such-page", bake: "0s"))
        let forced = try await mesh.syncagent(["sync", "--force"])
        #expect(forced.status == 1, "\(forced.stdout)\(forced.stderr)")
        let data = try await Self.record(mesh, "us-sanjose-1")
        #expect(data?["lastGoodRevision"]?.stringValue == mesh.initial, "\(String(describing: data))")
    }

    /// A second sync that starts while the first gates takes the region over; the first, stopped later, finds the
    /// record changed under it and writes nothing: the record the second wrote stands.
    @Test func aSyncWhoseRecordAnotherSyncWroteStopsWithoutOverwritingIt() async throws {
        let mesh = try await SyncMesh()
        let (r1, first) = try await Self.gatingSecondRevision(mesh)
        try Self.setGates(mesh, Self.probeGate(mesh, path: "/metrics", bake: "0s"))
        let second = try await mesh.syncagent(["sync"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let status = first.stop(grace: 120)  // SIGTERM: it would record `abandoned` over the second's `synced`
        let log = first.log()
        #expect(status == 3, "exit \(status); log:\n\(log)")
        #expect(log.contains("another syncagent is writing region us-sanjose-1"), "\(log)")
        #expect(log.contains("its record now says synced \(r1.prefix(7))"), "\(log)")
        for region in SyncMesh.regionNames {
            let data = try await Self.record(mesh, region)
            #expect(data?["result"]?.stringValue == "synced", "\(region): \(String(describing: data))")
            #expect(data?["revision"]?.stringValue == r1, "\(region)")
            #expect(data?["lastGoodRevision"]?.stringValue == r1, "\(region)")
        }
    }

    /// Two syncs of the same revision started together: either one finishes first (both succeed), or both read
    /// the same record and the second writer is refused and says so. Either way the records agree afterwards.
    @Test func twoSyncsStartedTogetherLeaveConsistentRecords() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let r1 = try mesh.commit("flags", file: "base/60-flags.yaml") { _ in
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: bookinfo}\n"
        }
        try Self.setGates(mesh, Self.probeGate(mesh, path: "/metrics", bake: "2s"))
        let command = [mesh.syncagent, "sync", "--config", mesh.configPath]
        let a = try ChildProcess(command)
        let b = try ChildProcess(command)
        try await waitUntil(timeout: 600, "both syncs to end") { !a.isRunning && !b.isRunning }
        let outcomes = [(a.stop(), a.log()), (b.stop(), b.log())]
        #expect(outcomes.contains { $0.0 == 0 }, "\(outcomes)")
        for (status, log) in outcomes where status != 0 {
            #expect(status == 3, "\(log)")
            #expect(log.contains("another syncagent is writing region"), "\(log)")
        }
        for region in SyncMesh.regionNames {
            let data = try await Self.record(mesh, region)
            #expect(data?["result"]?.stringValue == "synced", "\(region): \(String(describing: data)); \(outcomes)")
            #expect(data?["lastGoodRevision"]?.stringValue == r1, "\(region)")
            let inventory = try await mesh.get(
                "/api/v1/namespaces/syncagent-system/configmaps/syncagent-inventory", region: region)
            #expect(inventory?["data"]?["revision"]?.stringValue == r1, "\(region)")
            #expect(inventory?["data"]?["pendingRevision"] == nil, "\(region)")
            #expect(inventory?["data"]?["objects"]?.stringValue?.contains("\"flags\"") == true, "\(region)")
        }
    }
}

/// SIGKILL at the other boundaries of a pass: during the readiness wait and during the rollback. A revision that
/// never passed its gates is judged again by the next pass; the secondary never sees it. kubesim rolls out in 2 s,
/// and a `-broken` image is never ready (ProgressDeadlineExceeded after 4 s).
@Suite(.serialized)
struct SyncKillTests {
    /// R0 synced; R1 (reviews-v3 on a broken image) started; returns R1 and the running sync once `line` shows.
    /// `progressDeadlineSeconds` sets R1's deadline (kubesim: that × rollout seconds / 300 until the rollout fails),
    /// so that a kill meant to land during the readiness wait lands there even on a starved machine.
    static func startBrokenRevision(_ mesh: SyncMesh, killAt line: String, progressDeadlineSeconds: Int? = nil)
        async throws -> (String, ChildProcess)
    {
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let r1 = try mesh.commit("reviews-v3: broken image", file: "base/10-bookinfo.yaml") {
            var text = try SyncMesh.editReviewsV3(
                $0, image: "docker.io/istio/examples-bookinfo-reviews-v3:1.20.3-broken")
            if let progressDeadlineSeconds {
                let spec =
                    "  name: reviews-v3\n  namespace: bookinfo\n  labels:\n    app: reviews\n    version: v3\nspec:\n"
                guard text.contains(spec) else { throw TestSupportError("reviews-v3's spec not found") }
                text = text.replacingOccurrences(
                    of: spec, with: spec + "  progressDeadlineSeconds: \(progressDeadlineSeconds)\n")
            }
            return text
        }
        let sync = try ChildProcess([mesh.syncagent, "sync", "--config", mesh.configPath])
        try await sync.waitForLog(line, timeout: 300)
        sync.signal(SIGKILL)
        _ = sync.stop()
        return (r1, sync)
    }

    static func image(_ mesh: SyncMesh, _ region: String) async throws -> String? {
        try await mesh.deployment("reviews-v3", region: region)?[
            path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["image"]?.stringValue
    }

    /// After the restart: the primary is rolled back to R0, the secondary never saw R1, the record says so.
    static func expectRolledBack(_ mesh: SyncMesh, r1: String, _ again: ProcessOutput) async throws {
        #expect(again.status == 1, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("us-sanjose-1  rolled-back"), "\(again.stdout)")
        #expect(try await image(mesh, "us-sanjose-1") == "docker.io/istio/examples-bookinfo-reviews-v3:1.20.3")
        #expect(try await image(mesh, "us-chicago-1") == "docker.io/istio/examples-bookinfo-reviews-v3:1.20.3")
        let primary = try await SyncRecordTests.record(mesh, "us-sanjose-1")
        #expect(primary?["result"]?.stringValue == "rolled-back", "\(String(describing: primary))")
        #expect(primary?["lastGoodRevision"]?.stringValue == mesh.initial)
        #expect(primary?["failedRevision"]?.stringValue == r1)
        let secondary = try await SyncRecordTests.record(mesh, "us-chicago-1")
        #expect(secondary?["revision"]?.stringValue == mesh.initial)
        #expect(secondary?["result"]?.stringValue == "synced")
        let chicagoWrites = try mesh.audit().filter {
            $0.isStoredWrite && $0.region == "us-chicago-1" && $0.name == "reviews-v3"
        }
        #expect(chicagoWrites.count == 1, "created once by R0, never written by R1: \(chicagoWrites.map(\.uri))")
    }

    @Test func aSyncKilledDuringTheReadinessWaitIsJudgedAgainAndRolledBack() async throws {
        let mesh = try await SyncMesh(rolloutSeconds: 2)
        // The wait lasts 20 s (3,000 × 2 s / 300) before the rollout fails: the kill lands inside it even when the
        // test process is starved for seconds (it failed once in CI with the default 4 s).
        let (r1, sync) = try await Self.startBrokenRevision(
            mesh, killAt: "apply apps/v1/Deployment bookinfo/reviews-v3 → configured", progressDeadlineSeconds: 3000)
        let record = try await SyncRecordTests.record(mesh, "us-sanjose-1")
        #expect(record?["result"]?.stringValue == "applying", "\(String(describing: record)); \(sync.log())")
        #expect(record?["revision"]?.stringValue == r1)
        #expect(record?["lastGoodRevision"]?.stringValue == mesh.initial)
        let again = try await mesh.syncagent(["sync"])
        try await Self.expectRolledBack(mesh, r1: r1, again)
    }

    @Test func aSyncKilledDuringItsRollbackIsRolledBackByTheNextPass() async throws {
        let mesh = try await SyncMesh(rolloutSeconds: 2)
        let (r1, sync) = try await Self.startBrokenRevision(mesh, killAt: "us-sanjose-1: rolling back to")
        let record = try await SyncRecordTests.record(mesh, "us-sanjose-1")
        #expect(record?["revision"]?.stringValue == r1, "\(String(describing: record)); \(sync.log())")
        #expect(record?["lastGoodRevision"]?.stringValue == mesh.initial)
        let again = try await mesh.syncagent(["sync"])
        try await Self.expectRolledBack(mesh, r1: r1, again)
    }
}
