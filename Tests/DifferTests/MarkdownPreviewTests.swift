import Differ
import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// `diff -o markdown`: the pull-request preview. A summary table, a collapsible section per object with each field,
/// its values and who last set the live one; Secret values masked; never past the comment limit.
@Suite struct MarkdownPreviewTests {
    static func report(extraConfigMaps: Int = 0) throws -> DiffReport {
        let desiredVS = try Resource(body: DiffTests.object(DiffTests.vsDesired))
        let secretDesired = try Resource(
            body: DiffTests.object(
                """
                apiVersion: v1
                kind: Secret
                metadata: {name: db, namespace: bookinfo}
                stringData: {password: hunter2-new}
                """))
        let secretLive = try DiffTests.object(
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              namespace: bookinfo
              managedFields:
              - {manager: syncagent, operation: Apply, apiVersion: v1, time: "2025-01-01T09:00:00Z",
                 fieldsType: FieldsV1, fieldsV1: {"f:data": {"f:password": {}}}}
            type: Opaque
            data: {password: aHVudGVyMi1vbGQ=}
            """)
        var desired = [desiredVS, secretDesired]
        let missing = try Resource(
            body: DiffTests.object(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: bookinfo}\ndata: {a: \"1|2\"}\n"))
        desired.append(missing)
        for index in 0..<extraConfigMaps {
            desired.append(
                try Resource(
                    body: DiffTests.object(
                        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bulk-\(index), namespace: bookinfo}\n"
                            + "data: {payload: \"\(String(repeating: "x", count: 400))\"}\n")))
        }
        let sanJose = diff(
            region: "us-sanjose-1", desired: desired, live: [try DiffTests.object(DiffTests.vsLive), secretLive],
            options: DiffOptions(mode: .clientSide))
        var syncedVS = try DiffTests.object(DiffTests.vsDesired)
        syncedVS["metadata"]?["managedFields"] = [
            [
                "manager": "syncagent", "operation": "Apply", "apiVersion": "networking.istio.io/v1",
                "fieldsType": "FieldsV1", "fieldsV1": ["f:spec": ["f:hosts": [:], "f:http": [:]]],
            ]
        ]
        let chicago = diff(
            region: "us-chicago-1", desired: [desiredVS], live: [syncedVS], options: DiffOptions(mode: .clientSide))
        return DiffReport(regions: [sanJose, chicago], revisions: ["us-sanjose-1": "0123456789abcdef0123"])
    }

    @Test func thePreviewSummarisesEachRegionAndFoldsEachObject() throws {
        let markdown = try Self.report().markdown()
        #expect(markdown.hasPrefix("### syncagent diff: 3 objects differ in 1 region of 2\n"))
        #expect(
            markdown.contains(
                "| region | revision | in-sync | modified | missing-live | extra | unmanaged-conflict | kind-not-served |"
            ))
        #expect(markdown.contains("| us-sanjose-1 | <code>0123456789ab</code> | 0 | **2** | **1** | 0 | 0 | 0 |"))
        #expect(markdown.contains("| us-chicago-1 |  | 1 | 0 | 0 | 0 | 0 | 0 |"))
        #expect(markdown.contains("#### us-sanjose-1"))
        #expect(!markdown.contains("#### us-chicago-1"), "a region in sync has no section")
        // The weight someone changed by hand: path, live → desired, and who.
        #expect(
            markdown.contains(
                "| <code>.spec.http[0].route[1].weight</code> | <code>60</code> | <code>30</code> | "
                    + "kubectl-edit at 2025-01-01T10:00:00Z |"), "\(markdown)")
        #expect(markdown.contains("<details><summary><code>modified</code> networking.istio.io/v1/VirtualService "))
        #expect(markdown.components(separatedBy: "<details>").count - 1 == 3)
        #expect(markdown.components(separatedBy: "</details>").count - 1 == 3)
        // The object a sync creates is shown whole; a `|` in a value does not break the table.
        #expect(markdown.contains("v1/ConfigMap <b>bookinfo/flags</b>: a sync creates it"))
        #expect(!markdown.contains("| 1|2"))
    }

    @Test func secretValuesNeverAppear() throws {
        let markdown = try Self.report().markdown()
        #expect(markdown.contains("<code>.data.password</code> | <i>changed, value hidden</i>"), "\(markdown)")
        for secret in ["hunter2", "aHVudGVyMi1vbGQ=", "aHVudGVyMi1uZXc="] {
            #expect(!markdown.contains(secret))
        }
    }

    @Test func aLargeDiffIsCutBeforeTheLimitWithANote() throws {
        let report = try Self.report(extraConfigMaps: 300)
        let full = report.markdown(limit: 10_000_000)
        #expect(full.utf8.count > DiffReport.markdownLimit)
        #expect(!full.contains("Truncated"))
        let cut = report.markdown()
        #expect(cut.utf8.count <= DiffReport.markdownLimit)
        let shown = cut.components(separatedBy: "<details>").count - 1
        #expect(shown > 10)
        #expect(
            cut.contains("> **Truncated:** \(303 - shown) more objects that differ are not shown"), "\(cut.suffix(300))"
        )
        // The summary still counts every object.
        #expect(cut.contains("| us-sanjose-1 | <code>0123456789ab</code> | 0 | **2** | **301** |"))
        // Sections are whole: every one opened is closed.
        #expect(cut.components(separatedBy: "</details>").count - 1 == shown)
    }
}
