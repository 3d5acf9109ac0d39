import ArgumentParser
import Differ
import Foundation
import GitSource
import SyncCore

/// Where a command reads the desired state from: a local folder, or a Git repository at a commit.
enum ManifestSource {
    /// A folder on disk; paths in errors start with the folder as the user gave it.
    case directory(String)
    /// Files read from a commit's tree (no work tree); `root` is the config folder inside the repository.
    case git(files: [GitFile], root: String, revision: Revision)

    /// The resources for one region (or every file, with no region): all of them, or a RenderError.
    func render(region: String?) async throws -> [Resource] {
        switch self {
        case .directory(let dir):
            let files = try Self.readDirectory(dir)
            return try Differ.render(files, root: dir, region: region)
        case .git(let files, let root, _):
            let manifests = files.map { ManifestFile(path: $0.path, bytes: $0.bytes) }
            return try Differ.render(manifests, root: root, region: region)
        }
    }

    /// Every regular file under `dir` (hidden folders such as `.git` skipped), paths prefixed with `dir`.
    static func readDirectory(_ dir: String) throws -> [ManifestFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(dir): no such folder")
        }
        let root = URL(fileURLWithPath: dir)
        let prefix = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        guard
            let walker = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { throw ValidationError("\(dir): cannot read the folder") }
        var files: [ManifestFile] = []
        let rootPath = root.standardizedFileURL.path
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let full = url.standardizedFileURL.path
            let relative = full.hasPrefix(rootPath + "/") ? String(full.dropFirst(rootPath.count + 1)) : url.lastPathComponent
            let path = prefix == "." ? relative : "\(prefix)/\(relative)"
            guard ManifestFile(path: path, bytes: []).isManifest || relative.hasPrefix("regions/") else { continue }
            let data = try Data(contentsOf: url)
            files.append(ManifestFile(path: path, bytes: Array(data)))
        }
        return files
    }
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

    /// The cache folder for this remote: one bare repository per URL.
    func cacheDirectory(for url: String) -> String {
        let base =
            cache
            ?? ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { "\($0)/syncagent" }
            ?? "\(NSHomeDirectory())/.cache/syncagent"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a stable folder name per URL
        for byte in url.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "\(base)/repos/\(String(hash, radix: 16))"
    }

    /// Fetches `ref` (a branch; or resolves a tag or commit after fetching the default branch) and reads the tree.
    func manifestSource() async throws -> ManifestSource {
        guard let repo else { throw ValidationError("--repo is required") }
        let credentials: GitCredentials = tokenFile.map { .token(.file($0)) } ?? .none
        let cache = GitRepositoryCache(cacheAt: cacheDirectory(for: repo), remote: GitRemote(url: repo, credentials: credentials))
        let refs = try await cache.remoteRefs()
        let sha: String
        if refs["refs/heads/\(ref)"] != nil {
            sha = try await cache.fetch(branch: ref)
        } else {
            // A tag or a commit id: fetch every branch's head we know of, then resolve.
            for name in refs.keys where name.hasPrefix("refs/heads/") {
                _ = try await cache.fetch(branch: String(name.dropFirst("refs/heads/".count)))
            }
            sha = try await cache.resolve(ref)
        }
        let revision = try await cache.revision(sha)
        let files = try await cache.files(at: sha, under: path)
        return .git(files: files, root: path, revision: revision)
    }
}
