import KubeSchema
import SyncCore

/// Secret values never leave the differ: in a Secret's `data` and `stringData` every value becomes
/// ``mask`` (keys stay, so a report names what changed), in changes and in both compared objects.
public enum SecretMasking {
    /// What a Secret value is shown as.
    public static let mask: Value = "<masked>"

    /// Whether an object of this identity has values to mask.
    public static func applies(to key: ObjectKey) -> Bool { key.group.isEmpty && key.kind == "Secret" }

    /// The Secret with every `data`/`stringData` value masked.
    public static func masked(_ object: Value) -> Value {
        var object = object
        for field in ["data", "stringData"] {
            guard case .object(let members)? = object[field] else { continue }
            var masked = members
            for key in members.keys { masked[key] = mask }
            object[field] = .object(masked)
        }
        return object
    }

    /// What a changed Secret value is shown as on the desired side of a unified diff, so a change of a masked value
    /// still shows (both sides would otherwise read ``mask``).
    public static let changedMask: Value = "<changed, value hidden>"

    /// The masked target with every changed `data`/`stringData` value that exists on both sides shown as
    /// ``changedMask``.
    static func markChanged(_ target: Value, changes: [FieldChange]) -> Value {
        var target = target
        for change in changes where change.live != nil && change.desired != nil && change.path.count == 2 {
            guard case .field(let top) = change.path[0], top == "data" || top == "stringData",
                case .field(let key) = change.path[1], target[top]?[key] != nil
            else { continue }
            target[top]?[key] = changedMask
        }
        return target
    }

    /// Whether both sides of a change are masked values (a Secret value changed; which way is hidden).
    static func isMaskedChange(_ change: FieldChange) -> Bool { change.live == mask && change.desired == mask }

    /// A change with its values masked when it is in `data` or `stringData`.
    static func masked(_ change: FieldChange) -> FieldChange {
        guard case .field(let top)? = change.path.first, top == "data" || top == "stringData" else { return change }
        var change = change
        change.live = change.live.map { maskedValues($0, depth: change.path.count) }
        change.desired = change.desired.map { maskedValues($0, depth: change.path.count) }
        return change
    }

    /// At `.data` (depth 1) a map of values; deeper, one value.
    private static func maskedValues(_ value: Value, depth: Int) -> Value {
        guard depth == 1, case .object(let members) = value else { return mask }
        var masked = members
        for key in members.keys { masked[key] = mask }
        return .object(masked)
    }
}
