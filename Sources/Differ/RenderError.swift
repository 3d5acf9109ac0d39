import SyncCore

/// Every problem found while rendering manifests; rendering returns all resources or throws this, never a part.
public struct RenderError: Error, CustomStringConvertible, Sendable, Hashable {
    /// One problem at one place.
    public struct Problem: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// Where it is.
        public var location: SourceLocation
        /// What is wrong, without the position.
        public var message: String

        /// A problem at a place.
        public init(location: SourceLocation, message: String) {
            self.location = location
            self.message = message
        }

        /// `file:line:column: message`.
        public var description: String { "\(location): \(message)" }

        /// By position, then message.
        public static func < (a: Problem, b: Problem) -> Bool { (a.location, a.message) < (b.location, b.message) }
    }

    /// Sorted by file, line, column.
    public var problems: [Problem]

    /// All the problems; they are sorted.
    public init(problems: [Problem]) { self.problems = problems.sorted() }

    /// One problem per line, sorted.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
