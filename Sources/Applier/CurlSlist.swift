import CCurl

/// The owner of one libcurl string list (`curl_slist*`, for headers and `CONNECT_TO` entries): built in `init`,
/// freed in `deinit`. libcurl keeps the pointer for the whole transfer, so the owner must outlive it; the
/// transfer that uses a list holds its owner.
final class CurlSlist {
    private var head: UnsafeMutablePointer<curl_slist>?

    /// Builds the list; throws when libcurl cannot allocate an entry.
    init(_ entries: [String]) throws(ApplierError) {
        for entry in entries {
            guard let next = curl_slist_append(head, entry) else {
                curl_slist_free_all(head)
                throw .curl(function: "curl_slist_append", code: -1, message: "out of memory")
            }
            head = next
        }
    }

    deinit {
        curl_slist_free_all(head)
    }

    /// Runs `body` with the list's head (nil when empty); the pointer must not escape it except into the easy
    /// handle whose transfer this owner outlives.
    func withList<T>(_ body: (UnsafeMutablePointer<curl_slist>?) throws(ApplierError) -> T) throws(ApplierError) -> T {
        try body(head)
    }
}
