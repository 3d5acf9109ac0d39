import CGit2
import SyncCore

/// A file read from a commit's tree: its path from the repository root, and its bytes.
public struct GitFile: Sendable, Hashable, CustomStringConvertible {
    /// The path from the repository root, `/`-separated (for a resolved symlink: the link's path).
    public var path: String
    /// The file's contents, exactly as committed.
    public var bytes: [UInt8]

    /// A file at `path` holding `bytes`.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// "path (N bytes)".
    public var description: String { "\(path) (\(bytes.count) bytes)" }
}

extension GitRepository {
    /// The files under `path` (recursively) in the tree of the commit `revision` names, read from the object
    /// database, sorted by path.
    ///
    /// - Parameters:
    ///   - revision: anything ``resolve(_:)`` accepts.
    ///   - path: a folder (or one file) from the repository root; `""` or `"."` for the whole tree.
    ///   - extensions: the file name extensions to keep, case-insensitive, with or without the dot
    ///     (`["yaml", "yml", "json"]`); empty keeps every file.
    /// - Throws: ``GitSourceError/pathNotFound(path:commit:)``; ``GitSourceError/submodule(path:commit:)`` for a
    ///   gitlink anywhere under `path`; ``GitSourceError/symlinkEscapes(path:target:commit:)`` for any symlink
    ///   under `path` that points outside the repository; ``GitSourceError/symlinkUnresolved(path:target:commit:reason:)``
    ///   for a kept symlink (its name has a wanted extension) that dangles, loops or names a folder. A symlink to
    ///   a file inside the repository is read as that file, under the link's path.
    public func files(
        at revision: String, under path: String = "", extensions: Set<String> = [], limits: InputLimits = .standard
    ) throws(GitSourceError) -> [GitFile] {
        let prefix = try Self.normalisedPath(path)
        let commit = try lookupCommit(revision)
        let commitSHA = commit.withPointer { ObjectID.hex(git_commit_id($0)) }
        let root = try commit.withPointer { commit throws(GitSourceError) in
            try gitHandle(TreeKind.self, "git_commit_tree", "\(subject) commit \(commitSHA)") {
                git_commit_tree(&$0, commit)
            }
        }
        let odb = try handle.withPointer { repository throws(GitSourceError) in
            try gitHandle(ODBKind.self, "git_repository_odb", subject) { git_repository_odb(&$0, repository) }
        }
        var reader = TreeReader(
            repository: self, root: root, commit: commitSHA,
            extensions: Set(extensions.map { $0.lowercased().trimmingPrefix(".") }.map(String.init)), odb: odb,
            limits: limits)
        if prefix.isEmpty {
            try reader.walk(root, under: "")
        } else {
            try reader.read(path: prefix)
        }
        return reader.files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    /// `""` for the root; otherwise the path without `./`, leading or trailing slashes. `..` is refused.
    static func normalisedPath(_ path: String) throws(GitSourceError) -> String {
        let components = path.split(separator: "/").filter { $0 != "." }
        if components.contains("..") {
            throw GitSourceError.invalidArgument(
                "path '\(path)' must not contain '..'; give it from the repository root")
        }
        return components.joined(separator: "/")
    }
}

/// Walks one commit's tree, collecting files and enforcing the symlink and submodule rules.
private struct TreeReader {
    let repository: GitRepository
    let root: GitHandle<TreeKind>
    let commit: String
    let extensions: Set<String>
    /// The object database, to measure a blob before reading it.
    let odb: GitHandle<ODBKind>
    let limits: InputLimits
    var files: [GitFile] = []
    /// Bytes read so far, all files together.
    var bytesRead = 0

    /// The longest chain of symlinks followed before calling it a loop.
    static let maxSymlinkHops = 8

    init(
        repository: GitRepository, root: GitHandle<TreeKind>, commit: String, extensions: Set<String>,
        odb: GitHandle<ODBKind>, limits: InputLimits
    ) {
        self.repository = repository
        self.root = root
        self.commit = commit
        self.extensions = extensions
        self.odb = odb
        self.limits = limits
    }

    /// Reads what `path` names: a folder is walked, a file or link read.
    mutating func read(path: String) throws(GitSourceError) {
        guard let entry = try entry(at: path) else {
            throw GitSourceError.pathNotFound(path: path, commit: commit)
        }
        let subtree = try entry.withPointer { entry throws(GitSourceError) in
            try visit(entry, path: path, filtered: false)
        }
        if let subtree { try walk(subtree, under: path) }
    }

    /// Visits every entry of `tree`, whose path is `path`, depth first in entry order. Iterative, with a stack of
    /// the folders being read: a tree thousands of folders deep costs memory, never the thread's stack (the git
    /// thread's is small; a recursive walk of 3,000 folders died with SIGSEGV).
    mutating func walk(_ tree: GitHandle<TreeKind>, under path: String) throws(GitSourceError) {
        var stack: [(tree: GitHandle<TreeKind>, path: String, next: Int)] = [(tree, path, 0)]
        while let top = stack.last {
            var next = top.next
            var descend: (GitHandle<TreeKind>, String)?
            let count = try top.tree.withPointer { tree throws(GitSourceError) -> Int in
                let count = git_tree_entrycount(tree)
                while next < count, descend == nil {
                    defer { next += 1 }
                    guard let entry = git_tree_entry_byindex(tree, next) else { continue }
                    let name = String(cString: git_tree_entry_name(entry))
                    let entryPath = top.path.isEmpty ? name : "\(top.path)/\(name)"
                    if let subtree = try visit(entry, path: entryPath, filtered: true) {
                        descend = (subtree, entryPath)
                    }
                }
                return count
            }
            stack[stack.count - 1].next = next
            if let (subtree, subtreePath) = descend {
                stack.append((subtree, subtreePath, 0))
            } else if next >= count {
                stack.removeLast()
            }
        }
    }

    /// One entry: files are kept when their extension is wanted (or `filtered` is false); a folder is returned for
    /// the caller to walk.
    private mutating func visit(_ entry: OpaquePointer, path: String, filtered: Bool) throws(GitSourceError)
        -> GitHandle<TreeKind>?
    {
        let wanted = !filtered || isWanted(path)
        switch git_tree_entry_filemode(entry) {
        case GIT_FILEMODE_TREE:
            var oid = git_tree_entry_id(entry).pointee
            let subtree = try repository.handle.withPointer { repository throws(GitSourceError) in
                try gitHandle(TreeKind.self, "git_tree_lookup", "commit \(commit) path \(path)") {
                    git_tree_lookup(&$0, repository, &oid)
                }
            }
            return subtree
        case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
            if wanted {
                let id = git_tree_entry_id(entry).pointee
                try admit(id, path: path)
                files.append(GitFile(path: path, bytes: try blob(id, path: path)))
            }
        case GIT_FILEMODE_LINK:
            let target = try linkTarget(git_tree_entry_id(entry).pointee, path: path)
            let resolved = try Self.resolve(target, linkPath: path, commit: commit)
            if wanted {
                let bytes = try follow(link: path, target: target, resolved: resolved)
                try count(bytes.count, path: path)
                files.append(GitFile(path: path, bytes: bytes))
            }
        case GIT_FILEMODE_COMMIT:
            throw GitSourceError.submodule(path: path, commit: commit)
        default:
            break  // unreadable modes are skipped, as git does
        }
        return nil
    }

    /// Whether a file name has one of the wanted extensions.
    private func isWanted(_ path: String) -> Bool {
        if extensions.isEmpty { return true }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return extensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// Follows a link (and links it leads to) to a file in the same commit.
    private func follow(link: String, target: String, resolved: String) throws(GitSourceError) -> [UInt8] {
        var current = resolved
        for _ in 0..<Self.maxSymlinkHops {
            guard let entry = try entry(at: current) else {
                throw GitSourceError.symlinkUnresolved(
                    path: link, target: target, commit: commit, reason: "does not name a file in the repository")
            }
            let next: String? = try entry.withPointer { entry throws(GitSourceError) -> String? in
                switch git_tree_entry_filemode(entry) {
                case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                    return nil
                case GIT_FILEMODE_LINK:
                    let nextTarget = try linkTarget(git_tree_entry_id(entry).pointee, path: current)
                    do {
                        return try Self.resolve(nextTarget, linkPath: current, commit: commit)
                    } catch {
                        throw GitSourceError.symlinkEscapes(
                            path: link, target: "\(target) -> \(nextTarget)", commit: commit)
                    }
                case GIT_FILEMODE_TREE:
                    throw GitSourceError.symlinkUnresolved(
                        path: link, target: target, commit: commit, reason: "names a folder, which is not followed")
                case GIT_FILEMODE_COMMIT:
                    throw GitSourceError.submodule(path: current, commit: commit)
                default:
                    throw GitSourceError.symlinkUnresolved(
                        path: link, target: target, commit: commit, reason: "names an unreadable entry")
                }
            }
            guard let next else {
                return try entry.withPointer { entry throws(GitSourceError) in
                    try blob(git_tree_entry_id(entry).pointee, path: current)
                }
            }
            current = next
        }
        throw GitSourceError.symlinkUnresolved(
            path: link, target: target, commit: commit, reason: "leads through more than \(Self.maxSymlinkHops) links")
    }

    /// The path from the repository root that a link's target names, or an escape error.
    static func resolve(_ target: String, linkPath: String, commit: String) throws(GitSourceError) -> String {
        if target.hasPrefix("/") || target.isEmpty {
            throw GitSourceError.symlinkEscapes(path: linkPath, target: target, commit: commit)
        }
        var components = linkPath.split(separator: "/").dropLast().map(String.init)
        for component in target.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                if components.isEmpty {
                    throw GitSourceError.symlinkEscapes(path: linkPath, target: target, commit: commit)
                }
                components.removeLast()
            default: components.append(String(component))
            }
        }
        return components.joined(separator: "/")
    }

    /// The tree entry at a path from the root, or nil when there is none.
    private func entry(at path: String) throws(GitSourceError) -> GitHandle<TreeEntryKind>? {
        if path.isEmpty { return nil }
        var out: OpaquePointer?
        let code = root.withPointer { git_tree_entry_bypath(&out, $0, path) }
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try git("git_tree_entry_bypath", "commit \(commit) path \(path)") { code }
        return out.map { GitHandle<TreeEntryKind>(taking: $0) }
    }

    /// A blob's bytes.
    private func blob(_ id: git_oid, path: String) throws(GitSourceError) -> [UInt8] {
        var oid = id
        let blob = try repository.handle.withPointer { repository throws(GitSourceError) in
            try gitHandle(BlobKind.self, "git_blob_lookup", "commit \(commit) path \(path)") {
                git_blob_lookup(&$0, repository, &oid)
            }
        }
        return blob.withPointer { blob in
            let size = Int(git_blob_rawsize(blob))
            guard size > 0, let content = git_blob_rawcontent(blob) else { return [] }
            return Array(UnsafeRawBufferPointer(start: content, count: size))
        }
    }

    /// Measures a blob before it is read (`git_odb_read_header`: no content is inflated) and counts it against the
    /// limits; a file that would pass one is refused without loading it.
    private mutating func admit(_ id: git_oid, path: String) throws(GitSourceError) {
        var oid = id
        var size = 0
        var type = GIT_OBJECT_ANY
        try odb.withPointer { odb throws(GitSourceError) in
            try git("git_odb_read_header", "commit \(commit) path \(path)") {
                git_odb_read_header(&size, &type, odb, &oid)
            }
        }
        try count(size, path: path)
    }

    /// Counts one file of `size` bytes against the file and byte limits.
    private mutating func count(_ size: Int, path: String) throws(GitSourceError) {
        guard files.count < limits.maxFiles else {
            throw GitSourceError.limitExceeded(
                commit: commit, path: path,
                what: "the revision has more than \(limits.maxFiles) files under the config folder "
                    + "(repo.limits.maxFiles); read a smaller folder (repo.path) or raise the limit")
        }
        guard size <= limits.maxBytes - bytesRead else {
            throw GitSourceError.limitExceeded(
                commit: commit, path: path,
                what:
                    "this file (\(InputLimits.bytes(size))) takes the revision past \(InputLimits.bytes(limits.maxBytes)) "
                    + "(repo.limits.maxBytes; \(InputLimits.bytes(bytesRead)) read before it); nothing was applied")
        }
        bytesRead += size
    }

    /// A symlink's target: the text of its blob.
    private func linkTarget(_ id: git_oid, path: String) throws(GitSourceError) -> String {
        String(decoding: try blob(id, path: path), as: UTF8.self)
    }
}
