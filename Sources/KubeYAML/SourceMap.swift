import SyncCore

/// One step of a path into a value: a mapping key or a sequence index. `["spec", "http", 0, "route"]` reads
/// as `.spec.http[0].route`.
public enum PathElement: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral
{
    case key(String)
    case index(Int)

    /// A key step.
    public init(stringLiteral value: String) { self = .key(value) }
    /// An index step.
    public init(integerLiteral value: Int) { self = .index(value) }

    /// `.name` or `[3]`.
    public var description: String {
        switch self {
        case .key(let key): return "." + key
        case .index(let index): return "[\(index)]"
        }
    }
}

/// Where each node of one document starts in its file, found by path.
///
/// Kept compact for speed: one small entry per node in document order (a collection's entry knows where its
/// descendants end), so loading costs an array append per node and a lookup walks only the siblings on the path.
/// Paths that go into alias-expanded or merged content stop at the alias (see ``nearestLocation(of:)``).
public struct SourceMap: Sendable {
    /// The file the document came from.
    public let file: String

    struct Entry: Sendable {
        enum Kind: UInt8, Sendable { case scalar, sequence, mapping, alias }
        var line: Int32
        var column: Int32
        /// Index one past this node's last descendant.
        var end: Int32
        var kind: Kind
        /// For a node that is a mapping key: the key's string.
        var key: String?
    }

    var entries: [Entry]

    init(file: String, entries: [Entry]) {
        self.file = file
        self.entries = entries
    }

    /// Where the node at `path` starts, or nil when the path does not lead to a node written in the file.
    public func location(of path: [PathElement]) -> SourceLocation? {
        var index = 0
        guard !entries.isEmpty else { return nil }
        for element in path {
            guard let child = child(of: index, element) else { return nil }
            index = child
        }
        return location(entries[index])
    }

    /// Where the deepest node along `path` starts: the node itself, or the nearest ancestor the file spells out.
    public func nearestLocation(of path: [PathElement]) -> SourceLocation {
        var index = 0
        guard !entries.isEmpty else { return SourceLocation(file: file, line: 1, column: 1) }
        for element in path {
            guard let child = child(of: index, element) else { break }
            index = child
        }
        return location(entries[index])
    }

    /// Where the key (not the value) at the end of `path` is written, for errors about the key itself.
    public func keyLocation(of path: [PathElement]) -> SourceLocation? {
        guard case .key(let name)? = path.last, !entries.isEmpty else { return nil }
        var index = 0
        for element in path.dropLast() {
            guard let child = child(of: index, element) else { return nil }
            index = child
        }
        guard let key = keyIndex(in: index, named: name) else { return nil }
        return location(entries[key])
    }

    /// The document's root position.
    var rootLocation: SourceLocation {
        entries.first.map(location) ?? SourceLocation(file: file, line: 1, column: 1)
    }

    func location(_ entry: Entry) -> SourceLocation {
        SourceLocation(file: file, line: Int(entry.line) + 1, column: Int(entry.column) + 1)
    }

    private func child(of index: Int, _ element: PathElement) -> Int? {
        switch (entries[index].kind, element) {
        case (.sequence, .index(let wanted)):
            let end = Int(entries[index].end)
            var j = index + 1
            var position = 0
            while j < end {
                if position == wanted { return j }
                j = Int(entries[j].end)
                position += 1
            }
            return nil
        case (.mapping, .key(let name)):
            return keyIndex(in: index, named: name).map { Int(entries[$0].end) }
        default:
            return nil
        }
    }

    /// The entry of the first key `name` in the mapping at `index`.
    func keyIndex(in index: Int, named name: String, before limit: Int? = nil) -> Int? {
        let end = min(Int(entries[index].end), limit ?? Int.max)
        var j = index + 1
        while j < end {
            if entries[j].key == name { return j }
            let value = Int(entries[j].end)
            guard value < entries.count else { return nil }
            j = Int(entries[value].end)
        }
        return nil
    }
}

/// One document of a YAML stream: its value, where it starts, and where each of its nodes is.
public struct YAMLDocument: Sendable {
    /// The document's content, read by Kubernetes' rules.
    public var value: Value
    /// Where the content begins (its first node).
    public var location: SourceLocation
    /// Positions of the document's nodes.
    public var sourceMap: SourceMap

    /// A document from its parts.
    public init(value: Value, location: SourceLocation, sourceMap: SourceMap) {
        self.value = value
        self.location = location
        self.sourceMap = sourceMap
    }

    /// Where the node at `path` starts, or the nearest ancestor written in the file.
    public func location(at path: [PathElement]) -> SourceLocation { sourceMap.nearestLocation(of: path) }
}
