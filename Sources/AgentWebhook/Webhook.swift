import Crypto
import Foundation
import SyncCore

/// A Git push webhook, verified: GitHub's `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>` or GitLab's
/// `X-Gitlab-Token: <secret>`, both against the shared secret, compared in constant time. Pure: no I/O.
public enum Webhook {
    /// What a delivery is.
    public enum Verdict: Equatable, Sendable {
        /// A verified push to the tracked branch: sync now.
        case push(ref: String, after: String?)
        /// Verified, but nothing to do (a ping, another branch, another event): the reason.
        case ignored(String)
        /// Not verified: no signature, a wrong one, or no secret configured.
        case refused(String)
    }

    /// `sha256=<hex HMAC-SHA256 of body>`: the signature header value of an outgoing notification, in the same form
    /// GitHub signs deliveries with, so a receiver verifies it the same way.
    public static func signature(of body: [UInt8], secret: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Judges a delivery of `body` with `headers` (names lower-cased) for the tracked `branch`.
    public static func verify(headers: [String: String], body: [UInt8], secret: [UInt8], branch: String) -> Verdict {
        guard !secret.isEmpty else { return .refused("no webhook secret is configured") }
        if let signature = headers["x-hub-signature-256"] {
            guard signature.hasPrefix("sha256="), let given = hexBytes(signature.dropFirst("sha256=".count)) else {
                return .refused("X-Hub-Signature-256 is not sha256=<hex>")
            }
            let expected = Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)))
            guard constantTimeEqual(given, expected) else { return .refused("the signature does not match the body") }
        } else if let token = headers["x-gitlab-token"] {
            guard constantTimeEqual(Array(token.utf8), secret) else { return .refused("X-Gitlab-Token does not match") }
        } else {
            return .refused("no X-Hub-Signature-256 or X-Gitlab-Token header")
        }
        let event = headers["x-github-event"] ?? headers["x-gitlab-event"] ?? "push"
        if event == "ping" { return .ignored("ping") }
        guard event == "push" || event == "Push Hook" else { return .ignored("event \(shown(event))") }
        guard let payload = try? Value(json: body) else { return .ignored("the body is not JSON") }
        guard let ref = payload["ref"]?.stringValue else { return .ignored("the payload names no ref") }
        guard ref == "refs/heads/\(branch)" else {
            return .ignored("a push to \(shown(ref)), not refs/heads/\(branch)")
        }
        return .push(ref: ref, after: payload["after"]?.stringValue)
    }

    /// Text from a delivery (a header, the payload's ref) as a reply or a log line may quote it: control characters
    /// as `?`, credentials scrubbed (``Redaction/scrubCredentials(_:)``), at most 100 characters.
    public static func shown(_ text: String) -> String {
        let printable = String(
            text.unicodeScalars.prefix(100).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return Redaction.scrubCredentials(printable) + (text.unicodeScalars.count > 100 ? "…" : "")
    }

    /// The signature GitHub sends for `body`: `sha256=<hex>`.
    public static func signature(body: [UInt8], secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// Compares without stopping at the first difference, so timing tells nothing of the secret.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
