import Foundation

/// A person and time on a commit.
public struct Signature: Sendable, Hashable {
    public var name: String
    public var email: String
    public var time: Date

    public init(name: String, email: String, time: Date) {
        self.name = name
        self.email = email
        self.time = time
    }
}

/// A commit of the config repository: what is being synced. Every log line, metric and report carries one.
public struct Revision: Sendable, Hashable, CustomStringConvertible {
    /// The full 40-hex commit id.
    public var sha: String
    public var author: Signature
    public var committer: Signature
    /// The whole commit message.
    public var message: String
    /// Parent commit ids, first parent first.
    public var parents: [String]

    public init(sha: String, author: Signature, committer: Signature, message: String, parents: [String]) {
        self.sha = sha
        self.author = author
        self.committer = committer
        self.message = message
        self.parents = parents
    }

    /// The first 12 characters of the commit id.
    public var shortSHA: String { String(sha.prefix(12)) }

    /// The message's first line.
    public var summary: String {
        String(message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    public var description: String { "\(shortSHA) \(summary)" }
}
