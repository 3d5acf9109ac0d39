import FuzzSupport
import SyncCore

/// libFuzzer target for SyncCore's JSON reader: any bytes read into a value or a `JSONError`, never a crash or a
/// hang; a value read prints as JSON (compact and indented) that reads back and prints the same.
@main
enum FuzzJSON {
    static func main() { FuzzDriver.main(fuzzOne) }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let value: Value
    do {
        value = try Value(json: bytes)
    } catch {
        _ = error.description
        return 0
    }
    let compact = value.jsonString
    guard let again = try? Value(json: compact) else { fatalError("printed JSON does not read:\n\(compact)") }
    precondition(again.jsonString == compact, "printed JSON does not print the same after reading:\n\(compact)")
    guard let pretty = try? Value(json: value.prettyJSONString) else {
        fatalError("indented JSON does not read:\n\(value.prettyJSONString)")
    }
    precondition(pretty.jsonString == compact, "indented JSON does not read as the compact one:\n\(compact)")
    return 0
}
