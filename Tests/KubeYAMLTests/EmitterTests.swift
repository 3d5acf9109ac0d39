import KubeYAML
import SyncCore
import Testing

@Suite("Writing YAML")
struct EmitterTests {
    @Test("block style, order kept, kubectl's sequence indentation")
    func shape() {
        let value: Value = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "reviews", "labels": ["app": "reviews"]],
            "spec": [
                "ports": [["port": 9080, "name": "http"]], "selector": ["app": "reviews"], "empty": [], "none": [:],
                "matrix": [[1, 2], []], "ratio": 0.5, "flag": false, "gone": nil,
            ],
        ]
        #expect(
            value.yamlString == """
                apiVersion: v1
                kind: Service
                metadata:
                  name: reviews
                  labels:
                    app: reviews
                spec:
                  ports:
                  - port: 9080
                    name: http
                  selector:
                    app: reviews
                  empty: []
                  none: {}
                  matrix:
                  - - 1
                    - 2
                  - []
                  ratio: 0.5
                  flag: false
                  gone: null

                """)
    }

    @Test(
        "strings that would read back as something else are quoted",
        arguments: [
            ("yes", "\"yes\""), ("No", "\"No\""), ("on", "\"on\""), ("y", "\"y\""), ("true", "\"true\""),
            ("0777", "\"0777\""), ("1.0", "\"1.0\""), ("1e3", "\"1e3\""), ("0x1F", "\"0x1F\""), ("", "\"\""),
            ("null", "\"null\""), ("~", "\"~\""), (".inf", "\".inf\""), ("12", "\"12\""), ("1_000", "\"1_000\""),
            (" lead", "\" lead\""), ("trail ", "\"trail \""), ("a: b", "\"a: b\""), ("a #b", "\"a #b\""),
            ("key:", "\"key:\""), ("-x", "\"-x\""), ("*x", "\"*x\""), ("&x", "\"&x\""), ("!x", "\"!x\""),
            ("{x", "\"{x\""), ("[x", "\"[x\""), ("'x", "\"'x\""), ("\"x", "\"\\\"x\""), ("%x", "\"%x\""),
            ("@x", "\"@x\""), ("`x", "\"`x\""), ("|x", "\"|x\""), (">x", "\">x\""), ("?x", "\"?x\""), ("#x", "\"#x\""),
            ("---", "\"---\""), ("...x", "\"...x\""), ("tab\there", "\"tab\\there\""), ("bell\u{07}", "\"bell\\x07\""),
            ("line\u{2028}sep", "\"line\\u2028sep\""), ("cr\r\nlf", "\"cr\\r\\nlf\""), ("back\\slash", "back\\slash"),
            ("plain text", "plain text"), ("a:b", "a:b"), ("a#b", "a#b"), ("café 😀", "café 😀"), ("v1.2.3", "v1.2.3"),
            ("2001-12-14", "2001-12-14"), ("/path/to", "/path/to"), ("http://x:80/y", "http://x:80/y"),
        ])
    func quoting(_ string: String, _ written: String) throws {
        let value: Value = ["k": .string(string)]
        #expect(value.yamlString == "k: \(written)\n")
        #expect(try YAML.loadValue(value.yamlString) == value)
    }

    @Test(
        "multi-line strings become literal blocks when they can",
        arguments: [
            ("one\ntwo\n", "k: |\n  one\n  two\n"),
            ("one\ntwo", "k: |-\n  one\n  two\n"),
            ("one\n\ntwo\n\n\n", "k: |+\n  one\n\n  two\n\n\n"),
            ("#!/bin/sh\n  indented: yes\n\tx\n", "k: |\n  #!/bin/sh\n    indented: yes\n  \tx\n"),
            ("  leading\nspace", "k: \"  leading\\nspace\""),
            ("\n", "k: \"\\n\""),
            ("\n\nafter blank", "k: |-\n\n\n  after blank\n"),
            ("bad\u{01}\nchar", "k: \"bad\\x01\\nchar\""),
        ])
    func literals(_ string: String, _ written: String) throws {
        let value: Value = ["k": .string(string)]
        #expect(value.yamlString == written + (written.hasSuffix("\n") ? "" : "\n"))
        #expect(try YAML.loadValue(value.yamlString) == value)
    }

    @Test("literal blocks inside sequences and nested mappings read back")
    func nestedLiterals() throws {
        let value: Value = ["a": ["x\ny\n", ["b": "p\nq", "c": ["deep\n"]]], "top": "t\n"]
        #expect(try YAML.loadValue(value.yamlString) == value)
    }

    @Test("keys are quoted like values; << and long keys too")
    func keys() throws {
        let long = String(repeating: "k", count: 1_500)
        let value: Value = [
            "yes": 1, "1": 2, "<<": 3, "": 4, "a: b": 5, "plain": 6, "multi\nline": 7, long: 8, "null": 9,
        ]
        let text = value.yamlString
        #expect(
            text.hasPrefix("\"yes\": 1\n\"1\": 2\n\"<<\": 3\n\"\": 4\n\"a: b\": 5\nplain: 6\n\"multi\\nline\": 7\n? \"")
        )
        #expect(try YAML.loadValue(text) == value)
    }

    @Test(
        "numbers keep their type",
        arguments: [
            .int(0), .int(-5), .int(Int64.max), .int(Int64.min), .uint(UInt64.max), .double(1.0), .double(-0.5),
            .double(1e21), .double(1e-7), .double(123456789.125), .double(.leastNonzeroMagnitude),
            .double(1.7976931348623157e308),
            .bool(true), .null,
        ] as [Value])
    func numbers(_ value: Value) throws {
        let document: Value = ["v": value]
        #expect(try YAML.loadValue(document.yamlString) == document, "\(document.yamlString)")
    }

    @Test("top-level scalars and sequences")
    func topLevel() throws {
        for value: Value in ["text", "yes", "multi\nline\n", 3, [1, ["a": 2]], [], [:]] {
            #expect(try YAML.loadValue(value.yamlString) == value, "\(value.yamlString)")
        }
    }

    @Test("several documents in one stream")
    func stream() throws {
        let values: [Value] = [["a": 1], ["b": ["c"]]]
        let text = YAML.emit(values)
        #expect(text == "---\na: 1\n---\nb:\n- c\n")
        #expect(try YAML.load(text).map(\.value) == values)
    }
}
