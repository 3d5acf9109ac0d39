import OrderedCollections
import SyncCore

extension Value {
    /// This value as a block-style YAML document that ``YAML/load(_:file:options:)`` reads back to the same value.
    ///
    /// Members keep their order; sequences under a key are not indented (kubectl's style); empty collections are
    /// `[]` and `{}`. A string is written plain only when it would read back as that same string: anything that
    /// would read as null, a Boolean or a number (`"yes"`, `"0777"`, `"1.0"`, `""`, `"null"`), or that has leading
    /// or trailing spaces, `: `, ` #`, an indicator first (`-`, `*`, `&`, `!`, `{`, `'`, `%`, …), a document
    /// marker, or a character YAML cannot write plain is double-quoted with escapes. Multi-line strings become
    /// literal blocks (`|`, `|-`, `|+` by their trailing newlines) when they can, quoted otherwise.
    /// Floats always show a point or an exponent so that they read back as floats. `.inf`/`.nan` are written
    /// as YAML spells them but do not read back (JSON and Kubernetes cannot carry them).
    public var yamlString: String {
        var writer = YAMLWriter()
        writer.document(self)
        return writer.out
    }
}

extension YAML {
    /// Several values as one YAML stream, each document after a `---` line.
    public static func emit(_ documents: [Value]) -> String {
        var writer = YAMLWriter()
        for document in documents {
            writer.out += "---\n"
            writer.document(document)
        }
        return writer.out
    }
}

/// Writes block-style YAML into a string.
struct YAMLWriter {
    var out = ""

    mutating func document(_ value: Value) {
        switch value {
        case .object(let members) where !members.isEmpty: mapping(members, indent: 0, continuing: false)
        case .array(let elements) where !elements.isEmpty: sequence(elements, indent: 0, continuing: false)
        default:
            scalar(value, indent: 2)  // a top-level literal block still needs indented lines
        }
    }

    /// Writes members at `indent`; `continuing` means the first line's prefix (`- `) is already written.
    private mutating func mapping(_ members: OrderedDictionary<String, Value>, indent: Int, continuing: Bool) {
        var first = true
        for (key, value) in members {
            if !first || !continuing { pad(indent) }
            first = false
            if key.unicodeScalars.count > 1000 {
                // libyaml allows at most 1024 characters in an implicit key; longer ones need `? key`.
                out += "? "
                Self.quoted(key, into: &out)
                out += "\n"
                pad(indent)
                out += ":"
            } else {
                Self.scalarText(key, into: &out)
                out += ":"
            }
            switch value {
            case .object(let nested) where !nested.isEmpty:
                out += "\n"
                mapping(nested, indent: indent + 2, continuing: false)
            case .array(let elements) where !elements.isEmpty:
                out += "\n"
                sequence(elements, indent: indent, continuing: false)
            default:
                out += " "
                scalar(value, indent: indent + 2)
            }
        }
    }

    private mutating func sequence(_ elements: [Value], indent: Int, continuing: Bool) {
        var first = true
        for element in elements {
            if !first || !continuing { pad(indent) }
            first = false
            out += "- "
            switch element {
            case .object(let members) where !members.isEmpty:
                mapping(members, indent: indent + 2, continuing: true)
            case .array(let nested) where !nested.isEmpty:
                sequence(nested, indent: indent + 2, continuing: true)
            default:
                scalar(element, indent: indent + 2)
            }
        }
    }

    /// A scalar (or empty collection) and its line break; block literals indent their lines by `indent`.
    private mutating func scalar(_ value: Value, indent: Int) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .double(let d):
            if d.isNaN {
                out += ".nan"
            } else if d.isInfinite {
                out += d < 0 ? "-.inf" : ".inf"
            } else {
                out += "\(d)"  // shortest round-trip digits, always with "." or "e"
            }
        case .string(let s):
            if s.contains("\n"), let chomping = Self.literalChomping(s) {
                literal(s, chomping: chomping, indent: indent)
                return
            }
            Self.scalarText(s, into: &out)
        case .array: out += "[]"
        case .object: out += "{}"
        }
        out += "\n"
    }

    private mutating func literal(_ s: String, chomping: String, indent: Int) {
        out += "|" + chomping + "\n"
        var lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        if s.hasSuffix("\n") { lines.removeLast() }  // the final break is the chomping indicator's business
        for line in lines {
            if !line.isEmpty {
                pad(indent)
                out += line
            }
            out += "\n"
        }
    }

    private mutating func pad(_ count: Int) {
        out += String(repeating: " ", count: count)
    }

    /// The chomping indicator for writing `s` as a literal block, or nil when a literal cannot hold it exactly.
    static func literalChomping(_ s: String) -> String? {
        var firstLineChecked = false
        var atLineStart = true
        for scalar in s.unicodeScalars {
            if scalar == "\n" {
                atLineStart = true
                continue
            }
            if !isPrintable(scalar) && scalar != "\t" { return nil }
            if atLineStart && !firstLineChecked {
                // Indentation is detected from the first non-empty line: it must not start with a blank.
                if scalar == " " || scalar == "\t" { return nil }
                firstLineChecked = true
            }
            atLineStart = false
        }
        guard firstLineChecked else { return nil }
        var trailing = 0
        for byte in s.utf8.reversed() {
            guard byte == UInt8(ascii: "\n") else { break }
            trailing += 1
        }
        switch trailing {
        case 0: return "-"
        case 1: return ""
        default: return "+"
        }
    }

    /// Writes a string plain when it reads back as itself, else double-quoted.
    static func scalarText(_ s: String, into out: inout String) {
        if isPlainSafe(s) {
            out += s
        } else {
            quoted(s, into: &out)
        }
    }

    /// True when `s` written plain (as a value or a key, in block context) reads back as the string `s`.
    static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        switch first {
        case "-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", " ":
            return false
        default: break
        }
        if last == " " || last == ":" { return false }
        if s == "<<" || s.hasPrefix("...") { return false }
        var previous: Unicode.Scalar = "\0"
        for scalar in s.unicodeScalars {
            if !isPrintable(scalar) || scalar == "\t" { return false }
            if scalar == " " && previous == ":" { return false }
            if scalar == "#" && previous == " " { return false }
            previous = scalar
        }
        return ScalarResolver.resolve(plain: s) == .value(.string(s))
    }

    /// YAML's printable characters, less those libyaml treats as line breaks or byte-order marks.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E: return true
        case 0xA0...0xD7FF: return scalar.value != 0x2028 && scalar.value != 0x2029
        case 0xE000...0xFFFD: return scalar.value != 0xFEFF
        case 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// A double-quoted scalar with YAML escapes.
    static func quoted(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value <= 0xFF {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value <= 0xFFFF {
                    out += "\\u" + hex(scalar.value, width: 4)
                } else {
                    out += "\\U" + hex(scalar.value, width: 8)
                }
            }
        }
        out += "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
