/// How much one revision may be: the bounds that keep a hostile or broken repository cheap to refuse.
///
/// Checked while reading, before the excess is loaded: a file is measured before its bytes are read, and YAML
/// stops at the first document past the object limit, so refusing costs time and memory in proportion to the
/// limit, never to the input. Exceeding one is an error naming the file, the limit and the setting that raises it.
public struct InputLimits: Sendable, Hashable {
    /// The most files read from the config folder in one revision (`repo.limits.maxFiles`).
    public var maxFiles: Int
    /// The most bytes read from the config folder in one revision, all files together (`repo.limits.maxBytes`).
    public var maxBytes: Int
    /// The most objects (YAML or JSON documents, and `List` items) in one revision (`repo.limits.maxObjects`).
    public var maxObjects: Int

    /// The defaults: 10,000 files, 128 MiB, 20,000 objects — each far beyond a mesh's config repository.
    public init(maxFiles: Int = 10_000, maxBytes: Int = 128 << 20, maxObjects: Int = 20_000) {
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        self.maxObjects = maxObjects
    }

    /// The defaults.
    public static let standard = InputLimits()

    /// `1.5 MiB`, `12 KiB`, `300 B`: a byte count for messages.
    public static func bytes(_ count: Int) -> String {
        if count >= 1 << 20 { return "\((Double(count) / 1_048_576 * 10).rounded() / 10) MiB" }
        if count >= 1 << 10 { return "\((Double(count) / 1024 * 10).rounded() / 10) KiB" }
        return "\(count) B"
    }
}
