import SyncCore

/// What a sync did to one object, as fluxcd's `ssa` ChangeSet records it.
public enum ApplyAction: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The object did not exist and was applied.
    case created
    /// The object existed and the apply changed it.
    case configured
    /// The object already matched the desired one, so nothing was sent.
    case unchanged
    /// The object was deleted because it left Git and was in the region's inventory.
    case pruned
    /// A prune was refused (annotation `syncagent.io/prune: disabled`, not in the inventory, already gone).
    case skipped
    /// An immutable field changed and the object says `syncagent.io/recreate: "true"`: deleted and created again.
    case recreated

    /// "created", "configured", ...
    public var description: String { rawValue }
}

/// One object and what a sync did to it: `v1/ConfigMap app/settings configured`, or for a skipped prune
/// `v1/ConfigMap app/keep skipped (syncagent.io/prune: disabled)`.
public struct ObjectChange: Sendable, Hashable, CustomStringConvertible {
    /// The object.
    public var ref: ObjectRef
    /// What was done to it.
    public var action: ApplyAction
    /// Why, when the action alone does not say (a skipped prune); empty otherwise.
    public var reason: String

    /// A change from its parts.
    public init(_ ref: ObjectRef, _ action: ApplyAction, reason: String = "") {
        self.ref = ref
        self.action = action
        self.reason = reason
    }

    public var description: String { "\(ref) \(action)" + (reason.isEmpty ? "" : " (\(reason))") }
}
