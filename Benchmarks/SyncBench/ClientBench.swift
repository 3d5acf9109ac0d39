// `syncbench client get|apply --kubeconfig FILE [--context NAME] --dir DIR`: reads every manifest under DIR and
// GETs or server-side applies each object through one KubeClient (all at once; the client bounds the requests on
// the wire). scripts/bench-client.sh times the whole process against kubectl doing the same.
import Applier
import Foundation
import KubeYAML
import Logging
import SyncCore

func runClientBenchmark(_ arguments: [String]) async {
    guard let verb = arguments.first, ["get", "apply"].contains(verb) else {
        clientBenchFail("usage: syncbench client get|apply --kubeconfig FILE [--context NAME] --dir DIR")
    }
    var options: [String: String] = [:]
    var index = 1
    while index + 1 < arguments.count {
        options[arguments[index]] = arguments[index + 1]
        index += 2
    }
    guard let kubeconfig = options["--kubeconfig"], let folder = options["--dir"] else {
        clientBenchFail("syncbench client: --kubeconfig and --dir are required")
    }
    let objects = loadManifests(folder)
    var logger = Logger(label: "syncbench")
    logger.logLevel = .warning
    let started = ContinuousClock.now
    do {
        let client = try KubeClient(
            kubeconfig: try Kubeconfig.load(file: kubeconfig), context: options["--context"], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for object in objects {
                group.addTask {
                    if verb == "get" {
                        _ = try await client.get(object.ref)
                    } else {
                        _ = try await client.apply(object)
                    }
                }
            }
            try await group.waitForAll()
        }
    } catch {
        clientBenchFail("syncbench client \(verb): \(error)")
    }
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(
        "syncbench client \(verb): \(objects.count) objects in \(String(format: "%.3f", seconds)) s "
            + "(\(String(format: "%.0f", Double(objects.count) / max(seconds, 1e-9))) objects/s)")
}

/// Every object in the `.yaml` files under `folder`, in file-name order.
private func loadManifests(_ folder: String) -> [Resource] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
        clientBenchFail("syncbench client: cannot list \(folder)")
    }
    var objects: [Resource] = []
    for name in names.sorted() where name.hasSuffix(".yaml") {
        let path = folder + "/" + name
        guard let bytes = FileManager.default.contents(atPath: path) else { clientBenchFail("cannot read \(path)") }
        do {
            for document in try YAML.load([UInt8](bytes), file: path) {
                objects.append(try Resource(body: document.value))
            }
        } catch {
            clientBenchFail("\(path): \(error)")
        }
    }
    return objects
}

private func clientBenchFail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}
