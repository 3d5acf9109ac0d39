extension Redaction {
    /// `text` without the credentials an error may carry: URL passwords and token user parts (``scrub(_:)``), the
    /// word after `Bearer` (and a base64 word after `Basic`), the value after a credential-named key (`token=…`,
    /// `?access_token=…`, `"password": "…"`, `X-Gitlab-Token: …`), JSON Web Tokens (`eyJ…`) and tokens with a
    /// well-known prefix (GitHub `ghp_`/`github_pat_`, GitLab `glpat-`, Slack `xox?-`, AWS `AKIA`), each replaced
    /// by `***`.
    ///
    /// Unlike ``scrubTokens(_:)`` it keeps ordinary long words — commit ids, object references such as
    /// `networking.istio.io/v1/VirtualService` — so it fits text that names revisions and objects and must stay
    /// readable: rollout messages and problems on `/status`, errors from Git, clusters and gates.
    public static func scrubCredentials(_ text: String) -> String {
        var result = ""
        var word = ""
        var separator = ""
        var previous = ""  // the previous word, lower-cased
        func flush() {
            guard !word.isEmpty else { return }
            let lower = word.lowercased()
            if previous == "bearer" && separator.allSatisfy(\.isWhitespace) {
                result += "***"
            } else if previous == "basic" && separator.allSatisfy(\.isWhitespace) && word.count >= 8
                && word.allSatisfy(base64Characters.contains)
            {
                result += "***"
            } else if lower != "bearer" && lower != "basic" && isCredentialKey(previous)
                && separator.contains(where: { $0 == ":" || $0 == "=" })
                && separator.allSatisfy({ " \t:=\"'".contains($0) })
            {
                result += "***"
            } else if let equals = word.firstIndex(of: "="), isCredentialKey(lower[..<equals]),
                word.index(after: equals) < word.endIndex
            {
                result += word[...equals] + "***"
            } else if isWellKnownToken(word) {
                result += "***"
            } else {
                result += word
            }
            previous = lower
            separator = ""
            word = ""
        }
        for character in scrub(text) {
            if credentialWordCharacters.contains(character) {
                word.append(character)
            } else {
                flush()
                separator.append(character)
                result.append(character)
            }
        }
        flush()
        return result
    }

    /// What a credential word is made of: base64, URL-safe base64, percent-encoding, `=` padding.
    private static let credentialWordCharacters = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/~%")
    private static let base64Characters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")

    /// Keys whose value is a credential: `token`, `access_token`, `X-Gitlab-Token`, `password`, `client_secret`, ...
    /// A key is a name (letters, digits, `-`, `_`): `/run/token: permission denied` names a file, not a token.
    private static func isCredentialKey(_ key: some StringProtocol) -> Bool {
        let key = key.lowercased()
        guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return false }
        return [
            "token", "password", "passwd", "secret", "apikey", "api_key", "api-key", "accesskey", "access_key",
            "signature", "credential", "credentials", "authorization",
        ].contains { key.hasSuffix($0) }
    }

    /// A JSON Web Token or a token whose prefix names its issuer.
    private static func isWellKnownToken(_ word: String) -> Bool {
        if word.hasPrefix("eyJ") && word.count >= 20 && word.filter({ $0 == "." }).count == 2 { return true }
        let prefixes = [
            "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "glptt-", "xoxb-", "xoxp-", "xoxa-",
            "xoxr-",
        ]
        if word.count >= 16 && prefixes.contains(where: word.hasPrefix) { return true }
        return word.count == 20 && word.hasPrefix("AKIA") && word.allSatisfy { $0.isUppercase || $0.isNumber }
    }
}
