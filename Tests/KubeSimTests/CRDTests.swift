import Foundation
import SyncCore
import Testing
import TestSupport

/// CustomResourceDefinitions as a real server serves them: OpenAPI v3 value validation with the real messages,
/// structural defaults, the establishing delay, and deletion that cleans up the custom resources first.
@Suite struct CRDTests {
    static let crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    static let widgets = "/apis/example.com/v1/namespaces/default/widgets"

    /// A CRD whose schema uses every value constraint and default kubesim evaluates.
    static let widgetCRD = #"""
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"widgets.example.com"},
         "spec":{"group":"example.com","scope":"Namespaced",
          "names":{"kind":"Widget","plural":"widgets","singular":"widget","listKind":"WidgetList"},
          "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
           "schema":{"openAPIV3Schema":{"type":"object","properties":{
            "spec":{"type":"object","required":["host"],"properties":{
             "host":{"type":"string","minLength":1,"maxLength":20,"pattern":"^[a-z.]+$"},
             "replicas":{"type":"integer","minimum":1,"maximum":10,"default":1},
             "ratio":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1,"exclusiveMaximum":true},
             "limit":{"type":"integer","maximum":4294967295},
             "mode":{"type":"string","enum":["fast","slow"],"default":"fast"},
             "port":{"x-kubernetes-int-or-string":true,"default":80},
             "tags":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string"}},
             "labels":{"type":"object","minProperties":1,"maxProperties":2,"additionalProperties":{"type":"string"}},
             "note":{"type":"string","nullable":true},
             "comment":{"type":"string"},
             "policy":{"type":"object","properties":{
              "timeout":{"type":"string","default":"30s"},"retries":{"type":"integer","default":3}}},
             "backends":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
              "items":{"type":"object","required":["name"],"properties":{
               "name":{"type":"string"},"weight":{"type":"integer","default":1}}}}}},
            "status":{"type":"object","properties":{"ready":{"type":"boolean"}}}}}}}]}}
        """#

    static func widget(_ name: String, spec: String) -> String {
        #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"\#(name)"},"spec":\#(spec)}"#
    }

    /// A cluster with the Widget CRD created and established.
    static func clusterWithWidgets(_ arguments: [String] = []) async throws -> KubeSimCluster {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"], extraArguments: arguments)
        let created = try await sim.request("POST", crdPath, body: widgetCRD)
        #expect(created.status == 201, "\(created.body)")
        try await sim.kubectlChecked([
            "wait", "--for", "condition=established", "crd/widgets.example.com", "--timeout=30s",
        ])
        return sim
    }

    // MARK: Validation

    @Test func valueConstraintsAnswer422InTheRealServersWords() async throws {
        let sim = try await Self.clusterWithWidgets()
        let cases: [(spec: String, field: String, reason: String, message: String)] = [
            (
                #"{"host":"a","replicas":0}"#, "spec.replicas", "FieldValueInvalid",
                "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"
            ),
            (
                #"{"host":"a","replicas":11}"#, "spec.replicas", "FieldValueInvalid",
                "Invalid value: 11: spec.replicas in body should be less than or equal to 10"
            ),
            (
                #"{"host":"a","ratio":1}"#, "spec.ratio", "FieldValueInvalid",
                "Invalid value: 1: spec.ratio in body should be less than 1"
            ),
            (
                #"{"host":"a","ratio":0}"#, "spec.ratio", "FieldValueInvalid",
                "Invalid value: 0: spec.ratio in body should be greater than 0"
            ),
            (
                #"{"host":"a","limit":4294967296}"#, "spec.limit", "FieldValueInvalid",
                "Invalid value: 4294967296: spec.limit in body should be less than or equal to 4.294967295e+09"
            ),
            (#"{"replicas":2}"#, "spec.host", "FieldValueRequired", "Required value"),
            (
                #"{"host":"ABC"}"#, "spec.host", "FieldValueInvalid",
                #"Invalid value: "ABC": spec.host in body should match '^[a-z.]+$'"#
            ),
            (
                #"{"host":"abcdefghijklmnopqrstuvwxyz"}"#, "spec.host", "FieldValueTooLong",
                "Too long: may not be more than 20 bytes"
            ),
            (
                #"{"host":"a","tags":["x","y","z"]}"#, "spec.tags", "FieldValueTooMany",
                "Too many: 3: must have at most 2 items"
            ),
            (
                #"{"host":"a","tags":[]}"#, "spec.tags", "FieldValueInvalid",
                "Invalid value: 0: spec.tags in body should have at least 1 items"
            ),
            (
                #"{"host":"a","labels":{"a":"1","b":"2","c":"3"}}"#, "spec.labels", "FieldValueTooMany",
                "Too many: 3: must have at most 2 items"
            ),
            (
                #"{"host":"a","labels":{}}"#, "spec.labels", "FieldValueInvalid",
                "Invalid value: 0: spec.labels in body should have at least 1 properties"
            ),
            (
                #"{"host":"a","mode":"medium"}"#, "spec.mode", "FieldValueNotSupported",
                #"Unsupported value: "medium": supported values: "fast", "slow""#
            ),
            (
                #"{"host":"a","backends":[{"weight":2}]}"#, "spec.backends[0].name", "FieldValueRequired",
                "Required value"
            ),
        ]
        for (index, item) in cases.enumerated() {
            let response = try await sim.request("POST", Self.widgets, body: Self.widget("w\(index)", spec: item.spec))
            #expect(response.status == 422, "\(item.spec): \(response.body)")
            let status = try Value(json: response.body)
            #expect(status["reason"] == "Invalid")
            let causes = status[path: ["details", "causes"]]?.arrayValue ?? []
            let cause = causes.first { $0["field"]?.stringValue == item.field }
            #expect(cause?["reason"]?.stringValue == item.reason, "\(item.spec): \(response.body)")
            #expect(cause?["message"]?.stringValue == item.message, "\(item.spec): \(response.body)")
            #expect(
                status["message"]?.stringValue?.hasPrefix(#"Widget.example.com "w\#(index)" is invalid: "#) == true)
        }
        // The whole message, as kubectl prints it.
        let one = try await sim.request(
            "POST", Self.widgets, body: Self.widget("one", spec: #"{"host":"a","replicas":0}"#))
        #expect(
            try Value(json: one.body)["message"]
                == #"Widget.example.com "one" is invalid: spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"#
        )
        // Nothing invalid was stored.
        let list = try Value(json: try await sim.request("GET", Self.widgets).body)
        #expect(list["items"]?.arrayValue?.isEmpty == true)
    }

    @Test func everyWriteIsValidatedIncludingApplyPatchAndDryRun() async throws {
        let sim = try await Self.clusterWithWidgets()
        let good = Self.widget("w", spec: #"{"host":"a"}"#)
        #expect(try await sim.request("POST", Self.widgets, body: good).status == 201)
        let bad = Self.widget("w", spec: #"{"host":"a","replicas":0}"#)
        let dryRun = try await sim.request(
            "POST", Self.widgets + "?dryRun=All", body: Self.widget("x", spec: #"{"host":"a","replicas":0}"#))
        #expect(dryRun.status == 422)
        var current = try Value(json: try await sim.request("GET", Self.widgets + "/w").body)
        current["spec"]?["replicas"] = 0
        let put = try await sim.request("PUT", Self.widgets + "/w", body: current.jsonString)
        #expect(put.status == 422 && put.body.contains("spec.replicas in body should be greater than or equal to 1"))
        let merge = try await sim.request(
            "PATCH", Self.widgets + "/w", body: #"{"spec":{"replicas":0}}"#,
            contentType: "application/merge-patch+json")
        #expect(merge.status == 422)
        // (Forced: the creator owns the defaulted replicas, and a conflict is answered before validation.)
        let apply = try await sim.request(
            "PATCH", Self.widgets + "/w?fieldManager=tester&force=true", body: bad,
            contentType: "application/apply-patch+yaml")
        #expect(apply.status == 422 && apply.body.contains("spec.replicas"))
        let applyDryRun = try await sim.request(
            "PATCH", Self.widgets + "/w?fieldManager=tester&force=true&dryRun=All", body: bad,
            contentType: "application/apply-patch+yaml")
        #expect(applyDryRun.status == 422)
        let stored = try Value(json: try await sim.request("GET", Self.widgets + "/w").body)
        #expect(stored[path: ["spec", "replicas"]] == 1)
    }

    // MARK: Defaults

    @Test func defaultsAreAppliedOnWriteAndOnRead() async throws {
        let sim = try await Self.clusterWithWidgets()
        let created = try await sim.request(
            "POST", Self.widgets,
            body: Self.widget(
                "w", spec: #"{"host":"a","note":null,"comment":null,"backends":[{"name":"x"},{"name":"y","weight":5}]}"#
            ))
        #expect(created.status == 201, "\(created.body)")
        let spec = try Value(json: created.body)["spec"] ?? .null
        #expect(spec["replicas"] == 1)
        #expect(spec["mode"] == "fast")
        #expect(spec["port"] == 80)
        #expect(spec["note"] == .null)  // nullable: kept
        #expect(spec["comment"] == nil)  // not nullable, no default: pruned
        #expect(spec["policy"] == nil)  // defaults inside an object only when the object exists
        #expect(spec["backends"] == [["name": "x", "weight": 1], ["name": "y", "weight": 5]])
        // A present parent object gets its members' defaults; a null with a default gets the default.
        let patched = try await sim.request(
            "PATCH", Self.widgets + "/w", body: #"{"spec":{"policy":{},"replicas":null}}"#,
            contentType: "application/merge-patch+json")
        #expect(patched.status == 200, "\(patched.body)")
        let patchedSpec = try Value(json: patched.body)["spec"]
        #expect(patchedSpec?["policy"] == ["retries": 3, "timeout": "30s"])
        #expect(patchedSpec?["replicas"] == 1)

        // Server-side apply: defaults are filled in but owned by nobody.
        let applied = try await sim.request(
            "PATCH", Self.widgets + "/a?fieldManager=tester",
            body: #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a"},"spec":{"host":"b"}}"#,
            contentType: "application/apply-patch+yaml")
        #expect(applied.status == 201, "\(applied.body)")
        let appliedValue = try Value(json: applied.body)
        #expect(appliedValue[path: ["spec", "replicas"]] == 1)
        let fields =
            appliedValue[path: ["metadata", "managedFields"]]?.arrayValue?.first?["fieldsV1"]?.jsonString ?? ""
        #expect(fields.contains("f:host") && !fields.contains("f:replicas"))

        // A default added to the CRD later shows on stored objects when read, without a write.
        let before = try Value(json: try await sim.request("GET", Self.widgets + "/a").body)
        let crdPatch =
            #"[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/tier","value":{"type":"string","default":"gold"}}]"#
        let crdPatched = try await sim.request(
            "PATCH", Self.crdPath + "/widgets.example.com", body: crdPatch, contentType: "application/json-patch+json")
        #expect(crdPatched.status == 200, "\(crdPatched.body)")
        let after = try Value(json: try await sim.request("GET", Self.widgets + "/a").body)
        #expect(after[path: ["spec", "tier"]] == "gold")
        #expect(after[path: ["metadata", "resourceVersion"]] == before[path: ["metadata", "resourceVersion"]])
        let listed = try Value(json: try await sim.request("GET", Self.widgets).body)
        #expect(listed["items"]?.arrayValue?.allSatisfy { $0[path: ["spec", "tier"]] == "gold" } == true)
    }

    @Test func listTypeMapFromTheSchemaGivesSharedOwnershipOfItems() async throws {
        let sim = try await Self.clusterWithWidgets()
        func apply(_ manager: String, _ backends: String) async throws -> (status: Int, body: String) {
            try await sim.request(
                "PATCH", Self.widgets + "/w?fieldManager=\(manager)",
                body:
                    #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"host":"a","backends":\#(backends)}}"#,
                contentType: "application/apply-patch+yaml")
        }
        #expect(try await apply("one", #"[{"name":"x","weight":2}]"#).status == 201)
        // Another manager adds its own item: keyed by name, so no conflict and both stay.
        let second = try await apply("two", #"[{"name":"y","weight":3}]"#)
        #expect(second.status == 200, "\(second.body)")
        let backends = try Value(json: second.body)[path: ["spec", "backends"]]?.arrayValue ?? []
        #expect(Set(backends.compactMap { $0["name"]?.stringValue }) == ["x", "y"])
    }

    // MARK: Establishing

    @Test func aCRDIsEstablishedAfterTheDelayAndItsKindIsServedOnlyThen() async throws {
        // Before: a delay no loaded machine can outrun, so "not served yet" is certain, not a race.
        let slow = try await KubeSimCluster(
            regions: ["us-sanjose-1"], extraArguments: ["--crd-establish-seconds", "3600"])
        let pending = try await slow.request("POST", Self.crdPath, body: Self.widgetCRD)
        #expect(pending.status == 201)
        let pendingConditions = try Value(json: pending.body)[path: ["status", "conditions"]]?.arrayValue ?? []
        #expect(pendingConditions.contains { $0["type"] == "NamesAccepted" && $0["status"] == "True" })
        #expect(pendingConditions.contains { $0["type"] == "Established" && $0["status"] == "False" })
        let notYet = try await slow.request("POST", Self.widgets, body: Self.widget("w", spec: #"{"host":"a"}"#))
        #expect(notYet.status == 404, "\(notYet.body)")
        #expect(try await slow.request("GET", "/apis/example.com/v1").status == 404)
        #expect(!(try await slow.request("GET", "/apis").body.contains("example.com")))

        // After: with the default delay, served once Established.
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let created = try await sim.request("POST", Self.crdPath, body: Self.widgetCRD)
        #expect(created.status == 201)

        try await sim.kubectlChecked([
            "wait", "--for", "condition=established", "crd/widgets.example.com", "--timeout=30s",
        ])
        let crd = try Value(json: try await sim.request("GET", Self.crdPath + "/widgets.example.com").body)
        let established = crd[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Established" }
        #expect(established?["status"] == "True" && established?["reason"] == "InitialNamesAccepted")
        #expect(try await sim.request("GET", "/apis/example.com/v1").body.contains(#""name":"widgets""#))
        let late = try await sim.request("POST", Self.widgets, body: Self.widget("w", spec: #"{"host":"a"}"#))
        #expect(late.status == 201, "\(late.body)")
    }

    // MARK: Status

    @Test func aStatusApplyMergesItsConditionsWithTheServersOwnByType() async throws {
        // Established at once: the server's own status write (manager kube-apiserver) comes before the apply, as it
        // does on a loaded machine with the default delay.
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"], extraArguments: ["--crd-establish-seconds", "0"])
        #expect(try await sim.request("POST", Self.crdPath, body: Self.widgetCRD).status == 201)
        let status = Self.crdPath + "/widgets.example.com/status?fieldManager=operator&force=false"
        func apply(_ condition: String) async throws -> (status: Int, body: String) {
            let body = """
                {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
                 "metadata":{"name":"widgets.example.com"},"status":{"conditions":[\(condition)]}}
                """
            return try await sim.request("PATCH", status, body: body, contentType: "application/apply-patch+yaml")
        }

        // A condition of another type is the applier's item of the list (listType=map, key type): no conflict.
        let mine = try await apply(
            #"{"type":"MyStatus","status":"True","lastTransitionTime":"2020-01-01T00:00:00Z","reason":"R","message":"m"}"#
        )
        #expect(mine.status == 200, "\(mine.body)")
        let crd = try Value(json: mine.body)
        let conditions = crd[path: ["status", "conditions"]]?.arrayValue ?? []
        #expect(conditions.compactMap { $0["type"]?.stringValue } == ["NamesAccepted", "Established", "MyStatus"])
        #expect(conditions.first { $0["type"] == "Established" }?["status"] == "True")
        let entries = crd[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        func fields(_ manager: String) -> Value? {
            entries.first { $0["manager"]?.stringValue == manager }?[path: ["fieldsV1", "f:status", "f:conditions"]]
        }
        #expect(fields("operator")?.objectValue.map { Array($0.keys) } == [#"k:{"type":"MyStatus"}"#])
        #expect(fields("kube-apiserver")?[#"k:{"type":"Established"}"#] != nil)

        // The server's own condition stays the server's: changing it without force conflicts with kube-apiserver.
        let theirs = try await apply(
            #"{"type":"Established","status":"False","lastTransitionTime":"2020-01-01T00:00:00Z","reason":"R","message":"m"}"#
        )
        #expect(theirs.status == 409, "\(theirs.body)")
        #expect(theirs.body.contains(#"conflict with \"kube-apiserver\""#), "\(theirs.body)")
        #expect(theirs.body.contains(#".status.conditions[type=\"Established\"].status"#), "\(theirs.body)")
    }

    // MARK: Deletion

    @Test func deletingACRDDeletesItsCustomResourcesFirst() async throws {
        let sim = try await Self.clusterWithWidgets()
        for name in ["one", "two"] {
            #expect(
                try await sim.request("POST", Self.widgets, body: Self.widget(name, spec: #"{"host":"a"}"#)).status
                    == 201)
        }
        // Watch the custom resources and the CRD while the CRD is deleted.
        guard let port = sim.apiPorts["us-sanjose-1"] else { throw TestSupportError("no region") }
        func watch(_ path: String) throws -> ChildProcess {
            try ChildProcess([
                "curl", "-sSN", "--cacert", sim.caPath, "-H", "Authorization: Bearer \(try sim.token())",
                "https://127.0.0.1:\(port)\(path)?watch=true&timeoutSeconds=30",
            ])
        }
        let widgetWatch = try watch(Self.widgets)
        let crdWatch = try watch(Self.crdPath)
        defer {
            widgetWatch.stop()
            crdWatch.stop()
        }
        try await widgetWatch.waitForLog(#""name":"two""#, timeout: 30)
        try await crdWatch.waitForLog(#""ADDED""#, timeout: 30)

        let deleted = try await sim.request("DELETE", Self.crdPath + "/widgets.example.com")
        #expect(deleted.status == 200, "\(deleted.body)")
        let terminating = try Value(json: deleted.body)
        #expect(terminating[path: ["metadata", "deletionTimestamp"]] != nil)
        #expect(terminating[path: ["metadata", "finalizers"]] == ["customresourcecleanup.apiextensions.k8s.io"])
        let condition = terminating[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Terminating" }
        #expect(condition?["reason"] == "InstanceDeletionInProgress")

        try await waitUntil(timeout: 30, "the CRD to be gone") {
            try await sim.request("GET", Self.crdPath + "/widgets.example.com").status == 404
        }
        try await crdWatch.waitForLog(#""DELETED""#, timeout: 30)
        try await widgetWatch.waitForLog(#""DELETED""#, timeout: 30)
        // The order: the CRD turns Terminating, its custom resources are deleted, then the CRD.
        func events(_ log: String) throws -> [(type: String, name: String, rv: Int)] {
            try log.split(separator: "\n").map { line in
                let event = try Value(json: String(line))
                return (
                    event["type"]?.stringValue ?? "", event[path: ["object", "metadata", "name"]]?.stringValue ?? "",
                    Int(event[path: ["object", "metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0
                )
            }
        }
        let widgetEvents = try events(widgetWatch.log()).filter { $0.type == "DELETED" }
        let crdEvents = try events(crdWatch.log())
        #expect(Set(widgetEvents.map(\.name)) == ["one", "two"])
        let modified = crdEvents.first { $0.type == "MODIFIED" }
        let gone = crdEvents.first { $0.type == "DELETED" }
        #expect(modified != nil && gone != nil)
        if let modified, let gone {
            #expect(widgetEvents.allSatisfy { $0.rv > modified.rv && $0.rv < gone.rv })
        }
        #expect(try await sim.request("GET", Self.widgets).status == 404)
    }

    @Test func creatingACustomResourceWhileItsCRDTerminatesIsRefused() async throws {
        let sim = try await Self.clusterWithWidgets()
        // A second finalizer keeps the CRD Terminating after its instances are cleaned up.
        let held = try await sim.request(
            "PATCH", Self.crdPath + "/widgets.example.com", body: #"{"metadata":{"finalizers":["example.com/hold"]}}"#,
            contentType: "application/merge-patch+json")
        #expect(held.status == 200)
        #expect(try await sim.request("DELETE", Self.crdPath + "/widgets.example.com").status == 200)
        let refused = try await sim.request("POST", Self.widgets, body: Self.widget("w", spec: #"{"host":"a"}"#))
        #expect(refused.status == 405, "\(refused.body)")
        #expect(refused.body.contains("create not allowed while custom resource definition is terminating"))
        try await waitUntil(timeout: 30, "the cleanup to complete") {
            let crd = try Value(json: try await sim.request("GET", Self.crdPath + "/widgets.example.com").body)
            let condition = crd[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Terminating" }
            return condition?["reason"] == "InstanceDeletionCompleted"
        }
        #expect(
            try await sim.request(
                "PATCH", Self.crdPath + "/widgets.example.com", body: #"{"metadata":{"finalizers":null}}"#,
                contentType: "application/merge-patch+json"
            ).status == 200)
    }

    // MARK: kubectl and the real Istio CRDs

    @Test func kubectlServerSideApplyOfBadIstioObjectsGetsTheRealErrors() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        try await sim.kubectlChecked(["apply", "--server-side", "-f", istioCRDs])
        try await sim.kubectlChecked(["wait", "--for", "condition=established", "crd", "--all", "--timeout=60s"])
        let destinationRule = """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: reviews
            spec:
              subsets:
              - name: v1
                labels: {version: v1}
            """
        let rule = try await sim.kubectl(["apply", "--server-side", "-f", "-"], input: destinationRule)
        #expect(rule.status != 0)
        #expect(
            rule.stderr.contains(
                #"The DestinationRule "reviews" is invalid: spec.host: Required value"#), "\(rule.stderr)")
        let virtualService = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {subset: v1}
                directResponse: {status: -1}
            """
        let service = try await sim.kubectl(["apply", "--server-side", "-f", "-"], input: virtualService)
        #expect(service.status != 0)
        #expect(service.stderr.contains("spec.http[0].route[0].destination.host: Required value"), "\(service.stderr)")
        #expect(
            service.stderr.contains(
                "spec.http[0].directResponse.status: Invalid value: -1: spec.http[0].directResponse.status in body "
                    + "should be greater than or equal to 0"), "\(service.stderr)")
        let outlier = """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: ratings
            spec:
              host: ratings
              trafficPolicy:
                outlierDetection: {consecutive5xxErrors: 4294967296}
            """
        let tooMany = try await sim.kubectl(["apply", "--server-side", "--dry-run=server", "-f", "-"], input: outlier)
        #expect(
            tooMany.stderr.contains(
                "Invalid value: 4294967296: spec.trafficPolicy.outlierDetection.consecutive5xxErrors in body should "
                    + "be less than or equal to 4.294967295e+09"), "\(tooMany.stderr)")
    }

    /// The regression oracle: every Istio sample of Bookinfo is accepted by the real Istio CRDs' schemas.
    @Test func everyBookinfoIstioSampleIsAccepted() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        try await sim.kubectlChecked(["apply", "--server-side", "-f", istioCRDs])
        try await sim.kubectlChecked(["wait", "--for", "condition=established", "crd", "--all", "--timeout=60s"])
        try await sim.kubectlChecked(["create", "namespace", "istio-system"])
        let folders = ["networking", "policy"].map { "\(bookinfo)/\($0)" }
        var files: [String] = []
        for folder in folders {
            files += try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
                .sorted().map { "\(folder)/\($0)" }
        }
        #expect(files.count >= 20)
        for file in files {
            let output = try await sim.kubectl(["apply", "--server-side", "-f", file])
            #expect(output.status == 0, "\(file): \(output.stderr)")
        }
    }
}
