/// Byte offsets and line:column positions in a UTF-8 text, as libyaml counts them: lines break at LF, CR, CRLF
/// (and NEL, LS, PS), columns count characters (Unicode scalars), both from 1. Only error paths use these.
enum TextPosition {
    /// The 1-based line and column of a byte offset.
    static func lineColumn(ofOffset offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let width = breakWidth(at: index, in: bytes)
            if width > 0 {
                line += 1
                column = 1
                index += width
                continue
            }
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return (line, column)
    }

    /// The byte offset of a 0-based libyaml line and column, or nil past the end.
    static func offset(line: Int, column: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        var currentLine = 0
        while currentLine < line {
            guard index < bytes.count else { return nil }
            let width = breakWidth(at: index, in: bytes)
            if width > 0 {
                currentLine += 1
                index += width
            } else {
                index += 1
            }
        }
        var characters = 0
        while index < bytes.count {
            if bytes[index] & 0xC0 != 0x80 {
                if characters == column { return index }
                characters += 1
            }
            index += 1
        }
        return nil
    }

    /// The width in bytes of a line break starting at `index`, or 0.
    private static func breakWidth(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        switch bytes[index] {
        case 0x0A: return 1
        case 0x0D: return index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
        case 0xC2: return index + 1 < bytes.count && bytes[index + 1] == 0x85 ? 2 : 0
        case 0xE2:
            guard index + 2 < bytes.count, bytes[index + 1] == 0x80 else { return 0 }
            return bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 ? 3 : 0
        default: return 0
        }
    }

    /// The offset of the first byte that is not part of well-formed UTF-8 (no overlongs, no surrogates, nothing
    /// above U+10FFFF), or nil when all of it is. ASCII runs are checked eight bytes at a time.
    static func firstInvalidUTF8(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index < count {
            if index + 8 <= count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            let second = bytes[index + 1]
            guard second >= low && second <= high else { return index }
            for k in 2..<length where bytes[index + k] & 0xC0 != 0x80 { return index }
            index += length
        }
        return nil
    }
}
