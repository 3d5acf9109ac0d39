import Differ
import FuzzSupport
import SyncCore

/// libFuzzer target for render (manifest files to resources): any files render to resources or a `RenderError`
/// listing problems, never a crash or a hang. A NUL byte splits the input into several files (`0.yaml`, `1.json`,
/// `2.yaml`, ...), so objects defined twice across files are reached too.
@main
enum FuzzRender {
    static func main() { FuzzDriver.main(fuzzOne) }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).prefix(8)
    let files = parts.enumerated().map { index, part in
        ManifestFile(path: "manifests/\(index).\(index % 2 == 1 ? "json" : "yaml")", bytes: Array(part))
    }
    do {
        let resources = try render(files)
        for resource in resources {
            _ = resource.ref.description
            _ = resource.body.jsonString
        }
    } catch {
        precondition(!error.problems.isEmpty, "a render error with no problem")
        _ = error.description
    }
    if let first = files.first {
        _ = try? renderLiveObjects(first)
    }
    return 0
}
