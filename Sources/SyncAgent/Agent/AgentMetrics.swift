import Applier
import RolloutEngine
import Foundation
import Prometheus
import Synchronization

/// The agent's Prometheus metrics (swift-prometheus), served at `/metrics`:
///
/// | metric | labels | meaning |
/// | --- | --- | --- |
/// | `syncagent_region_revision_info` | region, revision | 1 for the revision last synced to the region |
/// | `syncagent_sync_total` | region, result | region passes by result (synced, unchanged, rolled-back, ...) |
/// | `syncagent_sync_duration_seconds` | region | a region's apply + readiness + gate time |
/// | `syncagent_last_sync_timestamp_seconds` | region | when the region's last pass ended |
/// | `syncagent_gate_passed` | region | 1 when the region's last metric gate passed, 0 when it failed |
/// | `syncagent_gate_check_value` | region, check | the last value each gate check saw |
/// | `syncagent_gate_check_threshold` | region, check | the threshold each metric check is held to |
/// | `syncagent_drifted_resources` | region | resources drifted from the synced revision at the last drift check |
/// | `syncagent_git_polls_total` | result | moved-checks: `moved`, `unchanged`, `error` |
/// | `syncagent_webhooks_total` | result | deliveries: `accepted`, `ignored`, `refused` |
/// | `syncagent_failed_revision_info` | revision | 1 for a revision a gate rejected (not retried until the branch moves) |
/// | `syncagent_http_connections_refused_total` | | connections closed at once because `agent.maxConnections` were open |
/// | `syncagent_drift_checks_total` | region, trigger | drift checks: `full` (a new revision, a re-list), `watch` (a change), `interval` |
/// | `syncagent_live_cache_requests` | region, type | requests the live-state cache made so far: `list`, `watch` |
/// | `syncagent_live_cache_events` | region | object changes the region's watches delivered so far |
/// | `syncagent_lease_held` | region | 1 while this replica holds the region's Lease (`agent.leaderElection`) |
final class AgentMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Info gauges whose label changes (the revision): the current one, to unregister when it moves.
    private let revisionGauges = Mutex<[String: (String, Gauge)]>([:])
    private let failedGauge = Mutex<(String, Gauge)?>(nil)

    func recordOutcome(_ outcome: RegionOutcome, revision: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("sync", "total", "Region passes by result."),
            labels: [("region", outcome.region), ("result", outcome.result.rawValue)]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.descriptor("sync_duration", "seconds", "A region's apply, readiness and gate time."),
            labels: [("region", outcome.region)],
            buckets: [.seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60), .seconds(300), .seconds(900)]
        ).record(outcome.duration)
        registry.makeGauge(
            descriptor: Self.descriptor("last_sync_timestamp", "seconds", "When the region's last pass ended."),
            labels: [("region", outcome.region)]
        )
        .set(Date().timeIntervalSince1970)
        if let gate = outcome.gate {
            registry.makeGauge(
                descriptor: Self.descriptor(
                    "gate", "passed", "1 when the region's last metric gate passed, 0 when it failed."),
                labels: [("region", outcome.region)]
            )
            .set(gate.passed ? 1.0 : 0.0)
            var last: [String: Double] = [:]
            var thresholds: [String: Double] = [:]
            for observation in gate.observations {
                last[observation.check] = observation.value
                if case .check(_, _, let threshold) = observation.source { thresholds[observation.check] = threshold }
            }
            for (check, value) in last {
                registry.makeGauge(
                    descriptor: Self.descriptor("gate_check", "value", "The last value each gate check saw."),
                    labels: [("region", outcome.region), ("check", check)]
                ).set(value)
            }
            for (check, threshold) in thresholds {
                registry.makeGauge(
                    descriptor: Self.descriptor("gate_check", "threshold", "The threshold each gate check is held to."),
                    labels: [("region", outcome.region), ("check", check)]
                ).set(threshold)
            }
        }
        switch outcome.result {
        case .synced, .unchanged: setRevision(region: outcome.region, revision: revision)
        default: break
        }
    }

    /// Marks `revision` as the one synced to `region`.
    func setRevision(region: String, revision: String) {
        revisionGauges.withLock { gauges in
            if let (current, gauge) = gauges[region] {
                if current == revision { return }
                registry.unregisterGauge(gauge)
            }
            let gauge = registry.makeGauge(
                descriptor: Self.descriptor("region_revision", "info", "1 for the revision synced to the region."),
                labels: [("region", region), ("revision", revision)])
            gauge.set(1.0)
            gauges[region] = (revision, gauge)
        }
    }

    func setFailedRevision(_ revision: String?) {
        failedGauge.withLock { current in
            if let (sha, gauge) = current {
                if sha == revision { return }
                registry.unregisterGauge(gauge)
                current = nil
            }
            guard let revision else { return }
            let gauge = registry.makeGauge(
                descriptor: Self.descriptor("failed_revision", "info", "1 for a revision a gate rejected."),
                labels: [("revision", revision)])
            gauge.set(1.0)
            current = (revision, gauge)
        }
    }

    func setDrifted(region: String, count: Int) {
        registry.makeGauge(
            descriptor: Self.descriptor(
                "drifted", "resources", "Resources drifted from the synced revision at the last drift check."),
            labels: [("region", region)]
        ).set(Double(count))
    }

    func countDriftCheck(region: String, trigger: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("drift_checks", "total", "Drift checks by region and what triggered them."),
            labels: [("region", region), ("trigger", trigger)]
        ).increment()
    }

    func setLiveCache(region: String, _ statistics: LiveCache.Statistics) {
        let requests = Self.descriptor("live_cache", "requests", "Requests the live-state cache made so far, by type.")
        registry.makeGauge(descriptor: requests, labels: [("region", region), ("type", "list")]).set(
            Double(statistics.lists))
        registry.makeGauge(descriptor: requests, labels: [("region", region), ("type", "watch")]).set(
            Double(statistics.watches))
        registry.makeGauge(
            descriptor: Self.descriptor(
                "live_cache", "events", "Object changes the region's watches delivered so far."),
            labels: [("region", region)]
        ).set(Double(statistics.events))
    }

    func setLeaseHeld(region: String, held: Bool) {
        registry.makeGauge(
            descriptor: Self.descriptor(
                "lease", "held", "1 while this replica holds the region's Lease (agent.leaderElection), 0 otherwise."),
            labels: [("region", region)]
        ).set(held ? 1.0 : 0.0)
    }

    func countPoll(_ result: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("git_polls", "total", "Moved-checks of the config repository by result."),
            labels: [("result", result)]
        ).increment()
    }

    func countWebhook(_ result: String) {
        registry.makeCounter(
            descriptor: Self.descriptor("webhooks", "total", "Webhook deliveries by result."),
            labels: [("result", result)]
        ).increment()
    }

    func countRefusedConnection() {
        registry.makeCounter(
            descriptor: Self.descriptor(
                "http_connections_refused", "total",
                "Connections closed at once because agent.maxConnections were open.")
        ).increment()
    }

    private static func descriptor(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "syncagent", metricName: metric, unitName: unit, helpText: help)
    }

    /// The exposition text.
    func emit() -> [UInt8] { registry.emitToBuffer() }
}
