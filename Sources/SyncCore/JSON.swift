import OrderedCollections

/// Why a JSON text could not be read, with the byte offset where reading stopped.
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong.
    public var message: String
    /// Byte offset into the input.
    public var offset: Int

    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

extension Value {
    /// Reads one JSON text (RFC 8259) into a value, keeping member order.
    ///
    /// Numbers without a fraction or exponent become `.int` (or `.uint` above `Int64.max`), others `.double`,
    /// as Kubernetes' unstructured decoder does. Duplicate member names keep the last, as Go's decoder does.
    /// Arrays and objects nested deeper than 512 levels are an error at the byte where the limit is crossed.
    public init(json bytes: some Collection<UInt8>) throws(JSONError) {
        let array = Array(bytes)
        var reader = JSONReader(bytes: array)
        self = try reader.readDocument()
    }

    /// Reads one JSON text from a string.
    public init(json text: String) throws(JSONError) {
        try self.init(json: Array(text.utf8))
    }

    /// Compact JSON, members in stored order. Floats print as Go's `encoding/json` prints them.
    public var jsonString: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// Indented JSON (two spaces), for people to read.
    public var prettyJSONString: String {
        var out: [UInt8] = []
        writeJSON(into: &out, indent: Array("  ".utf8), level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact JSON as UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writeJSON(into: &out, indent: nil, level: 0)
        return out
    }

    /// Writes the value as JSON bytes (written into a byte buffer, not a String: appending to a String checks and
    /// counts each piece, several times slower on large objects).
    func writeJSON(into out: inout [UInt8], indent: [UInt8]?, level: Int) {
        func newline(_ indent: [UInt8], _ level: Int) {
            out.append(0x0A)
            for _ in 0..<level { out.append(contentsOf: indent) }
        }
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .uint(let u): out.append(contentsOf: String(u).utf8)
        case .double(let d): out.append(contentsOf: Value.goFloatString(d).utf8)
        case .string(let s): Value.writeJSONString(s, into: &out)
        case .array(let elements):
            if elements.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                if let indent { newline(indent, level + 1) }
                element.writeJSON(into: &out, indent: indent, level: level + 1)
            }
            if let indent { newline(indent, level) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if let indent { newline(indent, level + 1) }
                Value.writeJSONString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                value.writeJSON(into: &out, indent: indent, level: level + 1)
            }
            if let indent { newline(indent, level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes a JSON string literal, escaping as Go's encoder does (control characters, quote, backslash); runs of
    /// bytes that need no escape are copied at once.
    static func writeJSONString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var text = s
        text.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                if start < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index])) }
                start = index + 1
                out.append(0x5C)
                switch byte {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: "u00".utf8)
                    out.append(Hex.digits[Int(byte >> 4)])
                    out.append(Hex.digits[Int(byte & 0x0F)])
                }
            }
            if start < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count])) }
        }
        out.append(0x22)
    }

    /// Formats a float as Go's `encoding/json` does: shortest round-trip digits, no exponent in [1e-6, 1e21).
    public static func goFloatString(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "null" }  // callers reject these earlier; JSON has no spelling
        if d == d.rounded(), abs(d) < 1e21 {
            if abs(d) < 9.0e18 { return String(Int64(d)) }
        }
        let absolute = abs(d)
        var text = "\(d)"  // Swift prints the shortest round-trip digits
        if absolute >= 1e-6 && absolute < 1e21 {
            if text.contains("e") { text = expandExponent(text) }
            if text.hasSuffix(".0") { text.removeLast(2) }
            return text
        }
        // Exponent form: Go writes e.g. 1e+21, 1.5e-07.
        guard let eIndex = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
        var mantissa = String(text[..<eIndex])
        var exponent = String(text[text.index(after: eIndex)...])
        if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
        var sign = "+"
        if exponent.hasPrefix("-") {
            sign = "-"
            exponent.removeFirst()
        } else if exponent.hasPrefix("+") {
            exponent.removeFirst()
        }
        if exponent.count < 2 { exponent = "0" + exponent }
        return mantissa + "e" + sign + exponent
    }

    /// Turns "1.5e+20" into "150000000000000000000".
    private static func expandExponent(_ text: String) -> String {
        guard let eIndex = text.firstIndex(where: { $0 == "e" || $0 == "E" }),
            let exponent = Int(text[text.index(after: eIndex)...])
        else { return text }
        var mantissa = String(text[..<eIndex])
        var negative = false
        if mantissa.hasPrefix("-") {
            negative = true
            mantissa.removeFirst()
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0])
        var pointPosition = digits.count
        if parts.count > 1 { digits += parts[1] }
        pointPosition += exponent
        var result: String
        if pointPosition <= 0 {
            result = "0." + String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            result = digits + String(repeating: "0", count: pointPosition - digits.count)
        } else {
            let index = digits.index(digits.startIndex, offsetBy: pointPosition)
            result = String(digits[..<index]) + "." + String(digits[index...])
        }
        if result.contains(".") {
            while result.hasSuffix("0") { result.removeLast() }
            if result.hasSuffix(".") { result.removeLast() }
        }
        return (negative ? "-" : "") + result
    }
}

/// A small recursive-descent JSON reader over bytes.
struct JSONReader {
    let bytes: [UInt8]
    var index = 0
    var depth = 0
    /// How deeply arrays and objects may nest. Reading, printing, comparing and freeing a value all recurse once per
    /// level, so a deeper text would overflow the stack (10,000 levels did under AddressSanitizer); Kubernetes objects
    /// nest a few dozen levels. KubeYAML's loader has the same bound.
    static let maxNestingDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func readDocument() throws(JSONError) -> Value {
        skipWhitespace()
        let value = try readValue()
        skipWhitespace()
        if index != bytes.count { throw JSONError(message: "unexpected data after the value", offset: index) }
        return value
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func readValue() throws(JSONError) -> Value {
        guard index < bytes.count else { throw JSONError(message: "unexpected end of input", offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try readObject()
        case UInt8(ascii: "["): return try readArray()
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default:
            throw JSONError(message: "unexpected character '\(Character(Unicode.Scalar(bytes[index])))'", offset: index)
        }
    }

    mutating func expect(_ word: String) throws(JSONError) {
        for byte in word.utf8 {
            guard index < bytes.count, bytes[index] == byte else {
                throw JSONError(message: "expected '\(word)'", offset: index)
            }
            index += 1
        }
    }

    mutating func enter() throws(JSONError) {
        depth += 1
        if depth > JSONReader.maxNestingDepth {
            throw JSONError(message: "nesting deeper than \(JSONReader.maxNestingDepth) levels", offset: index)
        }
    }

    mutating func readObject() throws(JSONError) -> Value {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members = OrderedDictionary<String, Value>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw JSONError(message: "expected a member name", offset: index)
            }
            let key = try readString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw JSONError(message: "expected ':' after member name", offset: index)
            }
            index += 1
            skipWhitespace()
            members[key] = try readValue()
            skipWhitespace()
            guard index < bytes.count else { throw JSONError(message: "unexpected end of input", offset: index) }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            throw JSONError(message: "expected ',' or '}'", offset: index)
        }
    }

    mutating func readArray() throws(JSONError) -> Value {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [Value] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue())
            skipWhitespace()
            guard index < bytes.count else { throw JSONError(message: "unexpected end of input", offset: index) }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw JSONError(message: "expected ',' or ']'", offset: index)
        }
    }

    mutating func readString() throws(JSONError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw JSONError(message: "control character in string", offset: index) }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            }
            if byte < 0x20 { throw JSONError(message: "control character in string", offset: index) }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append(0x22)
            case UInt8(ascii: "\\"): scalars.append(0x5C)
            case UInt8(ascii: "/"): scalars.append(0x2F)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try readHex4()
                if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                {
                    index += 2
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        code = 0xFFFD
                    }
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw JSONError(message: "invalid escape", offset: index - 1)
            }
        }
        throw JSONError(message: "unterminated string", offset: index)
    }

    mutating func readHex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw JSONError(message: "short \\u escape", offset: index) }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw JSONError(message: "invalid \\u escape", offset: index)
            }
            code = code * 16 + digit
            index += 1
        }
        return code
    }

    mutating func readNumber() throws(JSONError) -> Value {
        let start = index
        var isFloat = false
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                index += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            {
                isFloat = true
                index += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if !isFloat {
            if let i = Int64(text) { return .int(i) }
            if let u = UInt64(text) { return .uint(u) }
        }
        guard let d = Double(text), d.isFinite else {
            throw JSONError(message: "invalid number '\(text)'", offset: start)
        }
        return .double(d)
    }
}
