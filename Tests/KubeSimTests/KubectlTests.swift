import Foundation
import SyncCore
import Testing
import TestSupport

/// kubectl against kubesim: what a user does with the Istio CRDs and the Bookinfo sample.
@Suite
struct KubectlTests {
    @Test func serverSideApplyOfCRDsAndBookinfoShowsRealDefaultsAndDiffs() async throws {
        let sim = try await KubeSimCluster()
        let crds = try await sim.kubectlChecked(["apply", "--server-side", "-f", istioCRDs])
        #expect(
            crds.contains(
                "customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io serverside-applied"))
        try await sim.kubectlChecked(["wait", "--for", "condition=established", "crd", "--all", "--timeout=60s"])
        let app = try await sim.kubectlChecked([
            "apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml",
        ])
        #expect(app.contains("deployment.apps/reviews-v2 serverside-applied"))
        let networking = try await sim.kubectlChecked([
            "apply", "--server-side", "-f", "\(bookinfo)/networking/destination-rule-all.yaml", "-f",
            "\(bookinfo)/networking/virtual-service-reviews-90-10.yaml", "-f",
            "\(bookinfo)/networking/bookinfo-gateway.yaml",
        ])
        #expect(networking.contains("virtualservice.networking.istio.io/reviews serverside-applied"))

        // The real server's defaults.
        let deployment = try await Value(
            json: try sim.kubectlChecked(["get", "deployment", "reviews-v1", "-o", "json"]))
        #expect(deployment[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] == "25%")
        #expect(deployment[path: ["spec", "revisionHistoryLimit"]] == 10)
        #expect(deployment[path: ["spec", "progressDeadlineSeconds"]] == 600)
        let container = deployment[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container?["terminationMessagePath"] == "/dev/termination-log")
        #expect(container?["ports"]?.arrayValue?.first?["protocol"] == "TCP")
        #expect(deployment[path: ["spec", "template", "spec", "dnsPolicy"]] == "ClusterFirst")
        let service = try await Value(json: try sim.kubectlChecked(["get", "service", "reviews", "-o", "json"]))
        #expect(service[path: ["spec", "type"]] == "ClusterIP")
        #expect(service[path: ["spec", "clusterIP"]]?.stringValue?.hasPrefix("10.96.") == true)
        #expect(service[path: ["spec", "ports"]]?.arrayValue?.first?["targetPort"] == 9080)
        #expect(service[path: ["spec", "ipFamilies"]] == ["IPv4"])
        let yaml = try await sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "yaml"])
        #expect(yaml.contains("imagePullPolicy: IfNotPresent") && yaml.contains("schedulerName: default-scheduler"))

        // diff: 0 on the unchanged set (once the rollouts settled, so status stops moving), 1 after a change.
        try await sim.kubectlChecked(["wait", "--for=condition=Available", "deployments", "--all", "--timeout=20s"])
        try await sim.kubectlChecked(["rollout", "status", "deployment/productpage-v1", "--timeout=20s"])
        let unchanged = try await sim.kubectl([
            "diff", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml", "-f",
            "\(bookinfo)/networking/virtual-service-reviews-90-10.yaml",
        ])
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")
        let changed = try await sim.kubectl([
            "diff", "--server-side", "-f", "\(bookinfo)/networking/virtual-service-reviews-80-20.yaml",
        ])
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("-      weight: 90") && changed.stdout.contains("+      weight: 80"))

        // Label selection.
        let reviews = try await sim.kubectlChecked(["get", "deployments", "-l", "app=reviews", "-o", "name"])
        #expect(
            reviews.split(separator: "\n").sorted() == [
                "deployment.apps/reviews-v1", "deployment.apps/reviews-v2", "deployment.apps/reviews-v3",
            ])

        // delete -f removes them.
        try await sim.kubectlChecked(["delete", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        let after = try await sim.kubectl(["get", "deployment", "reviews-v1"])
        #expect(after.status != 0 && after.stderr.contains("NotFound"))
        await #expect(try sim.kubectlChecked(["get", "deployments", "-o", "name"]).isEmpty)
    }

    @Test func conflictingApplyFromASecondManagerFailsWithTheRealMessage() async throws {
        let sim = try await KubeSimCluster()
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        let scaled = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: ratings-v1
            spec:
              replicas: 3
            """
        let conflict = try await sim.kubectl(
            ["apply", "--server-side", "--field-manager", "hotfix", "-f", "-"], input: scaled)
        #expect(conflict.status != 0)
        #expect(
            conflict.stderr.contains(
                #"Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas"#),
            "\(conflict.stderr)")
        // --force-conflicts takes the field; managedFields then name both managers.
        try await sim.kubectlChecked(
            ["apply", "--server-side", "--field-manager", "hotfix", "--force-conflicts", "-f", "-"], input: scaled)
        let object = try await Value(
            json: try sim.kubectlChecked(["get", "deployment", "ratings-v1", "-o", "json", "--show-managed-fields"]))
        #expect(object[path: ["spec", "replicas"]] == 3)
        let managers = object[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        let hotfix = managers.first { $0["manager"] == "hotfix" }
        #expect(hotfix?[path: ["fieldsV1", "f:spec", "f:replicas"]] == .emptyObject)
        let kubectl = managers.first { $0["manager"] == "kubectl" && $0["operation"] == "Apply" }
        #expect(kubectl?[path: ["fieldsV1", "f:spec", "f:replicas"]] == nil)
    }

    @Test func rolloutReachesAvailableAndBrokenImagesExceedTheDeadline() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 0.5)
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        try await waitUntil(timeout: 300, "details-v1 to become available") {
            let d = try Value(json: try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "json"]))
            let progressing = d[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Progressing" }
            return d[path: ["status", "availableReplicas"]] == 1 && progressing?["reason"] == "NewReplicaSetAvailable"
        }
        try await sim.kubectlChecked([
            "set", "image", "deployment/details-v1",
            "details=registry.istio.io/release/examples-bookinfo-details-v1:1.20.3-broken",
        ])
        try await waitUntil(timeout: 300, "details-v1 to exceed its progress deadline") {
            let d = try Value(json: try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "json"]))
            let progressing = d[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Progressing" }
            return progressing?["reason"] == "ProgressDeadlineExceeded"
                && d[path: ["status", "observedGeneration"]] == 2
        }
    }

    @Test func scaleSubresourceChangesReplicasAndTheRolloutCatchesUp() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 0.5)
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        // kubectl finds the subresource through discovery, then PATCHes `.../deployments/NAME/scale`.
        let resources = try await Value(json: try sim.kubectlChecked(["get", "--raw", "/apis/apps/v1"]))
        let scaleEntry = resources["resources"]?.arrayValue?.first { $0["name"] == "deployments/scale" }
        #expect(
            scaleEntry?["kind"] == "Scale" && scaleEntry?["group"] == "autoscaling" && scaleEntry?["version"] == "v1")
        #expect(scaleEntry?["verbs"] == ["get", "patch", "update"])

        let scaled = try await sim.kubectlChecked(["scale", "deployment", "details-v1", "--replicas=3"])
        #expect(scaled.contains("deployment.apps/details-v1 scaled"))
        let deployment = try await Value(
            json: try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "json", "--show-managed-fields"]))
        #expect(deployment[path: ["spec", "replicas"]] == 3)
        #expect(deployment[path: ["metadata", "generation"]] == 2)
        let managers = deployment[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        let scaler = managers.first { $0["subresource"] == "scale" }
        #expect(scaler?["manager"] == "kubectl" && scaler?["operation"] == "Update")
        #expect(scaler?[path: ["fieldsV1", "f:spec", "f:replicas"]] == .emptyObject)

        let scale = try await Value(
            json: try sim.kubectlChecked([
                "get", "--raw", "/apis/apps/v1/namespaces/default/deployments/details-v1/scale",
            ]))
        #expect(scale["kind"] == "Scale" && scale["apiVersion"] == "autoscaling/v1")
        #expect(scale[path: ["spec", "replicas"]] == 3)
        #expect(scale[path: ["status", "selector"]] == "app=details,version=v1")

        let rollout = try await sim.kubectl(["rollout", "status", "deployment/details-v1", "--timeout=20s"])
        #expect(rollout.status == 0, "\(rollout.stderr)")
        #expect(rollout.stdout.contains("successfully rolled out"))
        let after = try await Value(json: try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "json"]))
        #expect(
            after[path: ["status", "availableReplicas"]] == 3 && after[path: ["status", "observedGeneration"]] == 2)
        await #expect(
            try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "jsonpath={.spec.replicas}"]) == "3")
    }

    @Test func waitAndRolloutStatusFollowTheWatch() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 1)
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        // Not available yet: `wait` lists, then follows the watch until the condition turns True.
        let wait = try await sim.kubectl([
            "wait", "--for=condition=Available", "deployment/ratings-v1", "--timeout=20s",
        ])
        #expect(wait.status == 0, "\(wait.stderr)")
        #expect(wait.stdout.contains("deployment.apps/ratings-v1 condition met"))

        try await sim.kubectlChecked([
            "set", "image", "deployment/ratings-v1",
            "ratings=registry.istio.io/release/examples-bookinfo-ratings-v1:1.21.0",
        ])
        let rollout = try await sim.kubectl(["rollout", "status", "deployment/ratings-v1", "--timeout=20s"])
        #expect(rollout.status == 0, "\(rollout.stderr)")
        #expect(rollout.stdout.contains("deployment \"ratings-v1\" successfully rolled out"))
        #expect(rollout.stderr.isEmpty, "\(rollout.stderr)")

        // A broken image never becomes available: wait times out instead of returning early.
        try await sim.kubectlChecked([
            "set", "image", "deployment/ratings-v1",
            "ratings=registry.istio.io/release/examples-bookinfo-ratings-v1:1.21.0-broken",
        ])
        let stuck = try await sim.kubectl(["rollout", "status", "deployment/ratings-v1", "--timeout=3s"])
        #expect(stuck.status != 0)
    }
}
