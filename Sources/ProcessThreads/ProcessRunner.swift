import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How a program ended and what it printed.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// It ran past its time limit and was stopped.
    public var timedOut: Bool
}

/// Runs a program to completion on a Dispatch thread (never on Swift's cooperative pool, since waiting on a child
/// blocks), with a time limit: credential plugins (Applier), signature verifiers (GitSource).
public enum ProcessRunner {
    /// Why a program could not be started.
    public struct LaunchFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `command` (looked up on the `PATH` of `environment` unless it contains a `/`), with `input` on its
    /// standard input (none by default); killed after `timeout` seconds.
    public static func run(
        command: String, arguments: [String], environment: [String: String], input: [UInt8]? = nil,
        timeout: Double
    ) async throws(LaunchFailure) -> ProcessOutput {
        guard let executable = locate(command, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw LaunchFailure(description: "command not found (looked on PATH)")
        }
        let result: Result<ProcessOutput, LaunchFailure> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: runBlocking(
                        executable, arguments, environment: environment, input: input, timeout: timeout))
            }
        }
        return try result.get()
    }

    private static func runBlocking(
        _ executable: String, _ arguments: [String], environment: [String: String], input: [UInt8]?,
        timeout: Double
    ) -> Result<ProcessOutput, LaunchFailure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(LaunchFailure(description: "cannot start \(executable): \(error.localizedDescription)"))
        }
        // Read both pipes at once, so that a plugin filling one while we wait on the other cannot deadlock.
        let errors = Collected()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) {
            errors.set(stderr.fileHandleForReading.readDataToEndOfFile())
        }
        if let stdin, let input {
            // Written while the output is read; a program that exits without reading it all ends the write (EPIPE).
            DispatchQueue.global().async(group: readers) {
                signal(SIGPIPE, SIG_IGN)
                try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
                try? stdin.fileHandleForWriting.close()
            }
        }
        let timedOut = Atomic(false)
        let watchdog = DispatchWorkItem {
            guard process.isRunning else { return }
            timedOut.store(true, ordering: .relaxed)
            kill(process.processIdentifier, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        readers.wait()
        process.waitUntilExit()
        watchdog.cancel()
        return .success(
            ProcessOutput(
                status: process.terminationStatus, stdout: [UInt8](output), stderr: [UInt8](errors.get()),
                timedOut: timedOut.load(ordering: .relaxed)))
    }

    /// The executable's full path, or nil.
    public static func locate(_ command: String, path: String) -> String? {
        if command.contains("/") { return command }
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(command)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// Bytes one thread collects and another reads after waiting for it.
private final class Collected: Sendable {
    private let data = Mutex(Data())
    func set(_ value: Data) { data.withLock { $0 = value } }
    func get() -> Data { data.withLock { $0 } }
}
