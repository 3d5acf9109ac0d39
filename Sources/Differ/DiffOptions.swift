import SyncCore

/// How desired and live objects are compared.
public struct DiffOptions: Sendable, Hashable {
    /// How the object the cluster would hold is found.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Compare live with the server's dry-run apply of the desired object (``diff(desired:live:predicted:options:ownership:)``'s
        /// `predicted`), every field; falls back to ``clientSide`` for an object without a prediction.
        case serverSide = "server-side"
        /// No dry-run (read-only credentials, offline files): the desired object is defaulted here and only the
        /// fields it sets are compared, plus removals of fields this manager (or `kubectl apply`'s
        /// last-applied annotation) set before.
        case clientSide = "client-side"
    }

    /// Server-side when a prediction is given, else client-side.
    public var mode: Mode
    /// The field manager whose earlier applies count as "ours": its removed fields are drift, and without an
    /// inventory a live object it never wrote is an unmanaged conflict.
    public var fieldManager: String
    /// Rules for differences that do not count.
    public var ignore: [IgnoreRule]
    /// Server-side mode: fields the prediction holds that the field manager does not own (a mutating webhook's
    /// additions) take the live value, so webhooks do not show as drift.
    public var ignoreMutationWebhook: Bool
    /// A ClusterRole with an `aggregationRule` has its `rules` filled by the aggregation controller: ignore them.
    public var ignoreAggregatedRoles: Bool

    /// Options; the defaults are what `syncagent diff` uses.
    public init(
        mode: Mode = .serverSide, fieldManager: String = "syncagent", ignore: [IgnoreRule] = [],
        ignoreMutationWebhook: Bool = true, ignoreAggregatedRoles: Bool = true
    ) {
        self.mode = mode
        self.fieldManager = fieldManager
        self.ignore = ignore
        self.ignoreMutationWebhook = ignoreMutationWebhook
        self.ignoreAggregatedRoles = ignoreAggregatedRoles
    }
}

/// Who created which live objects: what tells "extra" and "unmanaged-conflict" apart from the rest.
public struct Ownership: Sendable, Hashable {
    /// The region's inventory, when one is recorded.
    public var inventory: Inventory?
    /// Treat every live object as syncagent's (for comparing objects that another tool applied, e.g. the
    /// upstream corpus); no object is then an unmanaged conflict.
    public var assumeManaged: Bool

    /// An oracle from the inventory (nil when the region has none).
    public init(inventory: Inventory?, assumeManaged: Bool = false) {
        self.inventory = inventory
        self.assumeManaged = assumeManaged
    }

    /// No inventory: ownership is read from each object's managedFields.
    public static let fromManagedFields = Ownership(inventory: nil)
    /// Every object counts as syncagent's.
    public static let everything = Ownership(inventory: nil, assumeManaged: true)

    /// Whether syncagent created `live`: it is in the inventory, or (without one) `fieldManager` wrote some of it.
    public func manages(_ key: ObjectKey, live: Value, fieldManager: String) -> Bool {
        if assumeManaged { return true }
        if let inventory { return inventory.contains(key) }
        let managers = live[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        return managers.contains { $0["manager"]?.stringValue == fieldManager }
    }
}
