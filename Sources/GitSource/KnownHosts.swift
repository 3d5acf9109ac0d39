import Foundation

/// The host keys listed in an OpenSSH known_hosts file, for checking an SSH server before sending credentials.
///
/// Read: plain host patterns (`host`, `host1,host2`, `[host]:port`, with `*` and `?` wildcards and `!` negation)
/// and `@revoked` markers. Not read: hashed entries (`|1|...`, written by `HashKnownHosts yes`) and
/// `@cert-authority` lines; list such hosts in plain form in the file given to syncagent.
struct KnownHosts {
    /// One key line.
    struct Entry: Equatable {
        var patterns: [String]
        var keyType: String
        var key: String  // base64 of the key blob, as in the file
        var revoked: Bool
    }

    /// What the file says about a presented key.
    enum Verdict: Equatable {
        case trusted
        case revoked
        case mismatch(listedTypes: [String])
        case unknownHost
    }

    /// The key lines read, in file order.
    var entries: [Entry]

    /// Reads a known_hosts file.
    init(contentsOf path: String) throws(GitSourceError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GitSourceError.invalidArgument(
                "cannot read the known_hosts file \(path); check the path given for SSH host keys")
        }
        self.init(text: String(decoding: data, as: UTF8.self))
    }

    /// Reads known_hosts text.
    init(text: String) {
        var entries: [Entry] = []
        for line in text.split(whereSeparator: \.isNewline) {
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var revoked = false
            if first.hasPrefix("@") {
                guard first == "@revoked" else { continue }  // @cert-authority: not read
                revoked = true
                fields.removeFirst()
            }
            guard fields.count >= 3, !fields[0].hasPrefix("|") else { continue }
            entries.append(
                Entry(
                    patterns: fields[0].split(separator: ",").map(String.init), keyType: fields[1], key: fields[2],
                    revoked: revoked))
        }
        self.entries = entries
    }

    /// Checks the key a server presented (`base64` of its blob) for `host` on `port` (nil or 22: the default).
    func verdict(host: String, port: Int?, base64Key: String) -> Verdict {
        let name = (port == nil || port == 22) ? host : "[\(host)]:\(port ?? 22)"
        let matching = entries.filter { Self.matches(name, patterns: $0.patterns) }
        if matching.contains(where: { $0.revoked && $0.key == base64Key }) { return .revoked }
        let listed = matching.filter { !$0.revoked }
        if listed.contains(where: { $0.key == base64Key }) { return .trusted }
        if listed.isEmpty { return .unknownHost }
        return .mismatch(listedTypes: listed.map(\.keyType))
    }

    /// OpenSSH's rule: a name matches when some pattern matches and no negated pattern does.
    static func matches(_ name: String, patterns: [String]) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if glob(String(pattern.dropFirst()).lowercased(), name.lowercased()) { return false }
            } else if glob(pattern.lowercased(), name.lowercased()) {
                matched = true
            }
        }
        return matched
    }

    /// `*` and `?` wildcard matching.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let t = Array(text.unicodeScalars)
        var pi = 0
        var ti = 0
        var star: Int?
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if let star {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
