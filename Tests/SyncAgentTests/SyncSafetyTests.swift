import Foundation
import SyncCore
import TestSupport
import Testing

/// The rollout never destroys by accident: every spelling of the config folder is the same folder; a revision
/// that renders nothing for a region, or prunes more than `sync.maxPrune`, is refused before any write. The
/// release binary against two kubesim regions; kubesim's audit log is the witness that nothing was written.
@Suite(.serialized)
struct SyncSafetyTests {
    /// Rewrites the test's configuration with `replace` applied.
    static func reconfigure(_ mesh: SyncMesh, _ replace: (String) -> String) throws {
        let text = try String(contentsOfFile: mesh.configPath, encoding: .utf8)
        try replace(text).write(toFile: mesh.configPath, atomically: true, encoding: .utf8)
    }

    /// Stored writes (no dry runs, no reads) after `mark`.
    static func writes(_ mesh: SyncMesh, after mark: Int) throws -> [String] {
        try mesh.audit().dropFirst(mark).filter(\.isStoredWrite).map { "\($0.region) \($0.verb) \($0.uri)" }
    }

    @Test func everySpellingOfTheConfigFolderSyncsTheSameObjectsAndChangesNothingLive() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")

        for spelling in ["./mesh", "/mesh", "mesh/", "mesh//"] {
            try Self.reconfigure(mesh) { $0.replacingOccurrences(of: "path: mesh", with: "path: \"\(spelling)\"") }
            let mark = try mesh.auditMark()
            let again = try await mesh.syncagent(["sync"])
            #expect(again.status == 0, "\(spelling): \(again.stdout)\(again.stderr)")
            #expect(
                again.stdout.contains("us-sanjose-1  unchanged     \(SyncMesh.objectCount) unchanged"),
                "\(spelling): \(again.stdout)")
            #expect(try Self.writes(mesh, after: mark).isEmpty, "\(spelling)")
            try Self.reconfigure(mesh) { $0.replacingOccurrences(of: "path: \"\(spelling)\"", with: "path: mesh") }
        }
        for region in SyncMesh.regionNames {
            #expect(try await mesh.inventory(region: region)?.objects.count == SyncMesh.objectCount)
        }

        // render: --path and --dir spellings give the same bytes.
        let byRepo = try await runChecked([
            mesh.syncagent, "render", "--repo", "file://\(mesh.origin)", "--path", "mesh", "--region", "us-chicago-1",
            "--cache", mesh.cachePath,
        ])
        #expect(byRepo.contains("kind: VirtualService"))
        for spelling in ["./mesh", "/mesh", "mesh/", "mesh//"] {
            let other = try await runChecked([
                mesh.syncagent, "render", "--repo", "file://\(mesh.origin)", "--path", spelling, "--region",
                "us-chicago-1", "--cache", mesh.cachePath,
            ])
            #expect(other == byRepo, "--path \(spelling)")
        }
        let cwd = URL(fileURLWithPath: mesh.clone)
        let byDir = try await runChecked(
            [mesh.syncagent, "render", "--dir", "mesh", "--region", "us-chicago-1"], cwd: cwd)
        for spelling in ["./mesh", "mesh/", "mesh//", mesh.clone + "//mesh/"] {
            let other = try await runChecked(
                [mesh.syncagent, "render", "--dir", spelling, "--region", "us-chicago-1"], cwd: cwd)
            #expect(other == byDir, "--dir \(spelling)")
        }
        let fromInside = try await runChecked(
            [mesh.syncagent, "render", "--dir", "./", "--region", "us-chicago-1"],
            cwd: cwd.appendingPathComponent("mesh"))
        #expect(fromInside == byDir)
    }

    @Test func aRevisionThatRendersNothingIsRefusedAndDeletesNothingUnlessAllowEmpty() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")

        // The folder moved: an error naming it, nothing written.
        let git = ["git", "-C", mesh.clone, "-c", "user.name=Dana", "-c", "user.email=dana@example.invalid"]
        try await runChecked(git + ["mv", "mesh", "moved"])
        try await runChecked(git + ["commit", "-qm", "move the folder"])
        try await runChecked(git + ["push", "-q", "origin", "main"])
        var mark = try mesh.auditMark()
        let moved = try await mesh.syncagent(["sync"])
        #expect(moved.status == 2, "\(moved.stdout)\(moved.stderr)")
        #expect(moved.stderr.contains("mesh"), "\(moved.stderr)")
        #expect(try Self.writes(mesh, after: mark).isEmpty)

        // The folder is there but holds no manifest: refused in every region before any write.
        try await runChecked(git + ["mv", "moved", "mesh"])
        try await runChecked(git + ["rm", "-q", "-r", "-f", "mesh/base", "mesh/regions"])
        try "nothing here\n".write(toFile: mesh.clone + "/mesh/NOTES.md", atomically: true, encoding: .utf8)
        try SyncMesh.commitAll(clone: mesh.clone, message: "a bad merge")
        mark = try mesh.auditMark()
        let empty = try await mesh.syncagent(["sync"])
        #expect(empty.status == 2, "\(empty.stdout)\(empty.stderr)")
        for region in SyncMesh.regionNames {
            #expect(
                empty.stdout.contains("region \(region): the revision renders no objects for this region"),
                "\(empty.stdout)")
        }
        #expect(empty.stdout.contains("sync.allowEmpty: true"))
        #expect(try Self.writes(mesh, after: mark).isEmpty)
        for region in SyncMesh.regionNames {
            #expect(try await mesh.deployment("reviews-v3", region: region) != nil)
            #expect(try await mesh.inventory(region: region)?.objects.count == SyncMesh.objectCount)
        }

        // Said explicitly: the region is emptied, and only of what syncagent created.
        try Self.reconfigure(mesh) { $0 + "sync: {allowEmpty: true}\n" }
        let allowed = try await mesh.syncagent(["sync"])
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        for region in SyncMesh.regionNames {
            #expect(try await mesh.deployment("reviews-v3", region: region) == nil)
            #expect(try await mesh.inventory(region: region)?.objects.isEmpty == true)
        }
    }

    @Test func aMassPruneIsRefusedUntilAllowedOnce() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")

        // Bookinfo's 14 objects leave Git: more than the default limit for 42 objects, max(10, 42 / 4) = 10.
        try mesh.commit("drop bookinfo", file: "base/10-bookinfo.yaml") { _ in "" }
        let mark = try mesh.auditMark()
        let refused = try await mesh.syncagent(["sync"])
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(
            refused.stdout.contains(
                "region us-sanjose-1: the revision would prune 14 of the \(SyncMesh.objectCount) objects syncagent created there"
            ),
            "\(refused.stdout)")
        #expect(refused.stdout.contains("--allow-mass-prune"))
        #expect(try Self.writes(mesh, after: mark).isEmpty)

        let allowed = try await mesh.syncagent(["sync", "--allow-mass-prune"])
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        for region in SyncMesh.regionNames {
            #expect(try await mesh.deployment("reviews-v3", region: region) == nil)
            #expect(try await mesh.inventory(region: region)?.objects.count == SyncMesh.objectCount - 14)
        }
    }

    /// The inventory is never a delete list on its own: entries someone wrote into it (a hand edit, another tool)
    /// for syncagent's own records and for a namespace the policy does not allow are reported and kept.
    @Test func aForgedInventoryEntryIsReportedAndNeverDeleted() async throws {
        let kinds =
            "[Namespace, ServiceAccount, Service, ConfigMap, apps/Deployment, networking.istio.io/*, "
            + "monitoring.coreos.com/*, apiextensions.k8s.io/CustomResourceDefinition]"
        let mesh = try await SyncMesh(extra: "sync: {allowedNamespaces: [bookinfo], allowedKinds: \(kinds)}\n")
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let victim = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: victim, namespace: payments}\ndata: {a: b}\n"
        _ = try await mesh.cluster.kubectlChecked(["create", "namespace", "payments"])
        _ = try await mesh.cluster.kubectlChecked(["apply", "-f", "-"], input: victim)

        // Forge us-sanjose-1's inventory: it now claims the victim and syncagent's own status record.
        let path = "/api/v1/namespaces/syncagent-system/configmaps/syncagent-inventory"
        var inventory = try #require(try await mesh.get(path, region: "us-sanjose-1"))
        var objects = try Value(json: inventory[path: ["data", "objects"]]?.stringValue ?? "[]").arrayValue ?? []
        objects.append(["apiVersion": "v1", "kind": "ConfigMap", "namespace": "payments", "name": "victim"])
        objects.append([
            "apiVersion": "v1", "kind": "ConfigMap", "namespace": "syncagent-system", "name": "syncagent-status",
        ])
        var data = try #require(inventory["data"])
        data["objects"] = .string(Value.array(objects).jsonString)
        inventory["data"] = data
        let cluster = mesh.cluster
        let body = inventory.jsonString
        let (status, answer) = try await blocking { try cluster.request("PUT", path, body: body) }
        try #require(status == 200, "\(answer)")

        let sync = try await mesh.syncagent(["sync", "--force"])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("not pruned"), "\(sync.stdout)")
        #expect(sync.stdout.contains("payments/victim"), "\(sync.stdout)")
        #expect(try await mesh.get("/api/v1/namespaces/payments/configmaps/victim", region: "us-sanjose-1") != nil)
        #expect(
            try await mesh.get(
                "/api/v1/namespaces/syncagent-system/configmaps/syncagent-status", region: "us-sanjose-1")
                != nil)
        let deletes = try mesh.audit().filter { $0.verb == "delete" }
        #expect(deletes.isEmpty, "\(deletes.map(\.uri))")
    }
}
