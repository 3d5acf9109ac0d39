import Foundation
import SyncCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Several `syncagent run` replicas with leader election (`agent.leaderElection`) against two kubesim regions:
/// real processes, real Leases, kubesim's audit log as the witness of who wrote what.
@Suite(.serialized)
struct HighAvailabilityTests {
    /// One replica: its own Git cache (its own file system, as in its own pod), the same configuration otherwise.
    final class Replica: Sendable {
        let identity: String
        let port: Int
        let process: ChildProcess

        init(_ mesh: SyncMesh, identity: String) throws {
            self.identity = identity
            port = try freePort()
            let config = try String(contentsOfFile: mesh.configPath, encoding: .utf8).replacingOccurrences(
                of: mesh.cachePath, with: mesh.cachePath + "-" + identity)
            let path = try mesh.work.write("syncagent-\(identity).yaml", config).path
            process = try ChildProcess([
                mesh.syncagent, "run", "--config", path, "--listen", "127.0.0.1:\(port)", "--identity", identity,
            ])
        }

        /// `/metrics`, or "" while it does not answer.
        func metrics() -> String {
            guard process.isRunning,
                let output = try? run(["curl", "-sS", "-m", "5", "http://127.0.0.1:\(port)/metrics"]),
                output.status == 0
            else { return "" }
            return output.stdout
        }

        /// `/readyz`: status and body.
        func readyz() -> (Int, String) {
            guard
                let output = try? run([
                    "curl", "-sS", "-m", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/readyz",
                ]),
                output.status == 0, let newline = output.stdout.lastIndex(of: "\n")
            else { return (0, "") }
            return (
                Int(output.stdout[output.stdout.index(after: newline)...]) ?? 0,
                String(output.stdout[..<newline])
            )
        }

        /// The regions whose Lease this replica holds, by its `syncagent_lease_held`.
        func held() -> Set<String> {
            let metrics = metrics()
            return Set(SyncMesh.regionNames.filter { metrics.contains("syncagent_lease_held{region=\"\($0)\"} 1") })
        }

        deinit { process.stop() }
    }

    /// The mesh with leader election at `timing` (YAML members of `agent.leaderElection`).
    static func mesh(timing: String = "enabled: true", agent: String = "") async throws -> SyncMesh {
        let mesh = try await SyncMesh(
            extra: "agent: {cache: CACHE, leaderElection: {\(timing)}\(agent.isEmpty ? "" : ", " + agent)}\n",
            pollInterval: "1s")
        try mesh.work.write(
            "syncagent.yaml",
            try String(contentsOfFile: mesh.configPath, encoding: .utf8).replacingOccurrences(
                of: "CACHE", with: mesh.cachePath))
        return mesh
    }

    static func waitForSynced(_ mesh: SyncMesh, _ revision: String, _ replicas: [Replica], timeout: Double = 300)
        async throws
    {
        try await waitUntil(timeout: timeout, "both regions synced at \(revision); logs:\n\(logs(replicas))") {
            let status = try await mesh.status()
            return SyncMesh.regionNames.allSatisfy {
                status[$0]?["lastResult"]?.stringValue == "synced"
                    && status[$0]?["syncedRevision"]?.stringValue == revision
            }
        }
    }

    static func logs(_ replicas: [Replica]) -> String {
        replicas.map { "--- \($0.identity):\n\(String($0.process.log().suffix(6000)))" }.joined(separator: "\n")
    }

    /// The replica (among `replicas`) that holds every region's Lease, if one does.
    static func holderOfAll(_ replicas: [Replica]) -> Replica? {
        replicas.first { $0.process.isRunning && $0.held() == Set(SyncMesh.regionNames) }
    }

    /// Every write syncagent stored in a region came from the replica that held the region's Lease then: the last
    /// replica to write the Lease before it (renewals, takeovers and releases are Lease writes; a handover request
    /// is one too, but the asker's next Lease write is its takeover). Returns the writers seen per region.
    static func checkOneWriterPerRegion(_ mesh: SyncMesh) throws -> [String: Set<String>] {
        var holder: [String: String] = [:]
        var onlyCreated: Set<String> = []
        var writers: [String: Set<String>] = [:]
        for event in try mesh.audit() where event.userAgent.hasPrefix("syncagent/") {
            let identity = String(event.userAgent.dropFirst("syncagent/".count))
            if event.resource == "leases" {
                if ["create", "update"].contains(event.verb) && event.code < 300 {
                    holder[event.region] = identity
                    if event.verb == "create" {
                        onlyCreated.insert(event.region)
                    } else {
                        onlyCreated.remove(event.region)
                    }
                }
                continue
            }
            guard event.isStoredWrite else { continue }
            // Before the first Lease in a cluster: the electors (each replica's, unfenced) create namespace
            // syncagent-system to keep it in. Two replicas racing there both create it, one stored; kubesim logs a
            // request when it has answered it, so that create can be logged just after the other replica's Lease
            // create (which needed the namespace, so came after it). Once the Lease exists, so does the namespace:
            // no later create of it is stored.
            if event.resource == "namespaces" && event.verb == "create"
                && (holder[event.region] == nil || onlyCreated.contains(event.region))
            {
                continue
            }
            #expect(
                holder[event.region] == identity,
                "\(event.verb) \(event.uri) in \(event.region) by \(identity) while \(holder[event.region] ?? "nobody") held the Lease"
            )
            writers[event.region, default: []].insert(identity)
        }
        return writers
    }

    /// The seed's DR drill for the agent itself: three replicas, the active one killed (-9) in the middle of a
    /// rollout, ten times. Each time every Lease goes to one survivor within lease duration + one retry (the
    /// defaults: 15 s + 2 s), the revision converges in both regions, the inventory is consistent, and every write
    /// in the audit log came from the Lease holder of its moment.
    @Test func killingTheActiveReplicaTenTimesHandsOverAndConvergesWithOneWriterPerRegion() async throws {
        let mesh = try await Self.mesh()
        var replicas = try ["r1", "r2", "r3"].map { try Replica(mesh, identity: $0) }
        try await Self.waitForSynced(mesh, mesh.initial, replicas)
        var leader = try #require(Self.holderOfAll(replicas), "\(Self.logs(replicas))")
        // The standbys say so, and are ready.
        for replica in replicas where replica !== leader {
            try await waitUntil(timeout: 300, "\(replica.identity) to report standby") {
                let (status, body) = replica.readyz()
                return status == 200 && body.contains("standby")
            }
            #expect(replica.held().isEmpty)
        }
        // What the Leases cost at rest: over 20 s, each replica reads (standby) or renews (leader) each region's
        // Lease once per retry period (2 s), nothing more.
        let mark = try mesh.auditMark()
        let window = Date()
        try await waitUntil(timeout: 300, "a 20 s window") { Date().timeIntervalSince(window) >= 20 }
        let elapsed = Date().timeIntervalSince(window)
        let leaseRequests = try mesh.audit().dropFirst(mark).filter { $0.resource == "leases" }
        var perReplica: [String: Int] = [:]
        for event in leaseRequests {
            perReplica[String(event.userAgent.dropFirst("syncagent/".count)), default: 0] += 1
        }
        print(
            "Lease requests at rest: \(leaseRequests.count) in \(String(format: "%.1f", elapsed)) s = "
                + "\(String(format: "%.0f", Double(leaseRequests.count) * 60 / elapsed)) a minute, by replica \(perReplica)"
        )
        for replica in replicas {
            let count = perReplica[replica.identity] ?? 0
            // At most one per region and retry period (20 s / 2 s × 2 regions = 20), give or take a round (fewer
            // when a loaded machine slows the rounds); every replica is at it.
            #expect(count >= 1 && count <= 26, "\(replica.identity) made \(count) Lease requests in 20 s")
        }
        var handovers: [Double] = []
        var spawned = 3
        for kill in 1...10 {
            let before = try await mesh.storedApplies(region: "us-sanjose-1")
            // A new pod template for reviews-v3 in both regions (a rollout kubesim takes its time over).
            let change = try mesh.commit("kill drill \(kill): reviews-v3", file: "base/10-bookinfo.yaml") { text in
                kill == 1
                    ? try SyncMesh.editReviewsV3(text, annotations: "drill: \"1\"")
                    : text.replacingOccurrences(of: "drill: \"\(kill - 1)\"", with: "drill: \"\(kill)\"")
            }
            try await waitUntil(timeout: 300, "the leader to apply in us-sanjose-1; \(Self.logs([leader]))") {
                try await mesh.storedApplies(region: "us-sanjose-1") > before
            }
            leader.process.signal(SIGKILL)
            _ = leader.process.stop()
            let killed = Date()
            let survivors = replicas.filter { $0 !== leader }
            try await waitUntil(timeout: 300, "a survivor to hold every Lease; \(Self.logs(survivors))") {
                Self.holderOfAll(survivors) != nil
            }
            handovers.append(Date().timeIntervalSince(killed))
            leader = try #require(Self.holderOfAll(survivors))
            spawned += 1
            replicas = survivors + [try Replica(mesh, identity: "r\(spawned)")]
            try await Self.waitForSynced(mesh, change, replicas)
            for region in SyncMesh.regionNames {
                let inventory = try #require(try await mesh.inventory(region: region))
                #expect(inventory.revision == change)
                #expect(inventory.pendingRevision == nil)
                #expect(Set(inventory.objects.map(\.key)).count == SyncMesh.objectCount)
                let reviews = try #require(try await mesh.deployment("reviews-v3", region: region))
                #expect(
                    reviews[path: ["spec", "template", "metadata", "annotations", "drill"]]?.stringValue == "\(kill)")
            }
        }
        let sorted = handovers.sorted()
        let median = (sorted[4] + sorted[5]) / 2
        print(
            "hand-over times over 10 kills (s): \(handovers.map { String(format: "%.1f", $0) }.joined(separator: " ")); "
                + "median \(String(format: "%.1f", median)), max \(String(format: "%.1f", sorted.last ?? 0))")
        // Lease duration 15 s + one retry 2 s, measured from the kill (the last renewal came before it), plus the
        // metrics poll: within the 30 s the issue allows.
        #expect((sorted.last ?? 99) <= 30, "hand-over times \(handovers)")
        let writers = try Self.checkOneWriterPerRegion(mesh)
        // The check saw many writers: the drill handed the regions from replica to replica.
        for region in SyncMesh.regionNames { #expect((writers[region]?.count ?? 0) >= 5, "\(writers)") }
    }

    /// The primary region's cluster down: the holder of the secondary's Lease keeps reporting drift there within
    /// the drift interval; a new revision stops at the primary; back up, the rollout resumes.
    @Test func withThePrimaryDownDriftInTheSecondaryIsReportedAndTheRolloutResumesWhenItIsBack() async throws {
        let mesh = try await Self.mesh(
            timing: "leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s", agent: "driftInterval: 2s")
        let replicas = try ["p1", "p2"].map { try Replica(mesh, identity: $0) }
        try await Self.waitForSynced(mesh, mesh.initial, replicas)
        try await mesh.cluster.metricsRequest("POST", "/faults/down", region: "us-sanjose-1")
        // A hand edit in the secondary.
        let patch = try await mesh.cluster.request(
            "PATCH", "/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1?fieldManager=kubectl-edit",
            body: #"{"spec":{"replicas":3}}"#, contentType: "application/merge-patch+json", region: "us-chicago-1")
        #expect(patch.status == 200, "\(patch.body)")
        try await waitUntil(timeout: 300, "the drift in us-chicago-1 to be reported; \(Self.logs(replicas))") {
            replicas.contains {
                $0.metrics().contains(#"syncagent_drifted_resources{region="us-chicago-1"} 1"#)
                    && $0.held().contains("us-chicago-1")
            }
        }
        // The Lease of the secondary has one holder.
        #expect(replicas.filter { $0.held().contains("us-chicago-1") }.count == 1)
        // Nobody may write to the primary once its renew deadline passed (3 s after the last renewal).
        try await waitUntil(timeout: 300, "every replica to stop holding us-sanjose-1") {
            replicas.allSatisfy { !$0.held().contains("us-sanjose-1") }
        }
        // A new revision stops at the primary: the secondary is not touched.
        let change = try mesh.commit("while the primary is down", file: "base/10-bookinfo.yaml") { text in
            try SyncMesh.editReviewsV3(text, annotations: "during: outage")
        }
        let holder = try #require(replicas.first { $0.held().contains("us-chicago-1") })
        try await holder.process.waitForLog("us-sanjose-1=unavailable", timeout: 300)
        let secondary = try #require(try await mesh.deployment("reviews-v3", region: "us-chicago-1"))
        #expect(secondary[path: ["spec", "template", "metadata", "annotations", "during"]] == nil)
        try await mesh.cluster.metricsRequest("POST", "/faults/up", region: "us-sanjose-1")
        try await Self.waitForSynced(mesh, change, replicas)
        _ = try Self.checkOneWriterPerRegion(mesh)

        // SIGTERM: the holder releases its Leases on the way out (a graceful stop hands over at once, not after a
        // Lease duration): once it has exited, no Lease names it.
        let leader = try #require(Self.holderOfAll(replicas), "\(Self.logs(replicas))")
        leader.process.signal(SIGTERM)
        try await waitUntil(timeout: 300, "\(leader.identity) to exit on SIGTERM") { !leader.process.isRunning }
        #expect(leader.process.stop() == 0, "\(Self.logs([leader]))")
        for region in SyncMesh.regionNames {
            let lease = try #require(
                try await mesh.get(
                    "/apis/coordination.k8s.io/v1/namespaces/syncagent-system/leases/syncagent", region: region))
            let holder = lease[path: ["spec", "holderIdentity"]]?.stringValue ?? ""
            #expect(holder != leader.identity, "\(region)'s Lease still names \(leader.identity) after its exit")
        }
    }

    /// The leader cut off from the primary (its API calls there fail; other clients go on): it stops writing there
    /// before its Lease expires, a standby takes the primary, is handed the secondary, and syncs the next revision.
    @Test func aReplicaCutOffFromThePrimaryStopsWritingThereAndAnotherTakesOver() async throws {
        let mesh = try await Self.mesh(timing: "leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s")
        let replicas = try ["q1", "q2"].map { try Replica(mesh, identity: $0) }
        try await Self.waitForSynced(mesh, mesh.initial, replicas)
        let leader = try #require(Self.holderOfAll(replicas), "\(Self.logs(replicas))")
        let standby = try #require(replicas.first { $0 !== leader })
        try await mesh.cluster.metricsRequest(
            "POST", "/faults/partition?userAgent=syncagent/\(leader.identity)", region: "us-sanjose-1")
        let cut = Date()
        try await waitUntil(timeout: 300, "\(standby.identity) to hold both Leases; \(Self.logs(replicas))") {
            standby.held() == Set(SyncMesh.regionNames)
        }
        let tookOver = Date().timeIntervalSince(cut)
        print("after the partition, \(standby.identity) held both Leases in \(String(format: "%.1f", tookOver)) s")
        #expect(leader.held().isEmpty)
        let change = try mesh.commit("after the partition", file: "base/10-bookinfo.yaml") { text in
            try SyncMesh.editReviewsV3(text, annotations: "after: partition")
        }
        try await Self.waitForSynced(mesh, change, replicas)
        let writers = try Self.checkOneWriterPerRegion(mesh)
        #expect(writers["us-chicago-1"]?.contains(standby.identity) == true, "\(writers)")
        // The cut-off replica sent nothing to the primary that was stored after the cut (its requests were refused,
        // and it stopped trying to write once its renew deadline passed).
        #expect(leader.process.log().contains("stopped writing to the region"), "\(Self.logs([leader]))")
    }
}
