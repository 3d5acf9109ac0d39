import Dispatch
import KubeYAML
import Synchronization
import SyncCore

/// Reads manifest files into resources: all of them, or a ``RenderError`` listing every problem in every file.
///
/// - Only `.yaml`, `.yml` and `.json` files are read (``ManifestFile/isManifest``); JSON goes through the same
///   YAML loader (JSON is YAML's flow style), so its problems have line and column too.
/// - Documents are read by Kubernetes' rules (KubeYAML); empty and comment-only documents are skipped.
/// - A `List` (any kind ending in `List` with an `items` sequence, e.g. `v1/List`, `ServiceList`) stands for its
///   items, each with its own position; lists may nest.
/// - Each object needs `apiVersion`, `kind` and `metadata.name`; a problem points at the document, or at
///   `metadata` / the offending field when there is one. The name must be one the API server accepts for its kind
///   (``NameRules``).
/// - Two documents (in one file or two) with the same ``ObjectKey`` are an error naming both places. Keys are
///   compared as written: no namespace and `namespace: default` are different keys here, since only the cluster
///   knows which kinds are namespaced.
/// - The result is sorted by ``ObjectRef`` (group, kind, namespace, name, then version), whatever the file order.
/// - At most `limits.maxObjects` objects (documents and `List` items): reading stops at the first one past it, with
///   one problem at its position, so a file of a million documents is refused in time and memory bounded by the
///   limit.
public func render(_ files: [ManifestFile], limits: InputLimits = .standard) throws(RenderError) -> [Resource] {
    let manifests = files.sorted(by: { $0.path < $1.path }).filter(\.isManifest)
    let loaded = loadConcurrently(manifests, maxDocuments: limits.maxObjects)
    var renderer = Renderer(limit: limits.maxObjects)
    for (file, load) in zip(manifests, loaded) {
        renderer.read(file, loaded: load)
        if renderer.overLimit { break }
    }
    guard renderer.problems.isEmpty else { throw RenderError(problems: renderer.problems) }
    return renderer.resources.sorted { $0.ref < $1.ref }
}

/// One file's documents and problems, as ``YAML/loadCollectingErrors(_:file:options:)`` gives them.
private typealias Load = (documents: [YAMLDocument], errors: [YAMLError])

/// Every file's YAML read at once, each with at most `maxDocuments` documents, in `files`' order: most of a render's
/// time (a revision's CRDs alone can be a megabyte), spread over the cores. (nil for a file not read: it is read
/// when its turn comes.)
private func loadConcurrently(_ files: [ManifestFile], maxDocuments: Int) -> [Load?] {
    guard files.count > 1 else {
        return files.map {
            YAML.loadCollectingErrors($0.bytes, file: $0.path, options: .init(maxDocuments: maxDocuments))
        }
    }
    let loads = Mutex<[Load?]>(Array(repeating: nil, count: files.count))
    // The largest first: the threads take files in this order, and a big one taken last would run alone.
    let order = files.indices.sorted { files[$0].bytes.count > files[$1].bytes.count }
    DispatchQueue.concurrentPerform(iterations: files.count) { position in
        let index = order[position]
        let file = files[index]
        let load = YAML.loadCollectingErrors(file.bytes, file: file.path, options: .init(maxDocuments: maxDocuments))
        loads.withLock { $0[index] = load }
    }
    return loads.withLock { $0 }
}

/// The state of one render: resources so far, where each key was first seen, problems so far.
private struct Renderer {
    /// The most objects read (``InputLimits/maxObjects``).
    let limit: Int
    var resources: [Resource] = []
    var problems: [RenderError.Problem] = []
    var firstSeen: [ObjectKey: SourceLocation] = [:]
    /// Objects seen so far, kept or not.
    var objects = 0
    /// The limit was passed: reading stopped.
    var overLimit = false

    init(limit: Int) { self.limit = limit }

    /// The problem for the first object past the limit.
    private func limitProblem(at location: SourceLocation) -> RenderError.Problem {
        RenderError.Problem(
            location: location,
            message: "more than \(limit) objects in the revision (repo.limits.maxObjects); reading stopped here and "
                + "nothing was applied: split the repository or raise the limit")
    }

    /// Takes `file`'s objects, from `loaded` (its load with at most ``limit`` documents) when that load stayed below
    /// the documents still allowed: a load capped there would have read exactly the same. Otherwise the file is read
    /// again with that cap, so that a revision over the limit stops where reading file by file stops.
    mutating func read(_ file: ManifestFile, loaded: Load? = nil) {
        let remaining = max(0, limit - objects)
        let (documents, errors): Load
        if let loaded, loaded.documents.count < remaining {
            (documents, errors) = loaded
        } else {
            let options = YAMLLoadOptions(maxDocuments: remaining)
            (documents, errors) = YAML.loadCollectingErrors(file.bytes, file: file.path, options: options)
        }
        for error in errors {
            if error.kind == .tooManyDocuments {
                problems.append(limitProblem(at: error.location))
                overLimit = true
            } else {
                problems.append(RenderError.Problem(location: error.location, message: error.message))
            }
        }
        for document in documents where !overLimit {
            collect(document.value, at: [], in: document)
        }
    }

    private mutating func collect(_ value: Value, at path: [PathElement], in document: YAMLDocument) {
        guard !overLimit else { return }
        let location = document.location(at: path)
        if let kind = value["kind"]?.stringValue, kind.hasSuffix("List"), let items = value["items"]?.arrayValue {
            for (index, item) in items.enumerated() {
                collect(item, at: path + ["items", .index(index)], in: document)
            }
            return
        }
        objects += 1
        guard objects <= limit else {
            problems.append(limitProblem(at: location))
            overLimit = true
            return
        }
        let resource: Resource
        do {
            resource = try Resource(body: value, source: location)
        } catch {
            problems.append(
                RenderError.Problem(location: place(of: error, at: path, in: document), message: error.description))
            return
        }
        if let problem = NameRules.problem(group: resource.ref.group, kind: resource.kind, name: resource.name) {
            problems.append(
                RenderError.Problem(
                    location: document.location(at: path + ["metadata", "name"]), message: "\(resource.ref): \(problem)"
                ))
            return
        }
        if let first = firstSeen[resource.key] {
            problems.append(
                RenderError.Problem(
                    location: location, message: "\(resource.key) is defined twice: first at \(first)"))
            return
        }
        firstSeen[resource.key] = location
        resources.append(resource)
    }

    /// Where to point for a malformed object: the offending field, `metadata` for a missing name, else the document.
    private func place(of error: ResourceError, at path: [PathElement], in document: YAMLDocument) -> SourceLocation {
        switch error {
        case .notAMapping, .missingField("apiVersion"), .missingField("kind"):
            return document.location(at: path)
        case .missingField(let field), .wrongType(let field, _, _):
            let steps = field.split(separator: ".").map { PathElement.key(String($0)) }
            if field == "metadata.name" { return document.location(at: path + ["metadata"]) }
            return document.location(at: path + steps)
        }
    }
}

/// Reads saved live objects (`kubectl get -o yaml` output: a `List`, or several documents), whatever the file's
/// name ends in: every object's body, or a ``RenderError`` listing every problem.
public func renderLiveObjects(_ file: ManifestFile, limits: InputLimits = .standard) throws(RenderError) -> [Value] {
    var renderer = Renderer(limit: limits.maxObjects)
    renderer.read(file)
    guard renderer.problems.isEmpty else { throw RenderError(problems: renderer.problems) }
    return renderer.resources.sorted { $0.ref < $1.ref }.map(\.body)
}
