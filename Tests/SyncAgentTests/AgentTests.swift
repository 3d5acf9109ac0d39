import Foundation
import SyncCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `syncagent run` end to end: the agent as a real process against two kubesim regions and a bare Git repository;
/// webhooks and metrics over loopback HTTP.
// Serialized: each test runs two kubesim regions and whole rollouts; run side by side they load a 2-core machine
// enough to push unrelated timing bounds over.
@Suite(.serialized)
struct AgentTests {
    /// A running agent on a free port.
    final class Agent: Sendable {
        let process: ChildProcess
        let port: Int
        var url: String { "http://127.0.0.1:\(port)" }

        init(_ mesh: SyncMesh, arguments: [String] = []) throws {
            port = try freePort()
            process = try ChildProcess(
                [mesh.syncagent, "run", "--config", mesh.configPath, "--listen", "127.0.0.1:\(port)"] + arguments)
        }

        /// GET or POST with curl: status and body.
        func request(_ method: String, _ path: String, headers: [String] = [], body: String? = nil) throws -> (
            status: Int, body: String
        ) {
            var arguments = ["curl", "-sS", "-X", method, "-w", "\n%{http_code}"]
            for header in headers { arguments += ["-H", header] }
            if body != nil { arguments += ["--data-binary", "@-"] }
            let output = try run(arguments + ["\(url)\(path)"], input: body)
            guard output.status == 0, let newline = output.stdout.lastIndex(of: "\n"),
                let code = Int(output.stdout[output.stdout.index(after: newline)...])
            else { throw TestSupportError("curl \(path) failed: \(output.stderr)") }
            return (code, String(output.stdout[..<newline]))
        }

        func waitUntilListening() async throws {
            let port = port
            try await waitUntil(timeout: 300, "the agent to listen on \(port); log:\n\(process.log())") {
                isListening(port: port)
            }
        }

        deinit { process.stop() }
    }

    /// Waits until every region's status says `synced` at `revision`.
    /// The example mesh with `agent: {<agentSettings>, cache: ...}` and a 1 s poll.
    static func mesh(agentSettings: String, extra: String = "") async throws -> SyncMesh {
        let mesh = try await SyncMesh(extra: extra + "agent: {\(agentSettings), cache: CACHE}\n", pollInterval: "1s")
        try mesh.work.write(
            "syncagent.yaml",
            try String(contentsOfFile: mesh.configPath, encoding: .utf8).replacingOccurrences(
                of: "CACHE", with: mesh.cachePath))
        return mesh
    }

    static func waitForSynced(_ mesh: SyncMesh, _ revision: String, agent: Agent, timeout: Double = 300) async throws {
        try await waitUntil(timeout: timeout, "both regions synced at \(revision); agent log:\n\(agent.process.log())")
        {
            let status = try await mesh.status()
            return SyncMesh.regionNames.allSatisfy {
                status[$0]?["lastResult"]?.stringValue == "synced"
                    && status[$0]?["syncedRevision"]?.stringValue == revision
            }
        }
    }

    @Test func aWebhookWithABadSignatureIsRefusedAndAVerifiedPushSyncsAtOnce() async throws {
        let mesh = try await SyncMesh(
            pollInterval: "1h")
        try mesh.work.write("hook-secret", "s3cret-hook\n")
        try mesh.work.write(
            "syncagent.yaml",
            try String(contentsOfFile: mesh.configPath, encoding: .utf8).replacingOccurrences(
                of: "agent: {cache: \(mesh.cachePath)}",
                with: "agent: {cache: \(mesh.cachePath), webhookSecretFile: \(mesh.work.path)/hook-secret}"))
        let agent = try Agent(mesh, arguments: ["--log-format", "json"])
        try await agent.waitUntilListening()
        try await Self.waitForSynced(mesh, mesh.initial, agent: agent)
        #expect(try agent.request("GET", "/healthz").status == 200)
        try await waitUntil(timeout: 300, "readyz") { try agent.request("GET", "/readyz").status == 200 }

        let next = try mesh.commit("flags", file: "base/60-flags.yaml") { _ in
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: bookinfo}\n"
        }
        let payload = #"{"ref":"refs/heads/main","after":"\#(next)"}"#
        let forged = try agent.request(
            "POST", "/hooks/git",
            headers: ["X-GitHub-Event: push", "X-Hub-Signature-256: sha256=" + String(repeating: "0", count: 64)],
            body: payload)
        #expect(forged.status == 401, "\(forged.body)")
        let unsigned = try agent.request("POST", "/hooks/git", headers: ["X-GitHub-Event: push"], body: payload)
        #expect(unsigned.status == 401, "\(unsigned.body)")
        let wrongToken = try agent.request("POST", "/hooks/git", headers: ["X-Gitlab-Token: guess"], body: payload)
        #expect(wrongToken.status == 401, "\(wrongToken.body)")

        let signature =
            try await runChecked(
                ["openssl", "dgst", "-sha256", "-hmac", "s3cret-hook"], input: payload
            ).split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let delivered = try agent.request(
            "POST", "/hooks/git", headers: ["X-GitHub-Event: push", "X-Hub-Signature-256: sha256=\(signature)"],
            body: payload)
        #expect(delivered.status == 202, "\(delivered.body)")
        try await Self.waitForSynced(mesh, next, agent: agent, timeout: 300)

        let metrics = try agent.request("GET", "/metrics").body
        #expect(metrics.contains(#"syncagent_webhooks_total{result="refused"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"syncagent_webhooks_total{result="accepted"} 1"#), "\(metrics)")
        // The poll interval is an hour: the repository was read at start and once more, for the verified push. Had a
        // refused delivery woken the reconciler, there would be a third read (a "moved" or an "unchanged" one).
        #expect(metrics.contains(#"syncagent_git_polls_total{result="moved"} 2"#), "\(metrics)")
        #expect(!metrics.contains(#"syncagent_git_polls_total{result="unchanged"}"#), "\(metrics)")
        #expect(metrics.contains(#"syncagent_region_revision_info{region="us-chicago-1",revision="\#(next)"} 1"#))
        #expect(metrics.contains(#"syncagent_sync_total{region="us-sanjose-1",result="synced"}"#))
        // JSON logs, one object a line, with the dotted metadata keys.
        let line = agent.process.log().split(separator: "\n").first { $0.contains("rollout ended") }
        let logged = try Value(json: String(try #require(line, "\(agent.process.log().suffix(3000))")))
        #expect(logged["git.revision"]?.stringValue != nil)
        #expect(logged["level"]?.stringValue == "info")

        agent.process.signal(SIGTERM)
        try await waitUntil(timeout: 300, "the agent to exit on SIGTERM") { !agent.process.isRunning }
        #expect(agent.process.stop() == 0, "\(agent.process.log())")
    }

    @Test func anAgentKilledMidSyncConvergesAfterARestartWithAConsistentInventory() async throws {
        let mesh = try await SyncMesh(pollInterval: "1s")
        // Slow the primary's API so the kill lands in the middle of its plan.
        // (400 ms a request: the primary's 42 creates take 20 s or more, so even a loaded machine kills it midway.)
        try await mesh.cluster.metricsRequest("POST", "/faults/latency?ms=400", region: "us-sanjose-1")
        let first = try Agent(mesh)
        try await waitUntil(timeout: 300, "a few applies in us-sanjose-1") {
            try await mesh.storedApplies(region: "us-sanjose-1") >= 4
        }
        first.process.signal(SIGKILL)
        _ = first.process.stop()
        let partial = try #require(try await mesh.inventory(region: "us-sanjose-1"))
        #expect(partial.pendingRevision == mesh.initial)  // recorded before anything was created
        #expect(partial.objects.count == SyncMesh.objectCount)

        try await mesh.cluster.metricsRequest("POST", "/faults/reset", region: "us-sanjose-1")
        let second = try Agent(mesh)
        try await Self.waitForSynced(mesh, mesh.initial, agent: second)
        for region in SyncMesh.regionNames {
            let inventory = try #require(try await mesh.inventory(region: region))
            #expect(inventory.pendingRevision == nil)
            #expect(inventory.objects.count == SyncMesh.objectCount)
            #expect(Set(inventory.objects.map(\.key)).count == SyncMesh.objectCount)  // nothing twice
            for ref in inventory.objects where ref.kind == "Deployment" {
                #expect(try await mesh.deployment(ref.name, region: region) != nil, "\(ref) in \(region)")
            }
        }
        // Created once each: no object was created twice (a second create would have been a 409).
        let creates = try mesh.audit().filter { $0.isSyncagentApply && $0.code == 201 && $0.region == "us-sanjose-1" }
        #expect(Set(creates.map { "\($0.resource)/\($0.name)" }).count == creates.count)
        second.process.signal(SIGTERM)
        try await waitUntil(timeout: 300, "the agent to exit on SIGTERM") { !second.process.isRunning }
        #expect(second.process.stop() == 0, "\(second.process.log())")
    }

    /// A revision only the clusters refuse (its PrometheusRule's CRD is not installed) is tried again at each poll:
    /// once an operator installs the CRD, it syncs without a new commit. Nothing was written before.
    @Test func aRevisionTheClustersRefuseIsRetriedAndSyncsOnceTheClusterIsFixed() async throws {
        let mesh = try await SyncMesh(pollInterval: "1s")
        let head = try mesh.commit("no Prometheus Operator CRD", file: "base/00-crds.yaml") { text in
            text.components(separatedBy: "\n---\n").filter { !$0.contains("prometheusrules.monitoring.coreos.com") }
                .joined(separator: "\n---\n")
        }
        let agent = try Agent(mesh)
        try await agent.process.waitForLog("does not serve monitoring.coreos.com/v1 PrometheusRule")
        try await agent.process.waitForLog("retried=true")
        #expect(try await mesh.get("/api/v1/namespaces/bookinfo", region: "us-sanjose-1") == nil, "nothing written")

        // The operator installs the Prometheus Operator's CRD (only that one: the others are the revision's).
        let crds = try SyncMesh.prometheusOperatorCRDs()
        let operatorCRD = try #require(
            crds.components(separatedBy: "\n---\n").first { $0.contains("prometheusrules.monitoring.coreos.com") })
        for region in SyncMesh.regionNames {
            _ = try await mesh.cluster.kubectlChecked(["apply", "-f", "-"], region: region, input: operatorCRD)
        }
        try await Self.waitForSynced(mesh, head, agent: agent)
    }

    @Test func driftIsReportedAndSelfHealRepairsIt() async throws {
        let mesh = try await Self.mesh(agentSettings: "driftInterval: 1s", extra: "sync: {selfHeal: true}\n")
        let agent = try Agent(mesh)
        try await Self.waitForSynced(mesh, mesh.initial, agent: agent)
        let patch = try await mesh.cluster.request(
            "PATCH", "/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1?fieldManager=kubectl-edit",
            body: #"{"spec":{"replicas":3}}"#, contentType: "application/merge-patch+json", region: "us-chicago-1")
        #expect(patch.status == 200, "\(patch.body)")
        try await waitUntil(timeout: 300, "the drift to be logged and healed; log:\n\(agent.process.log())") {
            let live = try await mesh.deployment("reviews-v1", region: "us-chicago-1")
            return agent.process.log().contains("kubectl-edit changed .spec.replicas 1 → 3")
                && live?[path: ["spec", "replicas"]]?.intValue == 1
        }
        let metrics = try agent.request("GET", "/metrics").body
        #expect(metrics.contains("syncagent_drifted_resources"), "\(metrics)")
    }

    @Test func aHandEditIsReportedAsTheWatchDeliversItAndRestCostsNoRequest() async throws {
        // A drift interval of an hour: whatever reports the edit is the watch, not the interval.
        let mesh = try await Self.mesh(agentSettings: "driftInterval: 1h")
        let agent = try Agent(mesh)
        try await Self.waitForSynced(mesh, mesh.initial, agent: agent)
        try await waitUntil(timeout: 120, "the first drift check to find nothing; log:\n\(agent.process.log())") {
            let metrics = try agent.request("GET", "/metrics").body
            return metrics.contains(#"syncagent_drifted_resources{region="us-chicago-1"} 0"#)
                && metrics.contains(#"syncagent_drifted_resources{region="us-sanjose-1"} 0"#)
        }
        // At rest (three poll intervals, kubesim's controllers still writing status): syncagent asks nothing of
        // either cluster but its watches.
        let mark = try mesh.auditMark()
        try await Task.sleep(for: .seconds(3))
        let atRest = try mesh.audit().dropFirst(mark).filter {
            $0.userAgent.hasPrefix("syncagent") && $0.verb != "watch"
        }
        #expect(atRest.isEmpty, "\(atRest.map { "\($0.region) \($0.verb) \($0.uri)" })")

        let patch = try await mesh.cluster.request(
            "PATCH", "/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1?fieldManager=kubectl-edit",
            body: #"{"spec":{"replicas":3}}"#, contentType: "application/merge-patch+json", region: "us-chicago-1")
        #expect(patch.status == 200, "\(patch.body)")
        try await waitUntil(timeout: 60, "the drift to be reported with its author; log:\n\(agent.process.log())") {
            let metrics = try agent.request("GET", "/metrics").body
            return agent.process.log().contains("kubectl-edit changed .spec.replicas 1 → 3")
                && metrics.contains(#"syncagent_drifted_resources{region="us-chicago-1"} 1"#)
                && metrics.contains(#"syncagent_drift_checks_total{region="us-chicago-1",trigger="watch"}"#)
        }
        // Put back by hand: the drift is gone as soon as the watch says so.
        _ = try await mesh.cluster.request(
            "PATCH", "/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1?fieldManager=kubectl-edit",
            body: #"{"spec":{"replicas":1}}"#, contentType: "application/merge-patch+json", region: "us-chicago-1")
        try await waitUntil(timeout: 60, "the drift to be gone; log:\n\(agent.process.log())") {
            try agent.request("GET", "/metrics").body.contains(#"syncagent_drifted_resources{region="us-chicago-1"} 0"#)
        }
    }

    @Test func aCommitChangingOneObjectCostsOneDryRunAndOnePatchInEachRegionAndNoList() async throws {
        let mesh = try await Self.mesh(agentSettings: "driftInterval: 1h")
        let agent = try Agent(mesh)
        try await Self.waitForSynced(mesh, mesh.initial, agent: agent)
        let mark = try mesh.auditMark()
        let head = try mesh.commit("reviews-v3: a new pod annotation", file: "base/10-bookinfo.yaml") {
            try SyncMesh.editReviewsV3($0, annotations: "        syncagent.test/apply-once: \"yes\"\n")
        }
        // Watched on the agent's own /metrics: `syncagent status` would send requests of its own.
        try await waitUntil(timeout: 300, "both regions synced at \(head); log:\n\(agent.process.log())") {
            let metrics = try agent.request("GET", "/metrics").body
            return SyncMesh.regionNames.allSatisfy {
                metrics.contains("syncagent_region_revision_info{region=\"\($0)\",revision=\"\(head)\"} 1")
            }
        }
        let sent = try mesh.audit().dropFirst(mark).filter { $0.userAgent.hasPrefix("syncagent") && $0.verb != "watch" }
        // The live state came from the watch cache: nothing was listed.
        #expect(sent.filter { $0.verb == "list" }.isEmpty, "\(sent.map { "\($0.region) \($0.verb) \($0.uri)" })")
        for region in SyncMesh.regionNames {
            let here = sent.filter { $0.region == region }
            // The one changed object: one dry run (the preflight's, which decides) and one PATCH; every other object
            // was settled client-side, without a request.
            let dryRuns = here.filter { $0.uri.contains("dryRun=All") }
            #expect(dryRuns.map(\.name) == ["reviews-v3"], "\(region): \(dryRuns.map(\.uri))")
            let stored = here.filter { $0.isStoredWrite && $0.namespace != "syncagent-system" }
            #expect(stored.map(\.name) == ["reviews-v3"], "\(region): \(stored.map(\.uri))")
            // The pass found its records, so their namespace exists: no look of its own before the records' writes.
            let looks = here.filter { $0.verb == "get" && $0.uri.hasSuffix("/api/v1/namespaces/syncagent-system") }
            #expect(looks.isEmpty, "\(region): \(looks.map(\.uri))")
        }
    }
}
