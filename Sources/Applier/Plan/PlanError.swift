import SyncCore

/// Why a region's plan cannot be made. Nothing is applied when there is one: every problem is found first.
///
/// Each message names the object, where it was written (`file:line:column`, or "live object" for one read from the
/// cluster), what is wrong and what to do.
public enum PlanError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The `syncagent.io/wave` annotation is not an integer written as a string.
    case invalidWave(ObjectRef, source: SourceLocation?, found: String)
    /// Two desired objects have one identity (group, kind, namespace, name).
    case duplicateObject(ObjectKey, first: SourceLocation?, second: SourceLocation?)
    /// An object is both desired and to be pruned.
    case appliedAndPruned(ObjectRef, source: SourceLocation?)
    /// A Namespace is to be pruned while desired objects live in it (deleting it would delete them).
    case prunedNamespaceInUse(namespace: String, by: ObjectRef, source: SourceLocation?)
    /// Waves put an object before one it needs: a custom resource before its CustomResourceDefinition, a
    /// VirtualService before the DestinationRule of a host it routes to or a Gateway it binds.
    case orderConflict(
        ObjectRef, source: SourceLocation?, wave: Int, needs: ObjectRef, neededWave: Int, because: String)
    /// Several of the above, sorted by position.
    indirect case several([PlanError])

    /// Where the problem was written, for sorting.
    var location: SourceLocation? {
        switch self {
        case .invalidWave(_, let source, _), .appliedAndPruned(_, let source),
            .prunedNamespaceInUse(_, _, let source), .orderConflict(_, let source, _, _, _, _):
            return source
        case .duplicateObject(_, _, let second): return second
        case .several(let errors): return errors.first?.location
        }
    }

    /// Problems without a position (objects built in code) first, then by file, line and column, then by text.
    static func byPosition(_ a: PlanError, _ b: PlanError) -> Bool {
        switch (a.location, b.location) {
        case (nil, .some): return true
        case (.some, nil): return false
        case (let x?, let y?) where x != y: return x < y
        default: return a.description < b.description
        }
    }

    public var description: String {
        switch self {
        case .invalidWave(let ref, let source, let found):
            return Self.at(source)
                + "\(ref): annotation \(RegionPlan.waveAnnotation) must be a whole number written as a string "
                + "(\"-1\", \"0\", \"2\"); found \(found)"
        case .duplicateObject(let key, let first, let second):
            return Self.at(second) + "\(key) is defined twice" + (first.map { " (first at \($0))" } ?? "")
                + "; keep one definition"
        case .appliedAndPruned(let ref, let source):
            return Self.at(source) + "\(ref) is both desired and listed for pruning; an object is one or the other"
        case .prunedNamespaceInUse(let namespace, let user, let source):
            return Self.at(source)
                + "\(user) is desired in namespace \(namespace), which is listed for pruning; deleting the namespace "
                + "would delete it: keep the Namespace in Git, or move the object"
        case .orderConflict(let ref, let source, let wave, let needs, let neededWave, let because):
            return Self.at(source)
                + "\(ref) (wave \(wave)) \(because) \(needs), which is in the later wave \(neededWave); give "
                + "\(needs.kind) \(needs.name) a wave of \(wave) or lower, or this \(ref.kind) a wave of "
                + "\(neededWave) or higher"
        case .several(let errors):
            return errors.map(\.description).joined(separator: "\n")
        }
    }

    /// `file:line:column: `, `live object: `, or nothing.
    private static func at(_ source: SourceLocation?) -> String { source.map { "\($0): " } ?? "" }
}
