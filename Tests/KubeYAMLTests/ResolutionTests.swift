import KubeYAML
import SyncCore
import Testing

/// The value of `v:` in a one-line document.
func resolved(_ scalar: String) throws -> Value? {
    try YAML.loadValue("v: \(scalar)\n")["v"]
}

@Suite("Scalar resolution (sigs.k8s.io/yaml rules)")
struct ResolutionTests {
    @Test("null: empty, ~, null, Null, NULL", arguments: ["", "~", "null", "Null", "NULL"])
    func null(_ text: String) throws {
        #expect(try resolved(text) == .null)
    }

    @Test(
        "YAML 1.1 true",
        arguments: ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
    func trueWords(_ text: String) throws {
        #expect(try resolved(text) == .bool(true))
    }

    @Test(
        "YAML 1.1 false",
        arguments: ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
    func falseWords(_ text: String) throws {
        #expect(try resolved(text) == .bool(false))
    }

    @Test(
        "other spellings of the words stay strings",
        arguments: ["yEs", "tRUE", "NuLL", "nul", "o", "Nope", "onn", "TRUE1", "~~", "<<", "NaN", "Infinity"])
    func nearWords(_ text: String) throws {
        #expect(try resolved(text) == .string(text))
    }

    @Test(
        "integers: Go ParseInt(s, 0, 64) after removing underscores",
        arguments: [
            ("0", 0), ("42", 42), ("-17", -17), ("+5", 5), ("1_000", 1000), ("1_", 1), ("0x1F", 31), ("0X1f", 31),
            ("-0x10", -16), ("0o17", 15), ("0O17", 15), ("0b101", 5), ("-0b101", -5), ("0777", 511), ("00", 0),
            ("-0", 0), ("0x_1f", 31), ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
            ("0b-1", -1),  // go-yaml v2's own base-2 fallback parses what follows "0b" with a sign
        ] as [(String, Int64)])
    func integers(_ text: String, _ expected: Int64) throws {
        #expect(try resolved(text) == .int(expected))
    }

    @Test(
        "unsigned: ParseUint when ParseInt overflows",
        arguments: [("18446744073709551615", UInt64.max), ("9223372036854775808", 9_223_372_036_854_775_808)]
            as [(String, UInt64)])
    func unsigned(_ text: String, _ expected: UInt64) throws {
        #expect(try resolved(text) == .uint(expected))
    }

    @Test(
        "floats: go-yaml's float pattern, finite",
        arguments: [
            ("08", 8.0), ("09.5", 9.5), ("1e3", 1000.0), ("1E3", 1000.0), ("1.5", 1.5), ("-1.5", -1.5), ("3.0", 3.0),
            ("1.", 1.0), (".5", 0.5), ("-.5", -0.5), ("+1.5e-3", 0.0015), ("1_000.5", 1000.5), ("1e-400", 0),
            ("123456789012345678901234567890", 1.2345678901234568e29), ("-9223372036854775809", -9.223372036854776e18),
            ("18446744073709551616", 1.8446744073709552e19), ("+18446744073709551615", 1.8446744073709552e19),
        ] as [(String, Double)])
    func floats(_ text: String, _ expected: Double) throws {
        #expect(try resolved(text) == .double(expected))
    }

    @Test(
        "everything else is a string",
        arguments: [
            "1e999", ".5_0", "0x", "0xG", "0b", "0o", "1.2.3", "-x", "+", "--", "1e", "e3", "_1", "12:30", "1-2", "v1",
            "2001-12-14", "2001-12-14T21:59:43.10-05:00", "2001-12-14 21:59:43.10", "0x1p3", "1,000", "hello world",
            "/usr/bin", "http://x", "*.example.com",
        ])
    func strings(_ text: String) throws {
        #expect(try resolved(text == "*.example.com" ? "\"\(text)\"" : text) == .string(text))
    }

    @Test(
        "quoted and block scalars are strings",
        arguments: [
            ("'yes'", "yes"), ("\"0777\"", "0777"), ("'~'", "~"), ("''", ""), ("\"1.0\"", "1.0"), ("\"null\"", "null"),
            ("'.inf'", ".inf"), ("|-\n  123", "123"), (">\n  true\n", "true\n"),
        ])
    func quoted(_ text: String, _ expected: String) throws {
        #expect(try resolved(text) == .string(expected))
    }

    @Test(
        "tags",
        arguments: [
            ("!!str 123", .string("123")), ("!!str true", .string("true")), ("!!int \"42\"", .int(42)),
            ("!!int 0x10", .int(16)), ("!!float 3", .double(3)), ("!!float '2.5'", .double(2.5)),
            ("!!bool yes", .bool(true)), ("!!bool \"false\"", .bool(false)), ("!!null ''", .null), ("!!null ~", .null),
            ("!!binary aGVsbG8=", .string("aGVsbG8=")), ("!!timestamp 2001-12-14", .string("2001-12-14")),
            ("! 12", .string("12")), ("!custom 12", .string("12")),
            ("!<tag:yaml.org,2002:int> '7'", .int(7)),
        ] as [(String, Value)])
    func tags(_ text: String, _ expected: Value) throws {
        #expect(try resolved(text) == expected)
    }

    @Test(
        "a tag that does not fit its text is an error",
        arguments: ["!!int 1.5", "!!int abc", "!!bool 1", "!!null x", "!!float abc"])
    func tagMismatch(_ text: String) {
        #expect {
            try YAML.load("v: \(text)\n", file: "t.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.kind == .unsupportedValue && error.location.description == "t.yaml:1:4"
        }
    }

    @Test(
        ".inf and .nan are errors: JSON cannot carry them",
        arguments: [
            ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",
        ])
    func nonFinite(_ text: String) {
        #expect {
            try YAML.load("a:\n  b: \(text)\n", file: "f.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.kind == .unsupportedValue
                && error.description.hasPrefix("f.yaml:2:6: unsupported value \(text)")
        }
    }

    @Test(
        "mapping keys become strings as sigs.k8s.io/yaml makes them",
        arguments: [
            ("true", "true"), ("yes", "true"), ("on", "true"), ("No", "false"), ("1", "1"), ("0x1F", "31"),
            ("0777", "511"), ("1.5", "1.5"), ("1e6", "1e+06"), ("0.1", "0.1"), ("1e3", "1000"), ("0.00001", "1e-05"),
            ("3.14159265358979", "3.1415927"), ("'1'", "1"), ("\"yes\"", "yes"), ("-2", "-2"), ("08", "8"),
            ("123456.0", "123456"), ("1234567.0", "1.234567e+06"), ("0.0001", "0.0001"), ("-0.5", "-0.5"),
        ])
    func keys(_ key: String, _ expected: String) throws {
        let value = try YAML.loadValue("\(key): x\n")
        #expect(value.objectValue?.keys.elementsEqual([expected]) == true, "\(value)")
    }

    @Test(
        "null, huge-integer and collection keys are errors",
        arguments: ["~", "null", "18446744073709551615", "[a, b]", "{a: 1}"])
    func unsupportedKeys(_ key: String) {
        #expect {
            try YAML.load("ok: 1\n\(key): x\n", file: "k.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.kind == .unsupportedKey && error.location.description == "k.yaml:2:1"
        }
    }
}

/// A scalar that does not fit its explicit tag is an error at its position that never shows the scalar: it may be a
/// secret.
@Suite struct SecretScalarTests {
    @Test(arguments: ["!!int hunter2", "!!float s3cr3t-token", "!!bool correct-horse", "!!null pa55word"])
    func aMistaggedScalarIsRefusedWithoutItsText(scalar: String) {
        let secret = String(scalar.split(separator: " ")[1])
        #expect {
            try YAML.loadValue("user: admin\npassword: \(scalar)\n", file: "secret.yaml")
        } throws: { error in
            let text = "\(error)"
            return !text.contains(secret) && text.contains("secret.yaml:2:11")
                && text.contains("(its text is not shown: it may be a secret)")
        }
    }
}
