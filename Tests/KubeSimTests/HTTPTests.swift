import Foundation
import SyncCore
import Testing
import TestSupport

/// Direct HTTP against kubesim: the status codes, dry runs, managed fields, persistence, auth and faults.
@Suite struct HTTPTests {
    static let configMap = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"1"}}"#
    static let deployment =
        #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}}"#

    @Test func everyErrorIsAStatusWithTheRealReasonAndCode() async throws {
        let sim = try await KubeSimCluster()
        let base = "/api/v1/namespaces/default/configmaps"
        func reason(_ body: String) throws -> String? { try Value(json: body)["reason"]?.stringValue }

        let unauthorized = try await sim.request("GET", base, token: false)
        #expect(try unauthorized.status == 401 && (reason(unauthorized.body)) == "Unauthorized")

        let created = try await sim.request("POST", base, body: Self.configMap)
        #expect(created.status == 201)
        let duplicate = try await sim.request("POST", base, body: Self.configMap)
        #expect(try duplicate.status == 409 && (reason(duplicate.body)) == "AlreadyExists")
        #expect(duplicate.body.contains(#"configmaps \"settings\" already exists"#))

        let missing = try await sim.request("GET", "\(base)/nothing")
        #expect(try missing.status == 404 && (reason(missing.body)) == "NotFound")
        let unknownKind = try await sim.request("GET", "/apis/example.com/v1/namespaces/default/widgets")
        #expect(unknownKind.status == 404)

        // A stale resourceVersion on PUT.
        var stale = try Value(json: created.body)
        stale["metadata"]?["resourceVersion"] = "1"
        stale["data"] = ["a": "2"]
        let conflict = try await sim.request("PUT", "\(base)/settings", body: stale.jsonString)
        #expect(try conflict.status == 409 && (reason(conflict.body)) == "Conflict")
        #expect(conflict.body.contains("the object has been modified"))

        let invalid = try await sim.request(
            "POST", "/apis/apps/v1/namespaces/default/deployments",
            body: Self.deployment.replacingOccurrences(
                of: "\"name\":\"web\"},\"spec\"", with: "\"name\":\"Web_App\"},\"spec\""))
        #expect(try invalid.status == 422 && (reason(invalid.body)) == "Invalid")
        #expect(
            try (Value(json: invalid.body))[path: ["details", "causes"]]?.arrayValue?.first?["field"] == "metadata.name"
        )

        let badRequest = try await sim.request("POST", base, body: "{not json")
        #expect(try badRequest.status == 400 && (reason(badRequest.body)) == "BadRequest")
        let strict = try await sim.request(
            "POST", "\(base)?fieldValidation=Strict",
            body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"dta":{}}"#)
        #expect(strict.status == 400 && strict.body.contains(#"unknown field \"dta\""#))

        let notAllowed = try await sim.request("PUT", base, body: Self.configMap)
        #expect(try notAllowed.status == 405 && (reason(notAllowed.body)) == "MethodNotAllowed")
        let mediaType = try await sim.request("PATCH", "\(base)/settings", body: "{}", contentType: "text/plain")
        #expect(try mediaType.status == 415 && (reason(mediaType.body)) == "UnsupportedMediaType")
        // A protobuf body of a kind kubesim has no field table for (a Pod) is refused as such, not misread as YAML.
        let pod = "k8s\u{0}\n\u{09}\n\u{02}v1\u{12}\u{03}Pod"
        let protobuf = try await sim.request(
            "POST", base, body: pod, contentType: "application/vnd.kubernetes.protobuf")
        #expect(try protobuf.status == 415 && (reason(protobuf.body)) == "UnsupportedMediaType")

        let noManager = try await sim.request(
            "PATCH", "\(base)/settings", body: Self.configMap, contentType: "application/apply-patch+yaml")
        #expect(noManager.status == 422 && noManager.body.contains("fieldManager"))
    }

    @Test func theReadOnlyUserIsForbiddenEveryWriteInRBACsWords() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let created = try await sim.request("POST", "/api/v1/namespaces/default/configmaps", body: Self.configMap)
        #expect(created.status == 201)
        let viewer = try String(contentsOfFile: sim.dataPath + "/regions/us-sanjose-1/viewer-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func curl(_ method: String, _ path: String, body: String? = nil) throws -> (Int, Value) {
            var arguments = [
                "curl", "-sS", "--cacert", sim.caPath, "-X", method, "-w", "\n%{http_code}", "-H",
                "Authorization: Bearer \(viewer)", "-H", "Content-Type: application/json",
            ]
            if body != nil { arguments += ["--data-binary", "@-"] }
            let port = sim.apiPorts["us-sanjose-1"] ?? 0
            let text = try runChecked(arguments + ["https://127.0.0.1:\(port)\(path)"], input: body)
            let newline = try #require(text.lastIndex(of: "\n"))
            return (Int(text[text.index(after: newline)...]) ?? 0, try Value(json: String(text[..<newline])))
        }
        let (readStatus, read) = try curl("GET", "/api/v1/namespaces/default/configmaps/settings")
        #expect(readStatus == 200 && read["data"]?["a"] == "1")
        let (createStatus, create) = try curl("POST", "/api/v1/namespaces/default/configmaps", body: Self.configMap)
        #expect(createStatus == 403)
        #expect(create["reason"] == "Forbidden" && create["code"]?.intValue == 403)
        #expect(
            create["message"]?.stringValue
                == #"configmaps is forbidden: User "kubesim-viewer" cannot create resource "configmaps" in API group "" in the namespace "default""#
        )
        #expect(create[path: ["details", "kind"]] == "configmaps")
        let (deleteStatus, delete) = try curl("DELETE", "/apis/apps/v1/namespaces/default/deployments/web?dryRun=All")
        #expect(deleteStatus == 403)
        #expect(
            delete["message"]?.stringValue
                == #"deployments "web" is forbidden: User "kubesim-viewer" cannot delete resource "deployments" in API group "apps" in the namespace "default""#
        )
        let (_, namespace) = try curl("PATCH", "/api/v1/namespaces/team", body: "{}")
        #expect(namespace["message"]?.stringValue?.hasSuffix("at the cluster scope") == true, "\(namespace)")
        // kubectl with the viewer context reads, and reports the refusal of a write as the real server's.
        do {
            await #expect(
                try sim.kubectlChecked(["get", "configmap", "settings", "-o", "name"], region: "us-sanjose-1-viewer")
                    .contains("configmap/settings"))
            let apply = try await sim.kubectl(
                ["apply", "--server-side", "-f", "-"], region: "us-sanjose-1-viewer", input: Self.configMap)
            #expect(apply.status != 0)
            #expect(
                apply.stderr.contains(
                    #"configmaps "settings" is forbidden: User "kubesim-viewer" cannot patch resource "configmaps""#),
                "\(apply.stderr)")
        }
    }

    @Test func dryRunValidatesAndDefaultsButStoresNothing() async throws {
        let sim = try await KubeSimCluster()
        let path = "/apis/apps/v1/namespaces/default/deployments"
        let created = try await sim.request("POST", "\(path)?dryRun=All", body: Self.deployment)
        #expect(created.status == 201)
        #expect(try (Value(json: created.body))[path: ["spec", "replicas"]] == 1)
        await #expect(try sim.request("GET", "\(path)/web").status == 404)
        let applied = try await sim.request(
            "PATCH", "\(path)/web?dryRun=All&fieldManager=test", body: Self.deployment,
            contentType: "application/apply-patch+yaml")
        #expect(applied.status == 201)
        await #expect(try sim.request("GET", "\(path)/web").status == 404)
        let invalid = try await sim.request(
            "POST", "\(path)?dryRun=All", body: Self.deployment.replacingOccurrences(of: "nginx:1.27", with: ""))
        #expect(invalid.status == 422)

        let real = try await sim.request("POST", path, body: Self.deployment)
        let version = try Value(json: real.body)[path: ["metadata", "resourceVersion"]]
        let patched = try await sim.request(
            "PATCH", "\(path)/web?dryRun=All", body: #"{"spec":{"replicas":5}}"#,
            contentType: "application/merge-patch+json")
        #expect(try patched.status == 200 && (Value(json: patched.body))[path: ["spec", "replicas"]] == 5)
        let deleted = try await sim.request("DELETE", "\(path)/web?dryRun=All")
        #expect(deleted.status == 200)
        let live = try await Value(json: try sim.request("GET", "\(path)/web").body)
        #expect(live[path: ["spec", "replicas"]] == 1)
        #expect(live[path: ["metadata", "generation"]] == 1)
        _ = version
        // A dry-run update of a ConfigMap (which no controller touches) leaves its resourceVersion alone.
        let map = try await sim.request("POST", "/api/v1/namespaces/default/configmaps", body: Self.configMap)
        let mapVersion = try Value(json: map.body)[path: ["metadata", "resourceVersion"]]
        let mapPatch = try await sim.request(
            "PATCH", "/api/v1/namespaces/default/configmaps/settings?dryRun=All", body: #"{"data":{"a":"2"}}"#,
            contentType: "application/merge-patch+json")
        #expect(try Value(json: mapPatch.body)["data"] == ["a": "2"])
        let storedMap = try await Value(
            json: try sim.request("GET", "/api/v1/namespaces/default/configmaps/settings").body)
        #expect(storedMap["data"] == ["a": "1"])
        #expect(storedMap[path: ["metadata", "resourceVersion"]] == mapVersion)
    }

    @Test func managedFieldsRecordApplyThenEditByManager() async throws {
        let sim = try await KubeSimCluster()
        let path = "/apis/apps/v1/namespaces/default/deployments"
        let applied = try await sim.request(
            "PATCH", "\(path)/web?fieldManager=gitops", body: Self.deployment,
            contentType: "application/apply-patch+yaml")
        #expect(applied.status == 201)
        var object = try Value(json: applied.body)
        #expect(object[path: ["metadata", "generation"]] == 1)
        let entries = object[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        #expect(entries.count == 1 && entries[0]["manager"] == "gitops" && entries[0]["operation"] == "Apply")
        let fields = entries[0]["fieldsV1"] ?? .null
        #expect(
            fields[path: ["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"web"}"#, "f:image"]]
                == .emptyObject)
        #expect(
            fields[path: [
                "f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"web"}"#, "f:ports",
                #"k:{"containerPort":80,"protocol":"TCP"}"#, ".",
            ]] == .emptyObject)
        #expect(fields[path: ["f:spec", "f:replicas"]] == nil)

        // A kubectl-edit style update (PUT) is recorded under its own manager, and bumps generation.
        // The simulated controller may write status between our read and the PUT (409 Conflict, correct server
        // behaviour): re-read and retry, as kubectl edit does.
        var edited = (status: 0, body: "")
        for _ in 0..<10 {
            object["spec"]?["replicas"] = 4
            edited = try await sim.request("PUT", "\(path)/web?fieldManager=kubectl-edit", body: object.jsonString)
            guard edited.status == 409 else { break }
            object = try await Value(json: try sim.request("GET", "\(path)/web").body)
        }
        #expect(edited.status == 200)
        let after = try Value(json: edited.body)
        #expect(after[path: ["metadata", "generation"]] == 2)
        let edit = after[path: ["metadata", "managedFields"]]?.arrayValue?.first { $0["manager"] == "kubectl-edit" }
        #expect(edit?["operation"] == "Update")
        #expect(edit?[path: ["fieldsV1", "f:spec", "f:replicas"]] == .emptyObject)

        // Re-applying a replica count now conflicts with kubectl-edit.
        let reapply = Self.deployment.replacingOccurrences(
            of: #""spec":{"selector""#, with: #""spec":{"replicas":2,"selector""#)
        let conflict = try await sim.request(
            "PATCH", "\(path)/web?fieldManager=gitops", body: reapply, contentType: "application/apply-patch+yaml")
        #expect(conflict.status == 409)
        #expect(conflict.body.contains(#"conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"#))
        // A no-op apply leaves generation alone, and (on a ConfigMap, which no controller writes) resourceVersion.
        let again = try await sim.request(
            "PATCH", "\(path)/web?fieldManager=gitops", body: Self.deployment,
            contentType: "application/apply-patch+yaml")
        #expect(try Value(json: again.body)[path: ["metadata", "generation"]] == 2)
        let first = try await sim.request(
            "PATCH", "/api/v1/namespaces/default/configmaps/settings?fieldManager=gitops", body: Self.configMap,
            contentType: "application/apply-patch+yaml")
        let second = try await sim.request(
            "PATCH", "/api/v1/namespaces/default/configmaps/settings?fieldManager=gitops", body: Self.configMap,
            contentType: "application/apply-patch+yaml")
        #expect(
            try Value(json: first.body)[path: ["metadata", "resourceVersion"]]
                == Value(json: second.body)[path: ["metadata", "resourceVersion"]])
    }

    @Test func strategicMergePatchMergesContainersByName() async throws {
        let sim = try await KubeSimCluster()
        let path = "/apis/apps/v1/namespaces/default/deployments"
        _ = try await sim.request("POST", path, body: Self.deployment)
        let patch =
            #"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1.30"},{"name":"web","env":[{"name":"MODE","value":"fast"}]}]}}}}"#
        let patched = try await sim.request(
            "PATCH", "\(path)/web", body: patch, contentType: "application/strategic-merge-patch+json")
        #expect(patched.status == 200)
        let containers =
            try Value(json: patched.body)[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
        #expect(containers.map { $0["name"] } == ["web", "sidecar"])
        #expect(containers.first?["image"] == "nginx:1.27")
        #expect(containers.first?["env"] == [["name": "MODE", "value": "fast"]])
        #expect(containers.last?["imagePullPolicy"] == "IfNotPresent")
    }

    @Test func objectsPersistAcrossARestart() async throws {
        let sim = try await KubeSimCluster()
        await #expect(
            try sim.request("POST", "/api/v1/namespaces/default/configmaps", body: Self.configMap).status == 201)
        let before = try await Value(
            json: try sim.request("GET", "/api/v1/namespaces/default/configmaps/settings").body)
        try await sim.restart()
        let after = try await sim.request("GET", "/api/v1/namespaces/default/configmaps/settings")
        #expect(after.status == 200)
        #expect(try Value(json: after.body) == before)
        // resourceVersions keep increasing after the restart.
        let next = try await sim.request(
            "POST", "/api/v1/namespaces/default/configmaps",
            body: Self.configMap.replacingOccurrences(of: "settings", with: "more"))
        let oldRV = Int(before[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0
        let newRV = Int(try Value(json: next.body)[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0
        #expect(newRV > oldRV)
        // The changes before the restart are gone: a watch from before the last of them is told 410 Expired (and lists again).
        let watch = try await sim.request(
            "GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=\(oldRV - 1)")
        let event = try Value(json: watch.body)
        #expect(
            event["type"] == "ERROR" && event[path: ["object", "code"]] == 410
                && event[path: ["object", "reason"]] == "Expired")
    }

    @Test func deletingANamespaceDeletesItsObjects() async throws {
        let sim = try await KubeSimCluster()
        await #expect(
            try sim.request(
                "POST", "/api/v1/namespaces",
                body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#
            ).status == 201)
        let ns = try await Value(json: try sim.request("GET", "/api/v1/namespaces/shop").body)
        #expect(ns[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] == "shop")
        #expect(ns[path: ["status", "phase"]] == "Active")
        await #expect(try sim.request("POST", "/api/v1/namespaces/shop/configmaps", body: Self.configMap).status == 201)
        // As the real server: the namespace is Terminating until the namespace controller has emptied it.
        let deleted = try await sim.request("DELETE", "/api/v1/namespaces/shop")
        #expect(deleted.status == 200)
        #expect(try Value(json: deleted.body)[path: ["status", "phase"]] == "Terminating")
        try await waitUntil(timeout: 30, "namespace shop gone") {
            try await sim.request("GET", "/api/v1/namespaces/shop").status == 404
        }
        await #expect(try sim.request("GET", "/api/v1/namespaces/shop/configmaps/settings").status == 404)
        await #expect(try sim.request("POST", "/api/v1/namespaces/shop/configmaps", body: Self.configMap).status == 404)
    }

    @Test func listSelectsByLabelsAndFieldsAndPages() async throws {
        let sim = try await KubeSimCluster()
        for (name, tier) in [("a", "web"), ("b", "db"), ("c", "web")] {
            let body =
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)","labels":{"tier":"\#(tier)"}}}"#
            await #expect(try sim.request("POST", "/api/v1/namespaces/default/configmaps", body: body).status == 201)
        }
        func names(_ query: String) throws -> [String] {
            let list = try Value(json: try sim.request("GET", "/api/v1/namespaces/default/configmaps?\(query)").body)
            return (list["items"]?.arrayValue ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        }
        #expect(try names("labelSelector=tier%3Dweb") == ["a", "c"])
        #expect(try names("labelSelector=tier%20in%20(db)") == ["b"])
        #expect(try names("fieldSelector=metadata.name%3Db") == ["b"])
        let page = try await Value(json: try sim.request("GET", "/api/v1/namespaces/default/configmaps?limit=2").body)
        #expect(page["items"]?.arrayValue?.count == 2)
        let token = page[path: ["metadata", "continue"]]?.stringValue ?? ""
        #expect(try names("limit=2&continue=\(token)") == ["c"])
    }

    @Test func watchStreamsEventsOneALineUntilItsTimeout() async throws {
        let sim = try await KubeSimCluster()
        let base = "/api/v1/namespaces/default/configmaps"
        func events(_ body: String) throws -> [Value] {
            try body.split(separator: "\n").map { try Value(json: Array($0.utf8)) }
        }
        await #expect(try sim.request("POST", base, body: Self.configMap).status == 201)
        let other = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other","labels":{"tier":"x"}}}"#
        await #expect(try sim.request("POST", base, body: other).status == 201)

        // Without a resourceVersion: the current matching objects as ADDED, then the stream ends at the timeout.
        let initial = try await sim.request(
            "GET", "\(base)?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dsettings")
        #expect(initial.status == 200)
        let added = try events(initial.body)
        #expect(added.count == 1)
        #expect(added.first?["type"] == "ADDED" && added.first?[path: ["object", "kind"]] == "ConfigMap")
        #expect(added.first?[path: ["object", "apiVersion"]] == "v1")
        #expect(added.first?[path: ["object", "metadata", "name"]] == "settings")

        // From a listed resourceVersion: the changes since, filtered by the label selector.
        let listed = try await Value(json: try sim.request("GET", base).body)
        let version = listed[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
        await #expect(
            try sim.request(
                "PATCH", "\(base)/other", body: #"{"data":{"b":"2"}}"#, contentType: "application/merge-patch+json"
            ).status == 200)
        await #expect(
            try sim.request(
                "PATCH", "\(base)/settings", body: #"{"data":{"b":"2"}}"#, contentType: "application/merge-patch+json"
            ).status == 200)
        await #expect(try sim.request("DELETE", "\(base)/other").status == 200)
        let changes = try await events(
            try sim.request(
                "GET", "\(base)?watch=true&timeoutSeconds=1&labelSelector=tier%3Dx&resourceVersion=\(version)"
            ).body)
        #expect(changes.map { $0["type"]?.stringValue ?? "" } == ["MODIFIED", "DELETED"])
        #expect(
            changes.allSatisfy {
                $0[path: ["object", "kind"]] == "ConfigMap" && $0[path: ["object", "metadata", "name"]] == "other"
            })
    }

    @Test func aRegionTakenDownRefusesConnectionsUntilBroughtBack() async throws {
        let sim = try await KubeSimCluster()
        let api = sim.regions[0].api
        _ = try await sim.metricsRequest("POST", "/faults/down")
        try await waitUntil(timeout: 300, "the API port to close") { !isListening(port: api) }
        #expect(isListening(port: sim.regions[1].api))
        _ = try await sim.metricsRequest("POST", "/faults/up")
        try await waitUntil(timeout: 300, "the API port to reopen") { isListening(port: api) }
        await #expect(try sim.request("GET", "/api/v1/namespaces/default").status == 200)

        _ = try await sim.metricsRequest("POST", "/faults/errors?rate=1&code=503")
        let failed = try await sim.request("GET", "/api/v1/namespaces/default")
        #expect(failed.status == 503 && failed.body.contains("ServiceUnavailable"))
        _ = try await sim.metricsRequest("POST", "/faults/reset")
        await #expect(try sim.request("GET", "/api/v1/namespaces/default").status == 200)
    }

    @Test func clientCertificateAuthenticates() async throws {
        let sim = try await KubeSimCluster()
        let output = try await run([
            "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", sim.caPath, "--cert",
            sim.dataPath + "/client.crt",
            "--key", sim.dataPath + "/client.key", "https://127.0.0.1:\(sim.regions[0].api)/api/v1/namespaces",
        ])
        #expect(output.stdout == "200")
    }

    @Test func meshMetricsFollowVirtualServiceWeightsAndErrorAnnotations() async throws {
        let sim = try await KubeSimCluster(rolloutSeconds: 0.2)
        // Minimal Istio CRDs (KubectlTests applies the real ones); the Service is created last so that all its
        // traffic is routed by the VirtualService from the first request.
        let vsCRD =
            #"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"virtualservices.networking.istio.io"},"spec":{"group":"networking.istio.io","names":{"kind":"VirtualService","plural":"virtualservices","singular":"virtualservice","listKind":"VirtualServiceList"},"scope":"Namespaced","versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}"#
        await #expect(
            try sim.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: vsCRD).status
                == 201)
        let drCRD = vsCRD.replacingOccurrences(of: "virtualservices", with: "destinationrules").replacingOccurrences(
            of: "VirtualService", with: "DestinationRule"
        ).replacingOccurrences(of: "virtualservice", with: "destinationrule")
        await #expect(
            try sim.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: drCRD).status
                == 201)
        // Their kinds are served once established, as on a real cluster.
        try await sim.kubectlChecked(["wait", "--for", "condition=established", "crd", "--all", "--timeout=30s"])
        for version in ["v1", "v2"] {
            let annotations = version == "v2" ? #","annotations":{"kubesim.io/error-rate":"1"}"# : ""
            let body =
                #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"reviews-\#(version)"},"spec":{"selector":{"matchLabels":{"app":"reviews","version":"\#(version)"}},"template":{"metadata":{"labels":{"app":"reviews","version":"\#(version)"}\#(annotations)},"spec":{"containers":[{"name":"reviews","image":"reviews:\#(version)"}]}}}}"#
            await #expect(
                try sim.request("POST", "/apis/apps/v1/namespaces/default/deployments", body: body).status == 201)
        }
        await #expect(
            try sim.request(
                "POST", "/apis/networking.istio.io/v1/namespaces/default/destinationrules",
                body:
                    #"{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"reviews"},"spec":{"host":"reviews","subsets":[{"name":"v1","labels":{"version":"v1"}},{"name":"v2","labels":{"version":"v2"}}]}}"#
            ).status == 201)
        await #expect(
            try sim.request(
                "POST", "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
                body:
                    #"{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"reviews"},"spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"},"weight":100},{"destination":{"host":"reviews","subset":"v2"},"weight":0}]}]}}"#
            ).status == 201)
        await #expect(
            try sim.request(
                "POST", "/api/v1/namespaces/default/services",
                body:
                    #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"reviews"},"spec":{"selector":{"app":"reviews"},"ports":[{"port":9080,"name":"http"}]}}"#
            ).status == 201)
        try await waitUntil(timeout: 300, "v1 traffic to be counted") {
            try sim.metricsRequest("GET", "/metrics").contains(#"destination_version="v1""#)
        }
        let allV1 = try await sim.metricsRequest("GET", "/metrics")
        #expect(!allV1.contains(#"destination_version="v2""#))
        #expect(allV1.contains("istio_request_duration_milliseconds_bucket{"))
        // Shift weight to the bad release: its 500s show up.
        let shift =
            #"{"spec":{"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"},"weight":50},{"destination":{"host":"reviews","subset":"v2"},"weight":50}]}]}}"#
        await #expect(
            try sim.request(
                "PATCH", "/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews", body: shift,
                contentType: "application/merge-patch+json"
            ).status == 200)
        try await waitUntil(timeout: 300, "v2 errors to be counted") {
            let text = try sim.metricsRequest("GET", "/metrics")
            return text.split(separator: "\n").contains {
                $0.hasPrefix("istio_requests_total{") && $0.contains(#"destination_version="v2""#)
                    && $0.contains(#"response_code="500""#) && !$0.hasSuffix(" 0")
            }
        }
    }
}
