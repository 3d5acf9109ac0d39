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
    /// Short timing: a Lease lasts 4 s, a holder stops writing 3 s after its last renewal.
    static let timing = LeaseTiming(
        leaseDuration: .seconds(4), renewDeadline: .seconds(3), retryPeriod: .milliseconds(500))

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
    /// Runs rounds of `replicas` until `done`; how many it took.
    @discardableResult
    static func rounds(
        _ replicas: [LeaseCoordinator], regions: [String], timeout: Double = 300, period: Duration = .milliseconds(250),
        until done: () async throws -> Bool
    ) async throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var count = 0
        while Date() < deadline {
            count += 1
            for replica in replicas { await replica.round() }
            for region in regions {
                let holders = replicas.filter { $0.holds(region) }.map(\.identity)
                #expect(holders.count <= 1, "region \(region) writable by \(holders)")
            }
            if try await done() { return count }
            try await Task.sleep(for: period)
        }
        throw TestSupportError("rounds timed out")
    }

    static let regions = ["us-sanjose-1", "us-chicago-1"]

    /// Two regions and two replicas, alpha started first: it takes both Leases, in rollout order.
    static func twoRegionsHeldByAlpha() async throws -> (KubeSimCluster, LeaseCoordinator, LeaseCoordinator) {
        let cluster = try await KubeSimCluster(regions: regions)
        let alpha = try coordinator("alpha", cluster)
        let bravo = try coordinator("bravo", cluster)
        try await rounds([alpha, bravo], regions: regions) {
            alpha.holds("us-sanjose-1") && alpha.holds("us-chicago-1")
        }
        return (cluster, alpha, bravo)
    }

    @Test func oneReplicaHoldsTheLeaseAndAnotherTakesItOnlyAfterTheHolderStoppedWriting() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        try await Self.rounds([alpha], regions: ["us-sanjose-1"]) { alpha.holds("us-sanjose-1") }
        #expect(alpha.isLeader)
        // The namespace did not exist: the Lease's first try created it.
        let created = try #require(try await Self.lease(cluster))
        #expect(created[path: ["spec", "holderIdentity"]]?.stringValue == "alpha")
        #expect(created[path: ["spec", "leaseDurationSeconds"]]?.intValue == 4)

        // Both go on for 5 s (ten rounds, more than a Lease duration): alpha renews, bravo never holds. (On a
        // starved machine alpha may miss its renew deadline and stop writing for a while; it keeps the Lease and
        // takes it up again, and bravo still never holds it.)
        let start = Date()
        var bravoHeld = false
        try await Self.rounds([alpha, bravo], regions: ["us-sanjose-1"]) {
            if bravo.holds("us-sanjose-1") { bravoHeld = true }
            return Date().timeIntervalSince(start) > 5
        }
        #expect(!bravoHeld)
        try await Self.rounds([alpha, bravo], regions: ["us-sanjose-1"]) { alpha.holds("us-sanjose-1") }
        #expect(!bravo.holds("us-sanjose-1"))
        #expect(!bravo.isLeader)
        let refusal = try #require(bravo.refusal(for: "us-sanjose-1"))
        #expect(refusal.contains("held by alpha"), "\(refusal)")

        // alpha stops renewing (a process frozen, or killed): it stops writing after the renew deadline; bravo
        // takes the Lease only after a whole Lease duration without renewal, as it saw it.
        let stopped = Date()
        // alpha's last renewal as the cluster has it (on a starved machine it can be older than this moment).
        let renewal = try #require(try await Self.lease(cluster))
        let renewText = try #require(renewal[path: ["spec", "renewTime"]]?.stringValue)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let renewed = try #require(format.date(from: renewText), "\(renewText)")
        var alphaStoppedWriting: Double?
        try await Self.rounds([bravo], regions: ["us-sanjose-1"]) {
            if alphaStoppedWriting == nil && !alpha.holds("us-sanjose-1") {
                alphaStoppedWriting = Date().timeIntervalSince(stopped)
            }
            if bravo.holds("us-sanjose-1") { #expect(!alpha.holds("us-sanjose-1")) }
            return bravo.holds("us-sanjose-1")
        }
        let tookOver = Date().timeIntervalSince(stopped)
        let sinceRenewal = Date().timeIntervalSince(renewed)
        let stoppedAfter = try #require(alphaStoppedWriting)
        // alpha stopped writing before bravo took the Lease, and bravo waited a whole Lease duration (4 s) from
        // alpha's last renewal: it counts from when it saw that renewal, which is later (the renewTime is written
        // to microseconds; 0.05 s allows for the rounding of the two clocks' readings).
        #expect(stoppedAfter < tookOver, "alpha stopped \(stoppedAfter) s, bravo took over \(tookOver) s after")
        #expect(sinceRenewal >= 3.95, "bravo took the Lease \(sinceRenewal) s after alpha's last renewal")
        let taken = try #require(try await Self.lease(cluster))
        #expect(taken[path: ["spec", "holderIdentity"]]?.stringValue == "bravo")
        #expect(taken[path: ["spec", "leaseTransitions"]]?.intValue == 1)
        // alpha, back, sees the new holder and does not take the Lease back.
        try await Self.rounds([alpha, bravo], regions: ["us-sanjose-1"]) {
            alpha.refusal(for: "us-sanjose-1")?.contains("held by bravo") == true
        }
        #expect(!alpha.holds("us-sanjose-1") && bravo.holds("us-sanjose-1"))
    }

    @Test func aReleasedLeaseIsTakenAtOnce() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        try await Self.rounds([alpha, bravo], regions: ["us-sanjose-1"]) { alpha.holds("us-sanjose-1") }
        #expect(!bravo.holds("us-sanjose-1"))
        await alpha.releaseAll()
        #expect(!alpha.holds("us-sanjose-1"))
        let released = try #require(try await Self.lease(cluster))
        #expect(released[path: ["spec", "holderIdentity"]]?.stringValue == "")
        // Taken at bravo's next round, not after a Lease duration (16 rounds of 250 ms). Counted in rounds, not
        // seconds: a loaded machine stretches the seconds (a CI run saw 8 s), not the rounds.
        let rounds = try await Self.rounds([bravo], regions: ["us-sanjose-1"]) { bravo.holds("us-sanjose-1") }
        #expect(rounds == 1, "bravo took the released Lease at round \(rounds)")
    }

    @Test func aFencedClientSendsNoWriteWithoutTheLease() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let alpha = try Self.coordinator("alpha", cluster)
        let bravo = try Self.coordinator("bravo", cluster)
        try await Self.rounds([alpha, bravo], regions: ["us-sanjose-1"]) {
            alpha.holds("us-sanjose-1") && bravo.refusal(for: "us-sanjose-1")?.contains("held by alpha") == true
        }
        // A write may take only until another replica could take the Lease: at most a Lease duration from the
        // holder's last renewal; the standby may not write at all.
        let remaining = try #require(alpha.remaining(for: "us-sanjose-1"))
        #expect(remaining > 0 && remaining <= 4, "\(remaining)")
        #expect(bravo.remaining(for: "us-sanjose-1") == nil)
        let logger = Logger(label: "lease-test")
        func client(_ replica: LeaseCoordinator) throws -> KubeClient {
            let client = try KubeClient(
                kubeconfig: try Kubeconfig.load(file: cluster.kubeconfigPath), context: "us-sanjose-1",
                options: KubeClientOptions(userAgent: LeaseCoordinator.userAgent(replica.identity)), logger: logger)
            client.fence.arm(
                { replica.refusal(for: "us-sanjose-1") }, remaining: { replica.remaining(for: "us-sanjose-1") })
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
        // The holder writes (renewed just before: on a starved machine the steps above can outlast its renew
        // deadline, and then it must not write either).
        let holder = try client(alpha)
        try await Self.rounds([alpha, bravo], regions: ["us-sanjose-1"]) {
            guard alpha.holds("us-sanjose-1") else { return false }
            do {
                _ = try await holder.apply(object)
                return true
            } catch {
                guard case .notHolder? = error as? ApplierError else { throw error }
                return false
            }
        }
        #expect(try await standby.getIfPresent(object.ref) != nil)
    }

    @Test func aReplicaCutOffFromThePrimaryHandsTheSecondaryToTheReplicaThatHoldsThePrimary() async throws {
        let (cluster, alpha, bravo) = try await Self.twoRegionsHeldByAlpha()
        #expect(alpha.isLeader && !bravo.isLeader)
        // alpha is cut off from the primary: it stops writing there, bravo takes the primary, then asks for the
        // secondary, which alpha (holding nothing earlier) hands over.
        _ = try await cluster.metricsRequest("POST", "/faults/partition?userAgent=syncagent/alpha")
        try await Self.rounds([alpha, bravo], regions: Self.regions) {
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
        var alphaHeld = false
        try await Self.rounds([alpha, bravo], regions: Self.regions) {
            if alpha.holds("us-sanjose-1") || alpha.holds("us-chicago-1") { alphaHeld = true }
            return Date().timeIntervalSince(healed) > 5
        }
        #expect(!alphaHeld)
        try await Self.rounds([alpha, bravo], regions: Self.regions) {
            bravo.holds("us-sanjose-1") && bravo.holds("us-chicago-1")
        }
        #expect(!alpha.isLeader)
    }

    @Test func withThePrimaryDownTheSecondarysHolderKeepsItAndTheRolloutResumesWhenItIsBack() async throws {
        let (cluster, alpha, bravo) = try await Self.twoRegionsHeldByAlpha()
        _ = try await cluster.metricsRequest("POST", "/faults/down")
        let down = Date()
        // alpha keeps the secondary (and stays the leader: the first region it can reach is the secondary).
        var bravoHeld = false
        try await Self.rounds([alpha, bravo], regions: Self.regions) {
            if bravo.holds("us-chicago-1") || bravo.holds("us-sanjose-1") { bravoHeld = true }
            return Date().timeIntervalSince(down) > 5
        }
        #expect(!bravoHeld)
        // Nobody may write to the primary past alpha's renew deadline (3 s); alpha renews the secondary.
        #expect(!alpha.holds("us-sanjose-1"))
        try await Self.rounds([alpha, bravo], regions: Self.regions) { alpha.holds("us-chicago-1") }
        #expect(alpha.isLeader && !bravo.isLeader)
        _ = try await cluster.metricsRequest("POST", "/faults/up")
        // Back up: alpha, the Lease's last holder, renews it at once.
        try await Self.rounds([alpha, bravo], regions: Self.regions) { alpha.holds("us-sanjose-1") }
        #expect(alpha.isLeader && alpha.holds("us-chicago-1"))
    }
}
