import Foundation
import SyncCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The fault suite (issue 13, docs/RELIABILITY.md): the release binary as an agent against two kubesim regions
/// while the API is slow, fails, goes down, restarts; while syncagent itself is killed again and again; while the
/// Git remote goes away or is rewritten. Each test ends by checking the end state of both regions: the status
/// record, the inventory against the live objects syncagent manages, and the order of every stored write.
// Serialized: each test runs two regions and whole rollouts; side by side they would load a 2-core machine.
@Suite(.serialized)
struct FaultSuiteTests {
    typealias Agent = AgentTests.Agent

    /// Everything a converged mesh must show: both regions synced at `revision` (status record), inventories at
    /// `revision` with no pending revision and exactly the objects syncagent manages live, and stored writes in
    /// region order and dependency order. `segments` are audit marks where a new revision was committed: the
    /// order is checked within each stretch, where every write is for one revision.
    static func expectConverged(
        _ mesh: SyncMesh, at revision: String, since mark: Int = 0, segments: [Int] = [],
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws {
        let status = try await mesh.status()
        for region in SyncMesh.regionNames {
            let record = status[region]
            #expect(
                record?["lastResult"]?.stringValue == "synced", "\(region): \(record ?? .null)",
                sourceLocation: sourceLocation)
            #expect(record?["syncedRevision"]?.stringValue == revision, sourceLocation: sourceLocation)
            #expect(record?["lastGoodRevision"]?.stringValue == revision, sourceLocation: sourceLocation)
            let inventory = try #require(try await mesh.inventory(region: region), sourceLocation: sourceLocation)
            #expect(inventory.revision == revision, sourceLocation: sourceLocation)
            #expect(inventory.pendingRevision == nil, sourceLocation: sourceLocation)
            #expect(inventory.objects.count == SyncMesh.objectCount, sourceLocation: sourceLocation)
            let live = try await liveManaged(mesh, region: region, kinds: Set(inventory.objects.map { $0.gvk }))
            #expect(inventory.keys == live, "\(region): inventory and live differ", sourceLocation: sourceLocation)
        }
        let events = try mesh.audit()
        let bounds = [mark] + segments.filter { $0 > mark } + [events.count]
        for (start, end) in zip(bounds, bounds.dropFirst()) {
            expectOrdered(events[start..<end], sourceLocation: sourceLocation)
        }
    }

    /// Stored writes (syncagent's applies, its records aside) in region order and dependency order.
    static func expectOrdered(_ events: ArraySlice<AuditEvent>, sourceLocation: Testing.SourceLocation) {
        let writes = events.filter {
            $0.isSyncagentApply && !($0.resource == "configmaps" && $0.namespace == "syncagent-system")
        }
        // Region order: nothing reached the secondary before the primary's last write.
        if let lastPrimary = writes.lastIndex(where: { $0.region == "us-sanjose-1" }),
            let firstSecondary = writes.firstIndex(where: { $0.region == "us-chicago-1" })
        {
            #expect(lastPrimary < firstSecondary, "a write reached us-chicago-1 first", sourceLocation: sourceLocation)
        }
        // Dependency order in each region, across every pass (an unchanged object is never written again).
        let order = [
            "namespaces", "customresourcedefinitions", "serviceaccounts", "services", "deployments",
            "destinationrules", "gateways", "virtualservices", "prometheusrules",
        ]
        for region in SyncMesh.regionNames {
            let positions = writes.filter { $0.region == region }.map { order.firstIndex(of: $0.resource) ?? -1 }
            #expect(!positions.contains(-1), sourceLocation: sourceLocation)
            #expect(positions == positions.sorted(), "\(region): applied out of order", sourceLocation: sourceLocation)
        }
    }

    /// The keys of every live object of `kinds` that syncagent applied (its field manager in managedFields).
    static func liveManaged(_ mesh: SyncMesh, region: String, kinds: Set<GroupVersionKind>) async throws
        -> Set<ObjectKey>
    {
        var keys: Set<ObjectKey> = []
        for gvk in kinds {
            let plural = gvk.kind.lowercased() + "s"  // every kind of the mesh
            let path = gvk.group.isEmpty ? "/api/\(gvk.version)/\(plural)" : "/apis/\(gvk.apiVersion)/\(plural)"
            let list = try #require(try await mesh.get(path, region: region), "\(path)")
            for item in list["items"]?.arrayValue ?? [] {
                let managers = item[path: ["metadata", "managedFields"]]?.arrayValue ?? []
                guard managers.contains(where: { $0["manager"]?.stringValue == "syncagent" }) else { continue }
                // syncagent's own namespace (its records) is not a desired object.
                if gvk.kind == "Namespace" && item[path: ["metadata", "name"]] == "syncagent-system" { continue }
                keys.insert(
                    ObjectKey(
                        group: gvk.group, kind: gvk.kind,
                        namespace: item[path: ["metadata", "namespace"]]?.stringValue ?? "",
                        name: item[path: ["metadata", "name"]]?.stringValue ?? ""))
            }
        }
        return keys
    }

    /// How many passes the agent logged as incomplete (a region it could not reach).
    static func incompletePasses(_ agent: Agent) -> Int {
        agent.process.log().split(separator: "\n").filter { $0.contains("rollout ended") && $0.contains("incomplete") }
            .count
    }

    /// Sets a kubesim fault in every region.
    static func fault(_ mesh: SyncMesh, _ path: String, regions: [String] = SyncMesh.regionNames) async throws {
        for region in regions { try await mesh.cluster.metricsRequest("POST", path, region: region) }
    }

    @Test func twoSecondsOfLatencyOnEveryRequest() async throws {
        let mesh = try await SyncMesh()
        try await Self.fault(mesh, "/faults/latency?ms=2000")
        let agent = try Agent(mesh)
        try await AgentTests.waitForSynced(mesh, mesh.initial, agent: agent, timeout: 1_200)
        try await Self.fault(mesh, "/faults/reset")
        try await Self.expectConverged(mesh, at: mesh.initial)
    }

    @Test(arguments: [500, 503, 429])
    func aTenthOfRequestsFail(code: Int) async throws {
        let mesh = try await SyncMesh()
        try await Self.fault(mesh, "/faults/errors?rate=0.1&code=\(code)")
        let agent = try Agent(mesh)
        try await AgentTests.waitForSynced(mesh, mesh.initial, agent: agent)
        // Some requests did fail: the fault was real.
        #expect(try mesh.audit().contains { $0.code == code })
        try await Self.fault(mesh, "/faults/reset")
        try await Self.expectConverged(mesh, at: mesh.initial)
    }

    @Test func aRegionDownForAWholePassThenMidPassThenBack() async throws {
        let mesh = try await SyncMesh()
        // Down for the whole first pass: the primary syncs, the secondary is reported and retried.
        try await Self.fault(mesh, "/faults/down", regions: ["us-chicago-1"])
        let agent = try Agent(mesh)
        try await waitUntil(timeout: 300, "the primary synced while the secondary is down") {
            try await mesh.status()["us-sanjose-1"]?["syncedRevision"]?.stringValue == mesh.initial
        }
        // Back, but slow; it goes down again in the middle of its pass, then comes back.
        try await Self.fault(mesh, "/faults/latency?ms=300", regions: ["us-chicago-1"])
        try await Self.fault(mesh, "/faults/up", regions: ["us-chicago-1"])
        try await waitUntil(timeout: 300, "a few applies in us-chicago-1") {
            try await mesh.storedApplies(region: "us-chicago-1") >= 4
        }
        let incomplete = Self.incompletePasses(agent)
        try await Self.fault(mesh, "/faults/down", regions: ["us-chicago-1"])
        try await waitUntil(timeout: 300, "a pass cut short by the region going down; log:\n\(agent.process.log())") {
            Self.incompletePasses(agent) > incomplete
        }
        try await Self.fault(mesh, "/faults/reset", regions: ["us-chicago-1"])
        try await AgentTests.waitForSynced(mesh, mesh.initial, agent: agent)
        try await Self.expectConverged(mesh, at: mesh.initial)
    }

    @Test func theAPIServerRestartedMidPass() async throws {
        let mesh = try await SyncMesh()
        try await Self.fault(mesh, "/faults/latency?ms=300")
        let agent = try Agent(mesh)
        try await waitUntil(timeout: 300, "a few applies in us-sanjose-1") {
            try await mesh.storedApplies(region: "us-sanjose-1") >= 4
        }
        // Control-plane failover: the API server stops and comes back on the same address and data.
        try await mesh.cluster.restart()
        try await AgentTests.waitForSynced(mesh, mesh.initial, agent: agent)
        try await Self.expectConverged(mesh, at: mesh.initial)
    }

    /// SIGKILL at a random moment of a pass, 20 times in a row, with a new commit every few kills so a pass is
    /// always under way: each restart resumes from the records, and the end state is the last commit's.
    @Test func twentySIGKILLsInARow() async throws {
        let mesh = try await SyncMesh()
        try await Self.fault(mesh, "/faults/latency?ms=100")
        let seed = UInt64(ProcessInfo.processInfo.environment["FAULT_SEED"] ?? "") ?? UInt64.random(in: 1...1_000_000)
        var random = SplitMix64(seed: seed)
        var target = mesh.initial
        var commits: [Int] = []
        for kill in 1...20 {
            if kill % 5 == 0 {
                commits.append(try mesh.auditMark())
                target = try mesh.commit("kill \(kill): new reviews-v3 image", file: "base/10-bookinfo.yaml") {
                    $0.replacing(
                        #/examples-bookinfo-reviews-v3:[0-9.]+/#, with: "examples-bookinfo-reviews-v3:1.20.\(kill)")
                }
            }
            let agent = try Agent(mesh)
            let delay = 0.5 + Double(random.next() % 5_500) / 1_000  // 0.5 s to 6 s
            try await Task.sleep(for: .milliseconds(Int(delay * 1_000)))
            agent.process.signal(SIGKILL)
            _ = agent.process.stop()
            // No record is ever unreadable, whatever the moment.
            for region in SyncMesh.regionNames {
                _ = try await mesh.inventory(region: region)
            }
        }
        try await Self.fault(mesh, "/faults/reset")
        let last = try Agent(mesh)
        try await AgentTests.waitForSynced(mesh, target, agent: last)
        try await Self.expectConverged(mesh, at: target, segments: commits)
        let image = try await mesh.deployment("reviews-v3", region: "us-chicago-1")?[
            path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["image"]
        #expect(image?.stringValue == "docker.io/istio/examples-bookinfo-reviews-v3:1.20.20", "seed \(seed)")
    }

    /// The remote goes away (keeps the last good revision, reports), comes back, and is then force-pushed to an
    /// older commit (a new desired state, with a warning naming both commits).
    @Test func aGitRemoteThatGoesAwayAndIsRewritten() async throws {
        let mesh = try await SyncMesh()
        let agent = try Agent(mesh)
        try await AgentTests.waitForSynced(mesh, mesh.initial, agent: agent)
        let newer = try mesh.commit("reviews-v3 1.20.1", file: "base/10-bookinfo.yaml") {
            try SyncMesh.editReviewsV3($0, image: "docker.io/istio/examples-bookinfo-reviews-v3:1.20.1")
        }
        try await AgentTests.waitForSynced(mesh, newer, agent: agent)
        try await agent.waitUntilListening()

        // Unreachable: the repository is gone. The clusters keep the last good revision; readiness says why.
        try FileManager.default.moveItem(atPath: mesh.origin, toPath: mesh.origin + ".away")
        try await waitUntil(timeout: 300, "/readyz to report the repository") {
            let ready = try agent.request("GET", "/readyz")
            return ready.status == 503 && ready.body.contains("cannot read the config repository")
        }
        #expect(try agent.request("GET", "/metrics").body.contains("syncagent_git_polls_total{result=\"error\"}"))
        let status = try await mesh.status()
        for region in SyncMesh.regionNames {
            #expect(status[region]?["syncedRevision"]?.stringValue == newer)
            #expect(status[region]?["lastGoodRevision"]?.stringValue == newer)
        }
        try FileManager.default.moveItem(atPath: mesh.origin + ".away", toPath: mesh.origin)
        try await waitUntil(timeout: 300, "/readyz to recover") { try agent.request("GET", "/readyz").status == 200 }

        // Force-pushed back to the first commit: that is the desired state now.
        let mark = try mesh.auditMark()
        try await runChecked(["git", "-C", mesh.clone, "push", "-q", "--force", "origin", "\(mesh.initial):main"])
        try await AgentTests.waitForSynced(mesh, mesh.initial, agent: agent)
        try await agent.process.waitForLog("the branch was rewritten (force-push)")
        let warning = try #require(agent.process.log().split(separator: "\n").first { $0.contains("force-push") })
        #expect(warning.contains(newer) && warning.contains(mesh.initial), "\(warning)")
        try await Self.expectConverged(mesh, at: mesh.initial, since: mark)
        let image = try await mesh.deployment("reviews-v3", region: "us-chicago-1")?[
            path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["image"]
        #expect(image?.stringValue?.hasSuffix(":1.20.1") == false)
    }
}
