// Only the C library here: `stdout` is a C global, usable from Swift 6 only through a @preconcurrency import (this
// file must not import Foundation, which re-exports the C library without it).
#if canImport(Glibc)
    @preconcurrency import Glibc
#elseif canImport(Darwin)
    @preconcurrency import Darwin
#endif

/// The process's standard output stream.
enum StandardOutput {
    /// Flushes stdout at each newline, also into a pipe or a file, before anything is printed.
    static func lineBuffered() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
