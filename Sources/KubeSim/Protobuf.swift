import Foundation
import SyncCore

/// Reads Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), which kubectl's typed clients send
/// for built-in kinds (`kubectl create configmap`, `create deployment`, `create namespace`, ...), into the same value
/// a JSON body gives.
///
/// The envelope: the 4 bytes `k8s\0`, then a `runtime.Unknown` message — `typeMeta` (1: `apiVersion` 1, `kind` 2),
/// `raw` (2: the object's own message), `contentEncoding` (3), `contentType` (4). The object's message is read
/// with ``ProtobufSchema``'s field tables (numbers and types as in k8s.io/api's `generated.proto`).
///
/// Go's marshaller writes every non-pointer field, zero or not; JSON leaves zero `omitempty` fields out. So a zero
/// string, number or boolean, an empty list, map or message is dropped, unless the field is a pointer in Go (a
/// `replicas: 0` that was set), which the schema marks. A kind without a table is answered 415, as before.
enum KubeProtobuf {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    /// Whether `contentType` names the protobuf encoding.
    static func isProtobuf(_ contentType: String) -> Bool { contentType.contains("application/vnd.kubernetes.protobuf") }

    /// The body as a JSON value (`apiVersion`, `kind`, then the object's fields), or 415/400.
    static func decode(_ body: [UInt8], contentType: String) throws(APIError) -> Value {
        guard body.count >= 4, Array(body.prefix(4)) == magic else {
            throw .badRequest("the protobuf body does not start with the k8s\\0 prefix")
        }
        var reader = WireReader(body[4...])
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        do {
            while let (field, wire) = try reader.nextField() {
                switch (field, wire) {
                case (1, 2):
                    var meta = WireReader(try reader.bytes())
                    while let (metaField, metaWire) = try meta.nextField() {
                        if metaField == 1 && metaWire == 2 {
                            apiVersion = String(decoding: try meta.bytes(), as: UTF8.self)
                        } else if metaField == 2 && metaWire == 2 {
                            kind = String(decoding: try meta.bytes(), as: UTF8.self)
                        } else {
                            try meta.skip(metaWire)
                        }
                    }
                case (2, 2): raw = try reader.bytes()
                default: try reader.skip(wire)
                }
            }
        } catch {
            throw .badRequest("the protobuf envelope is malformed: \(error)")
        }
        let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
        guard let message = ProtobufSchema.message(group: group, kind: kind) else {
            throw .unsupportedMediaType(contentType, accepted: ["application/json", "application/yaml"])
        }
        var object: Value = ["apiVersion": .string(apiVersion), "kind": .string(kind)]
        do {
            let fields = try decodeMessage(raw, message)
            for (key, value) in fields.objectValue ?? [:] { object[key] = value }
        } catch let error as APIError {
            throw error
        } catch {
            throw .badRequest("the protobuf \(kind) is malformed: \(error)")
        }
        return object
    }

    /// One message's fields as a JSON object (empty when every field was zero).
    static func decodeMessage(_ bytes: ArraySlice<UInt8>, _ name: String) throws -> Value {
        guard let fields = ProtobufSchema.messages[name] else {
            throw WireError("no field table for message \(name)")
        }
        var reader = WireReader(bytes)
        var object: Value = .emptyObject
        while let (number, wire) = try reader.nextField() {
            guard let field = fields[number] else {
                try reader.skip(wire)  // a field newer than our table: skipped, as an older server would
                continue
            }
            let value = try decodeValue(&reader, wire: wire, type: field.type)
            if field.name.isEmpty {
                // An embedded struct JSON inlines (a Volume's source, a Probe's handler, a key selector's name).
                for (key, member) in value.objectValue ?? [:] { object[key] = member }
            } else if field.repeated || field.type.isMap {
                var existing = object[field.name] ?? (field.type.isMap ? .emptyObject : .array([]))
                if field.type.isMap, case .object(let entry) = value {
                    for (key, item) in entry { existing[key] = item }
                } else if case .array(var items) = existing {
                    items.append(value)
                    existing = .array(items)
                }
                object[field.name] = existing
            } else if field.pointer || !isZero(value) {
                object[field.name] = value
            }
        }
        return object
    }

    private static func decodeValue(_ reader: inout WireReader, wire: Int, type: ProtobufSchema.FieldType) throws
        -> Value
    {
        switch type {
        case .string:
            return .string(String(decoding: try reader.bytes(), as: UTF8.self))
        case .bytes:
            return .string(Data(try reader.bytes()).base64EncodedString())
        case .int32, .int64:
            let raw = try reader.varint()
            if case .int32 = type { return .int(Int64(Int32(truncatingIfNeeded: raw))) }
            return .int(Int64(bitPattern: raw))
        case .bool:
            return .bool(try reader.varint() != 0)
        case .message(let name):
            return try decodeMessage(try reader.bytes(), name)
        case .time:
            var inner = WireReader(try reader.bytes())
            var seconds: Int64 = 0
            while let (number, innerWire) = try inner.nextField() {
                if number == 1 { seconds = Int64(bitPattern: try inner.varint()) } else { try inner.skip(innerWire) }
            }
            if seconds == 0 { return .null }
            return .string(Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601))
        case .quantity:
            var inner = WireReader(try reader.bytes())
            var text = ""
            while let (number, innerWire) = try inner.nextField() {
                if number == 1 {
                    text = String(decoding: try inner.bytes(), as: UTF8.self)
                } else {
                    try inner.skip(innerWire)
                }
            }
            return .string(text)
        case .intOrString:
            var inner = WireReader(try reader.bytes())
            var isString = false
            var number: Int64 = 0
            var text = ""
            while let (field, innerWire) = try inner.nextField() {
                switch field {
                case 1: isString = try inner.varint() == 1
                case 2: number = Int64(Int32(truncatingIfNeeded: try inner.varint()))
                case 3: text = String(decoding: try inner.bytes(), as: UTF8.self)
                default: try inner.skip(innerWire)
                }
            }
            return isString ? .string(text) : .int(number)
        case .map(let valueType):
            var inner = WireReader(try reader.bytes())
            var key = ""
            var value: Value = .string("")
            while let (field, innerWire) = try inner.nextField() {
                if field == 1 {
                    key = String(decoding: try inner.bytes(), as: UTF8.self)
                } else if field == 2 {
                    value = try decodeValue(&inner, wire: innerWire, type: valueType)
                } else {
                    try inner.skip(innerWire)
                }
            }
            return .object([key: value])
        case .json:
            // `fieldsV1`, `RawExtension`: a message whose field 1 holds JSON bytes.
            var inner = WireReader(try reader.bytes())
            var value: Value = .emptyObject
            while let (field, innerWire) = try inner.nextField() {
                if field == 1 { value = try Value(json: try inner.bytes()) } else { try inner.skip(innerWire) }
            }
            return value
        }
    }

    /// Zero in Go's sense: what JSON's `omitempty` leaves out.
    static func isZero(_ value: Value) -> Bool {
        switch value {
        case .null: return true
        case .string(let text): return text.isEmpty
        case .int(let number): return number == 0
        case .bool(let flag): return !flag
        case .object(let members): return members.isEmpty
        case .array(let items): return items.isEmpty
        default: return false
        }
    }
}

/// Why a protobuf message could not be read.
struct WireError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The protobuf wire format: tags, varints, length-delimited fields.
struct WireReader {
    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    /// The next field's number and wire type, or nil at the end.
    mutating func nextField() throws -> (Int, Int)? {
        guard !rest.isEmpty else { return nil }
        let tag = try varint()
        let number = Int(tag >> 3)
        guard number > 0 else { throw WireError("field number 0") }
        return (number, Int(tag & 7))
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = rest.first {
            rest = rest.dropFirst()
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw WireError("a varint longer than 10 bytes") }
        }
        throw WireError("a varint cut short")
    }

    mutating func bytes() throws -> ArraySlice<UInt8> {
        let count = Int(try varint())
        guard count >= 0, count <= rest.count else { throw WireError("a length of \(count) past the end") }
        let value = rest.prefix(count)
        rest = rest.dropFirst(count)
        return value
    }

    mutating func skip(_ wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard rest.count >= 8 else { throw WireError("a fixed64 cut short") }
            rest = rest.dropFirst(8)
        case 2: _ = try bytes()
        case 5:
            guard rest.count >= 4 else { throw WireError("a fixed32 cut short") }
            rest = rest.dropFirst(4)
        default: throw WireError("wire type \(wire) is not supported")
        }
    }
}
