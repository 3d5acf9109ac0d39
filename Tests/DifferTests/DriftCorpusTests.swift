import Differ
import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// One upstream verdict: a corpus case folder, one of its `checks`, and our reading of it.
struct DriftCheck: Sendable, CustomTestStringConvertible {
    var folder: String
    var index: Int
    var options: Value
    var drift: Bool
    /// Expected field paths, as `.spec.ports[].targetPort` (list steps blanked).
    var fields: [String]
    var mode: String
    var config: String
    var live: String
    var predicted: String?
    var testDescription: String { "\(folder)#\(index)" }
}

/// Cases where syncagent's verdict is deliberately not upstream's (the README's "Drift detection" section explains each).
let judgedDifferently: [String: String] = [
    "diff/flux-ssa/offline/spec-metadata-name-changed-ignored#0":
        "a different metadata.name is a different object: the desired one is missing live"
]

/// Fields upstream's notes name as drifting besides those listed in `fields`.
let alsoDrifting: [String: [String]] = [
    // The case's note: "revisionHistoryLimit 1 vs 3 is never ignored".
    "diff/argo-cd/deployment-replicas-managed-by-other-manager#1": [".spec.revisionHistoryLimit"],
    // The config's rtmp targetPort is 1936, live's 1935 (the same pair as smd-service-targetport-changed).
    "diff/gitops-engine/smd-service-type-dropped-from-config#0": [".spec.ports[].targetPort"],
]

/// Every check of every `expected.yaml` under corpus/diff that has live and desired inputs.
let driftChecks: [DriftCheck] = {
    var checks: [DriftCheck] = []
    let root = corpusRoot.appendingPathComponent("diff")
    guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
    for case let relative as String in walker where relative.hasSuffix("expected.yaml") {
        let folder = "diff/" + String(relative.dropLast("/expected.yaml".count))
        guard let text = try? String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8),
            let expected = try? YAML.loadValue(text, file: relative),
            let inputs = expected["inputs"], let live = inputs["live"]?.stringValue,
            let config = (inputs["config"] ?? inputs["desired"])?.stringValue
        else { continue }
        for (index, check) in (expected["checks"]?.arrayValue ?? []).enumerated() {
            var fields = (check["fields"]?.arrayValue ?? []).compactMap { $0.stringValue.map(blankPath) }
            for op in check["expected_patch"]?.arrayValue ?? [] {
                let words = (op.stringValue ?? "").split(separator: " ")
                if words.count > 1 {
                    fields.append(blankPath(words[1].replacingOccurrences(of: "/", with: ".")))
                }
            }
            checks.append(
                DriftCheck(
                    folder: folder, index: index, options: check["options"] ?? .emptyObject,
                    drift: check["drift"]?.boolValue ?? false, fields: fields,
                    mode: expected["mode"]?.stringValue ?? "", config: "\(folder)/\(config)", live: "\(folder)/\(live)",
                    predicted: inputs["predicted_live"]?.stringValue.map { "\(folder)/\($0)" }))
        }
    }
    return checks.sorted { ($0.folder, $0.index) < ($1.folder, $1.index) }
}()

/// `.spec.ports[name=rtmp].targetPort (config 1936…)` → `.spec.ports[].targetPort`.
func blankPath(_ text: String) -> String {
    let path = text.prefix { $0 != " " }
    var result = ""
    var depth = 0
    for character in path {
        if character == "[" {
            depth += 1
            if depth == 1 { result += "[]" }
        } else if character == "]" {
            depth -= 1
        } else if depth == 0 {
            result.append(character)
        }
    }
    return result
}

/// Upstream's options as syncagent's.
func diffOptions(_ check: DriftCheck) throws -> DiffOptions {
    var options = DiffOptions(mode: check.predicted == nil ? .clientSide : .serverSide)
    if check.mode.contains("argocd-controller") || check.mode.contains("structured-merge") {
        options.fieldManager = "argocd-controller"
    }
    options.ignoreMutationWebhook = check.options["ignoreMutationWebhook"]?.boolValue ?? true
    options.ignoreAggregatedRoles = check.options["ignoreAggregatedRoles"]?.boolValue ?? true
    if let ignore = check.options["ignoreDifferences"] {
        func strings(_ key: String) -> [String] { ignore[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        options.ignore.append(
            try IgnoreRule(
                group: ignore["group"]?.stringValue, kind: ignore["kind"]?.stringValue,
                jsonPointers: strings("jsonPointers"), paths: strings("jqPathExpressions"),
                managedFieldsManagers: strings("managedFieldsManagers")))
    }
    if let paths = check.options["ignorePaths"]?.arrayValue?.compactMap(\.stringValue) {
        options.ignore.append(try IgnoreRule(jsonPointers: paths))
    }
    return options
}

/// A Flux fragment (no identity) gets the same made-up one on both sides.
func withIdentity(_ object: Value) -> Value {
    var object = object
    if object["apiVersion"] == nil { object["apiVersion"] = "example.com/v1" }
    if object["kind"] == nil { object["kind"] = "Fragment" }
    if object[path: ["metadata", "name"]] == nil {
        var metadata = object["metadata"] ?? .emptyObject
        metadata["name"] = "fragment"
        object["metadata"] = metadata
    }
    return object
}

/// Loads a corpus file the way `syncagent diff --live` loads its files.
func corpusObjects(_ path: String) throws -> [Value] {
    let file = try corpusFile(path)
    let documents = try YAML.load(file.bytes, file: path)
    let fixed = documents.map { withIdentity($0.value) }
    return try renderLiveObjects(ManifestFile(path: path, text: fixed.map(\.jsonString).joined(separator: "\n---\n")))
}

@Suite struct DriftCorpusTests {
    @Test func corpusHasTheIndexedChecks() {
        // 38 gitops-engine + 9 argo-cd + 13 flux offline checks.
        #expect(driftChecks.count == 60)
    }

    @Test(arguments: driftChecks)
    func verdictMatchesUpstream(_ check: DriftCheck) throws {
        let desired = try corpusObjects(check.config).map { try Resource(body: $0) }
        let live = try corpusObjects(check.live)
        var predicted: [ObjectKey: Value] = [:]
        if let path = check.predicted {
            for object in try corpusObjects(path) { predicted[try Resource(body: object).key] = object }
        }
        let result = diff(
            region: "corpus", desired: desired, live: live, predicted: predicted, options: try diffOptions(check),
            ownership: .everything)
        let drifted = result.hasDifferences
        if let reason = judgedDifferently[check.testDescription] {
            #expect(drifted != check.drift, "judged differently from upstream: \(reason)\n\(result)")
            return
        }
        #expect(drifted == check.drift, "\(result)")
        guard check.drift, !check.fields.isEmpty else { return }
        let found = result.resources.flatMap(\.changes).map { blankPath($0.pathString) }
        for field in check.fields {
            #expect(found.contains { $0.hasPrefix(field) || field.hasPrefix($0) }, "expected \(field)\n\(result)")
        }
        let allowed = check.fields + (alsoDrifting[check.testDescription] ?? [])
        for path in found {
            #expect(allowed.contains { path.hasPrefix($0) || $0.hasPrefix(path) }, "unexpected \(path)\n\(result)")
        }
    }
}
