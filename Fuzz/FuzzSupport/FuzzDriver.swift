#if FUZZING
    import CLibFuzzer
#endif
import Foundation

/// The `main` of every fuzz target: libFuzzer in a fuzzing build, a replay tool in a normal one.
///
/// scripts/fuzz.sh builds the targets with `-D FUZZING`, coverage instrumentation and AddressSanitizer, and links
/// libFuzzer's `fuzzer_no_main` runtime: `main` hands the command line to `LLVMFuzzerRunDriver`. (libFuzzer's own
/// `main` cannot be used: SwiftPM links an executable with `--defsym main=<Module>_main`, which clashes with it.)
/// A normal `swift build` compiles the same code without libFuzzer, and `main` then runs the target once on every
/// file named on its command line (folders: every file in them), so a crash artifact replays without sanitizers.
public enum FuzzDriver {
    /// One fuzz input: its bytes as libFuzzer passes them; the result is 0 (libFuzzer reserves other values).
    public typealias Body = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Runs `body` under libFuzzer or on the files named on the command line, then exits with the status.
    public static func main(_ body: Body) -> Never {
        #if FUZZING
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv, body))
        #else
            exit(replay(CommandLine.arguments.dropFirst(), body))
        #endif
    }

    /// The bytes of one input, copied (libFuzzer's buffer is only valid during the call).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Runs `body` on each file (or each file in each folder) of `paths`; 2 when there is nothing to run.
    static func replay(_ paths: some Collection<String>, _ body: Body) -> Int32 {
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE-OR-FOLDER...\n".utf8))
            return 2
        }
        var count = 0
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("\(path): no such file\n".utf8))
                return 2
            }
            let files =
                isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
                : [path]
            for file in files {
                guard let contents = FileManager.default.contents(atPath: file) else { continue }
                let input = Array(contents)
                _ = input.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
                count += 1
            }
        }
        print("ran \(count) inputs")
        return 0
    }
}
