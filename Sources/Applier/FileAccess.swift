import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reading the small files a kubeconfig points at (certificates, keys, tokens) with the system's own reason when
/// that fails ("Permission denied", "Is a directory").
enum FileAccess {
    /// Why a file could not be read: the system's message.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What identifies one version of a file: a change of any part means it was rewritten.
    struct Stamp: Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var modifiedNanoseconds: Int64
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The file's stamp, or nil when it cannot be stat'ed.
    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec), modifiedNanoseconds: Int64(info.st_mtim.tv_nsec))
    }

    /// The whole file.
    static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: String(cString: strerror(errno)))
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// `path` as written, made absolute against the folder of the file that wrote it.
    static func resolve(_ path: String, relativeTo origin: String) -> String {
        guard !path.isEmpty, !path.hasPrefix("/"), !origin.isEmpty else { return path }
        let folder = URL(fileURLWithPath: origin).deletingLastPathComponent()
        return URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL.path
    }
}
