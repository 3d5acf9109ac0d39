import Foundation
import KubeSchema
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// structured-merge-diff's own merge tests (`../shared/corpus/ssa-merge`, 312 fixtures) run through KubeSchema's
/// ``Updater``: each fixture's schema is adapted to ``Schema``, its operations run in order as SMD's test harness
/// runs them, and the final object, managers and conflicts are checked.
@Suite struct SSAMergeFixtureTests {
    static let corpus = sharedRoot.appendingPathComponent("corpus/ssa-merge")

    /// Fixtures listed as out of scope in docs/kubesim-fidelity.md (none: every fixture must pass).
    static let outOfScope: Set<String> = []

    static func fixtureFiles() throws -> [URL] {
        let manager = FileManager.default
        var files: [URL] = []
        for folder in try manager.contentsOfDirectory(atPath: corpus.path).sorted() {
            let url = corpus.appendingPathComponent(folder)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            for file in try manager.contentsOfDirectory(atPath: url.path).sorted() where file.hasSuffix(".yaml") {
                files.append(url.appendingPathComponent(file))
            }
        }
        return files
    }

    @Test func everyFixturePasses() throws {
        let files = try Self.fixtureFiles()
        #expect(files.count == 312, "ssa-merge holds 312 fixtures, found \(files.count)")
        var failures: [String] = []
        var passed = 0
        for file in files {
            let name = file.deletingLastPathComponent().lastPathComponent + "/" + file.lastPathComponent
            if Self.outOfScope.contains(name) { continue }
            do {
                let text = try String(contentsOf: file, encoding: .utf8)
                var run = try FixtureRun(fixture: try YAML.loadValue(text, file: name))
                try run.run()
                passed += 1
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        print("ssa-merge: \(passed)/\(files.count) fixtures pass (\(Self.outOfScope.count) listed out of scope)")
        #expect(
            failures.isEmpty,
            "ssa-merge: \(passed)/\(files.count) pass; failing:\n\(failures.joined(separator: "\n"))")
    }

    @Test func pathSyntaxRoundTrips() throws {
        let path = try FixturePath.parse(#".list[id=2,key="a"].sub[="x"].n[3]"#)
        #expect(path.pathString == #".list[id=2,key="a"].sub[="x"].n[3]"#)
        #expect(path.count == 6)
    }
}

/// A fixture failure, naming what differed.
struct FixtureFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Fixture paths (`.list[name="a"].value`, `[=1]`) parsed into field paths.
enum FixturePath {
    static func parse(_ text: String) throws -> FieldPath {
        var path: FieldPath = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i] == "." {
                var j = i + 1
                while j < chars.count, chars[j] != ".", chars[j] != "[" { j += 1 }
                path.append(.field(String(chars[(i + 1)..<j])))
                i = j
            } else if chars[i] == "[" {
                var j = i + 1
                var quoted = false
                while j < chars.count {
                    if chars[j] == "\"" && chars[j - 1] != "\\" { quoted.toggle() }
                    if chars[j] == "]" && !quoted { break }
                    j += 1
                }
                let body = String(chars[(i + 1)..<j])
                i = j + 1
                if body.hasPrefix("=") {
                    path.append(.value(try Value(json: String(body.dropFirst())).canonicalKey))
                } else if let index = Int(body) {
                    path.append(.index(index))
                } else {
                    var fields: [FieldPathElement.KeyField] = []
                    for part in splitOutsideQuotes(body) {
                        guard let eq = part.firstIndex(of: "=") else {
                            throw FixtureFailure("bad key \(part) in \(text)")
                        }
                        let value = try Value(json: String(part[part.index(after: eq)...])).canonicalKey
                        fields.append(.init(name: String(part[..<eq]), value: value))
                    }
                    path.append(.key(fields.sorted { $0.name < $1.name }))
                }
            } else {
                throw FixtureFailure("bad path \(text)")
            }
        }
        return path
    }

    static func splitOutsideQuotes(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var previous: Character = " "
        for c in text {
            if c == "\"" && previous != "\\" { quoted.toggle() }
            if c == "," && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
            previous = c
        }
        parts.append(current)
        return parts
    }
}

/// SMD schema YAML (`types: [{name, map|list|scalar}]`) as KubeSchema schemas.
struct FixtureSchema {
    let types: [String: Schema]

    init(yaml: String) throws {
        let document = try YAML.loadValue(yaml, file: "schema")
        var references: [String: SchemaReference] = [:]
        let definitions = document["types"]?.arrayValue ?? []
        for definition in definitions {
            guard let name = definition["name"]?.stringValue else { throw FixtureFailure("schema type without a name") }
            references[name] = SchemaReference(name: name)
        }
        func typeRef(_ ref: Value) throws -> Schema {
            let override = ref["elementRelationship"]?.stringValue
            if let name = ref["namedType"]?.stringValue {
                guard let reference = references[name] else { throw FixtureFailure("unknown type \(name)") }
                return Schema(reference: reference, atomic: override.map { $0 == "atomic" })
            }
            return try atom(ref, override: override)
        }
        func atom(_ def: Value, override: String? = nil) throws -> Schema {
            let parts = ["scalar", "map", "list"].filter { def[$0] != nil }
            if parts.count > 1 {
                let relationship = override ?? def[path: ["map", "elementRelationship"]]?.stringValue
                return Schema(.deduced, atomic: relationship == "atomic")
            }
            if let scalar = def["scalar"]?.stringValue {
                switch scalar {
                case "numeric": return .number
                case "string": return .string
                case "boolean": return .boolean
                default: return Schema(.scalar(.any))
                }
            }
            if let map = def["map"] {
                var fields: [String: Schema] = [:]
                var defaults: [String: Value] = [:]
                for field in map["fields"]?.arrayValue ?? [] {
                    guard let name = field["name"]?.stringValue, let type = field["type"] else { continue }
                    fields[name] = try typeRef(type)
                    if let value = field["default"] { defaults[name] = value }
                }
                let additional = try map["elementType"].map(typeRef)
                let relationship = override ?? map["elementRelationship"]?.stringValue
                return Schema(
                    .object(fields: fields, additional: additional), atomic: relationship == "atomic",
                    fieldDefaults: defaults)
            }
            if let list = def["list"] {
                let element = try list["elementType"].map(typeRef) ?? .anything
                let relationship = override ?? list["elementRelationship"]?.stringValue
                let keys = list["keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let type: Schema.ListType =
                    relationship == "associative" ? (keys.isEmpty ? .set : .map(keys: keys)) : .atomic
                return Schema(.list(element: element, type: type))
            }
            throw FixtureFailure("schema type with no atom: \(def.jsonString)")
        }
        var types: [String: Schema] = [:]
        for definition in definitions {
            guard let name = definition["name"]?.stringValue, let reference = references[name] else { continue }
            let schema = try atom(definition)
            reference.bind(schema)
            types[name] = schema
        }
        self.types = types
    }
}

/// The fixture converters: SMD's dummy (identity), renaming (`_v1` → `_v2` suffixes) and specific-version ones.
struct FixtureConverter: VersionConverter {
    enum Kind: Sendable {
        case identity, renameFieldSuffix
        case accepted([String])
    }
    let kind: Kind

    func convert(_ value: Value, from: String, to: String) throws(MissingVersionError) -> Value {
        switch kind {
        case .identity: return value
        case .accepted(let versions):
            guard versions.contains(to) else { throw MissingVersionError(version: to) }
            return value
        case .renameFieldSuffix:
            func rename(_ value: Value) -> Value {
                switch value {
                case .object(let members):
                    var out = members
                    out.removeAll()
                    for (key, member) in members {
                        let name = key.hasSuffix(from) ? String(key.dropLast(from.count)) + to : key
                        out[name] = rename(member)
                    }
                    return .object(out)
                case .array(let items): return .array(items.map(rename))
                default: return value
                }
            }
            return rename(value)
        }
    }
}

/// One fixture run as SMD's `internal/fixture/state.go` runs a test case.
struct FixtureRun {
    let fixture: Value

    var schema: FixtureSchema
    var converter: FixtureConverter
    var live: Value? = nil
    var liveVersion = ""
    var managers: ManagerSets = [:]

    init(fixture: Value) throws {
        self.fixture = fixture
        self.schema = try FixtureSchema(yaml: fixture["schema"]?.stringValue ?? "types: []")
        switch fixture[path: ["converter", "kind"]]?.stringValue {
        case "renameFieldSuffix": converter = FixtureConverter(kind: .renameFieldSuffix)
        case "acceptedVersions":
            converter = FixtureConverter(
                kind: .accepted(fixture[path: ["converter", "versions"]]?.arrayValue?.compactMap(\.stringValue) ?? []))
        default: converter = FixtureConverter(kind: .identity)
        }
    }

    func typeSchema(_ version: String) -> Schema {
        let name = fixture[path: ["versionTypes", version]]?.stringValue ?? fixture["rootType"]?.stringValue ?? ""
        return schema.types[name] ?? .anything
    }

    func ignoredPaths() throws -> [String: [FieldPath]] {
        var out: [String: [FieldPath]] = [:]
        for (version, paths) in fixture[path: ["updater", "ignoredFields"]]?.objectValue ?? [:] {
            out[version, default: []] += try (paths.arrayValue ?? []).compactMap(\.stringValue).map(FixturePath.parse)
        }
        for (version, filter) in fixture[path: ["updater", "ignoreFilter"]]?.objectValue ?? [:] {
            out[version, default: []] += try (filter["excludeSet"]?.arrayValue ?? []).compactMap(\.stringValue).map(
                FixturePath.parse)
        }
        return out
    }

    func updater() throws -> Updater {
        let types = schema.types
        let rootType = fixture["rootType"]?.stringValue
        let versionTypes = fixture["versionTypes"]?.objectValue?.mapValues { $0.stringValue ?? "" } ?? [:]
        let ignored = try ignoredPaths()
        return Updater(
            schema: { version in types[versionTypes[version] ?? rootType ?? ""] ?? .anything },
            converter: converter,
            ignored: { version, path in (ignored[version] ?? []).contains { path.starts(with: $0) } })
    }

    func liveAt(_ version: String) throws -> Value {
        guard let live else { return .null }
        return try converter.convert(live, from: liveVersion, to: version)
    }

    mutating func apply(_ object: Value, _ version: String, _ manager: String, force: Bool) throws {
        let result = try updater().apply(
            live: try liveAt(version), config: object, apiVersion: version, managers: managers, manager: manager,
            force: force)
        managers = result.managers
        if result.changed || live == nil {
            live = result.object
            liveVersion = version
        }
    }

    func runConflicts() throws {
        var sets: [String: FieldSet] = [:]
        for entry in fixture["managers"]?.arrayValue ?? [] {
            let paths = try (entry["fields"]?.arrayValue ?? []).compactMap(\.stringValue).map(FixturePath.parse)
            sets[entry["manager"]?.stringValue ?? ""] = FieldSet(Set(paths))
        }
        let conflicts = Updater.conflicts(sets)
        if let message = fixture[path: ["expect", "message"]]?.stringValue {
            let actual = Updater.conflictMessage(conflicts)
            if actual != message { throw FixtureFailure("message: expected \(message), got \(actual)") }
        }
        if let set = fixture[path: ["expect", "set"]]?.arrayValue {
            let expected = Set(try set.compactMap(\.stringValue).map(FixturePath.parse))
            if Set(conflicts.map(\.path)) != expected { throw FixtureFailure("set: expected \(expected)") }
        }
    }

    mutating func run() throws {
        if fixture["kind"]?.stringValue == "conflictsFromManagers" { return try runConflicts() }
        var failed = false
        for (index, op) in (fixture["ops"]?.arrayValue ?? []).enumerated() {
            do {
                try step(op)
            } catch let error as FixtureFailure {
                throw FixtureFailure("op \(index): \(error)")
            } catch {
                if fixture[path: ["expect", "error"]]?.boolValue == true {
                    failed = true
                    break
                }
                throw FixtureFailure("op \(index) (\(op["op"]?.stringValue ?? "")): unexpected error \(error)")
            }
        }
        let expect = fixture["expect"] ?? .emptyObject
        if expect["error"]?.boolValue == true {
            if !failed { throw FixtureFailure("expected an error, every op succeeded") }
            return
        }
        if fixture["kind"]?.stringValue == "conflictsFromManagers" { return }
        let version = expect["apiVersion"]?.stringValue ?? liveVersion
        if let object = expect["object"] {
            let actual = live == nil ? Value.null : try liveAt(version)
            if !actual.contentEquals(object) {
                throw FixtureFailure("object: expected \(object.jsonString), got \(actual.jsonString)")
            }
        }
        if let managed = expect["managed"]?.arrayValue {
            var expected: [String: (String, String, Set<FieldPath>)] = [:]
            for entry in managed {
                let paths = try (entry["fields"]?.arrayValue ?? []).compactMap(\.stringValue).map(FixturePath.parse)
                expected[entry["manager"]?.stringValue ?? ""] = (
                    entry["operation"]?.stringValue ?? "", entry["apiVersion"]?.stringValue ?? "", Set(paths)
                )
            }
            let actualNames = Set(managers.filter { !$0.value.fields.isEmpty }.keys)
            if actualNames != Set(expected.keys) {
                throw FixtureFailure(
                    "managers: expected \(expected.keys.sorted()), got \(actualNames.sorted()) \(describe())")
            }
            for (name, (operation, apiVersion, paths)) in expected {
                guard let set = managers[name] else { continue }
                let op = set.applied ? "Apply" : "Update"
                if op != operation || set.apiVersion != apiVersion || set.fields.paths != paths {
                    throw FixtureFailure(
                        "manager \(name): expected \(operation) \(apiVersion) \(paths.map(\.pathString).sorted()), got "
                            + "\(op) \(set.apiVersion) \(set.fields.paths.map(\.pathString).sorted())")
                }
            }
        }
    }

    func describe() -> String {
        managers.keys.sorted().map { "\($0)=\(managers[$0]?.fields.paths.map(\.pathString).sorted() ?? [])" }
            .joined(separator: " ")
    }

    mutating func step(_ op: Value) throws {
        let kind = op["op"]?.stringValue ?? ""
        let version = op["apiVersion"]?.stringValue ?? ""
        let manager = op["manager"]?.stringValue ?? ""
        let object = op["object"] ?? .null
        switch kind {
        case "apply", "forceApply":
            let expected = try (op["expectConflicts"]?.arrayValue ?? []).map { conflict in
                FieldConflict(
                    manager: conflict["manager"]?.stringValue ?? "",
                    path: try FixturePath.parse(conflict["path"]?.stringValue ?? ""))
            }
            do {
                try apply(object, version, manager, force: kind == "forceApply")
                if !expected.isEmpty { throw FixtureFailure("expected conflicts \(expected), the apply succeeded") }
            } catch UpdaterError.conflicts(let conflicts) {
                if Set(conflicts) != Set(expected) {
                    throw FixtureFailure(
                        "conflicts: expected \(expected.map { "\($0.manager) \($0.path.pathString)" }), got "
                            + "\(conflicts.map { "\($0.manager) \($0.path.pathString)" })")
                }
            }
        case "update":
            let errors = Typed.validate(object, schema: typeSchema(version), allowDuplicates: true)
            if !errors.isEmpty { throw UpdaterError.invalid(errors) }
            let result = try updater().update(
                live: try liveAt(version), new: object, apiVersion: version, managers: managers, manager: manager)
            managers = result.managers
            live = result.object
            liveVersion = version
        case "extractApply":
            guard live != nil else {
                try apply(object, version, manager, force: true)
                return
            }
            let owned = managers[manager] ?? VersionedFieldSet(fields: FieldSet(), apiVersion: version, applied: true)
            if owned.apiVersion != version && !owned.fields.isEmpty {
                throw FixtureFailure("extractApply at \(version), the manager's set is at \(owned.apiVersion)")
            }
            let leaves = owned.fields.paths.filter { p in
                !owned.fields.paths.contains { $0.count > p.count && $0.starts(with: p) }
            }
            let schema = typeSchema(version)
            let extracted = Typed.extracting(FieldSet(leaves), from: try liveAt(version), schema: schema) ?? .null
            let config = Typed.merge(extracted, object, schema: schema) ?? .null
            try apply(config, version, manager, force: true)
        case "changeSchema":
            schema = try FixtureSchema(yaml: op["schema"]?.stringValue ?? "")
            if let live {
                let errors = Typed.validate(live, schema: typeSchema(liveVersion), allowDuplicates: true)
                if !errors.isEmpty { throw UpdaterError.invalid(errors) }
            }
        case "setAcceptedVersions":
            converter = FixtureConverter(kind: .accepted(op["versions"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        default:
            if fixture["kind"]?.stringValue == "conflictsFromManagers" { return }
            throw FixtureFailure("unknown op \(kind)")
        }
    }
}
