import FuzzSupport
import KubeYAML
import SyncCore

/// libFuzzer target for the YAML loader: any bytes load into documents or errors, never a crash, a hang or a
/// runaway allocation; every loaded value prints as YAML that loads back and prints the same; every node's path
/// has a position.
@main
enum FuzzYAML {
    static func main() { FuzzDriver.main(fuzzOne) }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let (documents, errors) = YAML.loadCollectingErrors(bytes, file: "fuzz.yaml")
    for error in errors { _ = error.description }
    for document in documents {
        let text = document.value.yamlString
        guard let again = try? YAML.loadValue(Array(text.utf8), file: "printed.yaml") else {
            fatalError("printed YAML does not load:\n\(text)")
        }
        precondition(again.yamlString == text, "printed YAML does not print the same after loading:\n\(text)")
        var budget = 1_000
        visit(document.value, path: [], in: document, budget: &budget)
    }
    return 0
}

/// Asks the source map for the position of every node (the first `budget` of them) and its key.
private func visit(_ value: Value, path: [PathElement], in document: YAMLDocument, budget: inout Int) {
    guard budget > 0 else { return }
    budget -= 1
    _ = document.sourceMap.location(of: path)
    _ = document.sourceMap.keyLocation(of: path)
    _ = document.location(at: path + ["missing", 7])
    switch value {
    case .array(let elements):
        for (index, element) in elements.enumerated() {
            visit(element, path: path + [.index(index)], in: document, budget: &budget)
        }
    case .object(let members):
        for (key, member) in members { visit(member, path: path + [.key(key)], in: document, budget: &budget) }
    default: break
    }
}
