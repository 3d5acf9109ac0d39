import SyncCore

/// Why a YAML stream could not be read: a file position and what is wrong there, compiler style.
///
/// `config/bookinfo/reviews.yaml:12:3: duplicate key "weight" (first at line 10, column 3)`.
public struct YAMLError: Error, CustomStringConvertible, Sendable, Hashable, Comparable {
    /// The class of problem, for callers that react to some differently (tests, mostly).
    public enum Kind: Sendable, Hashable {
        /// libyaml could not parse the text (its own message is kept).
        case syntax
        /// A tab where YAML needs spaces for indentation.
        case tabIndentation
        /// The bytes are not UTF-8.
        case invalidUTF8
        /// A mapping names one key twice (Kubernetes' strict decoding rejects this).
        case duplicateKey
        /// Aliases expand to more nodes than allowed: a "billion laughs" document.
        case aliasLimit
        /// An alias names an anchor that is not defined before it (or that contains the alias).
        case unknownAlias
        /// A value JSON cannot carry (`.inf`, `.nan`) or a tagged scalar that does not fit its tag.
        case unsupportedValue
        /// A mapping key that Kubernetes cannot turn into a string (null, a mapping, a sequence, a huge integer).
        case unsupportedKey
        /// A merge key (`<<`) whose value is not a mapping or a sequence of mappings.
        case invalidMerge
        /// Collections nested deeper than the loader allows.
        case tooDeep
        /// More documents than ``YAMLLoadOptions/maxDocuments``.
        case tooManyDocuments
        /// More or fewer documents than the caller asked for.
        case documentCount
    }

    /// Where the problem is.
    public var location: SourceLocation
    /// Its class.
    public var kind: Kind
    /// What is wrong, without the position.
    public var message: String

    /// A problem of `kind` at `location`.
    public init(_ kind: Kind, at location: SourceLocation, _ message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String { "\(location): \(message)" }

    /// By position, then message.
    public static func < (a: YAMLError, b: YAMLError) -> Bool {
        (a.location, a.message) < (b.location, b.message)
    }
}
