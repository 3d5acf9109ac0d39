/// Removes credentials from URLs before they reach a message or a log line.
public enum Redaction {
    /// `scheme://user:secret@host/...` → `scheme://user:***@host/...`; a token given as the whole user part
    /// (`https://TOKEN@host`) becomes `***`. Everything else is left as it is. Applied to every URL that appears
    /// anywhere in the text.
    public static func scrub(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            // The authority ends at the first '/', whitespace or quote.
            let authorityEnd =
                rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "'" || $0 == "\"" || $0 == "\n" })
                ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                if let colon = userinfo.firstIndex(of: ":") {
                    result += userinfo[..<colon] + ":***"
                } else if userinfo.count >= 20 {
                    result += "***"  // a long user part is a token, as in https://ghp_xxx@github.com
                } else {
                    result += userinfo
                }
                result += authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        return result + rest
    }
}

extension Redaction {
    /// `text` without anything token-shaped: URLs scrubbed (``scrub(_:)``), the word after `Bearer`, and every run
    /// of 24 or more characters from the base64/URL-safe alphabet that mixes letters and digits (a JWT, an API key,
    /// a session token) replaced by `***`. For text syncagent shows but did not write (a credential plugin's
    /// stderr), so a plugin that prints its token in an error cannot leak it.
    public static func scrubTokens(_ text: String) -> String {
        let tokenCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/")
        var result = ""
        var word = ""
        var afterBearer = false
        func flush() {
            guard !word.isEmpty else { return }
            let letters = word.contains { $0.isLetter }
            let digits = word.contains { $0.isNumber }
            if afterBearer || (word.count >= 24 && letters && digits && !word.contains("://")) {
                result += "***"
                afterBearer = false
            } else {
                afterBearer = word.lowercased() == "bearer"
                result += word
            }
            word = ""
        }
        for character in scrub(text) {
            if tokenCharacters.contains(character) {
                word.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}

/// A URL that may carry credentials (`https://user:secret@host/…`). The whole text is used only to make a request
/// (``unredacted``); printing, interpolating or logging it shows it redacted (``Redaction/scrub(_:)``), so a
/// Prometheus or probe URL with a password cannot reach a log line, an error, `/status` or a record by accident.
public struct RedactedURL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    ExpressibleByStringLiteral
{
    /// The URL as configured, credentials included: for the request only.
    public let unredacted: String

    public init(_ text: String) { unredacted = text }
    public init(stringLiteral text: String) { unredacted = text }

    /// The URL with credentials replaced by `***`.
    public var description: String { Redaction.scrub(unredacted) }
    public var debugDescription: String { description }

    /// The same URL with `{placeholder}` replaced (a region's name).
    public func replacing(_ placeholder: String, with value: String) -> RedactedURL {
        RedactedURL(unredacted.replacingOccurrences(of: placeholder, with: value))
    }
}
