import Differ
import Foundation
import KubeYAML

/// `syncbench yaml [-n N] FILE...`: loads (KubeYAML) and renders (Differ) each file N times (default 100), one
/// file per render call as a folder of manifests is read, and prints elapsed seconds and MB/s for both.
/// scripts/bench-yaml.sh compares the `render` figure with a bare libyaml event loop in C over the same bytes.
func runYAMLBenchmark(_ arguments: [String]) {
    var iterations = 100
    var paths: [String] = []
    var rest = arguments[...]
    while let argument = rest.popFirst() {
        if argument == "-n" || argument == "--iterations" {
            guard let text = rest.popFirst(), let n = Int(text), n > 0 else { yamlBenchUsage() }
            iterations = n
        } else if argument.hasPrefix("-") {
            yamlBenchUsage()
        } else {
            paths.append(argument)
        }
    }
    guard !paths.isEmpty else { yamlBenchUsage() }

    var files: [ManifestFile] = []
    for path in paths {
        guard let data = FileManager.default.contents(atPath: path) else {
            FileHandle.standardError.write(Data("syncbench yaml: cannot read \(path)\n".utf8))
            exit(1)
        }
        files.append(ManifestFile(path: path, bytes: Array(data)))
    }
    // Check once (and warm up): a benchmark of error paths would measure the wrong thing.
    var objects = 0
    for file in files {
        do {
            objects += try render([file]).count
        } catch {
            FileHandle.standardError.write(Data("syncbench yaml: \(file.path) does not render:\n\(error)\n".utf8))
            exit(1)
        }
    }
    let bytes = files.reduce(0) { $0 + $1.bytes.count }
    let clock = ContinuousClock()

    var documents = 0
    let loadTime = clock.measure {
        for _ in 0..<iterations {
            for file in files { documents &+= (try? YAML.load(file.bytes, file: file.path).count) ?? 0 }
        }
    }
    var rendered = 0
    let renderTime = clock.measure {
        for _ in 0..<iterations {
            for file in files { rendered &+= (try? render([file]).count) ?? 0 }
        }
    }
    let megabytes = Double(bytes) * Double(iterations) / 1_000_000
    print("syncbench yaml: \(files.count) files, \(bytes) bytes, \(objects) objects, \(iterations) iterations")
    for (name, duration) in [("load", loadTime), ("render", renderTime)] {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        print(String(format: "%@ seconds=%.3f MBps=%.1f", name, seconds, megabytes / seconds))
    }
    if documents == 0 || rendered == 0 { exit(1) }  // keeps the work observable
}

private func yamlBenchUsage() -> Never {
    FileHandle.standardError.write(Data("usage: syncbench yaml [-n ITERATIONS] FILE...\n".utf8))
    exit(2)
}
