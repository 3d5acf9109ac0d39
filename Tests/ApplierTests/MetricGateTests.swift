import Applier
import Foundation
import Logging
import Testing
import TestSupport

/// The seed's checks with short windows so tests finish in seconds: error rate < 5 %, P99 < 1000 ms.
private func seedChecks(window: String = "10s") -> [MetricCheck] {
    [
        MetricCheck(
            name: "error-rate",
            query: "sum(rate(istio_requests_total{response_code=~\"5..\"}[\(window)])) "
                + "/ sum(rate(istio_requests_total[\(window)]))",
            comparison: .lessThan, threshold: 0.05, valueWhenEmpty: 0),
        MetricCheck(
            name: "p99-latency",
            query: "histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket[\(window)])) by (le))",
            comparison: .lessThan, threshold: 1000),
    ]
}

/// A Deployment `web` (pod-template annotation `kubesim.io/error-rate`).
private func webDeployment(errorRate: String) -> String {
    """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: default}
    spec:
      replicas: 1
      selector: {matchLabels: {app: web}}
      template:
        metadata:
          labels: {app: web, version: v1}
          annotations: {kubesim.io/error-rate: "\(errorRate)"}
        spec:
          containers: [{name: web, image: "nginx:1.27"}]
    """
}

/// The Service in front of `web`: kubesim sends it 10 requests/s.
private let webService = """
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: default}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 80}]
    """

/// A DestinationRule with subset v1 and a VirtualService sending all of `web`'s traffic to it: kubesim routes the
/// simulated requests by these live weights.
private let webRouting = """
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: web, namespace: default}
    spec:
      host: web
      subsets: [{name: v1, labels: {version: v1}}]
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: web, namespace: default}
    spec:
      hosts: [web]
      http:
      - route:
        - destination: {host: web, subset: v1}
          weight: 100
    """

private let logger = Logger(label: "metric-gate-test")

@Suite("MetricGate", .serialized)
struct MetricGateTests {
    @Test func parsesVectorsScalarsAndErrors() throws {
        let vector =
            #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"0.25"]},"#
            + #"{"metric":{"a":"b"},"value":[1.5,"NaN"]}]}}"#
        let values = try MetricGate.parseQueryResponse(status: 200, body: Array(vector.utf8))
        #expect(values.count == 2)
        #expect(values[0] == 0.25)
        #expect(values[1].isNaN)

        let scalar = #"{"status":"success","data":{"resultType":"scalar","result":[1.5,"+Inf"]}}"#
        #expect(try MetricGate.parseQueryResponse(status: 200, body: Array(scalar.utf8)) == [.infinity])

        let empty = #"{"status":"success","data":{"resultType":"vector","result":[]}}"#
        #expect(try MetricGate.parseQueryResponse(status: 200, body: Array(empty.utf8)) == [])

        let error = #"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#
        #expect(throws: GateQueryError.queryFailed("bad_data: parse error at char 5")) {
            try MetricGate.parseQueryResponse(status: 400, body: Array(error.utf8))
        }
        let matrix = #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#
        #expect(throws: GateQueryError.invalidResponse("result type matrix, expected vector or scalar")) {
            try MetricGate.parseQueryResponse(status: 200, body: Array(matrix.utf8))
        }
        #expect(throws: GateQueryError.self) { try MetricGate.parseQueryResponse(status: 502, body: Array("bad".utf8)) }
    }

    @Test func describesResultsStably() {
        let result = GateResult(
            passed: false, reason: "check error-rate at t+1s: 0.4800 is not < 0.05",
            observations: [
                .init(
                    source: .check(name: "error-rate", comparison: .lessThan, threshold: 0.05), time: .zero, value: 0,
                    held: true),
                .init(
                    source: .probe(url: "http://h/healthz", expectedStatus: 200), time: .zero, value: 200, held: true),
                .init(
                    source: .check(name: "error-rate", comparison: .lessThan, threshold: 0.05), time: .seconds(1),
                    value: 0.48, held: false),
            ])
        #expect(
            result.description == """
                gate failed: check error-rate at t+1s: 0.4800 is not < 0.05
                  t+0s error-rate 0.0000 < 0.05 ✓
                  t+0s probe http://h/healthz 200 == 200 ✓
                  t+1s error-rate 0.4800 < 0.05 ✗

                """)
    }

    @Test
    func passesWhileHealthyThenFailsWhenErrorRateRises() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        defer { cluster.stop() }
        let metricsPort = try #require(cluster.metricsPorts["us-sanjose-1"])
        let prometheus = try await PrometheusServer(targets: ["127.0.0.1:\(metricsPort)"])
        defer { prometheus.stop() }
        let istioCRDs = sharedRoot.appendingPathComponent("corpus/istio-crds/crd-all.gen.yaml").path
        try await blocking {
            try cluster.kubectlChecked(["apply", "--server-side", "-f", istioCRDs])
            try cluster.kubectlChecked([
                "wait", "--for=condition=established", "--timeout=30s",
                "crd/virtualservices.networking.istio.io", "crd/destinationrules.networking.istio.io",
            ])
            // The Service (hence traffic) only once the Deployment is available: no 503s from its start-up.
            try cluster.kubectlChecked(["apply", "--server-side", "-f", "-"], input: webDeployment(errorRate: "0"))
            try cluster.kubectlChecked(["wait", "--for=condition=available", "--timeout=30s", "deployment/web"])
            try cluster.kubectlChecked(
                ["apply", "--server-side", "-f", "-"], input: webService + "\n---\n" + webRouting)
        }
        let checks = seedChecks()
        try await prometheus.waitForData(#"sum(rate(istio_requests_total{response_code="200"}[10s]))"#)
        try await prometheus.waitForData(checks[1].query)

        let healthy = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: prometheus.url, checks: checks, bakeTime: .seconds(2), interval: .seconds(1)),
            logger: logger)
        #expect(healthy.passed, "\(healthy)")
        #expect(healthy.reason == "all checks held for 2s (3 rounds)")
        #expect(
            healthy.observations.map(\.check)
                == Array(repeating: ["error-rate", "p99-latency"], count: 3).flatMap { $0 })
        #expect(healthy.observations.allSatisfy { $0.held && $0.value < 1000 })

        try await blocking {
            try cluster.kubectlChecked(["apply", "--server-side", "-f", "-"], input: webDeployment(errorRate: "0.5"))
        }
        let failing = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: prometheus.url, checks: checks, bakeTime: .seconds(40), interval: .seconds(1)),
            logger: logger)
        #expect(!failing.passed)
        #expect(failing.reason.hasPrefix("check error-rate at t+"), "\(failing)")
        #expect(failing.reason.contains("is not < 0.05"))
        let last = try #require(failing.observations.last)
        #expect(last.check == "error-rate" && !last.held && last.value > 0.05)
        #expect(failing.description.contains("error-rate \(String(format: "%.4f", last.value)) < 0.05 ✗"))
    }

    /// Credentials in a Prometheus or probe URL never reach the result, its JSON-able observations, or an error:
    /// the URLs are `RedactedURL`s, printed with `***`.
    @Test func credentialsInGateURLsAreNeverPrinted() async throws {
        let port = try freePort()
        let up = MetricCheck(name: "up", query: "up", comparison: .greaterThanOrEqual, threshold: 1)
        let result = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: "http://admin:prom-s3cret@127.0.0.1:\(port)", checks: [up],
                probes: [HTTPProbe(url: "http://probe:probe-s3cret@127.0.0.1:\(port)/healthz")], bakeTime: .zero,
                interval: .seconds(1)),
            logger: logger)
        let printed = [result.description, result.reason] + result.observations.map { "\($0)" + $0.check }
        for text in printed {
            #expect(!text.contains("s3cret"), "\(text)")
        }
        #expect(result.reason.contains("Prometheus at http://admin:***@127.0.0.1"), "\(result.reason)")
        let probe = HTTPProbe(url: "https://user:token-value@example.invalid/x")
        #expect("\(probe.url)" == "https://user:***@example.invalid/x")
        #expect(probe.url.unredacted == "https://user:token-value@example.invalid/x")
        let failure = ApplierError.transport(
            url: "https://u:pw-s3cret@h/x", code: 7, message: "Failed to connect to https://u:pw-s3cret@h/x")
        #expect(!"\(failure)".contains("pw-s3cret"), "\(failure)")
    }

    @Test func failsClosedWhenPrometheusIsUnreachable() async throws {
        let prometheus = try await PrometheusServer()
        defer { prometheus.stop() }
        try await prometheus.waitForData("up")
        let up = MetricCheck(name: "up", query: "up", comparison: .greaterThanOrEqual, threshold: 1)
        let seen = await MetricGate.evaluate(
            GateConfig(prometheusURL: prometheus.url, checks: [up], bakeTime: .zero, interval: .seconds(1)),
            logger: logger)
        #expect(seen.passed, "\(seen)")
        #expect(seen.description == "gate passed: all checks held for 0s (1 round)\n  t+0s up 1.0000 >= 1 ✓\n")

        prometheus.stop()
        let closed = await MetricGate.evaluate(
            GateConfig(prometheusURL: prometheus.url, checks: [up], bakeTime: .seconds(5), interval: .seconds(1)),
            logger: logger)
        #expect(!closed.passed)
        #expect(closed.reason.hasPrefix("check up at t+0s: Prometheus at \(prometheus.url) unreachable"), "\(closed)")
        #expect(closed.reason.hasSuffix("failing closed"))

        let open = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: prometheus.url, checks: [up], bakeTime: .seconds(1), interval: .seconds(1),
                failOpen: true),
            logger: logger)
        #expect(open.passed, "\(open)")
        #expect(
            open.reason == "all checks held for 1s (2 rounds); 2 queries got no answer from Prometheus, failing open")

        let neverListened = "http://127.0.0.1:\(try freePort())"
        let refused = await MetricGate.evaluate(
            GateConfig(prometheusURL: neverListened, checks: [up], bakeTime: .seconds(5), interval: .seconds(1)),
            logger: logger)
        #expect(!refused.passed)
        #expect(refused.reason.contains("Prometheus at \(neverListened) unreachable"), "\(refused)")
    }

    /// A Prometheus that accepts the connection and never answers (overloaded, or black-holed): each query ends at
    /// `requestTimeout` and the gate fails closed with that reason; with `onUnreachable: pass` it passes, saying so.
    @Test func failsClosedWhenPrometheusIsSlow() async throws {
        let silent = try SilentServer()
        let url = "http://127.0.0.1:\(silent.port)"
        let up = MetricCheck(name: "up", query: "up", comparison: .greaterThanOrEqual, threshold: 1)
        let closed = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: url, checks: [up], bakeTime: .seconds(2), interval: .seconds(1),
                requestTimeout: .milliseconds(500)),
            logger: logger)
        #expect(!closed.passed)
        #expect(closed.reason.hasPrefix("check up at t+0s: Prometheus at \(url) unreachable"), "\(closed)")
        #expect(closed.reason.lowercased().contains("timed out") || closed.reason.contains("timeout"), "\(closed)")
        #expect(closed.reason.hasSuffix("failing closed"))
        #expect(silent.accepted >= 1)

        let open = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: url, checks: [up], bakeTime: .seconds(1), interval: .seconds(1),
                requestTimeout: .milliseconds(500), failOpen: true),
            logger: logger)
        #expect(open.passed, "\(open)")
        #expect(open.reason.contains("got no answer from Prometheus, failing open"), "\(open)")
    }

    @Test func failsOnNoDataAndOnBadQueries() async throws {
        let prometheus = try await PrometheusServer()
        defer { prometheus.stop() }
        let missing = MetricCheck(
            name: "missing", query: "sum(rate(no_such_metric_total[10s]))", comparison: .lessThan, threshold: 1)
        let noData = await MetricGate.evaluate(
            GateConfig(prometheusURL: prometheus.url, checks: [missing], bakeTime: .seconds(5), interval: .seconds(1)),
            logger: logger)
        #expect(!noData.passed)
        #expect(noData.reason.hasPrefix("check missing at t+0s: no data"), "\(noData)")

        let bad = MetricCheck(name: "bad", query: "sum(rate(", comparison: .lessThan, threshold: 1)
        let rejected = await MetricGate.evaluate(
            GateConfig(prometheusURL: prometheus.url, checks: [bad], bakeTime: .seconds(5), interval: .seconds(1)),
            logger: logger)
        #expect(!rejected.passed)
        #expect(rejected.reason.hasPrefix("check bad at t+0s: Prometheus query failed: bad_data"), "\(rejected)")
        #expect(rejected.reason.hasSuffix("failing closed"))
    }

    @Test func failsOnAProbeWithAnUnexpectedStatus() async throws {
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"])
        defer { cluster.stop() }
        let metrics = "http://127.0.0.1:\(try #require(cluster.metricsPorts["us-sanjose-1"]))/metrics"
        let good = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: "http://unused", checks: [], probes: [HTTPProbe(url: metrics, expectedStatus: 200)],
                bakeTime: .seconds(1), interval: .seconds(1)),
            logger: logger)
        #expect(good.passed, "\(good)")
        #expect(good.observations.count == 2)

        let missing = "http://127.0.0.1:\(try #require(cluster.metricsPorts["us-sanjose-1"]))/no-such-page"
        let bad = await MetricGate.evaluate(
            GateConfig(
                prometheusURL: "http://unused", checks: [], probes: [HTTPProbe(url: missing, expectedStatus: 200)],
                bakeTime: .seconds(1), interval: .seconds(1)),
            logger: logger)
        #expect(!bad.passed)
        #expect(bad.reason == "probe \(missing) at t+0s: status 404, expected 200", "\(bad)")
        #expect(bad.description.contains("probe \(missing) 404 == 200 ✗"))
    }
}
