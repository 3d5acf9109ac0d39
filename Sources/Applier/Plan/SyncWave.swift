import SyncCore

/// An object's wave: the integer in its `syncagent.io/wave` annotation, 0 when it has none.
enum SyncWave {
    /// The object's wave, or the reason its annotation is not one.
    static func of(_ resource: Resource) throws(PlanError) -> Int {
        guard let value = resource.body[path: ["metadata", "annotations", RegionPlan.waveAnnotation]] else { return 0 }
        guard let text = value.stringValue else {
            let shown: String
            switch value {
            case .int(let i): shown = "the number \(i) (annotation values are strings: quote it, \"\(i)\")"
            case .null: shown = "nothing (null)"
            default: shown = "a \(value.typeName)"
            }
            throw .invalidWave(resource.ref, source: resource.source, found: shown)
        }
        guard let wave = Int(text), wave >= Int(Int32.min), wave <= Int(Int32.max) else {
            throw .invalidWave(resource.ref, source: resource.source, found: "\"\(text)\"")
        }
        return wave
    }
}
