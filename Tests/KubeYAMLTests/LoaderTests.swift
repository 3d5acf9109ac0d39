import KubeYAML
import SyncCore
import Testing

/// The error `load` throws for `text`, or nil.
func loadError(_ text: String, file: String = "f.yaml") -> YAMLError? {
    loadError(Array(text.utf8), file: file)
}

func loadError(_ bytes: [UInt8], file: String = "f.yaml") -> YAMLError? {
    do {
        _ = try YAML.load(bytes, file: file)
        return nil
    } catch {
        return error
    }
}

@Suite("Loading streams")
struct LoaderTests {
    @Test("documents: several, empty ones and comment-only ones skipped, positions of their content")
    func documents() throws {
        let text = "# header\n---\na: 1\n---\n---\n# nothing\n...\n---\n\nb: 2\n...\n--- ~\n"
        let documents = try YAML.load(text, file: "multi.yaml")
        #expect(documents.map(\.value) == [["a": 1], ["b": 2]])
        #expect(documents.map(\.location.description) == ["multi.yaml:3:1", "multi.yaml:10:1"])
    }

    @Test(
        "nothing to read", arguments: ["", "\n\n", "# only a comment\n", "---\n", "---\n# c\n---\n", "--- # c\n...\n"])
    func empty(_ text: String) throws {
        #expect(try YAML.load(text).isEmpty)
    }

    @Test("mapping order is kept")
    func order() throws {
        let value = try YAML.loadValue("z: 1\na: 2\nm: {k: 3, b: 4}\n")
        #expect(value.objectValue?.keys.elementsEqual(["z", "a", "m"]) == true)
        #expect(value["m"]?.objectValue?.keys.elementsEqual(["k", "b"]) == true)
    }

    @Test("loadValue rejects several documents")
    func loadValueCount() {
        #expect(throws: YAMLError.self) { try YAML.loadValue("a: 1\n---\nb: 2\n") }
        #expect(loadError("a: 1\n---\nb: 2\n") == nil)
    }

    @Test("anchors and aliases share values")
    func anchors() throws {
        let value = try YAML.loadValue(
            """
            base: &b {a: 1, list: [x, z]}
            copy: *b
            scalar: &s hello
            again: *s
            items: [*s, *b]
            """)
        #expect(value["copy"] == value["base"])
        #expect(value["again"] == "hello")
        #expect(value["items"] == ["hello", ["a": 1, "list": ["x", "z"]]])
    }

    @Test("an anchor can be redefined; aliases take the latest")
    func redefinedAnchor() throws {
        let value = try YAML.loadValue("a: &x 1\nb: *x\nc: &x 2\nd: *x\n")
        #expect(value == ["a": 1, "b": 1, "c": 2, "d": 2])
    }

    @Test("merge keys: explicit members win wherever written, merged members fill in at the << position")
    func mergeKey() throws {
        let value = try YAML.loadValue(
            """
            defaults: &d
              replicas: 1
              image: nginx
              port: 80
            after:
              <<: *d
              replicas: 3
            before:
              replicas: 5
              <<: *d
            inline:
              <<: {x: 1}
              w: 2
            """)
        #expect(value["after"] == ["replicas": 3, "image": "nginx", "port": 80])
        #expect(value["after"]?.objectValue?.keys.elementsEqual(["replicas", "image", "port"]) == true)
        #expect(value["before"] == ["replicas": 5, "image": "nginx", "port": 80])
        #expect(value["inline"] == ["x": 1, "w": 2])
    }

    @Test("merge of a sequence: the first mapping wins")
    func mergeSequence() throws {
        let value = try YAML.loadValue(
            """
            a: &a {x: 1, k: 1}
            b: &b {k: 2, z: 2}
            c:
              <<: [*a, *b]
              z: 3
            """)
        #expect(value["c"] == ["x": 1, "k": 1, "z": 3])
    }

    @Test("a quoted << is an ordinary key")
    func quotedMergeKey() throws {
        let value = try YAML.loadValue("a: &a {x: 1}\nb:\n  \"<<\": *a\n")
        #expect(value["b"] == ["<<": ["x": 1]])
    }

    @Test("merge value must be a mapping or a sequence of mappings", arguments: ["3", "[1, 2]", "text"])
    func badMerge(_ value: String) throws {
        let error = try #require(loadError("a:\n  <<: \(value)\n"))
        #expect(error.kind == .invalidMerge)
        #expect(error.location.description == "f.yaml:2:7")
    }

    @Test("aliases to undefined or enclosing anchors are errors")
    func unknownAlias() throws {
        let undefined = try #require(loadError("a: *nope\nb: &nope 1\n"))
        #expect(undefined.kind == .unknownAlias)
        #expect(undefined.description == "f.yaml:1:4: alias *nope names no anchor defined before it")
        let recursive = try #require(loadError("a: &r [1, *r]\n"))
        #expect(recursive.kind == .unknownAlias)
        #expect(recursive.message.contains("contains it"))
    }

    @Test("a billion-laughs document is rejected, fast")
    func aliasBomb() throws {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let start = ContinuousClock.now
        let error = try #require(loadError(text, file: "bomb.yaml"))
        let elapsed = ContinuousClock.now - start
        #expect(error.kind == .aliasLimit)
        // a5 stands for ~600k nodes: the first *a5 in a6's list (line 7) goes past the million.
        #expect(error.location.description == "bomb.yaml:7:10")
        #expect(error.message.contains("billion laughs"))
        // Expanding all of it would build ~3.9 billion nodes (minutes); stopping at the limit takes a fraction of a
        // second. The bound leaves room for a loaded 2-core machine and still proves the expansion is capped.
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    @Test("alias expansion is counted per document and the limit is an option")
    func aliasLimitOption() throws {
        let text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
        #expect(try YAML.load(Array(text.utf8)).count == 1)
        let tight = YAMLLoadOptions(maxAliasExpansion: 10)
        #expect(throws: YAMLError.self) { try YAML.load(Array(text.utf8), options: tight) }
        // Twelve nodes in each of two documents: fine under 20 per document.
        let two = text + "---\n" + text
        #expect(try YAML.load(Array(two.utf8), options: YAMLLoadOptions(maxAliasExpansion: 20)).count == 2)
    }

    @Test("duplicate keys are an error naming both places")
    func duplicateKeys() throws {
        let error = try #require(loadError("a: 1\nb:\n  c: 2\na: 3\n"))
        #expect(error.kind == .duplicateKey)
        #expect(error.description == "f.yaml:4:1: duplicate key \"a\" (first at line 1, column 1)")
        let nested = try #require(loadError("spec:\n  http:\n  - weight: 1\n    route: x\n    weight: 2\n"))
        #expect(nested.description == "f.yaml:5:5: duplicate key \"weight\" (first at line 3, column 5)")
        let flow = try #require(loadError("m: {x: 1, y: 2, x: 3}\n"))
        #expect(flow.description == "f.yaml:1:17: duplicate key \"x\" (first at line 1, column 5)")
        // Keys are compared after they became strings: 1 and "1" are the same JSON member.
        let converted = try #require(loadError("1: a\n\"1\": b\n"))
        #expect(converted.kind == .duplicateKey)
    }

    @Test("every problem in a stream is collected; documents with problems are left out")
    func collectingErrors() {
        let text = "a: 1\na: 2\n---\nok: true\n---\nb: .inf\nc: *missing\n"
        let (documents, errors) = YAML.loadCollectingErrors(Array(text.utf8), file: "s.yaml")
        #expect(documents.map(\.value) == [["ok": true]])
        #expect(
            errors.map(\.description) == [
                "s.yaml:2:1: duplicate key \"a\" (first at line 1, column 1)",
                "s.yaml:6:4: unsupported value .inf: JSON has no infinity or NaN (quote it to keep the text)",
                "s.yaml:7:4: alias *missing names no anchor defined before it",
            ])
    }

    @Test(
        "syntax errors carry libyaml's words and position",
        arguments: [
            ("a: b: c\n", "f.yaml:1:5: mapping values are not allowed in this context"),
            (
                "a: [1, 2\n",
                "f.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)"
            ),
            (
                "a:\n  - b\n  c: d\n",
                "f.yaml:3:3: did not find expected '-' indicator (while parsing a block collection at line 2, column 3)"
            ),
            (
                "key: \"unterminated\n",
                "f.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at line 1, column 6)"
            ),
            ("a: \u{01}\n", "f.yaml:1:4: control characters are not allowed"),
            ("é: x\nü: \u{01}\n", "f.yaml:2:4: control characters are not allowed"),
        ])
    func syntax(_ text: String, _ expected: String) throws {
        let error = try #require(loadError(text))
        #expect(error.kind == .syntax)
        #expect(error.description == expected)
    }

    @Test(
        "tabs in indentation say so",
        arguments: [
            ("a:\n\tb: 1\n", "2:1"), ("a:\n  b: 1\n\tc: 2\n", "3:1"), ("a: |\n  x\n\ty\n", "3:1"),
            ("- a\n\t- b\n", "2:1"),
            ("a:\n \tb: 1\n", "2:2"),
        ])
    func tabs(_ text: String, _ position: String) throws {
        let error = try #require(loadError(text))
        #expect(error.kind == .tabIndentation)
        #expect(error.description == "f.yaml:\(position): tab character in indentation (YAML indents with spaces only)")
    }

    @Test("tabs elsewhere are fine")
    func tabsInContent() throws {
        #expect(try YAML.loadValue("a: b\tc\nd: [1,\t2]\n") == ["a": "b\tc", "d": [1, 2]])
    }

    @Test(
        "invalid UTF-8 is found up front, with its position",
        arguments: [
            (Array("a: b\nc: ".utf8) + [0xFF, 0x0A], "f.yaml:2:4", "0xFF at offset 8"),
            (Array("é: ".utf8) + [0xC3, 0x28], "f.yaml:1:4", "0xC3 at offset 4"),
            (Array("a: ".utf8) + [0xED, 0xA0, 0x80], "f.yaml:1:4", "0xED at offset 3"),  // a UTF-16 surrogate
            (Array("a: ".utf8) + [0xC0, 0xAF], "f.yaml:1:4", "0xC0 at offset 3"),  // overlong "/"
            (Array("x\r\ny: ".utf8) + [0xF0, 0x9F, 0x98], "f.yaml:2:4", "0xF0 at offset 6"),  // truncated emoji
        ])
    func invalidUTF8(_ bytes: [UInt8], _ position: String, _ detail: String) throws {
        let error = try #require(loadError(bytes))
        #expect(error.kind == .invalidUTF8)
        #expect(error.description.hasPrefix("\(position): invalid UTF-8 (byte \(detail))"))
    }

    @Test("a UTF-8 byte order mark and non-ASCII text are fine")
    func unicode() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("name: café 😀\n".utf8)
        #expect(try YAML.loadValue(bytes) == ["name": "café 😀"])
    }

    @Test("nesting is bounded")
    func depth() throws {
        let deep = String(repeating: "[", count: 1_500) + String(repeating: "]", count: 1_500)
        let error = try #require(loadError(deep))
        #expect(error.kind == .tooDeep)
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(loadError(fine) == nil)
        // At the limit: read, and every consumer (JSON, YAML out, comparison) copes on this (cooperative) thread.
        let limit = YAMLLoadOptions().maxDepth
        let atLimit = "a: " + String(repeating: "[", count: limit - 1) + String(repeating: "]", count: limit - 1)
        let value = try YAML.loadValue(atLimit)
        #expect(value.jsonString.utf8.count == 6 + 2 * (limit - 1))
        #expect(!YAML.emit([value]).isEmpty)
        #expect(value == (try YAML.loadValue(atLimit)))
    }

    @Test("nesting deeper than maxNestingDepth (512) levels is an error at the collection that crosses it")
    func depthLimit() throws {
        #expect(YAMLLoadOptions.maxNestingDepth == 512)
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(loadError(fine) == nil)
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(loadError(deep)?.description == "f.yaml:1:513: nesting deeper than 512 levels")
        let block = (0..<513).map { String(repeating: "  ", count: $0) + "k:\n" }.joined()
        #expect(loadError(block)?.description == "f.yaml:513:1025: nesting deeper than 512 levels")
    }

    @Test("the source map finds nodes and keys by path")
    func sourceMap() throws {
        let text = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 90
                - destination:
                    host: reviews
                  weight: 10
            """
        let document = try #require(try YAML.load(text, file: "vs.yaml").first)
        let map = document.sourceMap
        #expect(map.location(of: [])?.description == "vs.yaml:1:1")
        #expect(map.location(of: ["metadata", "name"])?.description == "vs.yaml:4:9")
        #expect(map.location(of: ["spec", "hosts", 0])?.description == "vs.yaml:6:11")
        #expect(map.location(of: ["spec", "http", 0, "route", 0, "weight"])?.description == "vs.yaml:10:15")
        #expect(
            map.location(of: ["spec", "http", 0, "route", 0, "destination", "subset"])?.description == "vs.yaml:9:44")
        #expect(
            map.location(of: ["spec", "http", 0, "route", 1, "destination", "host"])?.description == "vs.yaml:12:15")
        #expect(map.keyLocation(of: ["spec", "http", 0, "route", 1, "weight"])?.description == "vs.yaml:13:7")
        #expect(map.location(of: ["spec", "nothing"]) == nil)
        #expect(map.location(of: ["spec", "http", 3]) == nil)
        #expect(map.nearestLocation(of: ["spec", "http", 0, "missing", "deeper"]).description == "vs.yaml:8:5")
        #expect(document.location(at: ["metadata"]).description == "vs.yaml:4:3")
    }

    @Test("paths into aliases stop at the alias")
    func sourceMapAlias() throws {
        let document = try #require(try YAML.load("a: &a {x: {q: 1}}\nb: *a\n", file: "al.yaml").first)
        #expect(document.sourceMap.location(of: ["b", "x"]) == nil)
        #expect(document.location(at: ["b", "x", "q"]).description == "al.yaml:2:4")
        #expect(document.location(at: ["a", "x", "q"]).description == "al.yaml:1:15")
    }

    @Test("errors print compiler style and sort by position")
    func errorDescription() {
        let a = YAMLError(.syntax, at: SourceLocation(file: "a.yaml", line: 3, column: 1), "x")
        let b = YAMLError(.syntax, at: SourceLocation(file: "a.yaml", line: 10, column: 1), "x")
        #expect(a.description == "a.yaml:3:1: x")
        #expect([b, a].sorted() == [a, b])
    }
}
