import KubeYAML
import SyncCore

/// Reads request bodies: JSON first (what kubectl sends, even for apply patches), YAML otherwise.
enum BodyDecoder {
    static func decode(_ body: [UInt8], allowYAML: Bool) throws(APIError) -> Value {
        let first = body.first { $0 != 32 && $0 != 10 && $0 != 13 && $0 != 9 }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") || !allowYAML {
            do {
                return try Value(json: body)
            } catch {
                if !allowYAML {
                    throw .badRequest("the object provided is unrecognized (must be of type json): \(error.message)")
                }
            }
        }
        do {
            return try YAML.loadValue(body, file: "body")
        } catch {
            throw .badRequest("error decoding YAML: \(error)")
        }
    }
}
