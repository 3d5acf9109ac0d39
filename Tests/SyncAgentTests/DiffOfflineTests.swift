import Foundation
import SyncCore
import TestSupport
import Testing

/// `syncagent diff` without a cluster: `--live` files (and `--inventory`), exit codes, the JSON schema of
/// the README's JSON schema, configuration errors and Secret masking.
@Suite struct DiffOfflineTests {
    let syncagent = productPath("syncagent")

    /// A managedFields entry of `syncagent` owning `data.key`, so the object counts as syncagent's without an
    /// inventory.
    static func configMap(_ name: String, value: String, managedBy manager: String? = "syncagent") -> String {
        var text = """
            - apiVersion: v1
              kind: ConfigMap
              metadata:
                name: \(name)
                namespace: default
                resourceVersion: "12"
                uid: 0b5c3f7e-\(name)
            """
        if let manager {
            text += """

                    managedFields:
                    - manager: \(manager)
                      operation: Apply
                      apiVersion: v1
                      time: "2025-01-01T10:00:00Z"
                      fieldsType: FieldsV1
                      fieldsV1: {"f:data": {"f:key": {}}}
                """
        }
        return text + "\n  data: {key: \(value)}\n"
    }

    func folder(desired: [String: String], live: String) throws -> TemporaryDirectory {
        let work = try TemporaryDirectory(prefix: "diff-offline")
        for (name, value) in desired {
            try work.write(
                "desired/\(name).yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name), namespace: default}\ndata: {key: \(value)}\n"
            )
        }
        try work.write("live.yaml", "apiVersion: v1\nkind: List\nitems:\n" + live)
        return work
    }

    @Test func exitCodesAreZeroOneAndTwo() async throws {
        let work = try folder(desired: ["a": "one"], live: Self.configMap("a", value: "one"))
        let same = try await run([
            syncagent, "diff", "--dir", work.path + "/desired", "--live", work.path + "/live.yaml",
        ])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let changed = try folder(desired: ["a": "two"], live: Self.configMap("a", value: "one"))
        let differs = try await run([
            syncagent, "diff", "--dir", changed.path + "/desired", "--live", changed.path + "/live.yaml",
        ])
        #expect(differs.status == 1)
        #expect(differs.stdout.contains(#".data.key: "one" → "two" (live set by syncagent at 2025-01-01T10:00:00Z)"#))
        // The pull-request preview keeps the exit codes.
        let sameMarkdown = try await run([
            syncagent, "diff", "--dir", work.path + "/desired", "--live", work.path + "/live.yaml", "-o", "markdown",
        ])
        #expect(sameMarkdown.status == 0, "\(sameMarkdown.stderr)")
        #expect(sameMarkdown.stdout.hasPrefix("### syncagent diff: no differences in 1 region\n"))
        let differsMarkdown = try await run([
            syncagent, "diff", "--dir", changed.path + "/desired", "--live", changed.path + "/live.yaml", "-o",
            "markdown",
        ])
        #expect(differsMarkdown.status == 1, "\(differsMarkdown.stderr)")
        #expect(
            differsMarkdown.stdout.contains(
                "| <code>.data.key</code> | <code>\"one\"</code> | <code>\"two\"</code> | syncagent at 2025-01-01T10:00:00Z |"
            ), "\(differsMarkdown.stdout)")
        let missing = try await run([
            syncagent, "diff", "--dir", work.path + "/desired", "--live", work.path + "/nope.yaml",
        ])
        #expect(missing.status == 2 && missing.stderr.contains("nope.yaml"))
        let noDir = try await run([syncagent, "diff", "--live", work.path + "/live.yaml"])
        #expect(noDir.status == 2 && noDir.stderr.contains("--live FILE needs --dir DIR"))
        let noLive = try await run([
            syncagent, "diff", "--dir", work.path + "/desired", "--inventory", work.path + "/live.yaml",
        ])
        #expect(noLive.status == 2 && noLive.stderr.contains("--inventory FILE needs --live FILE"))
    }

    @Test func theJSONReportHasTheDocumentedFields() async throws {
        let work = try folder(desired: ["a": "two", "b": "x"], live: Self.configMap("a", value: "one"))
        let output = try await run(
            [
                syncagent, "diff", "--dir", work.path + "/desired", "--live", work.path + "/live.yaml", "--region",
                "r1",
                "-o", "json",
            ])
        #expect(output.status == 1, "\(output.stderr)")
        let report = try Value(json: output.stdout)
        #expect(report["hasDifferences"] == true)
        let region = try #require(report["regions"]?.arrayValue?.first)
        #expect(region["region"] == "r1" && region["hasDifferences"] == true)
        #expect(
            region["summary"]
                == [
                    "in-sync": 0, "modified": 1, "missing-live": 1, "extra": 0, "unmanaged-conflict": 0,
                    "kind-not-served": 0,
                ])
        let resources = try #require(region["resources"]?.arrayValue)
        #expect(resources.map { $0["name"] } == ["a", "b"])  // sorted by group, kind, namespace, name
        #expect(resources[0]["apiVersion"] == "v1" && resources[0]["kind"] == "ConfigMap")
        #expect(resources[0]["namespace"] == "default" && resources[0]["class"] == "modified")
        #expect(resources[0]["mode"] == "client-side")
        #expect(
            resources[0]["changes"]
                == [
                    [
                        "path": ".data.key", "live": "one", "desired": "two", "manager": "syncagent",
                        "time": "2025-01-01T10:00:00Z",
                    ]
                ])
        #expect(resources[1]["class"] == "missing-live" && resources[1]["changes"] == [])
    }

    @Test func anInventoryFileClassifiesExtraAndUnmanagedOffline() async throws {
        // a: desired, live, inventory → in sync; b: desired, live, not in the inventory → unmanaged-conflict
        // (although syncagent's field manager wrote it); c: live and inventory, not desired → extra.
        let live = Self.configMap("a", value: "1") + Self.configMap("b", value: "2") + Self.configMap("c", value: "3")
        let work = try folder(desired: ["a": "1", "b": "2"], live: live)
        try work.write(
            "inventory.yaml",
            """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: syncagent-inventory
              namespace: syncagent-system
              resourceVersion: "7"
            data:
              revision: 4f1c2d9e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d
              time: "2025-01-01T10:00:00Z"
              objects: '[{"apiVersion":"v1","kind":"ConfigMap","namespace":"default","name":"a"},{"apiVersion":"v1","kind":"ConfigMap","namespace":"default","name":"c"}]'
            """)
        let arguments = [syncagent, "diff", "--dir", work.path + "/desired", "--live", work.path + "/live.yaml"]
        let output = try await run(arguments + ["--inventory", work.path + "/inventory.yaml", "-o", "json"])
        #expect(output.status == 1, "\(output.stderr)")
        let region = try #require(try Value(json: output.stdout)["regions"]?.arrayValue?.first)
        #expect(region["revision"] == "4f1c2d9e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d")
        let classes = (region["resources"]?.arrayValue ?? []).map {
            "\($0["name"]?.stringValue ?? "") \($0["class"]?.stringValue ?? "")"
        }
        #expect(classes == ["a in-sync", "b unmanaged-conflict", "c extra"])
        // Without the inventory: b is syncagent's by its managedFields, c is nobody's business.
        let without = try await run(arguments + ["-o", "json"])
        #expect(without.status == 0, "\(without.stdout)")
        // A file without the inventory ConfigMap is an error naming it.
        let wrong = try await run(arguments + ["--inventory", work.path + "/live.yaml"])
        #expect(wrong.status == 2 && wrong.stderr.contains("no ConfigMap syncagent-system/syncagent-inventory"))
    }

    @Test func anUnknownConfigKeyNamesTheKeyAndItsPosition() async throws {
        let work = try TemporaryDirectory(prefix: "diff-config")
        try work.write(
            "syncagent.yaml",
            """
            regions:
              - {name: us-sanjose-1, context: sim}
            ignore:
              - kind: Deployment
                jsonPointer: [/spec/replicas]
            """)
        try work.write("desired/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        let output = try await run([
            syncagent, "diff", "--config", work.path + "/syncagent.yaml", "--dir", work.path + "/desired",
        ])
        #expect(output.status == 2)
        #expect(
            output.stderr.contains(#"\#(work.path)/syncagent.yaml:5:5: unknown key "jsonPointer""#), "\(output.stderr)")
    }

    @Test func secretValuesAreMaskedAndChangedKeysNamed() async throws {
        let work = try TemporaryDirectory(prefix: "diff-secret")
        try work.write(
            "desired/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: default}\nstringData: {password: s3cret-desired, user: admin}\n"
        )
        // base64: "s3cret-live", "admin"
        try work.write(
            "live.yaml",
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              namespace: default
              managedFields:
              - {manager: syncagent, operation: Apply, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {"f:data": {"f:password": {}, "f:user": {}}}}
            type: Opaque
            data: {password: czNjcmV0LWxpdmU=, user: YWRtaW4=}
            """)
        for format in ["text", "json", "markdown"] {
            let output = try await run(
                [syncagent, "diff", "--dir", work.path + "/desired", "--live", work.path + "/live.yaml", "-o", format])
            #expect(output.status == 1, "\(output.stderr)")
            for value in ["s3cret", "czNjcmV0", "YWRtaW4", "admin"] {
                #expect(!output.stdout.contains(value) && !output.stderr.contains(value), "\(output.stdout)")
            }
            #expect(output.stdout.contains("data.password"))
            #expect(!output.stdout.contains("data.user"))
            if format == "text" {
                #expect(output.stdout.contains(".data.password: <changed, value hidden>"), "\(output.stdout)")
                #expect(output.stdout.contains("+  password: <changed, value hidden>"), "\(output.stdout)")
            }
        }
    }
}
