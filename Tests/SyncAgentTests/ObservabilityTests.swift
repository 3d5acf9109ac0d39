import Applier
import Foundation
import KubeYAML
import SyncCore
import TestSupport
import Testing

@testable import RolloutEngine
@testable import SyncAgent

/// `config/observability/`: the alert rules and the Grafana dashboard for syncagent's own metrics. promtool checks
/// and unit-tests the rules; every metric they and the dashboard query is one the agent really exposes.
@Suite
struct ObservabilityTests {
    static let folder = packageRoot.appendingPathComponent("config/observability")

    @Test func promtoolAcceptsTheRulesAndTheirUnitTestsPass() async throws {
        let promtool = try requireTool("promtool")
        let check = try await run([promtool, "check", "rules", "syncagent.rules.yml"], cwd: Self.folder)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 5 rules found"), "\(check.stdout)")
        let unit = try await run([promtool, "test", "rules", "syncagent.rules.test.yml"], cwd: Self.folder)
        #expect(unit.status == 0, "\(unit.stdout)\(unit.stderr)")
        #expect(unit.stdout.contains("SUCCESS"), "\(unit.stdout)")
    }

    @Test func thePrometheusRuleHoldsTheSameGroupsAsTheRuleFile() throws {
        let rules = try YAML.loadValue(
            String(contentsOf: Self.folder.appendingPathComponent("syncagent.rules.yml"), encoding: .utf8))
        let object = try YAML.loadValue(
            String(contentsOf: Self.folder.appendingPathComponent("prometheusrule.yaml"), encoding: .utf8))
        #expect(object["kind"] == "PrometheusRule")
        #expect(object[path: ["spec", "groups"]] == rules["groups"])
        let alerts = rules["groups"]?.arrayValue?.flatMap { $0["rules"]?.arrayValue ?? [] } ?? []
        #expect(
            alerts.compactMap { $0["alert"]?.stringValue } == [
                "SyncagentRolloutFailed", "SyncagentRegionNotSynced", "SyncagentDriftPresent",
                "SyncagentGitPollsFailing", "SyncagentGateFlapping",
            ])
        for alert in alerts {
            #expect(alert[path: ["labels", "severity"]] != nil, "\(alert)")
            #expect(alert[path: ["annotations", "description"]]?.stringValue?.isEmpty == false, "\(alert)")
        }
    }

    /// Every `syncagent_*` series the rules and the dashboard query, found in the exposition of an agent that has
    /// seen a sync with a gate, a drift check, a Git poll, a webhook and a refused connection.
    @Test func everyQueriedMetricIsOneTheAgentExposes() throws {
        let metrics = AgentMetrics()
        var outcome = RegionOutcome(region: "us-sanjose-1", result: .rolledBack)
        outcome.gate = GateResult(
            passed: false, reason: "error-rate 0.2 < 0.05",
            observations: [
                .init(
                    source: .check(name: "error-rate", comparison: .lessThan, threshold: 0.05), time: .zero,
                    value: 0.2, held: false)
            ])
        metrics.recordOutcome(outcome, revision: "abc1234")
        metrics.recordOutcome(RegionOutcome(region: "us-chicago-1", result: .synced), revision: "abc1234")
        metrics.setFailedRevision("abc1234")
        metrics.setDrifted(region: "us-sanjose-1", count: 2)
        metrics.countPoll("error")
        metrics.countWebhook("accepted")
        metrics.countRefusedConnection()
        let exposition = String(decoding: metrics.emit(), as: UTF8.self)
        let exposed = Set(
            exposition.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
                $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
            })
        #expect(exposed.contains("syncagent_gate_check_threshold"), "\(exposition)")

        var queried: Set<String> = []
        let rules = try String(
            contentsOf: Self.folder.appendingPathComponent("syncagent.rules.yml"), encoding: .utf8)
        let dashboardText = try String(
            contentsOf: Self.folder.appendingPathComponent("grafana-dashboard.json"), encoding: .utf8)
        let dashboard = try Value(json: dashboardText)
        let panels = dashboard["panels"]?.arrayValue ?? []
        #expect(panels.count >= 8)
        let expressions = panels.flatMap { $0["targets"]?.arrayValue ?? [] }.compactMap { $0["expr"]?.stringValue }
        let pattern = try Regex(#"syncagent_[a-z_]+"#)
        for text in [rules] + expressions {
            for match in text.matches(of: pattern) { queried.insert(String(text[match.range])) }
        }
        #expect(queried.count >= 10, "\(queried)")
        let missing = queried.filter { !exposed.contains($0) }
        #expect(missing.isEmpty, "queried but never exposed: \(missing.sorted())")
        // The dashboard shows what the issue asks for.
        let titles = panels.compactMap { $0["title"]?.stringValue }
        for title in [
            "Revision per region", "Sync results", "Gate checks against their thresholds",
            "Drifted resources", "Sync duration (p50, p90)",
        ] {
            #expect(titles.contains(title), "\(titles)")
        }
    }
}
