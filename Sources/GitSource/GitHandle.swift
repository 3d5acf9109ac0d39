import CGit2

#if canImport(Glibc)
    import Glibc
#endif

/// A kind of libgit2 object that is freed by one function; the type parameter of ``GitHandle``.
/// Each kind below is named after the libgit2 type it frees, and its `free` calls that type's free function.
protocol GitHandleKind {
    /// Frees one object of this kind.
    static func free(_ pointer: OpaquePointer)
}

/// `git_repository`.
enum RepositoryKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_repository_free(pointer) }
}
/// `git_remote`.
enum RemoteKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_remote_free(pointer) }
}
/// `git_commit`.
enum CommitKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_commit_free(pointer) }
}
/// `git_tree`.
enum TreeKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_tree_free(pointer) }
}
/// `git_tree_entry` from `git_tree_entry_bypath` (entries from `git_tree_entry_byindex` are owned by their tree).
enum TreeEntryKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_tree_entry_free(pointer) }
}
/// `git_blob`.
enum ODBKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_odb_free(pointer) }
}

enum BlobKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_blob_free(pointer) }
}
/// `git_object` (from rev-parse and peel).
enum ObjectKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_object_free(pointer) }
}
/// `git_reference`.
enum ReferenceKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_reference_free(pointer) }
}
/// `git_index` (the in-memory index a revert produces).
enum IndexKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_index_free(pointer) }
}
/// `git_config`.
enum ConfigKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_config_free(pointer) }
}
/// `git_index_conflict_iterator`.
enum ConflictIteratorKind: GitHandleKind {
    static func free(_ pointer: OpaquePointer) { git_index_conflict_iterator_free(pointer) }
}

/// The one owner of a libgit2 object: frees it exactly once, in `deinit`.
///
/// The pointer never leaves the module and is reached only inside `withPointer`, which keeps the handle alive for
/// the whole closure (so the object cannot be freed while C code still uses it). A handle is not `Sendable`:
/// libgit2 objects are used by one thread at a time (libgit2 `docs/threading.md`), and the compiler keeps each
/// handle on the thread (or actor) that made it.
final class GitHandle<Kind: GitHandleKind> {
    private let pointer: OpaquePointer

    /// Takes ownership of an object that libgit2 returned through an out-parameter.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// Runs `body` with the raw pointer, keeping this owner alive until it returns.
    func withPointer<Result, Failure: Error>(
        _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }

    deinit {
        Kind.free(pointer)
    }
}

/// Calls a libgit2 constructor that returns an object through `out`, and wraps the object in its owner.
///
/// `git("git_commit_lookup", ...) { git_commit_lookup(&out, ...) }` plus the ownership step, in one place: an
/// object is owned from the moment libgit2 hands it over, so an error later in the caller cannot leak it.
func gitHandle<Kind: GitHandleKind>(
    _ kind: Kind.Type, _ function: String, _ subject: @autoclosure () -> String,
    _ call: (inout OpaquePointer?) -> Int32
) throws(GitSourceError) -> GitHandle<Kind> {
    var out: OpaquePointer?
    try git(function, subject()) { call(&out) }
    guard let out else {
        throw GitSourceError.libgit2(
            function: function, code: -1, errorClass: 0, message: "returned no object", subject: subject())
    }
    return GitHandle<Kind>(taking: out)
}

/// Runs `body` with the libgit2 strings of `strings` (a `git_strarray`), freeing the copies afterwards.
func withStrArray<Result, Failure: Error>(
    _ strings: [String], _ body: (UnsafePointer<git_strarray>) throws(Failure) -> Result
) throws(Failure) -> Result {
    let copies = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: max(strings.count, 1))
    for (index, string) in strings.enumerated() { copies[index] = strdup(string) }
    defer {
        for index in strings.indices { free(copies[index]) }
        copies.deallocate()
    }
    var array = git_strarray(strings: copies, count: strings.count)
    return try body(&array)
}
