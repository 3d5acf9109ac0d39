/// A bearer token, private key or password: bytes that must never reach a log, an error or a description.
///
/// Every way Swift prints a value (`description`, `debugDescription`, `dump`, string interpolation of an enclosing
/// struct through its mirror) shows `<redacted>`; only ``withBytes(_:)`` and ``text`` read the secret, and only
/// the transport calls them.
public struct SecretValue: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let bytes: [UInt8]

    /// Wraps raw bytes (a PEM key, say).
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Wraps text (a token, say).
    public init(_ text: String) { self.bytes = Array(text.utf8) }

    /// True when there is nothing in it.
    public var isEmpty: Bool { bytes.isEmpty }

    /// The secret as UTF-8 text, for an `Authorization` header.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Runs `body` with the raw bytes; they must not escape it.
    public func withBytes<T, E: Error>(_ body: ([UInt8]) throws(E) -> T) throws(E) -> T { try body(bytes) }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
