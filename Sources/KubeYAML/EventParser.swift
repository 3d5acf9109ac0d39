import CYAML

/// What libyaml reported when it stopped: its words and where, still in its own terms (0-based marks).
struct LibYAMLFailure: Error {
    /// "found character that cannot start any token", or "out of memory".
    var problem: String
    /// 0-based line and column of the problem; nil for reader errors, which give a byte offset instead.
    var mark: (line: Int, column: Int)?
    /// Byte offset of a reader error (bad character).
    var offset: Int?
    /// "while parsing a block mapping", with where that began.
    var context: String?
    var contextMark: (line: Int, column: Int)?
}

/// Sole owner of one libyaml parser and its current event, both on the heap (libyaml keeps their addresses).
///
/// The input bytes are borrowed, not copied: create the parser inside `withUnsafeBufferPointer` and let it go
/// before leaving it, as ``YAML`` does. One thread at a time, like every libyaml object.
final class EventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let event: UnsafeMutablePointer<yaml_event_t>
    private let initialized: Bool
    private var holdsEvent = false

    /// A parser over `input`, which must be non-empty and outlive it; nil when libyaml cannot allocate.
    init?(input: UnsafeBufferPointer<UInt8>) {
        parser = .allocate(capacity: 1)
        event = .allocate(capacity: 1)
        guard let base = input.baseAddress, yaml_parser_initialize(parser) != 0 else {
            initialized = false
            return nil
        }
        initialized = true
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, base, input.count)
    }

    deinit {
        if holdsEvent { yaml_event_delete(event) }
        if initialized { yaml_parser_delete(parser) }
        event.deallocate()
        parser.deallocate()
    }

    /// Releases the current event and reads the next one.
    func advance() throws(LibYAMLFailure) {
        if holdsEvent {
            yaml_event_delete(event)
            holdsEvent = false
        }
        guard yaml_parser_parse(parser, event) != 0 else { throw failure() }
        holdsEvent = true
    }

    /// The current event's type.
    var type: yaml_event_type_t { event.pointee.type }

    /// Where the current event starts, 0-based.
    var line: Int { event.pointee.start_mark.line }
    var column: Int { event.pointee.start_mark.column }

    /// The current scalar's bytes, valid until the next `advance()`.
    var scalarBytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: event.pointee.data.scalar.value, count: event.pointee.data.scalar.length)
    }

    /// The current scalar's text.
    var scalarText: String { String(decoding: scalarBytes, as: UTF8.self) }

    /// True for a plain (unquoted, untagged or `!`-tagged) scalar: the only kind whose type is guessed from its text.
    var isPlainImplicit: Bool { event.pointee.data.scalar.plain_implicit != 0 }

    /// The current scalar's tag, already expanded (`!!int` is `tag:yaml.org,2002:int`), or nil.
    var scalarTag: String? { Self.string(event.pointee.data.scalar.tag) }

    /// The anchor the current node defines (`&name`), or nil.
    var anchor: String? {
        switch event.pointee.type {
        case YAML_SCALAR_EVENT: return Self.string(event.pointee.data.scalar.anchor)
        case YAML_SEQUENCE_START_EVENT: return Self.string(event.pointee.data.sequence_start.anchor)
        case YAML_MAPPING_START_EVENT: return Self.string(event.pointee.data.mapping_start.anchor)
        default: return nil
        }
    }

    /// The anchor an alias event names (`*name`).
    var aliasName: String { Self.string(event.pointee.data.alias.anchor) ?? "" }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private func failure() -> LibYAMLFailure {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown libyaml error"
        switch p.error {
        case YAML_MEMORY_ERROR:
            return LibYAMLFailure(problem: "out of memory")
        case YAML_READER_ERROR:
            return LibYAMLFailure(problem: problem, offset: p.problem_offset)
        default:
            return LibYAMLFailure(
                problem: problem,
                mark: (p.problem_mark.line, p.problem_mark.column),
                context: p.context.map { String(cString: $0) },
                contextMark: (p.context_mark.line, p.context_mark.column))
        }
    }
}
