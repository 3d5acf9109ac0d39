/// FNV-1a over bytes (64 bits): the same in every process and build, unlike Swift's `Hasher` (seeded per process),
/// for the names of files and folders and for what a file keeps.
public struct StableHash: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    public mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte) }
    }

    /// The hash of `text`'s UTF-8 bytes.
    public static func of(_ text: String) -> UInt64 {
        var hash = StableHash()
        hash.combine(text)
        return hash.value
    }
}

/// Lowercase hexadecimal digits, both ways.
public enum Hex {
    /// The digits, by value.
    public static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The value of a lowercase hex digit; nil for any other byte.
    public static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Writes the low `count` digits of `word`, most significant first, into `buffer` from `start`.
    public static func write(
        _ word: UInt64, digits count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int
    ) {
        for position in 0..<count {
            buffer[start + position] = digits[Int((word >> UInt64(4 * (count - 1 - position))) & 0xf)]
        }
    }
}
