import SyncCore
import Foundation

/// Where the config repository lives and how to reach it.
public struct GitRemote: Sendable, Hashable, CustomStringConvertible {
    /// The URL: `file:///path`, a plain local path, `git://host[:port]/path`, `https://host/path`,
    /// `ssh://[user@]host[:port]/path` or `user@host:path`.
    public var url: String
    /// How to authenticate; secrets are read when the server asks for them, never stored in the repository.
    public var credentials: GitCredentials
    /// The longest a network operation may take: enforced on its sockets (``GitSocketStreams``), and checked in
    /// libgit2's progress and credential callbacks. libgit2 1.5 has no connect or read timeout of its own.
    public var timeout: Duration
    /// A PEM file holding the HTTPS server's exact certificate, trusted even when no CA vouches for it (a
    /// self-hosted server with a private CA, tests). Any other certificate must pass libgit2's normal checks.
    public var pinnedCertificate: String?

    /// A remote reached at `url`.
    public init(
        url: String, credentials: GitCredentials = .none, timeout: Duration = .seconds(60),
        pinnedCertificate: String? = nil
    ) {
        self.url = url
        self.credentials = credentials
        self.timeout = timeout
        self.pinnedCertificate = pinnedCertificate
    }

    /// The URL with any password or token replaced by `***`: the only form used in messages and logs.
    public var redactedURL: String { Redaction.scrub(url) }

    /// The redacted URL.
    public var description: String { redactedURL }

    /// The transport the URL selects.
    var transport: GitTransport { GitTransport(url: url) }
}

/// How GitSource authenticates to a remote.
public enum GitCredentials: Sendable, Hashable {
    /// No credentials: local paths, `git://`, public HTTPS.
    case none
    /// HTTPS with a token sent as the password of HTTP basic authentication (GitHub, GitLab, Gitea and Bitbucket
    /// accept this). `username` is what the server expects beside a token, e.g. `x-access-token` or `oauth2`.
    case token(GitSecret, username: String = "x-access-token")
    /// SSH with a key pair. The server's host key must be listed in `knownHosts` (OpenSSH format; plain host
    /// names and `[host]:port`, hashed entries are not read); there is no trust on first use.
    case sshKey(
        username: String = "git", privateKey: String, publicKey: String? = nil, passphrase: GitSecret? = nil,
        knownHosts: String)
}

/// Where a secret comes from. Its value is read only when a server asks for it and is never printed.
public enum GitSecret: Sendable, Hashable, CustomStringConvertible {
    /// A file holding the secret (surrounding white space is ignored), e.g. a mounted Kubernetes secret.
    case file(String)
    /// An environment variable holding the secret.
    case environment(String)

    /// Where the secret comes from, never its value.
    public var description: String {
        switch self {
        case .file(let path): return "file \(path)"
        case .environment(let name): return "environment variable \(name)"
        }
    }

    /// Reads the secret now.
    func read() throws(GitSourceError) -> String {
        let raw: String
        switch self {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw GitSourceError.invalidArgument("cannot read the secret in \(path); check that the file exists")
            }
            raw = String(decoding: data, as: UTF8.self)
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw GitSourceError.invalidArgument("environment variable \(name) is not set; set it to the secret")
            }
            raw = value
        }
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if value.isEmpty { throw GitSourceError.invalidArgument("the secret in \(self) is empty") }
        return value
    }
}

/// The transport a URL selects, as libgit2 decides it.
enum GitTransport: Equatable {
    /// `file://` or a path; `git://`; `http://`; `https://`; `ssh://` or scp-like `user@host:path`.
    case local, git, http, https, ssh

    /// The transport `url` selects.
    init(url: String) {
        let lower = url.lowercased()
        if lower.hasPrefix("file://") {
            self = .local
        } else if lower.hasPrefix("git://") {
            self = .git
        } else if lower.hasPrefix("https://") {
            self = .https
        } else if lower.hasPrefix("http://") {
            self = .http
        } else if lower.hasPrefix("ssh://") || lower.hasPrefix("git+ssh://") || lower.hasPrefix("ssh+git://") {
            self = .ssh
        } else if !url.hasPrefix("/"), !url.hasPrefix("."), let colon = url.firstIndex(of: ":"),
            !url[..<colon].contains("/")
        {
            self = .ssh  // scp-like user@host:path, as git reads it
        } else {
            self = .local
        }
    }

    /// The scheme's name for messages.
    var name: String {
        switch self {
        case .local: return "file"
        case .git: return "git"
        case .http: return "http"
        case .https: return "https"
        case .ssh: return "ssh"
        }
    }

    /// Whether this libgit2 was built with the transport (`git_libgit2_features`).
    var isSupported: Bool {
        switch self {
        case .local, .git, .http: return true
        case .https: return GitSourceModule.supportsHTTPS
        case .ssh: return GitSourceModule.supportsSSH
        }
    }
}

/// The host and port of a network URL, for host-key checks.
struct GitURLHost: Equatable {
    /// The host name or address, without brackets.
    var host: String
    /// The port, when the URL gives one.
    var port: Int?

    /// Reads `scheme://[user@]host[:port]/...` or the scp-like `user@host:path`.
    init?(url: String) {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            let authority = rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)]
            let hostPort = authority[
                (authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex)...]
            if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                port = after.hasPrefix(":") ? Int(after.dropFirst()) : nil
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = String(hostPort[..<colon])
                port = Int(hostPort[hostPort.index(after: colon)...])
            } else {
                host = String(hostPort)
                port = nil
            }
        } else {
            guard let colon = rest.firstIndex(of: ":") else { return nil }
            let userHost = rest[..<colon]
            host = String(
                userHost[(userHost.lastIndex(of: "@").map { userHost.index(after: $0) } ?? userHost.startIndex)...])
            port = nil
        }
        if host.isEmpty { return nil }
    }
}
