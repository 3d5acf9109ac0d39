/// A Kubernetes list response (`{"metadata": {...}, "items": [...]}`) read without building its items: where each
/// item's bytes lie and the few fields a cache keys it by, found by stepping over everything else. A cache that keeps
/// objects as JSON bytes then stores each item's bytes as they came, instead of parsing the whole list into values
/// and printing every item again.
///
/// The whole text is checked as JSON (structure, strings and their escapes, numbers, nesting depth), so bytes kept
/// from it parse later.
public struct JSONListScan: Sendable {
    /// One element of `items`.
    public struct Item: Sendable, Hashable {
        /// Where the item's object lies in the scanned bytes.
        public var range: Range<Int>
        /// `metadata.name` ("" when missing).
        public var name: String
        /// `metadata.namespace` ("" when missing: cluster-scoped).
        public var namespace: String
        /// `metadata.resourceVersion` ("" when missing).
        public var resourceVersion: String
        /// `metadata.uid` ("" when missing).
        public var uid = ""
        /// Whether the item has `apiVersion` or `kind` members of its own (items of built-in kinds usually have
        /// neither; custom resources have both).
        public var typed: Bool
        /// Whether both are there and are non-empty strings: the item is a lone object as it stands.
        public var complete: Bool = false
    }

    /// The items, in order.
    public var items: [Item] = []
    /// The list's `metadata.resourceVersion` ("" when missing).
    public var resourceVersion = ""
    /// The list's `metadata.continue` ("" when missing: the last page).
    public var continueToken = ""
    /// The list's `kind` ("" when missing): `PartialObjectMetadataList` when only the items' metadata came.
    public var kind = ""

    /// Scans `bytes`; throws where they are not JSON, or not an object whose `items` is an array of objects.
    public init(_ bytes: [UInt8]) throws(JSONError) {
        var reader = JSONReader(bytes: bytes)
        reader.skipWhitespace()
        try reader.members { reader, key throws(JSONError) in
            switch key {
            case "items":
                guard reader.peek == UInt8(ascii: "[") else {
                    throw JSONError(message: "items is not an array", offset: reader.index)
                }
                try reader.elements { reader throws(JSONError) in
                    items.append(try JSONListScan.item(&reader))
                }
            case "metadata" where reader.peek == UInt8(ascii: "{"):
                try reader.members { reader, key throws(JSONError) in
                    switch key {
                    case "resourceVersion": resourceVersion = try reader.stringOrSkip() ?? ""
                    case "continue": continueToken = try reader.stringOrSkip() ?? ""
                    default: try reader.skipValue()
                    }
                }
            case "kind":
                kind = try reader.stringOrSkip() ?? ""
            default:
                try reader.skipValue()
            }
        }
        reader.skipWhitespace()
        if reader.index != bytes.count {
            throw JSONError(message: "unexpected data after the value", offset: reader.index)
        }
    }

    /// A lone object (a GET's response body) scanned as a list's item: its identity and versions, without
    /// building it. Throws where `bytes` are not one JSON object.
    public static func object(_ bytes: [UInt8]) throws(JSONError) -> Item {
        var reader = JSONReader(bytes: bytes)
        reader.skipWhitespace()
        let found = try item(&reader)
        reader.skipWhitespace()
        if reader.index != bytes.count {
            throw JSONError(message: "unexpected data after the value", offset: reader.index)
        }
        return found
    }

    private static func item(_ reader: inout JSONReader) throws(JSONError) -> Item {
        let start = reader.index
        guard reader.peek == UInt8(ascii: "{") else {
            throw JSONError(message: "an item is not an object", offset: reader.index)
        }
        var item = Item(range: start..<start, name: "", namespace: "", resourceVersion: "", typed: false)
        var apiVersion = false
        var kind = false
        try reader.members { reader, key throws(JSONError) in
            switch key {
            case "apiVersion":
                item.typed = true
                apiVersion = !(try reader.stringOrSkip() ?? "").isEmpty
            case "kind":
                item.typed = true
                kind = !(try reader.stringOrSkip() ?? "").isEmpty
            case "metadata" where reader.peek == UInt8(ascii: "{"):
                try reader.members { reader, key throws(JSONError) in
                    switch key {
                    case "name": item.name = try reader.stringOrSkip() ?? ""
                    case "namespace": item.namespace = try reader.stringOrSkip() ?? ""
                    case "resourceVersion": item.resourceVersion = try reader.stringOrSkip() ?? ""
                    case "uid": item.uid = try reader.stringOrSkip() ?? ""
                    default: try reader.skipValue()
                    }
                }
            default:
                try reader.skipValue()
            }
        }
        item.range = start..<reader.index
        item.complete = apiVersion && kind
        return item
    }

    /// An item's bytes as a lone object: `apiVersion` and `kind` first (the API leaves them out of list items),
    /// then the item's own members as they came. For an item without either member of its own.
    public static func typedObject(_ bytes: [UInt8], _ range: Range<Int>, apiVersion: String, kind: String)
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(range.count + apiVersion.utf8.count + kind.utf8.count + 32)
        out.append(contentsOf: #"{"apiVersion":"#.utf8)
        Value.writeJSONString(apiVersion, into: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        Value.writeJSONString(kind, into: &out)
        // The item's members follow its opening brace; an empty item adds none.
        var body = range.lowerBound + 1
        while body < range.upperBound, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[body]) { body += 1 }
        if body < range.upperBound, bytes[body] != UInt8(ascii: "}") { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: bytes[body..<range.upperBound])
        return out
    }
}

extension JSONReader {
    /// The byte at the reading position, if any.
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Reads an object member by member: `body` is called at each member's value (it must consume it).
    mutating func members(_ body: (inout JSONReader, String) throws(JSONError) -> Void) throws(JSONError) {
        guard peek == UInt8(ascii: "{") else { throw JSONError(message: "expected an object", offset: index) }
        try enter()
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw JSONError(message: "expected a member name", offset: index) }
            let key = try readString()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else {
                throw JSONError(message: "expected ':' after member name", offset: index)
            }
            index += 1
            skipWhitespace()
            try body(&self, key)
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            case nil: throw JSONError(message: "unexpected end of input", offset: index)
            default: throw JSONError(message: "expected ',' or '}'", offset: index)
            }
        }
    }

    /// Reads an array element by element: `body` is called at each element (it must consume it).
    mutating func elements(_ body: (inout JSONReader) throws(JSONError) -> Void) throws(JSONError) {
        guard peek == UInt8(ascii: "[") else { throw JSONError(message: "expected an array", offset: index) }
        try enter()
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return
            case nil: throw JSONError(message: "unexpected end of input", offset: index)
            default: throw JSONError(message: "expected ',' or ']'", offset: index)
            }
        }
    }

    /// A string value read; any other value stepped over (nil).
    mutating func stringOrSkip() throws(JSONError) -> String? {
        if peek == UInt8(ascii: "\"") { return try readString() }
        try skipValue()
        return nil
    }

    /// Steps over one value, checking it as ``readValue()`` would, without building it.
    mutating func skipValue() throws(JSONError) {
        switch peek {
        case UInt8(ascii: "{"): try members { reader, _ throws(JSONError) in try reader.skipValue() }
        case UInt8(ascii: "["): try elements { reader throws(JSONError) in try reader.skipValue() }
        case UInt8(ascii: "\""): try skipString()
        default: _ = try readValue()  // a number or a literal: nothing to allocate
        }
    }

    /// Steps over a string, checking its escapes and that it holds no control character.
    mutating func skipString() throws(JSONError) {
        index += 1  // opening quote
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    _ = try readHex4()
                default:
                    throw JSONError(message: "invalid escape", offset: index)
                }
            case 0..<0x20:
                throw JSONError(message: "control character in string", offset: index)
            default:
                index += 1
            }
        }
        throw JSONError(message: "unterminated string", offset: index)
    }
}
