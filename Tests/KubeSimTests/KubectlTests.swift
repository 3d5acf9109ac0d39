import Foundation
import SyncCore
import Testing
import TestSupport

/// kubectl against kubesim: what a user does with the Istio CRDs and the Bookinfo sample.
@Suite(.enabled(if: kubectlAvailable, "kubectl is not on PATH: these tests need it (CI installs it)"))
struct KubectlTests {
    @Test func serverSideApplyOfCRDsAndBookinfoShowsRealDefaultsAndDiffs() async throws {
        let sim = try await KubeSimCluster()
        let crds = try sim.kubectlChecked(["apply", "--server-side", "-f", istioCRDs])
        #expect(crds.contains("customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io serverside-applied"))
        let app = try sim.kubectlChecked(["apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        #expect(app.contains("deployment.apps/reviews-v2 serverside-applied"))
        let networking = try sim.kubectlChecked([
            "apply", "--server-side", "-f", "\(bookinfo)/networking/destination-rule-all.yaml", "-f",
            "\(bookinfo)/networking/virtual-service-reviews-90-10.yaml", "-f", "\(bookinfo)/networking/bookinfo-gateway.yaml",
        ])
        #expect(networking.contains("virtualservice.networking.istio.io/reviews serverside-applied"))

        // The real server's defaults.
        let deployment = try Value(json: try sim.kubectlChecked(["get", "deployment", "reviews-v1", "-o", "json"]))
        #expect(deployment[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] == "25%")
        #expect(deployment[path: ["spec", "revisionHistoryLimit"]] == 10)
        #expect(deployment[path: ["spec", "progressDeadlineSeconds"]] == 600)
        let container = deployment[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container?["terminationMessagePath"] == "/dev/termination-log")
        #expect(container?["ports"]?.arrayValue?.first?["protocol"] == "TCP")
        #expect(deployment[path: ["spec", "template", "spec", "dnsPolicy"]] == "ClusterFirst")
        let service = try Value(json: try sim.kubectlChecked(["get", "service", "reviews", "-o", "json"]))
        #expect(service[path: ["spec", "type"]] == "ClusterIP")
        #expect(service[path: ["spec", "clusterIP"]]?.stringValue?.hasPrefix("10.96.") == true)
        #expect(service[path: ["spec", "ports"]]?.arrayValue?.first?["targetPort"] == 9080)
        #expect(service[path: ["spec", "ipFamilies"]] == ["IPv4"])
        let yaml = try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "yaml"])
        #expect(yaml.contains("imagePullPolicy: IfNotPresent") && yaml.contains("schedulerName: default-scheduler"))

        // diff: 0 on the unchanged set, 1 after a change.
        let unchanged = try sim.kubectl(["diff", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml", "-f", "\(bookinfo)/networking/virtual-service-reviews-90-10.yaml"])
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")
        let changed = try sim.kubectl(["diff", "--server-side", "-f", "\(bookinfo)/networking/virtual-service-reviews-80-20.yaml"])
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("-      weight: 90") && changed.stdout.contains("+      weight: 80"))

        // Label selection.
        let reviews = try sim.kubectlChecked(["get", "deployments", "-l", "app=reviews", "-o", "name"])
        #expect(reviews.split(separator: "\n").sorted() == ["deployment.apps/reviews-v1", "deployment.apps/reviews-v2", "deployment.apps/reviews-v3"])

        // delete -f removes them.
        try sim.kubectlChecked(["delete", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        let after = try sim.kubectl(["get", "deployment", "reviews-v1"])
        #expect(after.status != 0 && after.stderr.contains("NotFound"))
        #expect(try sim.kubectlChecked(["get", "deployments", "-o", "name"]).isEmpty)
    }

    @Test func conflictingApplyFromASecondManagerFailsWithTheRealMessage() async throws {
        let sim = try await KubeSimCluster()
        try sim.kubectlChecked(["apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        let scaled = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: ratings-v1
            spec:
              replicas: 3
            """
        let conflict = try sim.kubectl(["apply", "--server-side", "--field-manager", "hotfix", "-f", "-"], input: scaled)
        #expect(conflict.status != 0)
        #expect(conflict.stderr.contains(#"Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas"#), "\(conflict.stderr)")
        // --force-conflicts takes the field; managedFields then name both managers.
        try sim.kubectlChecked(["apply", "--server-side", "--field-manager", "hotfix", "--force-conflicts", "-f", "-"], input: scaled)
        let object = try Value(json: try sim.kubectlChecked(["get", "deployment", "ratings-v1", "-o", "json", "--show-managed-fields"]))
        #expect(object[path: ["spec", "replicas"]] == 3)
        let managers = object[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        let hotfix = managers.first { $0["manager"] == "hotfix" }
        #expect(hotfix?[path: ["fieldsV1", "f:spec", "f:replicas"]] == .emptyObject)
        let kubectl = managers.first { $0["manager"] == "kubectl" && $0["operation"] == "Apply" }
        #expect(kubectl?[path: ["fieldsV1", "f:spec", "f:replicas"]] == nil)
    }

    @Test func rolloutReachesAvailableAndBrokenImagesExceedTheDeadline() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 0.5)
        try sim.kubectlChecked(["apply", "--server-side", "-f", "\(bookinfo)/platform/kube/bookinfo.yaml"])
        try await waitUntil(timeout: 20, "details-v1 to become available") {
            let d = try Value(json: try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "json"]))
            let progressing = d[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Progressing" }
            return d[path: ["status", "availableReplicas"]] == 1 && progressing?["reason"] == "NewReplicaSetAvailable"
        }
        try sim.kubectlChecked(["set", "image", "deployment/details-v1", "details=registry.istio.io/release/examples-bookinfo-details-v1:1.20.3-broken"])
        try await waitUntil(timeout: 30, "details-v1 to exceed its progress deadline") {
            let d = try Value(json: try sim.kubectlChecked(["get", "deployment", "details-v1", "-o", "json"]))
            let progressing = d[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Progressing" }
            return progressing?["reason"] == "ProgressDeadlineExceeded" && d[path: ["status", "observedGeneration"]] == 2
        }
    }
}
