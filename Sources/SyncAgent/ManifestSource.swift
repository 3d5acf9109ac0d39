import RolloutEngine
import ArgumentParser
import Differ
import Foundation
import Synchronization
import GitSource
import SyncCore

/// Where a command reads the desired state from: a local folder, or a Git repository at a commit.
enum ManifestSource {
    /// A folder on disk; paths in errors start with the folder as the user gave it.
    case directory(String)
    /// A snapshot: files read from a commit's tree (no work tree), or a folder read once (`Snapshot.directory`).
    case git(Snapshot)

    /// The resources for one region (or every file, with no region): all of them, or a RenderError.
    ///
    /// Synchronous on purpose: it never suspends. Declared `async throws`, and inlined into `RenderCommand.run`,
    /// it crashed Swift 6.3.1's release build (LLVM CoroSplit, `emitSetAndGetSwiftErrorValueAround`); see
    /// docs/compiler-crash.md.
    func render(region: String?) throws -> [Resource] {
        switch self {
        case .directory(let dir):
            let files = try Self.readDirectory(dir)
            return try Differ.render(files, root: dir, region: region)
        case .git(let snapshot):
            return try snapshot.render(region: region)
        }
    }

    /// Every regular file under `dir` (hidden folders such as `.git` skipped), paths prefixed with `dir`; a file is
    /// measured before it is read, and one that would pass `limits` (files, bytes) is refused unread.
    static func readDirectory(_ dir: String, limits: InputLimits = .standard) throws -> [ManifestFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(dir): no such folder")
        }
        let root = URL(fileURLWithPath: dir)
        let prefix = ConfigPath.onDisk(dir)  // `./mesh/`, `mesh//`: `mesh`; `./`: `.`
        // A folder (or file) that cannot be read stops the walk: a revision missing its files must never be
        // rendered, diffed or synced (a sync would prune what they define).
        let unreadable = Mutex<(path: String, reason: String)?>(nil)
        guard
            let walker = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey], options: [.skipsHiddenFiles],
                errorHandler: { url, error in
                    let reason = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription
                    unreadable.withLock { $0 = $0 ?? (url.path, reason ?? error.localizedDescription) }
                    return false
                })
        else { throw ValidationError("\(dir): cannot read the folder") }
        var files: [ManifestFile] = []
        var bytes = 0
        let rootPath = root.standardizedFileURL.path
        for case let url as URL in walker {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values?.isRegularFile == true else { continue }
            let full = url.standardizedFileURL.path
            let relative =
                full.hasPrefix(rootPath + "/") ? String(full.dropFirst(rootPath.count + 1)) : url.lastPathComponent
            let path = prefix == "." ? relative : "\(prefix)/\(relative)"
            guard ManifestFile(path: path, bytes: []).isManifest || relative.hasPrefix("regions/") else { continue }
            let size = values?.fileSize ?? 0
            guard files.count < limits.maxFiles else {
                throw ValidationError("\(path): more than \(limits.maxFiles) files in the folder; read a smaller one")
            }
            guard size <= limits.maxBytes - bytes else {
                throw ValidationError(
                    "\(path): this file (\(InputLimits.bytes(size))) takes the folder past "
                        + "\(InputLimits.bytes(limits.maxBytes)); nothing was read further")
            }
            let content = try readFile(url.path, expectedSize: size)
            bytes += content.count
            files.append(ManifestFile(path: path, bytes: content))
        }
        if let (path, reason) = unreadable.withLock({ $0 }) {
            throw ValidationError("\(path): cannot be read (\(reason)); nothing was rendered from \(dir)")
        }
        return files
    }
}

/// A file's bytes, read straight into one array (no intermediate `Data`: a large file costs its size once).
private func readFile(_ path: String, expectedSize: Int) throws -> [UInt8] {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw ValidationError("\(path): cannot be read") }
    defer { try? handle.close() }
    var bytes = [UInt8](repeating: 0, count: expectedSize)
    var filled = 0
    let descriptor = handle.fileDescriptor
    while filled < expectedSize {
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, expectedSize - filled) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }  // the file shrank while being read: keep what is there
        filled += count
    }
    var extra: UInt8 = 0
    guard filled == expectedSize, read(descriptor, &extra, 1) == 0 else {
        throw ValidationError("\(path): the file changed while it was read; try again")
    }
    return bytes
}

/// `--repo`, `--ref`, `--path`, `--cache`: the options that name a Git repository and a commit.
struct RepositoryOptions: ParsableArguments {
    @Option(help: "The config repository: file://, a local path, git://, https:// or ssh:// URL.")
    var repo: String?

    @Option(help: "Branch, tag or commit to read (default: the remote's main branch).")
    var ref: String = "main"

    @Option(help: "The config folder inside the repository.")
    var path: String = ""

    @Option(help: "Where bare clones are cached (default: $XDG_CACHE_HOME/syncagent or ~/.cache/syncagent).")
    var cache: String?

    @Option(help: "A file holding an HTTPS token for the repository.")
    var tokenFile: String?

    /// Fetches `ref` (a branch; or resolves a tag or commit after fetching every branch) and reads the tree.
    func manifestSource() async throws -> ManifestSource {
        guard let repo else { throw ValidationError("--repo is required") }
        guard let folder = ConfigPath.inRepository(path) else {
            throw ValidationError("--path \(path) leaves the repository ('..'); give it from the repository root")
        }
        let repository = ConfigRepository(
            AgentConfig.Repo(url: repo, branch: "main", path: folder, tokenFile: tokenFile), cacheRoot: cache)
        return .git(try await repository.snapshot(ref: ref))
    }
}
