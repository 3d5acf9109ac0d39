import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a finished child process printed and how it exited.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Errors from the test helpers themselves.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The package's root folder (where Package.swift is).
public let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()

/// `../shared` beside the checkout: the corpus and seeds.
public let sharedRoot: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

/// The folder holding the built products (`.build/debug`), found from the running test binary.
public let productsDirectory: URL = {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var url = executable.deletingLastPathComponent()
    // swift test runs <products>/<name>PackageTests.xctest, which is either the binary or a bundle folder.
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("syncagent").path) { return url }
        url.deleteLastPathComponent()
    }
    return packageRoot.appendingPathComponent(".build/debug")
}()

/// The path of a built executable product, e.g. `syncagent` or `kubesim`.
public func productPath(_ name: String) -> String {
    productsDirectory.appendingPathComponent(name).path
}

/// The full path of a tool on PATH, or nil.
public func which(_ tool: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs a command to completion and returns its output. `arguments[0]` is looked up on PATH when not a path.
@discardableResult
public func run(
    _ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:], input: String? = nil
) throws -> ProcessOutput {
    let process = Process()
    let tool = arguments[0].contains("/") ? arguments[0] : (which(arguments[0]) ?? arguments[0])
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = Array(arguments.dropFirst())
    if let cwd { process.currentDirectoryURL = cwd }
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let outFile = try TemporaryFile()
    let errFile = try TemporaryFile()
    process.standardOutput = outFile.handle
    process.standardError = errFile.handle
    if let input {
        let pipe = Pipe()
        process.standardInput = pipe
        try process.run()
        pipe.fileHandleForWriting.write(Data(input.utf8))
        try pipe.fileHandleForWriting.close()
    } else {
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, stdout: outFile.contents(), stderr: errFile.contents())
}

/// Runs a command and throws, with its stderr, when it exits non-zero.
@discardableResult
public func runChecked(
    _ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:], input: String? = nil
) throws -> String {
    let output = try run(arguments, cwd: cwd, environment: environment, input: input)
    guard output.status == 0 else {
        throw TestSupportError(
            "\(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)\(output.stdout)")
    }
    return output.stdout
}

/// A file that is removed when this value goes away.
final class TemporaryFile {
    let url: URL
    let handle: FileHandle

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("syncagent-test-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forUpdating: url)
    }

    func contents() -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }
}

/// A fresh folder under the system's temporary folder, removed (with its contents) on deinit.
public final class TemporaryDirectory: Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(prefix: String = "syncagent-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes a text file at a relative path, creating folders on the way.
    @discardableResult
    public func write(_ relativePath: String, _ text: String) throws -> URL {
        let file = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A long-running child process (git daemon, kubesim, prometheus). Stopped with SIGTERM, then SIGKILL, on
/// `stop()` or deinit, so a failing test never leaves it running.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init; Process is thread-safe for terminate/isRunning.
    private let process: Process
    private let logFile: URL
    public let arguments: [String]

    /// Starts the command; its stdout and stderr go to a log file readable with `log()`.
    public init(_ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:]) throws {
        self.arguments = arguments
        process = Process()
        let tool = arguments[0].contains("/") ? arguments[0] : (which(arguments[0]) ?? arguments[0])
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = Array(arguments.dropFirst())
        if let cwd { process.currentDirectoryURL = cwd }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Whether it is still running.
    public var isRunning: Bool { process.isRunning }

    /// Everything it printed so far.
    public func log() -> String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Sends a signal (e.g. SIGKILL for a crash drill).
    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// SIGTERM, wait up to `grace` seconds, then SIGKILL; returns the exit status.
    @discardableResult
    public func stop(grace: Double = 5) -> Int32 {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(grace)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits until the log contains `text`, or throws with the log after `timeout` seconds.
    public func waitForLog(_ text: String, timeout: Double = 30) async throws {
        try await waitUntil(timeout: timeout, "\(arguments[0]) to print \"\(text)\"; log:\n\(log())") {
            if !self.isRunning { throw TestSupportError("\(self.arguments[0]) exited early; log:\n\(self.log())") }
            return self.log().contains(text)
        }
    }

    deinit {
        stop(grace: 2)
        try? FileManager.default.removeItem(at: logFile)
    }
}

/// Polls `condition` every 20 ms until it is true; throws after `timeout` seconds naming what was awaited.
/// The only way tests wait: never a bare sleep.
public func waitUntil(
    timeout: Double, _ what: @autoclosure () -> String = "condition", _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try await condition() { return }
        if Date() >= deadline { throw TestSupportError("timed out after \(timeout)s waiting for \(what())") }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw TestSupportError("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on 127.0.0.1:port.
public func isListening(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    return result == 0
}

/// The path of a required tool; throws a loud, explicit error when it is missing (CI installs it).
public func requireTool(_ tool: String) throws -> String {
    guard let path = which(tool) else {
        throw TestSupportError("required tool '\(tool)' is not on PATH: run `make deps` (CI installs it)")
    }
    return path
}
