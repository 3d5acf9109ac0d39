import Applier
import Foundation
import RolloutEngine
import SyncCore
import TestSupport
import Testing

/// `syncagent diff` and `syncagent drift` end to end: the built binary against two kubesim regions holding the
/// example mesh (README, "Drift detection").
@Suite
struct DiffCommandTests {
    @Test func aSyncedMeshHasNoDifferencesAndDefaultsNeverShow() async throws {
        let mesh = try await DiffMesh()
        let text = try await mesh.syncagent(["diff", "--dir", mesh.meshPath])
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(!text.stdout.contains("# "), "\(text.stdout)")
        #expect(text.stdout.contains("REGION"))
        let json = try await mesh.syncagent(["diff", "-o", "json"])  // from Git, the tracked branch head
        #expect(json.status == 0, "\(json.stderr)")
        let report = try Value(json: json.stdout)
        #expect(report["hasDifferences"] == false)
        for region in DiffMesh.regionNames {
            #expect(report.summary(region: region)?["in-sync"] == 26)
            #expect(report.summary(region: region)?["modified"] == 0)
        }
        // --read-only (client-side) agrees.
        let readOnly = try await mesh.syncagent(["diff", "--dir", mesh.meshPath, "--read-only"])
        #expect(readOnly.status == 0, "\(readOnly.stdout)\(readOnly.stderr)")
    }

    @Test func handEditsInOneRegionAreReportedByClassWithManagerAndPaths() async throws {
        let mesh = try await DiffMesh()
        let region = "us-sanjose-1"
        // A second manager moves reviews traffic 50/30/20 → 50/60/20 (what `kubectl edit` leaves).
        var reviews = try Value(
            json: try await mesh.kubectl(["get", "virtualservice", "reviews", "-n", "bookinfo", "-o", "json"]))
        reviews["metadata"] = ["name": "reviews", "namespace": "bookinfo"]
        reviews["status"] = nil
        var http = reviews[path: ["spec", "http"]]?.arrayValue ?? []
        var routes = http[0]["route"]?.arrayValue ?? []
        routes[1]["weight"] = 60
        http[0]["route"] = .array(routes)
        reviews["spec"]?["http"] = .array(http)
        try await mesh.kubectl(
            ["apply", "--server-side", "--field-manager", "kubectl-edit", "--force-conflicts", "-f", "-"],
            input: reviews.jsonString)
        // (`kubectl scale` needs the scale subresource, which kubesim does not serve: a patch of spec.replicas.)
        try await mesh.kubectl([
            "patch", "deployment", "reviews-v1", "-n", "bookinfo", "--type", "merge", "-p", #"{"spec":{"replicas":3}}"#,
        ])
        try await mesh.kubectl(["delete", "service", "details", "-n", "bookinfo"])
        try await mesh.kubectl(["label", "deployment", "ratings-v1", "-n", "bookinfo", "version=v9", "--overwrite"])
        // A label only live has, added by hand, is not drift: a sync would not remove it.
        try await mesh.kubectl(["label", "deployment", "ratings-v1", "-n", "bookinfo", "oncall=alice"])

        let text = try await mesh.syncagent(["diff", "--dir", mesh.meshPath])
        #expect(text.status == 1, "\(text.stderr)")
        let out = text.stdout
        #expect(out.contains("# \(region): modified networking.istio.io/v1/VirtualService bookinfo/reviews"), "\(out)")
        #expect(out.contains(".spec.http[0].route[1].weight: 60 → 30 (live set by kubectl-edit"), "\(out)")
        #expect(out.contains("-      weight: 60") && out.contains("+      weight: 30"), "\(out)")
        #expect(out.contains("# \(region): modified apps/v1/Deployment bookinfo/reviews-v1"), "\(out)")
        #expect(out.contains(".spec.replicas: 3 → 1"), "\(out)")
        #expect(out.contains("# \(region): missing-live v1/Service bookinfo/details"), "\(out)")
        #expect(out.contains(#".metadata.labels.version: "v9" → "v1" (live set by kubectl-label"#), "\(out)")
        #expect(!out.contains(".metadata.labels.oncall"), "\(out)")
        #expect(!out.contains("# us-chicago-1:"), "\(out)")

        let json = try await mesh.syncagent(["diff", "--dir", mesh.meshPath, "-o", "json"])
        #expect(json.status == 1)
        let report = try Value(json: json.stdout)
        #expect(report["hasDifferences"] == true)
        let vs = try #require(report.resource(region: region, kind: "VirtualService", name: "reviews"))
        #expect(
            vs["class"] == "modified" && vs["mode"] == "server-side" && vs["apiVersion"] == "networking.istio.io/v1")
        #expect(vs["namespace"] == "bookinfo")
        let change = try #require(vs["changes"]?.arrayValue?.first)
        #expect(change["path"] == ".spec.http[0].route[1].weight")
        #expect(change["live"] == 60 && change["desired"] == 30 && change["manager"] == "kubectl-edit")
        #expect(change["time"]?.stringValue?.isEmpty == false)
        let scaled = try #require(report.resource(region: region, kind: "Deployment", name: "reviews-v1"))
        #expect(scaled["changes"]?.arrayValue?.map { $0["path"] } == [".spec.replicas"])
        #expect(scaled["changes"]?.arrayValue?.first?["manager"] == "kubectl-patch")
        #expect(report.resource(region: region, kind: "Service", name: "details")?["class"] == "missing-live")
        let labelled = try #require(report.resource(region: region, kind: "Deployment", name: "ratings-v1"))
        #expect(labelled["changes"]?.arrayValue?.map { $0["path"] } == [#".metadata.labels.version"#])
        #expect(labelled["changes"]?.arrayValue?.first?["manager"] == "kubectl-label")
        #expect(report.summary(region: region)?["modified"] == 3)
        #expect(report.summary(region: region)?["missing-live"] == 1)
        let other = (report["regions"]?.arrayValue ?? []).first { $0["region"] == "us-chicago-1" }
        #expect(other?["hasDifferences"] == false)
        #expect(other?[path: ["summary", "in-sync"]] == 26)

        // drift: the inventory's revision against live, each change attributed.
        let drift = try await mesh.syncagent(["drift"])
        #expect(drift.status == 1, "\(drift.stderr)\(drift.stdout)")
        #expect(drift.stdout.contains("region \(region) at \(mesh.revision)"), "\(drift.stdout)")
        #expect(
            drift.stdout.contains("kubectl-edit changed .spec.http[0].route[1].weight 30 → 60 at "), "\(drift.stdout)")
        #expect(
            drift.stdout.contains(#"kubectl-label changed .metadata.labels.version "v1" → "v9""#), "\(drift.stdout)")
        #expect(drift.stdout.contains("missing-live v1/Service bookinfo/details"), "\(drift.stdout)")
        let driftJSON = try Value(json: try await mesh.syncagent(["drift", "-o", "json"]).stdout)
        #expect(
            (driftJSON["regions"]?.arrayValue ?? []).first { $0["region"] == .string(region) }?["revision"]
                == .string(mesh.revision))
        #expect(
            driftJSON.resource(region: region, kind: "VirtualService", name: "reviews")?["changes"]?.arrayValue?.first?[
                "manager"] == "kubectl-edit")
    }

    /// A diff on the machine that synced takes the sync's settled proofs (`SettledLedger`): an object nobody wrote
    /// since a sync found this very manifest in sync with it is in sync without being read in full. A hand edit (a
    /// new resourceVersion) or another manifest (another digest) is compared in full as ever, and `--full` takes no
    /// proof at all. The proof is trusted as far as its uid, resourceVersion and digest go: a forged one shows it.
    @Test func aDiffTakesTheSyncsSettledProofsButNeverOverAWriteOrAnotherManifest() async throws {
        let cache = try TemporaryDirectory(prefix: "diff-ledger")
        let mesh = try await DiffMesh(configExtra: "agent: {cache: \(cache.path)}\n")
        let sync = try await mesh.syncagent(["sync", "--dir", mesh.meshPath])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        let folder = cache.path + "/settled"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
        let sanJose = try #require(files.first { $0.hasPrefix("us-sanjose-1-") }.map { folder + "/" + $0 })
        let proofs = try Value(json: try #require(FileManager.default.contents(atPath: sanJose)))["proofs"]
        #expect((proofs?.arrayValue?.count ?? 0) >= 20, "\(files)")
        let clean = try await mesh.syncagent(["diff", "--dir", mesh.meshPath])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")

        // Another manifest: its digest is not the proof's.
        let copy = try mesh.meshCopy()
        let gateway = copy + "/base/40-gateway.yaml"
        let text = try String(contentsOfFile: gateway, encoding: .utf8)
        try text.replacingOccurrences(of: "number: 80\n", with: "number: 8080\n")
            .write(toFile: gateway, atomically: true, encoding: .utf8)
        let changed = try await mesh.syncagent(["diff", "--dir", copy, "-o", "json"])
        #expect(changed.status == 1, "\(changed.stderr)")
        for region in DiffMesh.regionNames {
            #expect(
                try Value(json: changed.stdout).resource(region: region, kind: "Gateway", name: "bookinfo-gateway")?[
                    "class"] == "modified", "\(changed.stdout)")
        }

        // A hand edit: a new resourceVersion, so the proof no longer stands.
        try await mesh.kubectl([
            "patch", "deployment", "reviews-v1", "-n", "bookinfo", "--type", "merge", "-p", #"{"spec":{"replicas":3}}"#,
        ])
        let edited = try await mesh.syncagent(["diff", "--dir", mesh.meshPath])
        #expect(edited.status == 1, "\(edited.stderr)")
        #expect(edited.stdout.contains("# us-sanjose-1: modified apps/v1/Deployment bookinfo/reviews-v1"))
        #expect(edited.stdout.contains(".spec.replicas: 3 → 1"), "\(edited.stdout)")

        // A proof forged for the changed Gateway at its live uid and resourceVersion is taken (nobody wrote the
        // object since, so the proof's word stands); `--full` reads it and finds the change.
        let rendered = try Value(
            json: try await runChecked([
                mesh.syncagent, "render", "--dir", copy, "--region", "us-sanjose-1", "-o", "json",
            ]))
        let items = rendered["items"]?.arrayValue ?? []
        let desired = try Resource(
            body: try #require(
                items.first { $0["kind"] == "Gateway" && $0[path: ["metadata", "name"]] == "bookinfo-gateway" }))
        let live = try Value(
            json: try await mesh.kubectl(["get", "gateway", "bookinfo-gateway", "-n", "bookinfo", "-o", "json"]))
        let ledger = SettledLedger(file: sanJose, checker: RegionConnections.settleChecker)
        ledger.prove(
            desired.key, version: try #require(LiveVersion(of: live)),
            digest: try #require(SettledLedger.digest(desired)))
        #expect(ledger.save() == nil)
        let trusted = try await mesh.syncagent(["diff", "--dir", copy, "--region", "us-sanjose-1", "-o", "json"])
        #expect(
            try Value(json: trusted.stdout).resource(
                region: "us-sanjose-1", kind: "Gateway", name: "bookinfo-gateway")?[
                    "class"] == "in-sync", "\(trusted.stdout)\(trusted.stderr)")
        let full = try await mesh.syncagent(["diff", "--dir", copy, "--region", "us-sanjose-1", "--full", "-o", "json"])
        #expect(full.status == 1, "\(full.stderr)")
        #expect(
            try Value(json: full.stdout).resource(region: "us-sanjose-1", kind: "Gateway", name: "bookinfo-gateway")?[
                "class"] == "modified", "\(full.stdout)")
    }

    @Test func extraAndUnmanagedConflictNeedTheInventory() async throws {
        let mesh = try await DiffMesh()
        let copy = try mesh.meshCopy()
        // The Gateway leaves Git (it is in the inventory: extra); a ConfigMap another tool created joins Git.
        try FileManager.default.removeItem(atPath: copy + "/base/40-gateway.yaml")
        let handMade =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hand-made, namespace: bookinfo}\ndata: {a: \"1\"}\n"
        for region in DiffMesh.regionNames {
            try await mesh.kubectl(["create", "-f", "-"], region: region, input: handMade)
        }
        try Data(handMade.utf8).write(to: URL(fileURLWithPath: copy + "/base/60-hand-made.yaml"))
        let json = try await mesh.syncagent(["diff", "--dir", copy, "-o", "json"])
        #expect(json.status == 1, "\(json.stderr)")
        let report = try Value(json: json.stdout)
        for region in DiffMesh.regionNames {
            #expect(report.resource(region: region, kind: "Gateway", name: "bookinfo-gateway")?["class"] == "extra")
            #expect(
                report.resource(region: region, kind: "ConfigMap", name: "hand-made")?["class"] == "unmanaged-conflict")
            // 40-gateway.yaml also holds the `bookinfo` VirtualService.
            #expect(report.resource(region: region, kind: "VirtualService", name: "bookinfo")?["class"] == "extra")
            #expect(report.summary(region: region)?["extra"] == 2)
            #expect(report.summary(region: region)?["in-sync"] == 24, "\(json.stdout)")
        }
        let text = try await mesh.syncagent(["diff", "--dir", copy])
        #expect(
            text.stdout.contains("# us-chicago-1: extra networking.istio.io/v1/Gateway bookinfo/bookinfo-gateway"),
            "\(text.stdout)")
        #expect(
            text.stdout.contains("# us-sanjose-1: unmanaged-conflict v1/ConfigMap bookinfo/hand-made"), "\(text.stdout)"
        )
    }

    @Test func aRegionThatIsDownExitsTwoNamingIt() async throws {
        let mesh = try await DiffMesh()
        let cluster = mesh.cluster
        try await blocking { try cluster.metricsRequest("POST", "/faults/down", region: "us-chicago-1") }
        let output = try await mesh.syncagent(["diff", "--dir", mesh.meshPath])
        #expect(output.status == 2)
        #expect(output.stderr.contains("us-chicago-1"), "\(output.stderr)")
        #expect(!output.stderr.contains("us-sanjose-1"), "\(output.stderr)")
        // The region that is up alone: exit 0.
        let up = try await mesh.syncagent(["diff", "--dir", mesh.meshPath, "--region", "us-sanjose-1"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let unknown = try await mesh.syncagent(["diff", "--dir", mesh.meshPath, "--region", "eu-frankfurt-1"])
        #expect(unknown.status == 2 && unknown.stderr.contains("eu-frankfurt-1"))
    }

    @Test func regionsAreQueriedConcurrently() async throws {
        let mesh = try await DiffMesh()
        let cluster = mesh.cluster
        for region in DiffMesh.regionNames {
            try await blocking { try cluster.metricsRequest("POST", "/faults/latency?ms=600", region: region) }
        }
        var started = Date()
        let one = try await mesh.syncagent(["diff", "--dir", mesh.meshPath, "--region", "us-sanjose-1"])
        let alone = Date().timeIntervalSince(started)
        started = Date()
        let both = try await mesh.syncagent(["diff", "--dir", mesh.meshPath])
        let together = Date().timeIntervalSince(started)
        #expect(one.status == 0 && both.status == 0, "\(one.stderr)\(both.stderr)")
        // Each region makes a few rounds of requests, each round 600 ms late: one after the other would take
        // twice as long as one region; concurrently about as long.
        #expect(alone > 1.2, "the latency fault did not apply")
        #expect(together < alone * 1.6, "one region \(alone) s, both \(together) s")
    }

    @Test func secretValuesNeverLeaveTheCLIAndChangedKeysAreNamed() async throws {
        let mesh = try await DiffMesh()
        let copy = try mesh.meshCopy()
        let secret = """
            apiVersion: v1
            kind: Secret
            metadata: {name: db, namespace: bookinfo}
            stringData: {password: hunter2-desired, user: admin-user-value}
            """
        try Data(secret.utf8).write(to: URL(fileURLWithPath: copy + "/base/70-secret.yaml"))
        try await mesh.kubectl(
            ["apply", "--server-side", "--field-manager", "syncagent", "-f", "-"], input: secret)
        try await mesh.addToInventory(
            ObjectRef(apiVersion: "v1", kind: "Secret", namespace: "bookinfo", name: "db"), region: "us-sanjose-1")
        let edited = try await mesh.kubectl(
            [
                "create", "secret", "generic", "db", "-n", "bookinfo", "--from-literal=password=hunter2-live",
                "--from-literal=user=admin-user-value", "--dry-run=client", "-o", "json",
            ])
        try await mesh.kubectl(
            ["apply", "--server-side", "--field-manager", "kubectl-edit", "--force-conflicts", "-f", "-"], input: edited
        )
        let values = ["hunter2", "aHVudGVy", "admin-user-value", "YWRtaW4tdXNlci12YWx1ZQ"]
        for arguments in [
            ["diff", "--dir", copy], ["diff", "--dir", copy, "-o", "json"], ["diff", "--dir", copy, "--read-only"],
        ] {
            let output = try await mesh.syncagent(arguments)
            #expect(output.status == 1, "\(output.stderr)")
            for value in values {
                #expect(
                    !output.stdout.contains(value) && !output.stderr.contains(value), "\(arguments): \(output.stdout)")
            }
            if arguments.last == "json" {
                let resource = try Value(json: output.stdout).resource(
                    region: "us-sanjose-1", kind: "Secret", name: "db")
                #expect(resource?["changes"]?.arrayValue?.map { $0["path"] } == [".data.password"])
                #expect(resource?["changes"]?.arrayValue?.first?["live"] == "<masked>")
            } else {
                #expect(output.stdout.contains(".data.password: <changed, value hidden>"), "\(output.stdout)")
                #expect(output.stdout.contains("-  password: <masked>"), "\(output.stdout)")
                #expect(output.stdout.contains("+  password: <changed, value hidden>"), "\(output.stdout)")
                #expect(!output.stdout.contains(".data.user"), "\(output.stdout)")
            }
        }
    }
}
