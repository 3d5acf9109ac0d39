import Applier
import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// One live object of `corpus/health` and the verdict its upstream test asserts.
struct HealthCase: Sendable, CustomTestStringConvertible {
    /// `kstatus`, `gitops-engine` or `argo-cd`.
    var folder: String
    var file: String
    /// Upstream's verdict in the folder's vocabulary (`Current`, `Healthy`...); nil for gitops-engine's "no health
    /// assessed".
    var expected: String?
    /// kstatus's asserted `Reconciling` / `Stalled` reason, when it asserts one.
    var expectedReason: String?

    var path: String { "health/\(folder)/\(file)" }
    var testDescription: String { path }
    var usesKstatus: Bool { folder == "kstatus" }
}

/// Where our verdict differs from upstream's, on purpose: our verdict in that folder's vocabulary, and why.
/// `docs/sync-order-and-health.md` lists the same cases.
let healthDifferences: [String: (ours: String, why: String)] = [
    "health/kstatus/podCompletedFailed.yaml": (
        "Failed",
        "a pod that ran and failed fails the wait (gitops-engine: Degraded); kstatus only asks whether the pod is done"
    ),
    "health/kstatus/jobInProgress.yaml": (
        "InProgress", "a sync waits for a Job to complete (gitops-engine, kapp); kstatus calls a started Job current"
    ),
    "health/kstatus/serviceLBok.yaml": (
        "InProgress",
        "a LoadBalancer Service waits for status.loadBalancer.ingress (gitops-engine); kstatus reads spec.clusterIP"
    ),
    "health/gitops-engine/knative-service.yaml": (
        "Healthy", "gitops-engine has no rule for the kind (nil); kstatus's generic rule finds nothing to wait for"
    ),
    "health/gitops-engine/application-healthy.yaml": (
        "Healthy", "gitops-engine has no rule for the kind (nil); kstatus's generic rule finds nothing to wait for"
    ),
    "health/gitops-engine/application-degraded.yaml": (
        "Healthy",
        "gitops-engine has no rule for the kind (nil); status.health is Argo CD's own field, not a condition"
    ),
    "health/gitops-engine/pod-running-restart-onfailure.yaml": (
        "Degraded",
        "a crash loop fails the wait whatever the restart policy; gitops-engine spares OnFailure pods (Argo CD hooks)"
    ),
    "health/argo-cd/pod-running-restart-never-with-ignore-annotation.yaml": (
        "Progressing",
        "argocd.argoproj.io/ignore-restart-policy is Argo CD's; a Never pod is waited on until it completes"
    ),
]

/// The time every corpus case is judged at (podBeingScheduled is created at this instant).
let assessmentTime = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

/// Every case of every `corpus/health/*/expected.yaml`.
let healthCases: [HealthCase] = {
    var cases: [HealthCase] = []
    for folder in ["kstatus", "gitops-engine", "argo-cd"] {
        let url = sharedRoot.appendingPathComponent("corpus/health/\(folder)/expected.yaml")
        guard let data = try? Data(contentsOf: url), let expected = try? YAML.load(Array(data)).first?.value else {
            continue
        }
        for item in expected["cases"]?.arrayValue ?? [] {
            guard let file = item["file"]?.stringValue else { continue }
            let reason = item["expected_conditions"]?.arrayValue?.first?["reason"]?.stringValue
            cases.append(
                HealthCase(folder: folder, file: file, expected: item["expected"]?.stringValue, expectedReason: reason))
        }
    }
    return cases
}()

/// A corpus object as the cluster would return it. Upstream fixtures are read leniently (four repeat a key, which
/// Go's decoder lets the last one win); a few hand-written ones have no `metadata.name`, which is filled in from
/// the file name; `__NOW_RFC3339__` becomes ``assessmentTime``.
func liveObject(_ path: String) throws -> Resource {
    let url = sharedRoot.appendingPathComponent("corpus").appendingPathComponent(path)
    let text = try String(contentsOf: url, encoding: .utf8)
        .replacingOccurrences(of: "__NOW_RFC3339__", with: "2026-01-01T00:00:00Z")
    let options = YAMLLoadOptions(duplicateKeys: .lastWins)
    guard let document = try YAML.load(text, file: path, options: options).first else {
        throw TestSupportError("\(path): no document")
    }
    var body = document.value
    if body[path: ["metadata", "name"]] == nil {
        var metadata = body["metadata"] ?? .emptyObject
        metadata["name"] = .string(url.deletingPathExtension().lastPathComponent)
        body["metadata"] = metadata
    }
    return try Resource(body: body, source: document.location)
}

/// Our verdict in the vocabulary of a case's folder.
func verdict(_ health: Health, for testCase: HealthCase) -> String {
    testCase.usesKstatus ? health.status.kstatusName : health.status.argoName
}

/// Readiness rules (`Sources/Applier/Health`).
@Suite("Health")
enum HealthTests {}

extension HealthTests {
    @Suite("the corpus, judged as upstream judges it or as the table of differences says")
    struct Corpus {
        @Test("every live object of corpus/health has a case (57 kstatus, 49 gitops-engine, 4 argo-cd)")
        func everyObject() throws {
            #expect(healthCases.filter { $0.folder == "kstatus" }.count == 57)
            #expect(healthCases.filter { $0.folder == "gitops-engine" }.count == 49)
            #expect(healthCases.filter { $0.folder == "argo-cd" }.count == 4)
            for folder in ["kstatus", "gitops-engine", "argo-cd"] {
                let url = sharedRoot.appendingPathComponent("corpus/health/\(folder)")
                let files = try FileManager.default.contentsOfDirectory(atPath: url.path)
                    .filter { $0.hasSuffix(".yaml") && $0 != "expected.yaml" }
                let listed = Set(healthCases.filter { $0.folder == folder }.map(\.file))
                #expect(Set(files) == listed, "\(folder): files without a case or cases without a file")
            }
            let known = Set(healthCases.map(\.path))
            #expect(Set(healthDifferences.keys).isSubset(of: known))
        }

        @Test("each object's verdict", arguments: healthCases)
        func verdicts(_ testCase: HealthCase) throws {
            let health = assessHealth(try liveObject(testCase.path), now: assessmentTime)
            let ours = verdict(health, for: testCase)
            if let difference = healthDifferences[testCase.path] {
                #expect(ours == difference.ours, "\(health)")
                #expect(ours != testCase.expected, "listed as a difference but agrees: \(testCase.path)")
                return
            }
            #expect(ours == testCase.expected, "\(health)")
            if testCase.usesKstatus, let reason = testCase.expectedReason {
                #expect(health.reason == reason, "\(health)")
            }
        }

        @Test("Argo CD's extra assertion: a suspended Job says \"Job suspended\"")
        func suspendedJobMessage() throws {
            let health = assessHealth(try liveObject("health/gitops-engine/job-suspended.yaml"))
            #expect(health == Health(.suspended, reason: "JobSuspended", message: "Job suspended"))
            #expect(health.isDone && health.isSuccessful)
        }
    }

}

/// A live object from YAML text.
func live(_ yaml: String) throws -> Resource {
    guard let document = try YAML.load(yaml, file: "live.yaml").first else { throw TestSupportError("empty") }
    return try Resource(body: document.value, source: document.location)
}

extension HealthTests {
    @Suite("rules beyond the corpus")
    struct Rules {
        @Test("a deployment's messages count replicas")
        func deploymentMessages() throws {
            let deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: reviews-v2, namespace: bookinfo, generation: 3}
                spec: {replicas: 3, progressDeadlineSeconds: 600}
                status:
                  observedGeneration: 3
                  replicas: 3
                  updatedReplicas: 3
                  readyReplicas: 3
                  availableReplicas: 2
                  conditions:
                  - {type: Progressing, status: "True", reason: ReplicaSetUpdated}
                  - {type: Available, status: "True"}
                """
            let health = assessHealth(try live(deployment))
            #expect(
                health.description == "in progress (LessAvailable): waiting for 2/3 updated replicas to be available")
            #expect(!health.isDone)

            let behind = deployment.replacingOccurrences(of: "observedGeneration: 3", with: "observedGeneration: 2")
            #expect(assessHealth(try live(behind)).reason == "LatestGenerationNotObserved")

            let done = deployment.replacingOccurrences(of: "availableReplicas: 2", with: "availableReplicas: 3")
                .replacingOccurrences(of: "ReplicaSetUpdated", with: "NewReplicaSetAvailable")
            let current = assessHealth(try live(done))
            #expect(current.status == .current && current.isDone && current.isSuccessful)
            #expect(current.message == "3/3 replicas updated, ready and available")
        }

        @Test("a StatefulSet with a partition waits only for the pods at or above it")
        func statefulSetPartition() throws {
            let text = """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: db, generation: 2}
                spec: {replicas: 4, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}}
                status: {observedGeneration: 2, replicas: 4, readyReplicas: 4, currentReplicas: 2, updatedReplicas: 1}
                """
            #expect(assessHealth(try live(text)).reason == "PartitionRollout")
            let done = text.replacingOccurrences(of: "updatedReplicas: 1", with: "updatedReplicas: 2")
            #expect(assessHealth(try live(done)).status == .current)
        }

        @Test("an OnDelete DaemonSet does not wait for updated pods, but does for available ones")
        func daemonSetOnDelete() throws {
            let text = """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: agent, generation: 2}
                spec: {updateStrategy: {type: OnDelete}}
                status: {observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 3,
                         updatedNumberScheduled: 0, numberAvailable: 2, numberReady: 3}
                """
            #expect(assessHealth(try live(text)).reason == "LessAvailable")
            let done = text.replacingOccurrences(of: "numberAvailable: 2", with: "numberAvailable: 3")
            #expect(assessHealth(try live(done)).status == .current)
        }

        @Test("an unschedulable pod fails only after 15 s, and only when the time is known")
        func unschedulableWindow() throws {
            let pod = try live(
                """
                apiVersion: v1
                kind: Pod
                metadata: {name: p, creationTimestamp: "2026-01-01T00:00:00Z"}
                status:
                  phase: Pending
                  conditions: [{type: PodScheduled, status: "False", reason: Unschedulable, message: 0/3 nodes}]
                """)
            #expect(assessHealth(pod).reason == "PodNotScheduled")
            #expect(assessHealth(pod, now: assessmentTime.addingTimeInterval(10)).reason == "PodNotScheduled")
            let failed = assessHealth(pod, now: assessmentTime.addingTimeInterval(15))
            #expect(failed.status == .failed && failed.reason == "PodUnschedulable")
            #expect(failed.message == "pod cannot be scheduled: 0/3 nodes")
        }

        @Test("Istio objects: no status is current; a string observedGeneration behind the generation is in progress")
        func istio() throws {
            let rule = """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: reviews, namespace: bookinfo, generation: 4}
                spec: {host: reviews}
                """
            #expect(assessHealth(try live(rule)).status == .current)
            let observed = try live(rule + "\nstatus: {observedGeneration: \"3\"}")
            #expect(assessHealth(observed).reason == "LatestGenerationNotObserved")
        }

        @Test("Namespaces: active is current, terminating is in progress")
        func namespace() throws {
            let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: bookinfo}\nstatus: {phase: Active}\n"
            #expect(assessHealth(try live(text)).status == .current)
            let terminating = text.replacingOccurrences(of: "Active", with: "Terminating")
            #expect(assessHealth(try live(terminating)).reason == "Terminating")
        }

        @Test("a status that is not a mapping is unknown, and waiting goes on")
        func unreadable() throws {
            let health = assessHealth(try live("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nstatus: [1]\n"))
            #expect(health.status == .unknown && !health.isDone)
            #expect(health.message == "status is a sequence, not a mapping")
        }

        @Test("the status mappings to kstatus and Argo CD are explicit")
        func mappings() {
            #expect(
                Health.Status.allCases.map(\.kstatusName) == ["Current", "InProgress", "Failed", "Current", "Unknown"])
            #expect(
                Health.Status.allCases.map(\.argoName) == [
                    "Healthy", "Progressing", "Degraded", "Suspended", "Unknown",
                ])
        }
    }
}
