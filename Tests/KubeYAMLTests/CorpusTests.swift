import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// Every `.yaml`, `.yml` and `.json` file under the shared corpus, relative to it.
let corpusFiles: [String] = {
    let root = sharedRoot.appendingPathComponent("corpus")
    guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
    var files: [String] = []
    while let path = walker.nextObject() as? String {
        let lower = path.lowercased()
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json") { files.append(path) }
    }
    return files.sorted()
}()

/// Upstream health fixtures (read by Go's lenient decoder there) that write a key twice.
let duplicateKeyFiles = [
    "health/gitops-engine/statefulset-ondelete.yaml", "health/kstatus/depNoProgressDeadlineSeconds.yaml",
    "health/kstatus/depNotAvailable.yaml", "health/kstatus/depNotProgressing.yaml",
]

/// The bytes of a corpus file.
func corpusBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: sharedRoot.appendingPathComponent("corpus").appendingPathComponent(path)))
}

@Suite("The shared corpus")
struct CorpusTests {
    @Test("the corpus is there")
    func present() {
        #expect(corpusFiles.count > 300, "corpus missing under \(sharedRoot.path)")
    }

    @Test(
        "upstream fixtures with a key written twice are rejected as kubectl's strict decoding rejects them",
        arguments: duplicateKeyFiles)
    func duplicateKeys(_ path: String) throws {
        let (_, errors) = YAML.loadCollectingErrors(try corpusBytes(path), file: path)
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.kind == .duplicateKey }, "\(errors)")
    }

    @Test(
        "every other corpus file loads, and writing it back reads back the same",
        arguments: corpusFiles.filter { !duplicateKeyFiles.contains($0) })
    func roundTrip(_ path: String) throws {
        let documents = try YAML.load(try corpusBytes(path), file: path)
        #expect(!documents.isEmpty)
        for document in documents {
            let text = document.value.yamlString
            let again = try YAML.load(text, file: "emitted-\(path)")
            #expect(again.map(\.value) == [document.value])
        }
    }

    @Test(
        "JSON files read the same through the YAML loader as through SyncCore's JSON reader",
        arguments: corpusFiles.filter { $0.hasSuffix(".json") })
    func json(_ path: String) throws {
        let bytes = try corpusBytes(path)
        #expect(try YAML.loadValue(bytes, file: path) == Value(json: bytes))
    }

    @Test("the Istio CRD file loads into its CRDs")
    func istioCRDs() throws {
        let path = "istio-crds/crd-all.gen.yaml"
        let text = String(decoding: try corpusBytes(path), as: UTF8.self)
        let expected = text.components(separatedBy: "\n").filter { $0 == "kind: CustomResourceDefinition" }.count
        let documents = try YAML.load(try corpusBytes(path), file: path)
        #expect(expected == 15)
        #expect(documents.count == expected)
        #expect(documents.allSatisfy { $0.value["kind"] == "CustomResourceDefinition" })
        let names = documents.compactMap { $0.value[path: ["metadata", "name"]]?.stringValue }
        #expect(names.contains("virtualservices.networking.istio.io"))
        #expect(documents[0].location.description == "\(path):2:1")
        let vs = try #require(
            documents.first { $0.value[path: ["metadata", "name"]] == "virtualservices.networking.istio.io" })
        #expect(vs.sourceMap.location(of: ["metadata", "name"])?.description == "\(path):12397:9")
    }
}
