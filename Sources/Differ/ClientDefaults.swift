import KubeSchema
import SyncCore

/// Client-side normalisation of a desired object (read-only mode): what the API server would fill in on apply,
/// using KubeSchema's defaulting of built-in kinds (Secret `stringData` becomes base64 `data`, Deployment
/// strategy, container `terminationMessagePath`, Service `protocol`/`targetPort`, ...). Custom resources are
/// left as written.
enum ClientDefaults {
    static func apply(_ desired: Value, key: ObjectKey) -> Value {
        var object = desired
        Defaulting.apply(&object, group: key.group, kind: key.kind)
        return object
    }
}
