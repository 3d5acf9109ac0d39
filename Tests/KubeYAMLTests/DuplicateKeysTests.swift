import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

@Suite("Duplicate keys: rejected by default, last wins on request")
struct DuplicateKeysTests {
    static let text = "a: 1\nb: {x: 1, x: 2}\na: 3\n"

    @Test("the default rejects every repeated key, naming both places")
    func rejectedByDefault() {
        #expect(YAMLLoadOptions().duplicateKeys == .reject)
        let (documents, errors) = YAML.loadCollectingErrors(Array(Self.text.utf8), file: "d.yaml")
        #expect(documents.isEmpty)
        #expect(
            errors.map(\.description) == [
                "d.yaml:2:11: duplicate key \"x\" (first at line 2, column 5)",
                "d.yaml:3:1: duplicate key \"a\" (first at line 1, column 1)",
            ])
    }

    @Test("lastWins keeps the last value in the first key's place")
    func lastWins() throws {
        let value = try YAML.load(Self.text, options: YAMLLoadOptions(duplicateKeys: .lastWins)).first?.value
        #expect(value == ["a": 3, "b": ["x": 2]])
        #expect(value?.objectValue?.keys.elementsEqual(["a", "b"]) == true)
    }

    @Test("lastWins changes nothing else: merge keys still yield to explicit keys, other errors still fail")
    func nothingElse() throws {
        let options = YAMLLoadOptions(duplicateKeys: .lastWins)
        let merged = try YAML.load("base: &b {k: 1, j: 2}\nm: {<<: *b, k: 9}\n", options: options).first?.value
        #expect(merged?["m"] == ["k": 9, "j": 2])
        #expect(throws: YAMLError.self) { try YAML.load("a: .inf\na: 1\n", options: options) }
        #expect(throws: YAMLError.self) { try YAML.load("a:\n\t- 1\n", options: options) }
    }

    @Test(
        "the upstream health fixtures that repeat a key read with lastWins",
        arguments: [
            "health/gitops-engine/statefulset-ondelete.yaml", "health/kstatus/depNoProgressDeadlineSeconds.yaml",
            "health/kstatus/depNotAvailable.yaml", "health/kstatus/depNotProgressing.yaml",
        ])
    func upstreamFixtures(_ path: String) throws {
        let url = sharedRoot.appendingPathComponent("corpus").appendingPathComponent(path)
        let bytes = Array(try Data(contentsOf: url))
        #expect(throws: YAMLError.self) { try YAML.load(bytes, file: path) }
        let documents = try YAML.load(bytes, file: path, options: YAMLLoadOptions(duplicateKeys: .lastWins))
        #expect(documents.count == 1)
        #expect(documents.first?.value[path: ["status", "observedGeneration"]] == 1)
    }
}
