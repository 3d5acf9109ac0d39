import CYAML
import OrderedCollections  // via SyncCore, whose Value.object holds one
import SyncCore

/// Limits that keep hostile input cheap to reject, and how strictly mappings are read.
public struct YAMLLoadOptions: Sendable, Hashable {
    /// What a mapping that writes one key twice means.
    public enum DuplicateKeys: Sendable, Hashable {
        /// An error naming both places, as kubectl's strict decoding reports it. The default, and the only right
        /// choice for manifests: a repeated key usually hides an edit that was meant to win.
        case reject
        /// The last value written wins (keeping the first one's place in the mapping), as Go's lenient decoders
        /// read it. For reading server output and upstream fixtures only, never for manifests to apply.
        case lastWins
    }

    /// How many nodes aliases may expand to in one document before it is rejected as a "billion laughs".
    /// Anchored values are shared, not copied, but every consumer (diff, JSON, hashing) walks the expansion.
    public var maxAliasExpansion: Int
    /// How deeply collections may nest (each level costs stack in the loader and in every consumer).
    public var maxDepth: Int
    /// The default ``maxDepth``: 512 levels, as SyncCore's JSON reader allows. Real manifests nest a few dozen.
    public static let maxNestingDepth = 512
    /// Whether a key written twice in one mapping is an error (``DuplicateKeys/reject``, the default) or the last
    /// value wins (``DuplicateKeys/lastWins``, for reading server output or fixtures only).
    public var duplicateKeys: DuplicateKeys
    /// How many non-empty documents one stream may hold: the loader stops at the first one past it (an error of
    /// kind ``YAMLError/Kind/tooManyDocuments``), so a file of a million documents costs the limit, not the file.
    public var maxDocuments: Int

    /// Limits; the defaults suit manifests of any real size and reject duplicate keys.
    public init(
        maxAliasExpansion: Int = 1_000_000, maxDepth: Int = maxNestingDepth, duplicateKeys: DuplicateKeys = .reject,
        maxDocuments: Int = .max
    ) {
        self.maxAliasExpansion = maxAliasExpansion
        self.maxDepth = maxDepth
        self.duplicateKeys = duplicateKeys
        self.maxDocuments = maxDocuments
    }
}

/// Reading YAML streams into values, as Kubernetes reads manifests.
///
/// Event-based on libyaml (no document tree is built twice). The rules:
/// - scalars resolve as sigs.k8s.io/yaml does (see `ScalarResolver`): YAML 1.1 Booleans, Go integer syntax,
///   no `.inf`/`.nan`, mapping keys turned into strings;
/// - anchors and aliases share values; aliases may expand to at most ``YAMLLoadOptions/maxAliasExpansion`` nodes;
/// - merge keys (`<<: *base`, `<<: [*a, *b]`) copy members not written in the mapping itself; explicit members
///   win wherever they are written, and among several merged mappings the first wins (the YAML merge spec);
/// - a key written twice in one mapping is an error naming both places (kubectl's strict decoding), unless
///   ``YAMLLoadOptions/duplicateKeys`` is ``YAMLLoadOptions/DuplicateKeys/lastWins`` (server output, fixtures);
/// - documents that are empty or null (`---` alone, comments only) are skipped;
/// - input must be UTF-8; errors name `file:line:column`, lines and columns from 1, columns in characters.
public enum YAML {
    /// Every document in `bytes`, or the first problem (by position) when there is any.
    public static func load(
        _ bytes: [UInt8], file: String = "<input>", options: YAMLLoadOptions = YAMLLoadOptions()
    ) throws(YAMLError) -> [YAMLDocument] {
        let result = loadCollectingErrors(bytes, file: file, options: options)
        if let first = result.errors.first { throw first }
        return result.documents
    }

    /// Every document in `text`.
    public static func load(
        _ text: String, file: String = "<input>", options: YAMLLoadOptions = YAMLLoadOptions()
    ) throws(YAMLError) -> [YAMLDocument] {
        try load(Array(text.utf8), file: file, options: options)
    }

    /// The single document's value (null for an empty stream); an error when there are several documents.
    public static func loadValue(
        _ bytes: [UInt8], file: String = "<input>", options: YAMLLoadOptions = YAMLLoadOptions()
    ) throws(YAMLError) -> Value {
        let documents = try load(bytes, file: file, options: options)
        guard documents.count <= 1 else {
            throw YAMLError(
                .documentCount, at: documents[1].location,
                "expected one YAML document, found \(documents.count)")
        }
        return documents.first?.value ?? .null
    }

    /// The single document's value of a string.
    public static func loadValue(_ text: String, file: String = "<input>") throws(YAMLError) -> Value {
        try loadValue(Array(text.utf8), file: file)
    }

    /// Every problem in `bytes`, sorted by position, and the documents that had none.
    ///
    /// Problems inside a document (duplicate keys, unsupported values, unknown aliases) leave that document out
    /// and reading goes on; syntax errors, invalid UTF-8 and alias bombs stop the stream where they occur.
    public static func loadCollectingErrors(
        _ bytes: [UInt8], file: String = "<input>", options: YAMLLoadOptions = YAMLLoadOptions()
    ) -> (documents: [YAMLDocument], errors: [YAMLError]) {
        bytes.withUnsafeBufferPointer { buffer in
            if let bad = TextPosition.firstInvalidUTF8(in: buffer) {
                let (line, column) = TextPosition.lineColumn(ofOffset: bad, in: buffer)
                let hex = String(buffer[bad], radix: 16, uppercase: true)
                let error = YAMLError(
                    .invalidUTF8, at: SourceLocation(file: file, line: line, column: column),
                    "invalid UTF-8 (byte 0x\(hex) at offset \(bad)); manifests must be UTF-8 text")
                return ([], [error])
            }
            guard !buffer.isEmpty else { return ([], []) }
            guard let parser = EventParser(input: buffer) else {
                return ([], [YAMLError(.syntax, at: SourceLocation(file: file, line: 1, column: 1), "out of memory")])
            }
            var composer = Composer(parser: parser, input: buffer, file: file, options: options)
            let documents = composer.stream()
            return (documents, composer.errors.sorted())
        }
    }
}

/// An anchored value and how many nodes it stands for (counting its own alias expansions).
private struct Anchor {
    var value: Value
    var nodes: Int
}

/// Builds values from libyaml events by recursive descent, one document at a time.
private struct Composer {
    let parser: EventParser
    let input: UnsafeBufferPointer<UInt8>
    let file: String
    let options: YAMLLoadOptions
    var errors: [YAMLError] = []

    private var anchors: [String: Anchor] = [:]
    private var building: Set<String> = []
    private var nodes = 0
    private var aliasNodes = 0
    private var entries: [SourceMap.Entry] = []
    private var entriesHint = 64
    private var documentErrors = 0

    init(parser: EventParser, input: UnsafeBufferPointer<UInt8>, file: String, options: YAMLLoadOptions) {
        self.parser = parser
        self.input = input
        self.file = file
        self.options = options
    }

    /// Reads the whole stream; a fatal problem ends it (recorded in `errors`) with the documents read so far.
    mutating func stream() -> [YAMLDocument] {
        var documents: [YAMLDocument] = []
        do throws(YAMLError) {
            try advance()  // STREAM-START
            while true {
                try advance()
                if parser.type == YAML_STREAM_END_EVENT { break }
                guard parser.type == YAML_DOCUMENT_START_EVENT else {
                    throw error(.syntax, line: parser.line, column: parser.column, "unexpected event in stream")
                }
                if documents.count >= options.maxDocuments {
                    throw error(
                        .tooManyDocuments, line: parser.line, column: parser.column,
                        "more than \(options.maxDocuments) documents")
                }
                anchors.removeAll(keepingCapacity: true)
                building.removeAll()
                aliasNodes = 0
                entries = []
                entries.reserveCapacity(entriesHint)
                documentErrors = errors.count
                try advance()
                let root = try node(depth: 0)
                try advance()  // DOCUMENT-END
                entriesHint = entries.count  // documents of one stream tend to be alike
                let map = SourceMap(file: file, entries: entries)
                if !root.isNull && errors.count == documentErrors {
                    documents.append(YAMLDocument(value: root, location: map.rootLocation, sourceMap: map))
                }
            }
        } catch {
            errors.append(error)
        }
        return documents
    }

    private mutating func advance() throws(YAMLError) {
        do throws(LibYAMLFailure) {
            try parser.advance()
        } catch {
            throw translate(error)
        }
    }

    private mutating func node(depth: Int) throws(YAMLError) -> Value {
        switch parser.type {
        case YAML_SCALAR_EVENT: return scalar()
        case YAML_ALIAS_EVENT: return try alias()
        case YAML_SEQUENCE_START_EVENT: return try sequence(depth: depth)
        case YAML_MAPPING_START_EVENT: return try mapping(depth: depth)
        default: throw error(.syntax, line: parser.line, column: parser.column, "unexpected event inside a document")
        }
    }

    private mutating func record(_ kind: SourceMap.Entry.Kind) -> Int {
        let index = entries.count
        let end = kind == .sequence || kind == .mapping ? Int32.max : Int32(index + 1)
        entries.append(
            SourceMap.Entry(line: Int32(parser.line), column: Int32(parser.column), end: end, kind: kind, key: nil))
        return index
    }

    private mutating func scalar() -> Value {
        let line = parser.line
        let column = parser.column
        _ = record(.scalar)
        nodes += 1
        let text = parser.scalarText
        let value: Value
        if let tag = parser.scalarTag {
            value = tagged(text, tag: tag, line: line, column: column)
        } else if parser.isPlainImplicit {
            switch ScalarResolver.resolve(plain: text) {
            case .value(let v): value = v
            case .nonFinite:
                errors.append(
                    error(
                        .unsupportedValue, line: line, column: column,
                        "unsupported value \(text): JSON has no infinity or NaN (quote it to keep the text)"))
                value = .null
            }
        } else {
            value = .string(text)
        }
        if let anchor = parser.anchor { anchors[anchor] = Anchor(value: value, nodes: 1) }
        return value
    }

    /// A scalar with an explicit tag (see `ScalarResolver`).
    private mutating func tagged(_ text: String, tag: String, line: Int, column: Int) -> Value {
        let expected: String
        switch tag {
        case ScalarResolver.intTag: expected = "!!int"
        case ScalarResolver.floatTag: expected = "!!float"
        case ScalarResolver.boolTag: expected = "!!bool"
        case ScalarResolver.nullTag: expected = "!!null"
        default: return .string(text)  // !!str, !!binary, !!timestamp, "!", local tags
        }
        let resolved = ScalarResolver.resolve(plain: text)
        switch (expected, resolved) {
        case ("!!int", .value(.int)), ("!!int", .value(.uint)), ("!!float", .value(.double)),
            ("!!bool", .value(.bool)), ("!!null", .value(.null)):
            if case .value(let v) = resolved { return v }
        case ("!!float", .value(.int(let i))): return .double(Double(i))
        case ("!!float", .value(.uint(let u))): return .double(Double(u))
        default: break
        }
        // The scalar itself is never echoed: it may be a secret (`password: !!int hunter2`).
        errors.append(
            error(
                .unsupportedValue, line: line, column: column,
                "the value tagged \(expected) is not a valid \(expected) (its text is not shown: it may be a secret)"))
        return .null
    }

    private mutating func alias() throws(YAMLError) -> Value {
        let line = parser.line
        let column = parser.column
        let name = parser.aliasName
        _ = record(.alias)
        guard let anchor = anchors[name] else {
            let why =
                building.contains(name) ? "refers to a node that contains it" : "names no anchor defined before it"
            errors.append(error(.unknownAlias, line: line, column: column, "alias *\(name) \(why)"))
            return .null
        }
        nodes += anchor.nodes
        aliasNodes += anchor.nodes
        if aliasNodes > options.maxAliasExpansion {
            throw error(
                .aliasLimit, line: line, column: column,
                "aliases expand to more than \(options.maxAliasExpansion) nodes (a \"billion laughs\" document?)")
        }
        return anchor.value
    }

    private mutating func sequence(depth: Int) throws(YAMLError) -> Value {
        try checkDepth(depth)
        let index = record(.sequence)
        let anchor = parser.anchor
        if let anchor { building.insert(anchor) }
        let before = nodes
        nodes += 1
        var elements: [Value] = []
        while true {
            try advance()
            if parser.type == YAML_SEQUENCE_END_EVENT { break }
            elements.append(try node(depth: depth + 1))
        }
        entries[index].end = Int32(entries.count)
        let value = Value.array(elements)
        if let anchor {
            building.remove(anchor)
            anchors[anchor] = Anchor(value: value, nodes: nodes - before)
        }
        return value
    }

    private mutating func mapping(depth: Int) throws(YAMLError) -> Value {
        try checkDepth(depth)
        let index = record(.mapping)
        let anchor = parser.anchor
        if let anchor { building.insert(anchor) }
        let before = nodes
        nodes += 1
        var members = OrderedDictionary<String, Value>()
        var merged: Set<String> = []  // members copied by a merge key, which explicit keys may replace
        while true {
            try advance()
            if parser.type == YAML_MAPPING_END_EVENT { break }
            let keyIndex = entries.count
            let keyLine = parser.line
            let keyColumn = parser.column
            if isMergeKey {
                _ = scalar()
                entries[keyIndex].key = "<<"
                try advance()
                let line = parser.line
                let column = parser.column
                let source = try node(depth: depth + 1)
                merge(source, into: &members, merged: &merged, line: line, column: column)
                continue
            }
            let keyValue = try node(depth: depth + 1)
            try advance()
            let value = try node(depth: depth + 1)
            guard let key = ScalarResolver.keyString(keyValue) else {
                errors.append(
                    error(
                        .unsupportedKey, line: keyLine, column: keyColumn,
                        "unsupported mapping key \(describe(keyValue)): Kubernetes keys must be strings"))
                continue
            }
            entries[keyIndex].key = key
            if members.updateValue(value, forKey: key) != nil {
                if merged.remove(key) != nil { continue }
                if options.duplicateKeys == .lastWins { continue }
                var first = ""
                if let firstIndex = SourceMap(file: file, entries: entries).keyIndex(
                    in: index, named: key, before: keyIndex)
                {
                    first = " (first at line \(entries[firstIndex].line + 1), column \(entries[firstIndex].column + 1))"
                }
                errors.append(
                    error(.duplicateKey, line: keyLine, column: keyColumn, "duplicate key \"\(key)\"\(first)"))
            }
        }
        entries[index].end = Int32(entries.count)
        let value = Value.object(members)
        if let anchor {
            building.remove(anchor)
            anchors[anchor] = Anchor(value: value, nodes: nodes - before)
        }
        return value
    }

    /// A plain `<<` key (or one tagged `!!merge`), as go-yaml recognises it.
    private var isMergeKey: Bool {
        guard parser.type == YAML_SCALAR_EVENT else { return false }
        if let tag = parser.scalarTag { return tag == ScalarResolver.mergeTag }
        let bytes = parser.scalarBytes
        return parser.isPlainImplicit && bytes.count == 2 && bytes[0] == UInt8(ascii: "<")
            && bytes[1] == UInt8(ascii: "<")
    }

    /// Copies members of `source` (a mapping or a sequence of mappings) that `members` does not have yet.
    private mutating func merge(
        _ source: Value, into members: inout OrderedDictionary<String, Value>, merged: inout Set<String>,
        line: Int, column: Int
    ) {
        let sources: [OrderedDictionary<String, Value>]
        switch source {
        case .object(let m): sources = [m]
        case .array(let items) where items.allSatisfy({ $0.objectValue != nil }):
            sources = items.compactMap(\.objectValue)
        default:
            errors.append(
                error(
                    .invalidMerge, line: line, column: column,
                    "the value of a merge key (<<) must be a mapping or a sequence of mappings, found a \(source.typeName)"
                ))
            return
        }
        for m in sources {
            for (key, value) in m where members[key] == nil {
                members[key] = value
                merged.insert(key)
            }
        }
    }

    private func checkDepth(_ depth: Int) throws(YAMLError) {
        if depth >= options.maxDepth {
            throw error(
                .tooDeep, line: parser.line, column: parser.column,
                "nesting deeper than \(options.maxDepth) levels")
        }
    }

    private func describe(_ key: Value) -> String {
        switch key {
        case .null: return "null"
        case .uint(let u): return "\(u) (too large for a 64-bit signed integer)"
        default: return "of type \(key.typeName)"
        }
    }

    private func error(_ kind: YAMLError.Kind, line: Int, column: Int, _ message: String) -> YAMLError {
        YAMLError(kind, at: SourceLocation(file: file, line: line + 1, column: column + 1), message)
    }

    /// libyaml's report in compiler style; tabs used for indentation get a message that says so.
    private func translate(_ failure: LibYAMLFailure) -> YAMLError {
        if let offset = failure.offset {
            let (line, column) = TextPosition.lineColumn(ofOffset: offset, in: input)
            return YAMLError(.syntax, at: SourceLocation(file: file, line: line, column: column), failure.problem)
        }
        let (line, column) = failure.mark ?? (0, 0)
        var isTab = failure.problem.contains("tab character")
        if !isTab, failure.problem.contains("cannot start any token"),
            let offset = TextPosition.offset(line: line, column: column, in: input), input[offset] == 0x09
        {
            isTab = true
        }
        if isTab {
            return error(
                .tabIndentation, line: line, column: column,
                "tab character in indentation (YAML indents with spaces only)")
        }
        var message = failure.problem
        if let context = failure.context, let mark = failure.contextMark {
            message += " (\(context) at line \(mark.line + 1), column \(mark.column + 1))"
        }
        return error(.syntax, line: line, column: column, message)
    }
}
