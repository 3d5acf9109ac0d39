/// Byte strings kept for long (a cache's objects, a revision's JSON) in one allocation of exactly their total length,
/// each a slice of it: a few large blocks, which glibc maps apart and returns whole, instead of thousands of small
/// ones spread between a pass's short-lived data, whose pages they would keep resident after the pass.
public enum ByteBlock {
    /// `items` copied into one block, in order.
    public static func pack(_ items: [[UInt8]]) -> [ArraySlice<UInt8>] {
        let total = items.reduce(0) { $0 + $1.count }
        let block = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var offset = 0
            for item in items {
                item.withUnsafeBufferPointer { source in
                    guard let base = source.baseAddress, let target = buffer.baseAddress else { return }
                    (target + offset).initialize(from: base, count: source.count)
                }
                offset += item.count
            }
            initialized = offset
        }
        var slices: [ArraySlice<UInt8>] = []
        slices.reserveCapacity(items.count)
        var offset = 0
        for item in items {
            slices.append(block[offset..<offset + item.count])
            offset += item.count
        }
        return slices
    }
}
