import Synchronization
import SyncCore

/// Renders the manifests one region receives from a folder laid out for several regions.
///
/// Layout, relative to `root` (the config folder inside the repository or on disk):
/// - `regions/<region>/**`: only that region's objects;
/// - everything else (by convention `base/**`): objects every region receives.
///
/// An object in the region's folder replaces the common object with the same ``ObjectKey`` (so a region can carry
/// its own gateway address or locality weights). Each layer is rendered with ``render(_:)``'s rules; problems in
/// both layers are reported together, and any problem means no resources at all. A folder with no `regions/`
/// folder gives every region the same set. Naming a region with no folder, when `regions/` has others, is an
/// error (most likely a typo in the configuration), and so is naming no region when there are region folders.
///
/// - Parameters:
///   - files: every file under `root` (manifests and others; only manifests are read).
///   - root: the prefix of `files`' paths that is the config folder, e.g. `"mesh"`; `""` for the paths as given.
///     Any spelling of it (``ConfigPath/onDisk(_:)``) is the same folder; `files`' paths are compared in that form.
///   - region: the region to render for; nil renders every file as one set (only without `regions/`).
///   - limits: the most objects the region's files may hold together (``InputLimits/maxObjects``).
///   - memo: remembers the common layer of these `files` between calls (one per revision: every region of it
///     shares one render of `base/`); nil renders it each time.
public func render(
    _ files: [ManifestFile], root: String, region: String?, limits: InputLimits = .standard, memo: RenderMemo? = nil
) throws(RenderError) -> [Resource] {
    // Every spelling of the folder is the same folder (`./mesh`, `mesh/`, `mesh//`: `mesh`; `.`, `./`: the root).
    let folder = root.isEmpty ? "." : ConfigPath.onDisk(root)
    let prefix = folder == "." ? "" : folder + "/"
    func relative(_ path: String) -> Substring? {
        path.hasPrefix(prefix) ? path.dropFirst(prefix.count) : nil
    }
    var common: [ManifestFile] = []
    var byRegion: [String: [ManifestFile]] = [:]
    for file in files {
        guard let path = relative(ConfigPath.onDisk(file.path)) else { continue }
        if path.hasPrefix("regions/") {
            let name = String(path.dropFirst("regions/".count).prefix { $0 != "/" })
            byRegion[name, default: []].append(file)
        } else {
            common.append(file)
        }
    }
    let regionsSeen = Set(byRegion.keys)
    guard let region else {
        guard regionsSeen.isEmpty else {
            throw RenderError(problems: [
                RenderError.Problem(
                    location: SourceLocation(file: prefix + "regions", line: 1, column: 1),
                    message: "this folder has per-region folders (\(regionsSeen.sorted().joined(separator: ", "))); "
                        + "name one with --region to render what that region receives")
            ])
        }
        return try render(files, limits: limits)
    }
    if !regionsSeen.isEmpty && !regionsSeen.contains(region) {
        let place = SourceLocation(file: prefix + "regions", line: 1, column: 1)
        throw RenderError(problems: [
            RenderError.Problem(
                location: place,
                message:
                    "no folder for region \"\(region)\"; regions here: \(regionsSeen.sorted().joined(separator: ", "))")
        ])
    }

    var problems: [RenderError.Problem] = []
    var base: [Resource] = []
    var overrides: [Resource] = []
    let commonLayer = { () -> Result<[Resource], RenderError> in
        do throws(RenderError) { return .success(try render(common, limits: limits)) } catch { return .failure(error) }
    }
    switch memo?.common(commonLayer) ?? commonLayer() {
    case .success(let resources): base = resources
    case .failure(let error): problems += error.problems
    }
    var left = limits
    left.maxObjects = max(0, limits.maxObjects - base.count)
    do { overrides = try render(byRegion[region] ?? [], limits: left) } catch { problems += error.problems }
    guard problems.isEmpty else { throw RenderError(problems: problems) }

    let replaced = Set(overrides.map(\.key))
    return (base.filter { !replaced.contains($0.key) } + overrides).sorted { $0.ref < $1.ref }
}

/// The common layer of one revision's files, rendered once and shared by every region's render (``render(_:root:region:limits:memo:)``).
/// One memo belongs to one set of files.
public final class RenderMemo: Sendable {
    private let common = Mutex<Result<[Resource], RenderError>?>(nil)

    public init() {}

    func common(_ render: () -> Result<[Resource], RenderError>) -> Result<[Resource], RenderError> {
        common.withLock { memo in
            if let memo { return memo }
            let result = render()
            memo = result
            return result
        }
    }
}
