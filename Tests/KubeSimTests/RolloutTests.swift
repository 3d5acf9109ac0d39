import Foundation
import SyncCore
import Testing
import TestSupport

/// Workload rollouts as the real Deployment controller runs them: paused Deployments, maxUnavailable during a broken
/// rollout, and rollout state that belongs to one object (its uid), not to a name.
@Suite
struct RolloutTests {
    static func deployment(replicas: Int, image: String = "nginx:1.27") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: web}}
          strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "\(image)"}]
        """
    }

    static func progressing(_ deployment: Value) -> Value? {
        deployment[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Progressing" }
    }

    @Test func aPausedDeploymentKeepsItsPodsUntilResumed() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 0.5)
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: Self.deployment(replicas: 2))
        try await sim.kubectlChecked(["rollout", "status", "deployment/web", "--timeout=120s"])
        try await sim.kubectlChecked(["rollout", "pause", "deployment/web"])
        try await sim.kubectlChecked(["set", "image", "deployment/web", "web=nginx:1.28"])
        try await waitUntil(timeout: 120, "the paused condition") {
            let d = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
            let progressing = Self.progressing(d)
            return d[path: ["status", "observedGeneration"]] == d[path: ["metadata", "generation"]]
                && progressing?["status"] == "Unknown" && progressing?["reason"] == "DeploymentPaused"
        }
        let paused = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
        #expect(paused[path: ["status", "availableReplicas"]] == 2)
        #expect(paused[path: ["status", "updatedReplicas"]] == 0)
        // kubectl waits for a paused rollout, as it does against a real cluster.
        let waiting = try await sim.kubectl(["rollout", "status", "deployment/web", "--timeout=2s"])
        #expect(waiting.status != 0)
        #expect(
            waiting.stdout.contains(
                #"Waiting for deployment "web" rollout to finish: 0 out of 2 new replicas have been updated"#),
            "\(waiting.stdout)\(waiting.stderr)")

        try await sim.kubectlChecked(["rollout", "resume", "deployment/web"])
        let done = try await sim.kubectlChecked(["rollout", "status", "deployment/web", "--timeout=120s"])
        #expect(done.contains(#"deployment "web" successfully rolled out"#))
    }

    @Test func aBrokenRollingUpdateKeepsOldPodsAvailableWithinMaxUnavailable() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 0.5)
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: Self.deployment(replicas: 4))
        try await sim.kubectlChecked(["rollout", "status", "deployment/web", "--timeout=120s"])
        try await sim.kubectlChecked(["set", "image", "deployment/web", "web=nginx:1.28-broken"])
        try await waitUntil(timeout: 120, "the progress deadline") {
            let d = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
            return Self.progressing(d)?["reason"] == "ProgressDeadlineExceeded"
        }
        let d = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
        // maxUnavailable 1 of 4: three old pods stay available; maxSurge 1 + maxUnavailable 1: two new pods, not ready.
        #expect(d[path: ["status", "availableReplicas"]] == 3)
        #expect(d[path: ["status", "updatedReplicas"]] == 2)
        #expect(d[path: ["status", "replicas"]] == 5)
        #expect(d[path: ["status", "unavailableReplicas"]] == 1)
        let available = d[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Available" }
        #expect(available?["status"] == "True")
    }

    @Test func aDeploymentCreatedAgainUnderItsNameStartsItsOwnRollout() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 0.5)
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: Self.deployment(replicas: 1))
        try await sim.kubectlChecked(["rollout", "status", "deployment/web", "--timeout=120s"])
        try await sim.kubectlChecked(["delete", "deployment", "web"])
        // Same name, same generation (1), a new object: its broken pods never become available. Rollout state kept
        // by name would carry the old object's available pod over.
        try await sim.kubectlChecked(
            ["apply", "--server-side", "-f", "-"], input: Self.deployment(replicas: 1, image: "nginx:1.27-broken"))
        try await waitUntil(timeout: 120, "the progress deadline") {
            let d = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
            return Self.progressing(d)?["reason"] == "ProgressDeadlineExceeded"
        }
        let d = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
        #expect(d[path: ["status", "availableReplicas"]] == nil)
        #expect(d[path: ["status", "unavailableReplicas"]] == 1)
    }
}
