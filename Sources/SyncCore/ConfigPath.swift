/// One meaning for every spelling of a config folder.
///
/// `./mesh`, `/mesh`, `mesh/`, `mesh//` and `mesh/./` all name the folder `mesh` inside a repository; `.`, `./`
/// and `""` name its root. Before this rule a spelling that matched no file rendered nothing, and an empty render
/// pruned a whole region. Every place that takes a folder (the configuration's `repo.path`, `--path`, `--dir`, the
/// renderer's root) goes through here.
public enum ConfigPath {
    /// A folder inside a repository, relative to its root (`""` for the root): leading, trailing and doubled
    /// slashes and `.` components dropped. Nil when a component is `..` (a config folder never leaves the
    /// repository).
    public static func inRepository(_ path: String) -> String? {
        let components = path.split(separator: "/").filter { $0 != "." }
        if components.contains("..") { return nil }
        return components.joined(separator: "/")
    }

    /// A folder on disk, as the prefix its files' paths are printed with: an absolute path stays absolute,
    /// doubled and trailing slashes and `.` components are dropped, and the current folder is `.`.
    public static func onDisk(_ path: String) -> String {
        let components = path.split(separator: "/").filter { $0 != "." }
        let joined = components.joined(separator: "/")
        if path.hasPrefix("/") { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
