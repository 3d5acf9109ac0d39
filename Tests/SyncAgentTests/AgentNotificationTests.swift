import Foundation
import SyncCore
import TestSupport
import Testing

/// `notifications:` with the release binary: a failed gate reaches Debian's Alertmanager (read back from its API)
/// and a signed webhook, carries no secret, and resolves once the region syncs again.
@Suite struct AgentNotificationTests {
    /// A loopback HTTP server (python3) that appends every POST to `requests.jsonl`: headers and body.
    final class WebhookReceiver: Sendable {
        let port: Int
        let directory: TemporaryDirectory
        let process: ChildProcess
        var url: String { "http://127.0.0.1:\(port)/hook" }

        init() async throws {
            port = try freePort()
            directory = try TemporaryDirectory(prefix: "hook-receiver")
            let script = try directory.write(
                "receiver.py",
                """
                import http.server, json, sys
                class Handler(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                        with open(sys.argv[2], "a") as out:
                            out.write(json.dumps({"headers": dict(self.headers), "body": body.decode()}) + "\\n")
                        self.send_response(204)
                        self.end_headers()
                    def log_message(self, *args):
                        pass
                http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
                """)
            process = try ChildProcess(["python3", script.path, "\(port)", directory.path + "/requests.jsonl"])
            let port = port
            try await waitUntil(timeout: 60, "the webhook receiver to listen") { isListening(port: port) }
        }

        /// Every request received so far.
        func requests() throws -> [Value] {
            guard let text = try? String(contentsOfFile: directory.path + "/requests.jsonl", encoding: .utf8) else {
                return []
            }
            return try text.split(separator: "\n").map { try Value(json: String($0)) }
        }

        deinit { process.stop() }
    }

    @Test func aFailedGateIsAlertedSignedAndResolved() async throws {
        let gates = SyncMesh.seedGates
        let alertmanager = try await AlertmanagerServer()
        let receiver = try await WebhookReceiver()
        let mesh = try await SyncMesh(
            gates: gates, withPrometheus: true,
            extra: """
                notifications:
                  alertmanager: {url: "\(alertmanager.url)", resendInterval: 2s}
                  webhooks: [{url: "\(receiver.url)", secretFile: HOOKSECRET}]

                """)
        try mesh.work.write("notify-secret", "n0tify-s3cret\n")
        try mesh.work.write(
            "syncagent.yaml",
            try String(contentsOfFile: mesh.configPath, encoding: .utf8).replacingOccurrences(
                of: "HOOKSECRET", with: mesh.work.path + "/notify-secret"))
        let agent = try AgentTests.Agent(mesh, arguments: ["--log-format", "json"])
        try await agent.waitUntilListening()
        try await AgentTests.waitForSynced(mesh, mesh.initial, agent: agent)
        #expect(try Value(json: try await alertmanager.alerts()).arrayValue?.isEmpty == true)

        let bad = try mesh.commit("reviews-v3: new release", file: "base/10-bookinfo.yaml") {
            try SyncMesh.editReviewsV3($0, annotations: "kubesim.io/error-rate: \"0.2\"")
        }
        var alerts: [Value] = []
        try await waitUntil(timeout: 300, "the alerts in Alertmanager; log:\n\(agent.process.log())") {
            alerts = try Value(json: try await alertmanager.alerts()).arrayValue ?? []
            return alerts.count >= 2
        }
        let seen = Date()
        let names = Set(alerts.compactMap { $0[path: ["labels", "alertname"]]?.stringValue })
        #expect(names == ["SyncagentRolloutFailed", "SyncagentRolledBack"], "\(alerts)")
        for alert in alerts {
            #expect(alert[path: ["labels", "region"]] == "us-sanjose-1")
            #expect(alert[path: ["labels", "revision"]]?.stringValue == bad)
            #expect(alert[path: ["labels", "severity"]] != nil)
            let description = alert[path: ["annotations", "description"]]?.stringValue ?? ""
            #expect(description.contains("metric gate failed"), "\(description)")
            #expect(alert[path: ["status", "state"]] == "active")
        }
        // From the gate's verdict to the alert: the agent's log times (milliseconds), and when this test saw it.
        let lines = agent.process.log().split(separator: "\n").compactMap { try? Value(json: String($0)) }
        let parse = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        func time(_ message: String) -> Date? {
            lines.first { $0["message"]?.stringValue == message }?["time"]?.stringValue.flatMap { try? parse.parse($0) }
        }
        let gateFailed = try #require(time("gate failed"), "the agent logs the failed gate")
        let sent = try #require(time("alert firing"), "the agent logs the alert it sends")
        #expect(sent >= gateFailed)
        print(
            "failed gate → alert sent: \(String(format: "%.2f", sent.timeIntervalSince(gateFailed))) s; "
                + "→ seen in Alertmanager's API: \(String(format: "%.2f", seen.timeIntervalSince(gateFailed))) s")

        // No secret in what was sent: the kubeconfig token, the webhook key.
        let token = try mesh.cluster.token("us-sanjose-1")
        let everything = try await alertmanager.alerts() + (try receiver.requests().map(\.jsonString).joined())
        #expect(!everything.contains(token))
        #expect(!everything.contains("n0tify-s3cret"))

        // The webhook got each firing alert, signed with HMAC-SHA256 of its body.
        let firing = try receiver.requests().filter { $0["body"]?.stringValue?.contains(#""status":"firing""#) == true }
        #expect(firing.count >= 2)
        for request in firing {
            let body = request["body"]?.stringValue ?? ""
            let expected =
                try await runChecked(["openssl", "dgst", "-sha256", "-hmac", "n0tify-s3cret"], input: body)
                .split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            #expect(request[path: ["headers", "X-Syncagent-Signature-256"]]?.stringValue == "sha256=\(expected)")
        }

        // Reverting the change syncs the region again: the alerts resolve.
        let fixed = try mesh.commit("revert reviews-v3", file: "base/10-bookinfo.yaml") {
            $0.replacingOccurrences(
                of: "    metadata:\n      annotations:\n        kubesim.io/error-rate: \"0.2\"\n",
                with: "    metadata:\n")
        }
        try await AgentTests.waitForSynced(mesh, fixed, agent: agent)
        try await waitUntil(timeout: 300, "the alerts to resolve") {
            try Value(json: try await alertmanager.alerts()).arrayValue?.isEmpty == true
        }
        try await waitUntil(timeout: 300, "the webhook to hear both resolved") {
            try receiver.requests().filter { $0["body"]?.stringValue?.contains(#""status":"resolved""#) == true }
                .count >= 2
        }
    }
}
