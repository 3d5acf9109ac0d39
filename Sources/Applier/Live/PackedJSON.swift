import CZlib
import SyncCore

/// One object's JSON bytes as the live-state cache keeps them: deflated (zlib level 1, with a preset dictionary of
/// the keys every Kubernetes object repeats, and zlib's checksum: damaged bytes are refused, not read), or as they
/// are when deflating did not make them smaller or no ``Deflater`` was given. A Deployment's 3 KB of JSON with its
/// managedFields keeps in about 1 KB.
///
/// The objects of one list share one allocation (``packing(_:deflater:)``, ``ByteBlock``).
struct PackedJSON: Sendable {
    /// The deflated bytes, or the JSON itself (``deflated`` false); a slice of a list's shared block, or whole.
    private let storage: ArraySlice<UInt8>
    /// The length of the JSON.
    let count: Int
    let deflated: Bool

    private init(storage: ArraySlice<UInt8>, count: Int, deflated: Bool) {
        self.storage = storage
        self.count = count
        self.deflated = deflated
    }

    /// `bytes` deflated by `deflater`, or kept as they are.
    init(_ bytes: [UInt8], deflater: Deflater?) {
        if let packed = deflater?.deflate(bytes), packed.count < bytes.count {
            self.init(storage: packed[...], count: bytes.count, deflated: true)
        } else {
            self.init(storage: bytes[...], count: bytes.count, deflated: false)
        }
    }

    /// Each of `items` deflated by `deflater` (or kept as it is when that is not smaller), all in one block
    /// (``ByteBlock``).
    static func packing(_ items: [[UInt8]], deflater: Deflater) -> [PackedJSON] {
        var deflated: [Bool] = []
        deflated.reserveCapacity(items.count)
        let kept = items.map { bytes -> [UInt8] in
            guard let packed = deflater.deflate(bytes), packed.count < bytes.count else {
                deflated.append(false)
                return bytes
            }
            deflated.append(true)
            return packed
        }
        return zip(zip(items, ByteBlock.pack(kept)), deflated).map { pair, deflated in
            PackedJSON(storage: pair.1, count: pair.0.count, deflated: deflated)
        }
    }

    /// The bytes this keeps (what ``LiveCache`` statistics count).
    var storedCount: Int { storage.count }

    /// The JSON again; nil only when the deflated bytes do not inflate to ``count`` bytes (never for what
    /// ``init(_:deflater:)`` made). `inflater` is made on first use: a reader of bytes kept as they are needs none.
    func bytes(_ inflater: inout Inflater?) -> [UInt8]? {
        guard deflated else { return Array(storage) }
        let stream = inflater ?? Inflater()
        inflater = stream
        return stream.inflate(storage, count: count)
    }

    /// What both ends preset: zlib finds these strings in an object from its first byte on. The most frequent come
    /// last (a match close to the data is cheaper to code).
    static let dictionary: [UInt8] = Array(
        ("\"annotations\":{\"kubectl.kubernetes.io/\",\"app.kubernetes.io/name\":\"\",\"finalizers\":[],"
            + "\"ownerReferences\":[{\"apiVersion\":\"\",\"blockOwnerDeletion\":true,\"controller\":true,"
            + "\"status\":{\"conditions\":[{\"lastTransitionTime\":\"\",\"lastUpdateTime\":\"\",\"message\":\"\","
            + "\"reason\":\"\",\"status\":\"True\",\"type\":\"\"}],\"observedGeneration\":1,\"readyReplicas\":1,"
            + "\"replicas\":1,\"updatedReplicas\":1,\"availableReplicas\":1},\"spec\":{\"selector\":{\"matchLabels\""
            + ":{\"app\":\"\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"\"}},\"spec\":{\"containers\":[{"
            + "\"name\":\"\",\"image\":\"\",\"ports\":[{\"containerPort\":8080,\"name\":\"http\",\"protocol\":\"TCP\"}"
            + "],\"resources\":{\"limits\":{\"cpu\":\"\",\"memory\":\"\"},\"requests\":{\"cpu\":\"\",\"memory\":\"\"}}"
            + "}]}}},\"data\":{\"},\"f:spec\":{\"f:status\":{\".\":{},\"f:metadata\":{\"f:labels\":{\"f:annotations\""
            + ":{\"f:app\":{},\"k:{\\\"name\\\":\\\"\\\"}\":{\".\":{},\"f:name\":{},\"f:value\":{}}"
            + "\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"subresource\":\"status\",\"time\":\""
            + "{\"apiVersion\":\"v1\",\"kind\":\"\",\"metadata\":{\"creationTimestamp\":\"\",\"generation\":1,"
            + "\"labels\":{\"app\":\"\"},\"managedFields\":[{\"apiVersion\":\"v1\",\"fieldsType\":\"FieldsV1\","
            + "\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:\":{}}},"
            + "\"manager\":\"syncagent\",\"operation\":\"Apply\",\"time\":\"T00:00:00Z\"}],\"name\":\"\","
            + "\"namespace\":\"\",\"resourceVersion\":\"\",\"uid\":\"\"},\"spec\":{").utf8)
}

/// One zlib deflate stream, reset for each object: level 1 with ``PackedJSON/dictionary``, a 8 KiB
/// window and small hash tables (about 64 KiB in all; a cached object is a few KiB). Not shared between threads:
/// one per list, one per watch event.
final class Deflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let started: Bool
    private var scratch: [UInt8] = []

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        started = syncagent_deflate_init(stream, 1, 13, 6) == Z_OK
    }

    deinit {
        if started { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// `bytes` deflated (an array of exactly their length), or nil when zlib refused.
    func deflate(_ bytes: [UInt8]) -> [UInt8]? {
        guard started, deflateReset(stream) == Z_OK else { return nil }
        let preset = PackedJSON.dictionary.withUnsafeBufferPointer { dictionary in
            deflateSetDictionary(stream, dictionary.baseAddress, uInt(dictionary.count))
        }
        guard preset == Z_OK else { return nil }
        let bound = Int(deflateBound(stream, uLong(bytes.count)))
        if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
        let z = self.stream
        let written = bytes.withUnsafeBufferPointer { input -> Int? in
            scratch.withUnsafeMutableBufferPointer { output -> Int? in
                z.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                z.pointee.avail_in = uInt(input.count)
                z.pointee.next_out = output.baseAddress
                z.pointee.avail_out = uInt(output.count)
                defer {
                    z.pointee.next_in = nil
                    z.pointee.next_out = nil
                }
                guard CZlib.deflate(z, Z_FINISH) == Z_STREAM_END else { return nil }
                return output.count - Int(z.pointee.avail_out)
            }
        }
        return written.map { Array(scratch[..<$0]) }
    }
}

/// One zlib inflate stream for what ``Deflater`` made, reset for each object. Not shared between threads.
final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let started: Bool

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        started = syncagent_inflate_init(stream, 13) == Z_OK
    }

    deinit {
        if started { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// `packed` inflated, when it inflates to exactly `count` bytes; nil otherwise.
    func inflate(_ packed: ArraySlice<UInt8>, count: Int) -> [UInt8]? {
        guard started, inflateReset(stream) == Z_OK else { return nil }
        let z = self.stream
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            packed.withUnsafeBufferPointer { input in
                z.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                z.pointee.avail_in = uInt(input.count)
                z.pointee.next_out = output.baseAddress
                z.pointee.avail_out = uInt(output.count)
                var result = CZlib.inflate(z, Z_FINISH)
                if result == Z_NEED_DICT {  // the header names the dictionary: it is set, then inflating goes on
                    let preset = PackedJSON.dictionary.withUnsafeBufferPointer { dictionary in
                        inflateSetDictionary(z, dictionary.baseAddress, uInt(dictionary.count))
                    }
                    result = preset == Z_OK ? CZlib.inflate(z, Z_FINISH) : preset
                }
                initialized = output.count - Int(z.pointee.avail_out)
                complete = result == Z_STREAM_END && z.pointee.avail_in == 0 && initialized == count
                z.pointee.next_in = nil
                z.pointee.next_out = nil
            }
        }
        return complete ? bytes : nil
    }
}
