import SyncCore

/// A uid or a resourceVersion as the API server hands it out: opaque text to the client, kept without a heap block
/// of its own in the forms servers use (a UUID, a decimal number), so that caches of thousands of objects do not
/// hold thousands of small strings. `description` is exactly the text it was made from, and two are equal exactly
/// when their texts are.
public struct OpaqueID: Sendable, Hashable, CustomStringConvertible {
    private enum Form: Sendable, Hashable {
        /// A lowercase UUID (`8-4-4-4-12` hex digits), its 128 bits.
        case uuid(UInt64, UInt64)
        /// A decimal number without leading zeros (or `0`).
        case number(UInt64)
        /// Any other text.
        case text(String)
    }

    private let form: Form

    public init(_ text: String) {
        var text = text
        form = text.withUTF8 { bytes in Self.uuid(bytes) ?? Self.number(bytes) } ?? .text(text)
    }

    public var isEmpty: Bool {
        if case .text(let text) = form { return text.isEmpty }
        return false
    }

    public var description: String {
        switch form {
        case .text(let text):
            return text
        case .number(let number):
            return String(number)
        case .uuid(let high, let low):
            // 8-4-4-4-12 digits: the high word's 16, then the low word's.
            return String(unsafeUninitializedCapacity: 36) { buffer in
                Hex.write(high >> 32, digits: 8, into: buffer, at: 0)
                Hex.write(high >> 16, digits: 4, into: buffer, at: 9)
                Hex.write(high, digits: 4, into: buffer, at: 14)
                Hex.write(low >> 48, digits: 4, into: buffer, at: 19)
                Hex.write(low, digits: 12, into: buffer, at: 24)
                (buffer[8], buffer[13], buffer[18], buffer[23]) = (0x2D, 0x2D, 0x2D, 0x2D)  // "-"
                return 36
            }
        }
    }

    private static func uuid(_ bytes: UnsafeBufferPointer<UInt8>) -> Form? {
        guard bytes.count == 36 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        var digit = 0
        for (at, byte) in bytes.enumerated() {
            if at == 8 || at == 13 || at == 18 || at == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let value = Hex.value(byte) else { return nil }
            if digit < 16 {
                words.0 = words.0 << 4 | UInt64(value)
            } else {
                words.1 = words.1 << 4 | UInt64(value)
            }
            digit += 1
        }
        return .uuid(words.0, words.1)
    }

    private static func number(_ bytes: UnsafeBufferPointer<UInt8>) -> Form? {
        // At most 19 digits: every such number fits in 64 bits.
        guard (1...19).contains(bytes.count), bytes[0] != UInt8(ascii: "0") || bytes.count == 1 else { return nil }
        var number: UInt64 = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            number = number * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return .number(number)
    }
}
