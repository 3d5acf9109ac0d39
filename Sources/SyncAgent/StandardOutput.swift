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

extension StandardOutput {
    /// Ends a one-shot command whose work is done (its records written, its report printed) with `code`, without
    /// freeing what it held object by object (tens of milliseconds at thousands of objects) or running exit
    /// handlers beside threads that still read (OpenSSL's would free what a watch's thread uses). Both streams are
    /// flushed first; the kernel closes the connections.
    static func finish(_ code: Int32) -> Never {
        fflush(stdout)
        fflush(stderr)
        _exit(code)
    }
}
