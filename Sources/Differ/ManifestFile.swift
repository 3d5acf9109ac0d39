/// One file of the desired state: its path as the user knows it (relative to the config root) and its bytes.
public struct ManifestFile: Sendable, Hashable {
    /// The path errors print, e.g. `bookinfo/reviews.yaml`.
    public var path: String
    /// The file's contents.
    public var bytes: [UInt8]

    /// A file from its path and bytes.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// A file made from text, for tests and small tools.
    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// Whether ``render(_:)`` reads this file: its name ends in `.yaml`, `.yml` or `.json` (any case).
    public var isManifest: Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json")
    }
}
