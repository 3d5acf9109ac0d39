import Applier
import Foundation
import Logging
import RolloutEngine
import SyncCore
import TestSupport
import Testing

/// Leader election on kubesim's Leases, in process: two replicas' coordinators (no syncagent binary), driven round
/// by round so that every step is seen.
@Suite(.serialized)
struct LeaseTests {
    /// Short timing: a Lease lasts 2 s, a holder stops writing 1 s after its last renewal.
    static let timing = LeaseTiming(
        leaseDuration: .seconds(2), renewDeadline: .seconds(1), retryPeriod: .milliseconds(250))

    static func coordinator(_ identity: String, _ cluster: KubeSimCluster) throws -> LeaseCoordinator {
        try LeaseCoordinator(
            regions: cluster.regions.map {
                RegionTarget(name: $0.name, kubeconfig: cluster.kubeconfigPath, context: $0.name)
            },
            identity: identity, timing: timing, logger: Logger(label: "lease-test"))
    }

    static func lease(_ cluster: KubeSimCluster, region: String = "us-sanjose-1") async throws -> Value? {
        let (status, body) = try await cluster.request(
            "GET", "/apis/coordination.k8s.io/v1/namespaces/syncagent-system/leases/syncagent", region: region)
        return status == 200 ? try Value(json: body) : nil
    }

    /// Rounds of every replica, `period` apart, until `done` or `timeout`; after each round no region may be
    /// writable by two replicas.
    static func rounds(
        _ replicas: [LeaseCoordinator], regions: [String], timeout: Double = 60, period: Duration = .milliseconds(250),
        until done: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for replica in replicas { await replica.round() }
            for region in regions {
                let holders = replicas.filter { $0.holds(region) }.map(\.identity)
                #expect(holders.count <= 1, "region \(region) writable by \(holders)")
            }
            if try await done() { return }
            try await Task.sleep(for: period)
        }
        throw TestSupportError("rounds timed out")
    }

    @Test func oneReplicaHoldsTheLeaseAndAnotherTakesItOnlyAfterTheHolderStoppedWriting() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        await alpha.round()
        #expect(alpha.holds("us-sanjose-1"))
        #expect(alpha.isLeader)
        // The namespace did not exist: the Lease's first try created it.
        let created = try #require(try await Self.lease(cluster))
        #expect(created[path: ["spec", "holderIdentity"]]?.stringValue == "alpha")
        #expect(created[path: ["spec", "leaseDurationSeconds"]]?.intValue == 2)

        // Both go on for 2 s (eight rounds): alpha renews, bravo never holds.
        let start = Date()
        try await Self.rounds([alpha, bravo], regions: ["us-sanjose-1"]) { Date().timeIntervalSince(start) > 2 }
        #expect(alpha.holds("us-sanjose-1"))
        #expect(!bravo.holds("us-sanjose-1"))
        #expect(!bravo.isLeader)
        let refusal = try #require(bravo.refusal(for: "us-sanjose-1"))
        #expect(refusal.contains("held by alpha"), "\(refusal)")

        // alpha stops renewing (a process frozen, or killed): it stops writing after the renew deadline; bravo
        // takes the Lease only after a whole Lease duration without renewal, as it saw it.
        let stopped = Date()
        var alphaStoppedWriting: Double?
        try await Self.rounds([bravo], regions: ["us-sanjose-1"]) {
            if alphaStoppedWriting == nil && !alpha.holds("us-sanjose-1") {
                alphaStoppedWriting = Date().timeIntervalSince(stopped)
            }
            if bravo.holds("us-sanjose-1") { #expect(!alpha.holds("us-sanjose-1")) }
            return bravo.holds("us-sanjose-1")
        }
        let tookOver = Date().timeIntervalSince(stopped)
        let stoppedAfter = try #require(alphaStoppedWriting)
        #expect(stoppedAfter <= 1.3, "alpha wrote \(stoppedAfter) s after its last renewal")
        #expect(tookOver >= 1.7, "bravo took the Lease \(tookOver) s after alpha's last renewal")
        let taken = try #require(try await Self.lease(cluster))
        #expect(taken[path: ["spec", "holderIdentity"]]?.stringValue == "bravo")
        #expect(taken[path: ["spec", "leaseTransitions"]]?.intValue == 1)
        // alpha, back, sees the new holder and does not take the Lease back.
        await alpha.round()
        #expect(!alpha.holds("us-sanjose-1"))
        #expect(alpha.refusal(for: "us-sanjose-1")?.contains("held by bravo") == true)
    }

    @Test func aReleasedLeaseIsTakenAtOnce() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        await alpha.round()
        await bravo.round()
        #expect(alpha.holds("us-sanjose-1") && !bravo.holds("us-sanjose-1"))
        await alpha.releaseAll()
        #expect(!alpha.holds("us-sanjose-1"))
        let released = try #require(try await Self.lease(cluster))
        #expect(released[path: ["spec", "holderIdentity"]]?.stringValue == "")
        await bravo.round()
        #expect(bravo.holds("us-sanjose-1"))
    }

    @Test func aFencedClientSendsNoWriteWithoutTheLease() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        await alpha.round()
        await bravo.round()
        let logger = Logger(label: "lease-test")
        func client(_ replica: LeaseCoordinator) throws -> KubeClient {
            let client = try KubeClient(
                kubeconfig: try Kubeconfig.load(file: cluster.kubeconfigPath), context: "us-sanjose-1",
                options: KubeClientOptions(userAgent: LeaseCoordinator.userAgent(replica.identity)), logger: logger)
            client.fence.arm { replica.refusal(for: "us-sanjose-1") }
            return client
        }
        let body: Value = [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "fenced", "namespace": "default"],
            "data": ["a": "1"],
        ]
        let object = try Resource(body: body)
        let standby = try client(bravo)
        do {
            _ = try await standby.apply(object)
            Issue.record("a replica without the Lease applied")
        } catch {
            guard case .notHolder(_, let message) = error else { throw error }
            #expect(message.contains("held by alpha"), "\(message)")
        }
        await #expect(throws: ApplierError.self) { try await standby.create(object) }
        // Reads and dry runs are not writes.
        #expect(try await standby.getIfPresent(object.ref) == nil)
        _ = try await standby.create(object, dryRun: true)
        #expect(try await standby.getIfPresent(object.ref) == nil)
        // The holder writes.
        _ = try await client(alpha).apply(object)
        #expect(try await standby.getIfPresent(object.ref) != nil)
    }

    @Test func aReplicaCutOffFromThePrimaryHandsTheSecondaryToTheReplicaThatHoldsThePrimary() async throws {
        let cluster = try await KubeSimCluster()
        let regions = ["us-sanjose-1", "us-chicago-1"]
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        // alpha comes first and takes both, in rollout order.
        try await Self.rounds([alpha, bravo], regions: regions) {
            alpha.holds("us-sanjose-1") && alpha.holds("us-chicago-1")
        }
        #expect(alpha.isLeader && !bravo.isLeader)
        // alpha is cut off from the primary: it stops writing there, bravo takes the primary, then asks for the
        // secondary, which alpha (holding nothing earlier) hands over.
        _ = try await cluster.metricsRequest("POST", "/faults/partition?userAgent=syncagent/alpha")
        try await Self.rounds([alpha, bravo], regions: regions) {
            bravo.holds("us-sanjose-1") && bravo.holds("us-chicago-1")
        }
        #expect(bravo.isLeader)
        #expect(!alpha.holds("us-sanjose-1") && !alpha.holds("us-chicago-1"))
        // alpha cannot reach the primary and holds nothing: it does not lead.
        #expect(!alpha.isLeader)
        let secondary = try #require(try await Self.lease(cluster, region: "us-chicago-1"))
        #expect(secondary[path: ["spec", "holderIdentity"]]?.stringValue == "bravo")
        // Healed, alpha stays a standby: the Leases stay where they are.
        _ = try await cluster.metricsRequest("POST", "/faults/heal")
        let healed = Date()
        try await Self.rounds([alpha, bravo], regions: regions) { Date().timeIntervalSince(healed) > 3 }
        #expect(bravo.holds("us-sanjose-1") && bravo.holds("us-chicago-1"))
        #expect(!alpha.isLeader)
    }

    @Test func withThePrimaryDownTheSecondarysHolderKeepsItAndTheRolloutResumesWhenItIsBack() async throws {
        let cluster = try await KubeSimCluster()
        let regions = ["us-sanjose-1", "us-chicago-1"]
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        try await Self.rounds([alpha, bravo], regions: regions) {
            alpha.holds("us-sanjose-1") && alpha.holds("us-chicago-1")
        }
        _ = try await cluster.metricsRequest("POST", "/faults/down")
        let down = Date()
        // alpha keeps the secondary (and stays the leader: the first region it can reach is the secondary).
        try await Self.rounds([alpha, bravo], regions: regions) { Date().timeIntervalSince(down) > 3 }
        #expect(!alpha.holds("us-sanjose-1"))
        #expect(alpha.holds("us-chicago-1") && !bravo.holds("us-chicago-1"))
        #expect(alpha.isLeader && !bravo.isLeader)
        _ = try await cluster.metricsRequest("POST", "/faults/up")
        // Back up: alpha, the Lease's last holder, renews it at once.
        try await Self.rounds([alpha, bravo], regions: regions) { alpha.holds("us-sanjose-1") }
        #expect(alpha.isLeader && alpha.holds("us-chicago-1"))
    }
}
