import Foundation
import KubeYAML
import SyncCore
import TestSupport

/// One replayable kube-apiserver integration scenario from `../shared/corpus/apiserver` (its README describes the
/// format): a list of request, sleep and waitFor steps, each request with the expectations the Go test asserts.
struct APIServerScenario: Sendable {
    /// `<folder>/<file stem>`, e.g. `apply_test/TestApplyAlsoCreates.test-pod`.
    var name: String
    var steps: [Value]

    /// The folder holding the scenarios.
    static let root = sharedRoot.appendingPathComponent("corpus/apiserver")

    /// Every scenario of the corpus, sorted by name.
    static func all() throws -> [String] {
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path)
        var names: [String] = []
        for folder in folders.sorted() {
            var isFolder: ObjCBool = false
            let path = root.appendingPathComponent(folder).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
                continue
            }
            for file in try FileManager.default.contentsOfDirectory(atPath: path) where file.hasSuffix(".yaml") {
                names.append("\(folder)/\(file.dropLast(5))")
            }
        }
        return names.sorted()
    }

    init(named name: String) throws {
        self.name = name
        let path = Self.root.appendingPathComponent(name + ".yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let document = try YAML.loadValue(text, file: path)
        guard let steps = document["steps"]?.arrayValue else { throw ScenarioError("\(path): no steps") }
        self.steps = steps
    }
}

/// Why a scenario cannot run or did not pass.
struct ScenarioError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Replays one scenario against one kubesim region over HTTPS (curl: bodies byte for byte) as the admin.
struct ScenarioRunner {
    let sim: KubeSimCluster
    let token: String
    let port: Int
    /// Each step's parsed response body (1-based; `.null` where a step had none or it was not JSON).
    var responses: [Int: Value] = [:]
    /// Every expectation that did not hold, with its step.
    var failures: [String] = []

    init(sim: KubeSimCluster, region: String = "us-sanjose-1") throws {
        self.sim = sim
        token = try sim.token(region)
        port = sim.apiPorts[region] ?? 0
    }

    /// Runs every step; returns the failures (empty when the scenario passes).
    mutating func run(_ scenario: APIServerScenario) async throws -> [String] {
        for (index, step) in scenario.steps.enumerated() {
            let number = index + 1
            if let seconds = step["sleep"].flatMap(Self.number) {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            } else if let wait = step["waitFor"] {
                try await waitFor(wait, step: number)
            } else if let request = step["request"] {
                let (status, body) = try await send(request, step: step, number: number)
                responses[number] = body
                check(step["expect"] ?? .emptyObject, status: status, body: body, step: number)
            } else {
                throw ScenarioError("step \(number): neither request, sleep nor waitFor")
            }
        }
        return failures
    }

    // MARK: Requests

    private func send(_ request: Value, step: Value, number: Int) async throws -> (Int, Value) {
        let body = try buildBody(step, number: number)
        guard let verb = request["verb"]?.stringValue, let path = request["path"]?.stringValue else {
            throw ScenarioError("step \(number): request without verb or path")
        }
        var url = "https://127.0.0.1:\(port)\(path)"
        if let query = request["query"]?.objectValue, !query.isEmpty {
            let items = query.map { key, value in
                "\(Self.escape(key))=\(Self.escape(value.stringValue ?? value.jsonString))"
            }
            url += "?" + items.joined(separator: "&")
        }
        var arguments = [
            "curl", "-sS", "--cacert", sim.caPath, "-X", verb, "-w", "\n%{http_code}", "-H",
            "Authorization: Bearer \(token)",
        ]
        var headers = request["headers"]?.objectValue?.map { ($0.key, $0.value.stringValue ?? "") } ?? []
        if !headers.contains(where: { $0.0.lowercased() == "accept" }) {
            headers.append(("Accept", "application/json"))
        }
        if body != nil {
            headers.append(("Content-Type", request["contentType"]?.stringValue ?? "application/json"))
            arguments += ["--data-binary", "@-"]
        }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        arguments.append(url)
        let output = try await TestSupport.run(arguments, input: body)
        guard output.status == 0 else { throw ScenarioError("step \(number): curl failed: \(output.stderr)") }
        let text = output.stdout
        guard let newline = text.lastIndex(of: "\n"), let code = Int(text[text.index(after: newline)...]) else {
            throw ScenarioError("step \(number): curl printed no status")
        }
        let parsed = (try? Value(json: String(text[..<newline]))) ?? .null
        return (code, parsed)
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The body a step sends: `body` verbatim, `bodyObject` as JSON, or `bodyFromStep` edited; then `expand`.
    private func buildBody(_ step: Value, number: Int) throws -> String? {
        if let literal = step["body"] {
            guard let text = literal.stringValue else { throw ScenarioError("step \(number): body is not a string") }
            return text
        }
        var object: Value
        if let value = step["bodyObject"] {
            object = value
        } else if let from = step["bodyFromStep"] {
            let source = from.intValue ?? from["step"]?.intValue ?? 0
            guard let earlier = responses[Int(source)] else {
                throw ScenarioError("step \(number): bodyFromStep \(source) has no response")
            }
            object = earlier
            for set in from["set"]?.arrayValue ?? [] {
                let path = try ScenarioPath(set["path"]?.stringValue ?? "")
                path.set(&object, to: set["value"] ?? .null)
            }
            for delete in from["delete"]?.arrayValue ?? [] {
                let path = try ScenarioPath(delete.stringValue ?? "")
                path.remove(from: &object)
            }
        } else {
            return nil
        }
        for expansion in step["expand"]?.arrayValue ?? [] {
            let path = try ScenarioPath(expansion["path"]?.stringValue ?? "")
            let count = Int(expansion["count"]?.intValue ?? 0)
            let key = expansion["key"]?.stringValue ?? ""
            let value = expansion["value"] ?? .null
            var map = path.resolve(object)?.objectValue ?? [:]
            for index in 0..<count { map[key.replacingOccurrences(of: "{i}", with: String(index))] = value }
            path.set(&object, to: .object(map))
        }
        return object.jsonString
    }

    private mutating func waitFor(_ wait: Value, step number: Int) async throws {
        let timeout = wait["timeoutSeconds"].flatMap(Self.number) ?? 30
        let interval = wait["intervalSeconds"].flatMap(Self.number) ?? 0.5
        let deadline = Date().addingTimeInterval(timeout)
        let request: Value
        if let explicit = wait["request"] {
            request = explicit
        } else {
            request = ["verb": "GET", "path": wait["path"] ?? ""]
        }
        var assertions = wait["until"]?.arrayValue ?? []
        if let condition = wait["condition"]?.stringValue {
            assertions.append(
                ["path": .string(".status.conditions[?type==\"\(condition)\"].status"), "equals": "True"])
        }
        var step: Value = ["request": request]
        if let object = wait["bodyObject"] { step["bodyObject"] = object }
        var last: [String] = []
        while true {
            let (_, body) = try await send(request, step: step, number: number)
            var scratch = ScenarioRunner(copying: self)
            for assertion in assertions { scratch.assert(assertion, on: body, step: number) }
            if scratch.failures.isEmpty {
                responses[number] = body
                return
            }
            last = scratch.failures
            if Date() > deadline { break }
            try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
        failures.append("step \(number): waitFor timed out after \(timeout)s: \(last.joined(separator: "; "))")
    }

    private init(copying other: ScenarioRunner) {
        sim = other.sim
        token = other.token
        port = other.port
        responses = other.responses
    }

    // MARK: Expectations

    private mutating func check(_ expect: Value, status: Int, body: Value, step: Int) {
        let brief = String(body.jsonString.prefix(600))
        if let wanted = expect["status"] {
            let holds: Bool
            switch wanted {
            case .int(let code): holds = status == Int(code)
            case .array(let codes): holds = codes.contains { $0.intValue.map(Int.init) == status }
            case .string("2xx"): holds = (200..<300).contains(status)
            case .string("error"): holds = status >= 400
            default: holds = false
            }
            if !holds { failures.append("step \(step): status \(status), expected \(wanted.jsonString): \(brief)") }
        }
        if let reason = expect["reason"], body["reason"] != reason {
            failures.append(
                "step \(step): reason \(body["reason"]?.jsonString ?? "none"), expected \(reason.jsonString)")
        }
        for piece in expect["messageContains"]?.arrayValue ?? [] {
            let message = body["message"]?.stringValue ?? ""
            if !message.contains(piece.stringValue ?? "") {
                failures.append("step \(step): message \(message.debugDescription) lacks \(piece.jsonString)")
            }
        }
        for assertion in expect["object"]?.arrayValue ?? [] { assert(assertion, on: body, step: step) }
    }

    /// Checks one `{path, <op>: arg}` assertion; records a failure naming the step, path and values when it fails.
    mutating func assert(_ assertion: Value, on body: Value, step: Int) {
        let pathText = assertion["path"]?.stringValue ?? "."
        let path: ScenarioPath
        do { path = try ScenarioPath(pathText) } catch {
            failures.append("step \(step): \(error)")
            return
        }
        let ignored = (assertion["ignore"]?.arrayValue ?? []).compactMap { $0.stringValue }.compactMap {
            try? ScenarioPath($0)
        }
        func stripped(_ value: Value?) -> Value? {
            guard var value else { return nil }
            for path in ignored { path.remove(from: &value) }
            return value
        }
        let actual = path.resolve(body)
        let shown = actual.map { String($0.jsonString.prefix(800)) } ?? "<absent>"
        func fail(_ what: String) { failures.append("step \(step): \(pathText) \(what); actual \(shown)") }
        func value(atStep source: Value) -> Value? {
            guard let number = source.intValue, let response = responses[Int(number)] else { return nil }
            return path.resolve(response)
        }
        func length(_ value: Value?) -> Int {
            switch value {
            case .array(let items)?: items.count
            case .object(let members)?: members.count
            case .string(let text)?: text.count
            default: 0
            }
        }
        let isAbsent = actual == nil || actual == .null
        for (op, argument) in assertion.objectValue ?? [:] {
            switch op {
            case "path", "ignore": continue
            case "equals":
                if !Self.deepEqual(stripped(actual), stripped(argument)) { fail("≠ \(argument.jsonString)") }
            case "notEquals":
                if Self.deepEqual(actual, argument) { fail("= \(argument.jsonString)") }
            case "absent":
                if isAbsent != (argument.boolValue ?? true) { fail("absent is not \(argument.jsonString)") }
            case "present":
                if isAbsent == (argument.boolValue ?? true) { fail("present is not \(argument.jsonString)") }
            case "empty":
                let empty =
                    isAbsent || actual == ""
                    || (actual?.arrayValue ?? actual?.objectValue.map { Array($0.values) })?
                        .isEmpty == true
                if empty != (argument.boolValue ?? true) { fail("empty is not \(argument.jsonString)") }
            case "length":
                if length(actual) != Int(argument.intValue ?? -1) { fail("length is not \(argument.jsonString)") }
            case "minLength":
                if length(actual) < Int(argument.intValue ?? 0) { fail("length < \(argument.jsonString)") }
            case "contains":
                let holds: Bool
                if let text = actual?.stringValue {
                    holds = text.contains(argument.stringValue ?? "\u{0}")
                } else {
                    holds = actual?.arrayValue?.contains { Self.deepEqual($0, argument) } ?? false
                }
                if !holds { fail("does not contain \(argument.jsonString)") }
            case "keys":
                let keys = Set(actual?.objectValue?.keys.map { $0 } ?? [])
                let wanted = Set((argument.arrayValue ?? []).compactMap(\.stringValue))
                if actual?.objectValue == nil || keys != wanted { fail("keys are not \(argument.jsonString)") }
            case "sameAsStep":
                if !Self.deepEqual(stripped(actual), stripped(value(atStep: argument))) {
                    fail(
                        "changed from step \(argument.jsonString): \(value(atStep: argument)?.jsonString ?? "<absent>")"
                    )
                }
            case "changedFromStep":
                if Self.deepEqual(actual, value(atStep: argument)) { fail("same as step \(argument.jsonString)") }
            case "equalsPath", "notEqualsPath":
                let other = (try? ScenarioPath(argument.stringValue ?? "")).flatMap { $0.resolve(body) }
                if Self.deepEqual(actual, other) != (op == "equalsPath") {
                    fail("\(op) \(argument.jsonString) (\(other?.jsonString ?? "<absent>"))")
                }
            case "ownersOf":
                let chain = (argument["field"]?.arrayValue ?? []).compactMap(\.stringValue)
                let wanted = Set((argument["managers"]?.arrayValue ?? []).compactMap(\.stringValue))
                var owners = Set<String>()
                for entry in actual?.arrayValue ?? [] {
                    if entry["fieldsV1"]?[path: chain] != nil, let manager = entry["manager"]?.stringValue {
                        owners.insert(manager)
                    }
                }
                if owners != wanted { fail("owners of \(chain) are \(owners.sorted()), expected \(wanted.sorted())") }
            default:
                failures.append("step \(step): unknown assertion \(op)")
            }
        }
    }

    /// JSON equality: key order ignored, list order kept, numbers compared by value.
    static func deepEqual(_ left: Value?, _ right: Value?) -> Bool {
        switch (left, right) {
        case (nil, nil): return true
        case (.object(let a)?, .object(let b)?):
            return a.count == b.count && a.allSatisfy { key, value in deepEqual(value, b[key]) }
        case (.array(let a)?, .array(let b)?):
            return a.count == b.count && zip(a, b).allSatisfy { deepEqual($0, $1) }
        case (let a?, let b?):
            if let x = number(a), let y = number(b) { return x == y }
            return a == b
        default: return false
        }
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .uint(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }
}

/// A path into a JSON value (`.metadata.name`, `[0]`, `[?manager=="x"&&apiVersion=="v1"]`, `[*]`).
struct ScenarioPath: CustomStringConvertible {
    enum Step {
        case key(String)
        case index(Int)
        case match([(String, String)])
        case all
    }

    var steps: [Step]
    var description: String

    init(_ text: String) throws {
        description = text
        steps = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.first == "." {
                rest = rest.dropFirst()
                let key = rest.prefix { $0 != "." && $0 != "[" }
                if !key.isEmpty { steps.append(.key(String(key))) }
                rest = rest.dropFirst(key.count)
            } else if rest.first == "[" {
                guard let close = rest.range(of: "]") else { throw ScenarioError("path \(text): unclosed [") }
                let inside = rest[rest.index(after: rest.startIndex)..<close.lowerBound]
                rest = rest[close.upperBound...]
                if inside == "*" {
                    steps.append(.all)
                } else if let index = Int(inside) {
                    steps.append(.index(index))
                } else if inside.hasPrefix("?") {
                    var conditions: [(String, String)] = []
                    for condition in inside.dropFirst().components(separatedBy: "&&") {
                        let parts = condition.components(separatedBy: "==")
                        guard parts.count == 2 else { throw ScenarioError("path \(text): bad condition \(condition)") }
                        conditions.append((parts[0], parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))))
                    }
                    steps.append(.match(conditions))
                } else {
                    throw ScenarioError("path \(text): bad selector [\(inside)]")
                }
            } else {
                throw ScenarioError("path \(text): unexpected \(rest.prefix(10))")
            }
        }
    }

    private static func matches(_ item: Value, _ conditions: [(String, String)]) -> Bool {
        conditions.allSatisfy { item[$0.0]?.stringValue == $0.1 }
    }

    /// The value the path addresses, nil when it does not resolve.
    func resolve(_ value: Value) -> Value? {
        var current: Value? = value
        for step in steps {
            guard let value = current else { return nil }
            switch step {
            case .key(let key): current = value[key]
            case .index(let index):
                guard let items = value.arrayValue, items.indices.contains(index) else { return nil }
                current = items[index]
            case .match(let conditions): current = value.arrayValue?.first { Self.matches($0, conditions) }
            case .all: return nil
            }
        }
        return current
    }

    /// Sets the value at the path, creating missing map keys; `[*]` sets in every element.
    func set(_ value: inout Value, to newValue: Value) {
        Self.edit(&value, steps[...]) { $0 = newValue }
    }

    /// Removes the value at the path (a map key or a list element); `[*]` removes in every element.
    func remove(from value: inout Value) {
        guard let last = steps.last else { return }
        Self.edit(&value, steps.dropLast()) { parent in
            switch last {
            case .key(let key):
                if case .object(var members) = parent {
                    members[key] = nil
                    parent = .object(members)
                }
            case .index(let index):
                if case .array(var items) = parent, items.indices.contains(index) {
                    items.remove(at: index)
                    parent = .array(items)
                }
            case .match(let conditions):
                if case .array(var items) = parent, let at = items.firstIndex(where: { Self.matches($0, conditions) }) {
                    items.remove(at: at)
                    parent = .array(items)
                }
            case .all:
                if case .array = parent { parent = .array([]) }
            }
        }
    }

    private static func edit(_ value: inout Value, _ steps: ArraySlice<Step>, _ body: (inout Value) -> Void) {
        guard let step = steps.first else {
            body(&value)
            return
        }
        let rest = steps.dropFirst()
        switch step {
        case .key(let key):
            var members = value.objectValue ?? [:]
            var child = members[key] ?? (rest.isEmpty ? .null : .emptyObject)
            edit(&child, rest, body)
            members[key] = child
            value = .object(members)
        case .index(let index):
            guard var items = value.arrayValue, items.indices.contains(index) else { return }
            edit(&items[index], rest, body)
            value = .array(items)
        case .match(let conditions):
            guard var items = value.arrayValue, let at = items.firstIndex(where: { matches($0, conditions) }) else {
                return
            }
            edit(&items[at], rest, body)
            value = .array(items)
        case .all:
            guard var items = value.arrayValue else { return }
            for index in items.indices { edit(&items[index], rest, body) }
            value = .array(items)
        }
    }
}
