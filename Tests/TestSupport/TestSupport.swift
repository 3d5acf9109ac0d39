import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a finished child process printed and how it exited.
public struct ProcessOutput: Sendable {
    /// The exit code, or the signal's number when a signal ended it (see ``signal``).
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// The signal that ended the process (SIGSEGV, SIGABRT, ...), nil when it exited.
    public var signal: Int32? = nil
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

/// The folder holding the products the end-to-end tests run (`syncagent`, `kubesim`): the **release** build,
/// `.build/release`, because what users run is what the tests test. `SYNCAGENT_PRODUCTS` names another folder.
public let productsDirectory: URL = {
    if let folder = ProcessInfo.processInfo.environment["SYNCAGENT_PRODUCTS"], !folder.isEmpty {
        return URL(fileURLWithPath: folder)
    }
    return packageRoot.appendingPathComponent(".build/release")
}()

/// The path of a built executable product, e.g. `syncagent` or `kubesim`, from ``productsDirectory``.
///
/// Stops the test run with a message naming the fix when the product is missing (`make test` builds it). A product
/// older than a source file of its targets is reported on stderr, once: it would test yesterday's code. (Only a
/// warning: SwiftPM does not relink a product whose inputs did not change, so the dates can mislead.)
public func productPath(_ name: String) -> String {
    let path = productsDirectory.appendingPathComponent(name).path
    checkedProducts.once(name) {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            fatalError(
                "\(path) is not built: the end-to-end tests run the release build; `make test` builds it "
                    + "(or `swift build -c release`)")
        }
        if let newer = newerSource(than: path) {
            FileHandle.standardError.write(
                Data(
                    ("WARNING: \(path) is older than \(newer): rebuild the release products (`make test` does, or "
                        + "`swift build -c release`) so the tests run the code you changed\n").utf8))
        }
    }
    return path
}

private let checkedProducts = OnceByName()

/// Runs a check once per name, under a lock.
private final class OnceByName: @unchecked Sendable {
    // @unchecked: `done` is touched only with `lock` held.
    private let lock = NSLock()
    private var done: Set<String> = []
    func once(_ name: String, _ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if done.insert(name).inserted { body() }
    }
}

/// A source file of the product's targets modified after the product at `path` was built, or nil.
private func newerSource(than path: String) -> String? {
    let files = FileManager.default
    guard let built = (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return nil }
    // The source folders each product is built from (Package.swift's targets); any other product: all of them.
    let targets: [String: [String]] = [
        "kubesim": ["KubeSim", "KubeSchema", "KubeYAML", "SyncCore"],
        "syncagent": [
            "SyncAgent", "GitSource", "Differ", "Applier", "KubeSchema", "KubeYAML", "SyncCore", "ProcessThreads",
        ],
    ]
    let sources = packageRoot.appendingPathComponent("Sources")
    let name = URL(fileURLWithPath: path).lastPathComponent
    let folders = targets[name].map { $0.map { sources.appendingPathComponent($0) } } ?? [sources]
    for folder in folders {
        for case let relative as String in files.enumerator(atPath: folder.path) ?? FileManager.DirectoryEnumerator() {
            let file = folder.appendingPathComponent(relative).path
            if let date = (try? files.attributesOfItem(atPath: file))?[.modificationDate] as? Date, date > built {
                return file
            }
        }
    }
    return nil
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
    return ProcessOutput(
        status: process.terminationStatus, stdout: outFile.contents(), stderr: errFile.contents(),
        signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
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

/// ``run(_:cwd:environment:input:)`` from async code: the child is waited for on a thread of its own, never on
/// Swift's cooperative pool (the compiler picks this overload in async code, so no test can block the pool).
@discardableResult
public func run(
    _ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:], input: String? = nil
) async throws -> ProcessOutput {
    try await blocking { try run(arguments, cwd: cwd, environment: environment, input: input) }
}

/// ``runChecked(_:cwd:environment:input:)`` from async code, off the cooperative pool.
@discardableResult
public func runChecked(
    _ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:], input: String? = nil
) async throws -> String {
    try await blocking { try runChecked(arguments, cwd: cwd, environment: environment, input: input) }
}

/// A file that is removed when this value goes away.
final class TemporaryFile {
    let url: URL
    let handle: FileHandle

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("syncagent-test-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
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
///
/// Started with `posix_spawn` and an explicitly empty signal mask and default signal handlers: a child started
/// from a test thread through Foundation's `Process` inherits that thread's blocked signals (SIGTERM among them),
/// so it could only ever be stopped with SIGKILL.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `pid` and `logFile` never change after init; `exitStatus` is guarded by `lock`.
    private let lock = NSLock()
    private var exitStatus: Int32?
    private let logFile: URL
    public let arguments: [String]
    /// The process id.
    public let pid: pid_t

    /// Starts the command; its stdout and stderr go to a log file readable with `log()`.
    public init(_ arguments: [String], cwd: URL? = nil, environment: [String: String] = [:]) throws {
        self.arguments = arguments
        let tool = arguments[0].contains("/") ? arguments[0] : (which(arguments[0]) ?? arguments[0])
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)

        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        // A small bash prologue, then exec: it changes folder (posix_spawn_file_actions_addchdir_np is not visible
        // from Swift) and closes every inherited descriptor above stderr, so a long-running server never holds the
        // pipes and sockets other tests' processes use to notice a child has exited.
        // (No redirection on the loop: bash would save stderr in a descriptor the loop then closes, and the
        // child's stderr would stay /dev/null.)
        let prologue =
            #"cd "$0" || exit 127; for fd in /proc/$$/fd/*; do n=${fd##*/}; "#
            + #"if [ "$n" -gt 2 ] && [ -e "$fd" ]; then exec {n}>&-; fi; done; exec "$@""#
        let command = ["/bin/bash", "-c", prologue, cwd?.path ?? "."] + [tool] + arguments.dropFirst()
        let executable = command[0]
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile.path, O_WRONLY | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        // Its own process group, so stop() can signal what it started too (e.g. a wrapper's child).
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, &argv, &envp)
        guard result == 0 else {
            throw TestSupportError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Whether it is still running.
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Everything it printed so far.
    /// (Decoded leniently: a child that dies mid-write may leave half a character, which must not hide the rest.)
    public func log() -> String { (try? Data(contentsOf: logFile)).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// Sends a signal (e.g. SIGKILL for a crash drill).
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the child without blocking (or blocking), once; returns its exit status when it has exited.
    private func reap(blocking: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        guard result == pid else { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG by hand: the macros are not imported into Swift.
        let signalled = status & 0x7f
        exitStatus = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
        return exitStatus
    }

    /// SIGTERM, wait up to `grace` seconds, then SIGKILL (to its whole process group); returns the exit status.
    @discardableResult
    public func stop(grace: Double = 5) -> Int32 {
        if let status = reap(blocking: false) { return status }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if let status = reap(blocking: false) {
                kill(-pid, SIGKILL)  // anything it left behind in its group
                return status
            }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        return reap(blocking: true) ?? -1
    }

    /// Waits until the log contains `text`, or throws with the log after `timeout` seconds.
    public func waitForLog(_ text: String, timeout: Double = 300) async throws {
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

/// A TCP port on 127.0.0.1 that was free a moment ago, never handed out before by this process.
///
/// Chosen below Linux's ephemeral range (32768–60999): a port from that range, freed while a fixture restarts on
/// it (kubesim's failover drill), can be taken meanwhile as the source port of any outgoing connection (curl,
/// kubectl, another test's client), and the restart then fails to bind. Below the range only a bind takes it.
public func freePort() throws -> Int {
    for _ in 0..<200 {
        let candidate = Int.random(in: 20_000..<32_768)
        guard PortRegistry.claim(candidate) else { continue }
        if canBind(port: candidate) { return candidate }
    }
    throw TestSupportError("no free port found in 20000..<32768")
}

/// Ports this process has handed out, so two fixtures never share one.
private enum PortRegistry {
    nonisolated(unsafe) private static var claimed: Set<Int> = []  // guarded by `lock`
    private static let lock = NSLock()

    static func claim(_ port: Int) -> Bool { lock.withLock { claimed.insert(port).inserted } }
}

/// Whether a listening socket could bind 127.0.0.1:port now (with SO_REUSEADDR, as servers bind).
private func canBind(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return bound == 0
}

/// Whether something accepts TCP connections on 127.0.0.1:port.
public func isListening(port: Int) -> Bool {
    guard case .success(let fd) = connectLoopback(port: port) else { return false }
    close(fd)
    return true
}

/// The path of a required tool; throws a loud, explicit error when it is missing (CI installs it).
public func requireTool(_ tool: String) throws -> String {
    guard let path = which(tool) else {
        throw TestSupportError("required tool '\(tool)' is not on PATH: run `make deps` (CI installs it)")
    }
    return path
}

/// Runs blocking work (a child process waited for, `run`, `runChecked`, kubectl) on a thread of its own, so an
/// async test never holds one of the few threads of Swift's cooperative pool while a process runs (on a 2-core
/// machine two such tests would stall every other test's awaits).
@discardableResult
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A small seeded generator (SplitMix64): shuffles and random moments that a seed replays.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A TCP socket connected to 127.0.0.1:`port`, or the errno of the failed connect.
public func connectLoopback(port: Int) -> Result<Int32, TestSupportError> {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return .failure(TestSupportError("socket: errno \(errno)")) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        let error = errno
        close(fd)
        return .failure(TestSupportError("connect to 127.0.0.1:\(port): errno \(error)"))
    }
    return .success(fd)
}
