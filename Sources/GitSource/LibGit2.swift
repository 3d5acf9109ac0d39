import CGit2
import SyncCore

/// The process-wide libgit2 set-up and the one error helper every call goes through.
enum LibGit2 {
    /// Runs `git_libgit2_init` exactly once, the first time any GitSource entry point needs libgit2.
    ///
    /// A Swift global is initialised under `swift_once`, so concurrent first callers are safe. libgit2 is never
    /// shut down: its global state lives as long as the process, as one agent process uses it until it exits.
    /// syncagent's socket stream (``GitSocketStreams``) is registered at the same time, before any connection.
    private static let initialised: Int32 = {
        let count = git_libgit2_init()
        guard count > 0 else { return count }
        return GitSocketStreams.install() == 0 ? count : -1
    }()

    /// Makes sure libgit2 is initialised; cheap after the first call.
    static func ensureInitialised() {
        precondition(initialised > 0, "git_libgit2_init or git_stream_register failed")
    }

    /// The libgit2 feature bits (`GIT_FEATURE_*`).
    static var features: Int32 {
        ensureInitialised()
        return git_libgit2_features()
    }
}

/// Calls a libgit2 function and turns a negative result into a ``GitSourceError``.
///
/// libgit2 keeps its last error per thread, so `git_error_last()` is read at once, on the thread that made the
/// call, before anything else can replace it. `subject` names the repository, remote or ref the call works on;
/// it is evaluated only on failure. Messages are scrubbed of URL credentials.
func git(
    _ function: String, _ subject: @autoclosure () -> String, _ call: () -> Int32
) throws(GitSourceError) {
    let code = call()
    guard code < 0 else { return }
    let (errorClass, message) = lastGitError()
    throw GitSourceError.libgit2(
        function: function, code: code, errorClass: errorClass, message: Redaction.scrub(message),
        subject: Redaction.scrub(subject()))
}

/// The calling thread's last libgit2 error class and message, then cleared so it cannot leak into a later error.
func lastGitError() -> (errorClass: Int32, message: String) {
    guard let error = git_error_last() else { return (0, "") }
    let message = error.pointee.message.map { String(cString: $0) } ?? ""
    let errorClass = error.pointee.klass
    git_error_clear()
    return (errorClass, message.trimmingSuffix(while: { $0 == "\n" || $0 == "." }))
}

extension String {
    /// This string without the trailing characters that match.
    func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var result = self
        while let last = result.last, predicate(last) { result.removeLast() }
        return result
    }
}

/// Object ids as 40-hex strings and back.
enum ObjectID {
    /// The 40-hex form of an object id.
    static func hex(_ oid: UnsafePointer<git_oid>) -> String {
        withUnsafeBytes(of: oid.pointee.id) { bytes in
            String(unsafeUninitializedCapacity: 2 * bytes.count) { text in
                for (index, byte) in bytes.enumerated() {
                    Hex.write(UInt64(byte), digits: 2, into: text, at: 2 * index)
                }
                return 2 * bytes.count
            }
        }
    }

    /// The 40-hex form of an object id held by value.
    static func hex(_ oid: git_oid) -> String {
        withUnsafePointer(to: oid) { hex($0) }
    }

    /// Whether `text` is a full 40-hex SHA-1.
    static func isFullSHA(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy(\.isHexDigit)
    }

    /// Whether `text` could be an abbreviated SHA (4 to 40 hex digits).
    static func isHex(_ text: String) -> Bool {
        (4...40).contains(text.utf8.count) && text.utf8.allSatisfy(\.isHexDigit)
    }

    /// Parses a full 40-hex SHA.
    static func parse(_ text: String) throws(GitSourceError) -> git_oid {
        var oid = git_oid()
        try git("git_oid_fromstr", "object id '\(text)'") { git_oid_fromstrn(&oid, text, text.utf8.count) }
        return oid
    }
}

extension UInt8 {
    /// Whether this byte is an ASCII hex digit.
    var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x61...0x66).contains(self) || (0x41...0x46).contains(self)
    }
}
