import Differ
import SyncCore
import Testing

/// The base + regions/<region> layout.
@Suite struct OverlayTests {
    func configMap(_ name: String, _ value: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: mesh\ndata:\n  value: \(value)\n"
    }

    @Test func regionObjectsReplaceCommonOnesAndAddTheirOwn() throws {
        let files = [
            ManifestFile(
                path: "mesh/base/a.yaml", text: configMap("gateway", "common") + "---\n" + configMap("shared", "x")),
            ManifestFile(path: "mesh/regions/us-sanjose-1/gw.yaml", text: configMap("gateway", "163.192.53.128")),
            ManifestFile(path: "mesh/regions/us-sanjose-1/own.yaml", text: configMap("local-only", "y")),
            ManifestFile(path: "mesh/regions/us-chicago-1/gw.yaml", text: configMap("gateway", "207.211.166.34")),
        ]
        let sanjose = try render(files, root: "mesh", region: "us-sanjose-1")
        #expect(sanjose.map(\.name) == ["gateway", "local-only", "shared"])
        #expect(sanjose.first { $0.name == "gateway" }?.body[path: ["data", "value"]] == "163.192.53.128")
        #expect(sanjose.first { $0.name == "gateway" }?.source?.file == "mesh/regions/us-sanjose-1/gw.yaml")
        let chicago = try render(files, root: "mesh", region: "us-chicago-1")
        #expect(chicago.map(\.name) == ["gateway", "shared"])
        #expect(chicago.first { $0.name == "gateway" }?.body[path: ["data", "value"]] == "207.211.166.34")
    }

    @Test func flatFolderGivesEveryRegionTheSameSet() throws {
        let files = [ManifestFile(path: "a.yaml", text: configMap("one", "1"))]
        #expect(try render(files, root: "", region: "us-sanjose-1").map(\.name) == ["one"])
        #expect(try render(files, root: "", region: nil).map(\.name) == ["one"])
    }

    @Test func problemsInBothLayersAreReportedTogether() throws {
        let files = [
            ManifestFile(path: "base/bad.yaml", text: "apiVersion: v1\nkind: ConfigMap\n"),
            ManifestFile(path: "regions/r1/bad.yaml", text: "kind: ConfigMap\nmetadata:\n  name: x\n"),
        ]
        #expect {
            try render(files, root: "", region: "r1")
        } throws: { error in
            guard let error = error as? RenderError else { return false }
            return error.problems.map(\.location.file) == ["base/bad.yaml", "regions/r1/bad.yaml"]
        }
    }

    @Test func unknownRegionAndMissingRegionAreErrors() {
        let files = [ManifestFile(path: "regions/r1/a.yaml", text: configMap("one", "1"))]
        #expect(throws: RenderError.self) { try render(files, root: "", region: "r2") }
        #expect(throws: RenderError.self) { try render(files, root: "", region: nil) }
    }
}
