import SyncCore

/// How Kubernetes reads a scalar: go-yaml v2's `resolve` (YAML 1.1) followed by sigs.k8s.io/yaml's JSON conversion.
///
/// Plain (unquoted) scalars, tried in this order:
/// 1. **null**: empty, `~`, `null`, `Null`, `NULL`.
/// 2. **bool** (YAML 1.1): `y Y yes Yes YES on On ON true True TRUE` → true;
///    `n N no No NO off Off OFF false False FALSE` → false. Other spellings (`yEs`, `TRue`) are strings.
/// 3. **non-finite floats** `.inf .Inf .INF +.inf … -.inf … .nan .NaN .NAN` are an error: JSON cannot carry them
///    (kubectl fails the same way).
/// 4. Text starting with a digit, `+` or `-`: underscores are removed, then
///    - Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0X` hex, `0o`/`0O` octal, `0b`/`0B` binary,
///      a leading `0` means octal (`0777` = 511) → `.int`;
///    - else `ParseUint(s, 0, 64)` (`18446744073709551615`) → `.uint`;
///    - else, if it matches `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` and is finite as a float64
///      (`08` → 8.0, `1e3` → 1000.0, `123456789012345678901234567890` → 1.2345678901234568e29) → `.double`;
///    - else go-yaml's old binary fallback: `0b…` / `-0b…` parsed in base 2;
///    - else a string (`1e999` overflows, so it stays the string "1e999", as in go-yaml).
/// 5. Text starting with `.` that is a float (`.5`, `.5e3`, no underscores) → `.double`.
/// 6. Everything else is a string, timestamps (`2001-12-14`) included: go-yaml hands them to `interface{}` as strings.
///
/// Quoted and block scalars are always strings. Tags: `!!str`, `!!binary` (the base64 text is kept as written,
/// which is what a Secret's `data` wants), `!!timestamp`, `!` and unknown local tags (`!Ref x`) give strings;
/// `!!int`, `!!float`, `!!bool`, `!!null` resolve the text by the rules above whatever its quoting and fail when
/// it is not of that type, except that `!!float` accepts an integer and makes it a float (`!!float 3` → 3.0).
/// Mapping keys follow ``keyString(_:)``.
enum ScalarResolver {
    static let strTag = "tag:yaml.org,2002:str"
    static let intTag = "tag:yaml.org,2002:int"
    static let floatTag = "tag:yaml.org,2002:float"
    static let boolTag = "tag:yaml.org,2002:bool"
    static let nullTag = "tag:yaml.org,2002:null"
    static let binaryTag = "tag:yaml.org,2002:binary"
    static let timestampTag = "tag:yaml.org,2002:timestamp"
    static let mergeTag = "tag:yaml.org,2002:merge"

    /// The result of reading a plain scalar.
    enum Resolution: Equatable {
        case value(Value)
        /// `.inf`, `.nan` and their spellings: not representable in JSON.
        case nonFinite
    }

    /// Reads a plain scalar's text by Kubernetes' rules (see the type's documentation).
    static func resolve(plain text: String) -> Resolution {
        guard let first = text.utf8.first else { return .value(.null) }
        switch first {
        case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "y"), UInt8(ascii: "Y"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"),
            UInt8(ascii: "O"):
            return .value(word(text) ?? .string(text))
        case UInt8(ascii: "."):
            if isNonFinite(text) { return .nonFinite }
            if isYAMLFloat(text.utf8), let d = Double(text), d.isFinite { return .value(.double(d)) }
            return .value(.string(text))
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if isNonFinite(text) { return .nonFinite }
            return .value(number(text) ?? .string(text))
        default:
            return .value(.string(text))
        }
    }

    /// The YAML 1.1 words for null and Booleans.
    private static func word(_ text: String) -> Value? {
        // Most keys and values starting with these letters are ordinary words ("name", "type", "object"): look only
        // at the few spellings that share the first letter, and only when the length fits (at most five bytes).
        guard text.utf8.count <= 5, let first = text.utf8.first else { return nil }
        switch first {
        case UInt8(ascii: "~"): return text == "~" ? .null : nil
        case UInt8(ascii: "n"): return text == "n" || text == "no" ? .bool(false) : text == "null" ? .null : nil
        case UInt8(ascii: "N"):
            if text == "N" || text == "No" || text == "NO" { return .bool(false) }
            return text == "Null" || text == "NULL" ? .null : nil
        case UInt8(ascii: "y"): return text == "y" || text == "yes" ? .bool(true) : nil
        case UInt8(ascii: "Y"): return text == "Y" || text == "Yes" || text == "YES" ? .bool(true) : nil
        case UInt8(ascii: "t"): return text == "true" ? .bool(true) : nil
        case UInt8(ascii: "T"): return text == "True" || text == "TRUE" ? .bool(true) : nil
        case UInt8(ascii: "f"): return text == "false" ? .bool(false) : nil
        case UInt8(ascii: "F"): return text == "False" || text == "FALSE" ? .bool(false) : nil
        case UInt8(ascii: "o"): return text == "on" ? .bool(true) : text == "off" ? .bool(false) : nil
        case UInt8(ascii: "O"):
            if text == "On" || text == "ON" { return .bool(true) }
            return text == "Off" || text == "OFF" ? .bool(false) : nil
        default: return nil
        }
    }

    private static func isNonFinite(_ text: String) -> Bool {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            return true
        default:
            return false
        }
    }

    /// Step 4 of the rules: integer, unsigned, float or nil (a string).
    private static func number(_ text: String) -> Value? {
        var text = text
        return text.withUTF8 { bytes in
            if bytes.contains(UInt8(ascii: "_")) {
                return number(plain: bytes.filter { $0 != UInt8(ascii: "_") }[...])
            }
            return number(plain: bytes[...])
        }
    }

    /// Step 4 on the text without underscores.
    private static func number<Bytes: Collection<UInt8>>(plain: Bytes) -> Value? where Bytes.SubSequence == Bytes {
        if let i = parseInt(plain, base: 0) { return .int(i) }
        if let u = parseUint(plain, base: 0) { return .uint(u) }
        if isYAMLFloat(plain), let d = Double(String(decoding: plain, as: UTF8.self)), d.isFinite {
            return .double(d)
        }
        // go-yaml v2 predates ParseInt's 0b prefix and keeps its own: base 2 on what follows "0b".
        if plain.starts(with: "0b".utf8) {
            if let i = parseInt(plain.dropFirst(2), base: 2) { return .int(i) }
            if let u = parseUint(plain.dropFirst(2), base: 2) { return .uint(u) }
        } else if plain.starts(with: "-0b".utf8) {
            if let i = parseInt(([UInt8(ascii: "-")] + plain.dropFirst(3))[...], base: 2) { return .int(i) }
        }
        return nil
    }

    /// Go's `strconv.ParseInt(s, base, 64)`, without underscores: nil on a syntax or range error.
    static func parseInt<Bytes: Collection<UInt8>>(_ s: Bytes, base: Int) -> Int64? where Bytes.SubSequence == Bytes {
        guard let first = s.first else { return nil }
        var digits = s
        var negative = false
        if first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            digits = s.dropFirst()
        }
        guard let magnitude = parseUint(digits, base: base) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Go's `strconv.ParseUint(s, base, 64)`: base 0 reads the prefix (`0x`, `0o`, `0b`, a lone leading `0` is
    /// octal), no sign allowed; nil on a syntax or range error.
    static func parseUint<Bytes: Collection<UInt8>>(_ s: Bytes, base: Int) -> UInt64? where Bytes.SubSequence == Bytes {
        guard !s.isEmpty else { return nil }
        var radix = UInt64(base)
        var digits = s
        if base == 0 {
            radix = 10
            if s.first == UInt8(ascii: "0") {
                let second = s.count >= 3 ? s[s.index(after: s.startIndex)] | 0x20 : 0
                switch second {
                case UInt8(ascii: "b"): radix = 2; digits = s.dropFirst(2)
                case UInt8(ascii: "o"): radix = 8; digits = s.dropFirst(2)
                case UInt8(ascii: "x"): radix = 16; digits = s.dropFirst(2)
                default: radix = 8; digits = s.dropFirst(1)
                }
            }
        }
        var n: UInt64 = 0
        for byte in digits {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < radix else { return nil }
            let (product, overflow1) = n.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = product.addingReportingOverflow(digit)
            guard !overflow1 && !overflow2 else { return nil }
            n = sum
        }
        return n
    }

    /// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
    static func isYAMLFloat(_ s: some Sequence<UInt8>) -> Bool {
        var bytes = s.makeIterator()
        var current = bytes.next()
        func takeDigits() -> Int {
            var count = 0
            while let c = current, c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                count += 1
                current = bytes.next()
            }
            return count
        }
        if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { current = bytes.next() }
        if current == UInt8(ascii: ".") {
            current = bytes.next()
            guard takeDigits() > 0 else { return false }
        } else {
            guard takeDigits() > 0 else { return false }
            if current == UInt8(ascii: ".") {
                current = bytes.next()
                _ = takeDigits()
            }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            current = bytes.next()
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { current = bytes.next() }
            guard takeDigits() > 0 else { return false }
        }
        return current == nil
    }

    /// The string a mapping key becomes, as sigs.k8s.io/yaml's `convertToJSONableObject` makes it; nil when it
    /// cannot (null, `.uint`, sequences, mappings: "unsupported map key").
    ///
    /// Strings stay; integers print in decimal (`0x1F:` → "31"); Booleans print as `true`/`false` (so `on:` and
    /// `yes:` become "true"); floats print as Go's `FormatFloat(f, 'g', -1, 32)` does (`1.5:` → "1.5",
    /// `1e6:` → "1e+06").
    static func keyString(_ key: Value) -> String? {
        switch key {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .double(let d): return goFloat32G(d)
        case .null, .uint, .array, .object: return nil
        }
    }

    /// Go's `strconv.FormatFloat(d, 'g', -1, 32)`, with go-yaml's spellings of the non-finite values.
    static func goFloat32G(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        let f = Float(d)
        if f.isInfinite { return f < 0 ? "-.inf" : ".inf" }
        if f == 0 { return f.sign == .minus ? "-0" : "0" }
        // Swift prints the shortest digits that read back as the same Float; take digits and exponent from it.
        var text = "\(f.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integer = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = integer + fraction
        var point = integer.count + exponent  // decimal point position, counted from the left of `digits`
        while digits.hasPrefix("0") {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        let sign = f < 0 ? "-" : ""
        let x = point - 1
        if x < -4 || x >= 6 {
            var mantissa = String(digits.prefix(1))
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let magnitude = abs(x)
            return sign + mantissa + (x < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let split = digits.index(digits.startIndex, offsetBy: point)
        return sign + digits[..<split] + "." + digits[split...]
    }
}
