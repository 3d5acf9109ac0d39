import Foundation
import ProcessThreads
import Logging
import Synchronization
import SyncCore

/// What an exec plugin returned (`ExecCredential.status`): a token and/or a client certificate, and when it
/// expires.
struct ExecCredential: Sendable {
    var token: SecretValue?
    var clientCertificate: [UInt8]?
    var clientKey: SecretValue?
    /// nil: valid until the server refuses it.
    var expiration: Date?
}

/// Runs one user's exec credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`), as kubectl does, and
/// caches what it returns until `expirationTimestamp` or until the server refuses it (401).
///
/// The plugin gets the process's environment plus the kubeconfig's `env` and `KUBERNETES_EXEC_INFO` (the
/// ExecCredential request, with the cluster when `provideClusterInfo` is set); no terminal. Concurrent requests
/// that need a credential share one run. A plugin that fails is reported with its exit status and stderr, never
/// its standard output (which holds the token).
final class ExecCredentialPlugin: Sendable {
    private struct State {
        var cached: ExecCredential?
        /// Bumped whenever the cached credential is dropped, so that a 401 for an old credential does not drop a
        /// fresh one.
        var generation: UInt64 = 0
        var running: Task<Result<ExecCredential, ApplierError>, Never>?
    }

    let config: Kubeconfig.ExecConfig
    let userName: String
    let clusterInfo: Value
    let timeout: Double
    let logger: Logger
    private let state = Mutex(State())

    init(config: Kubeconfig.ExecConfig, userName: String, clusterInfo: Value, timeout: Double, logger: Logger) {
        self.config = config
        self.userName = userName
        self.clusterInfo = clusterInfo
        self.timeout = timeout
        self.logger = logger
    }

    /// A valid credential and its generation: the cached one, or a fresh one from running the plugin.
    func credential(now: Date = Date()) async throws(ApplierError) -> (ExecCredential, UInt64) {
        typealias Run = Task<Result<ExecCredential, ApplierError>, Never>
        enum Step {
            case cached(ExecCredential, UInt64)
            case wait(Run, UInt64)
        }
        let step = state.withLock { state -> Step in
            if let cached = state.cached, cached.expiration.map({ $0 > now }) ?? true {
                return .cached(cached, state.generation)
            }
            if let running = state.running { return .wait(running, state.generation) }
            state.cached = nil
            // Not tied to the caller: one caller's cancellation must not fail the others waiting on this run.
            let task = Run { await self.run() }
            state.running = task
            return .wait(task, state.generation)
        }
        switch step {
        case .cached(let credential, let generation):
            return (credential, generation)
        case .wait(let task, let generation):
            let result = await task.value
            state.withLock { state in
                guard state.running == task else { return }
                state.running = nil
                if case .success(let credential) = result { state.cached = credential }
            }
            return (try result.get(), generation)
        }
    }

    /// Drops the cached credential after the server refused it, unless it was already replaced.
    func invalidate(generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            state.cached = nil
            state.running = nil
            state.generation += 1
        }
    }

    /// Runs the plugin once and reads its ExecCredential.
    private func run() async -> Result<ExecCredential, ApplierError> {
        let started = Date()
        let output: ProcessOutput
        do {
            output = try await ProcessRunner.run(
                command: config.command, arguments: config.args, environment: environment(), timeout: timeout)
        } catch {
            return .failure(failure(error.description))
        }
        logger.debug(
            "ran exec credential plugin",
            metadata: [
                "user": "\(userName)", "command": "\(config.command)", "status": "\(output.status)",
                "seconds": "\(String(format: "%.3f", Date().timeIntervalSince(started)))",
            ])
        guard output.status == 0 else {
            var message =
                output.timedOut
                ? "did not finish in \(Int(timeout))s and was stopped" : "exited with status \(output.status)"
            if output.status == 127 && !config.installHint.isEmpty { message += "; \(config.installHint)" }
            return .failure(failure(message, stderr: output.stderr))
        }
        return parse(output.stdout).mapError { failure($0.message, stderr: output.stderr) }
    }

    private func environment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for variable in config.env { environment[variable.name] = variable.value }
        var spec: Value = ["interactive": false]
        if config.provideClusterInfo { spec["cluster"] = clusterInfo }
        let request: Value = ["kind": "ExecCredential", "apiVersion": .string(config.apiVersion), "spec": spec]
        environment["KUBERNETES_EXEC_INFO"] = request.jsonString
        return environment
    }

    /// Reads the plugin's standard output; the message on failure never quotes it.
    private func parse(_ stdout: [UInt8]) -> Result<ExecCredential, Problem> {
        guard let object = try? Value(json: stdout), case .object = object else {
            return .failure(
                Problem(message: "printed something that is not a JSON ExecCredential (\(stdout.count) bytes)"))
        }
        guard object["kind"]?.stringValue == "ExecCredential" else {
            return .failure(
                Problem(message: "printed kind \"\(object["kind"]?.stringValue ?? "")\", expected ExecCredential"))
        }
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        guard apiVersion == config.apiVersion else {
            return .failure(
                Problem(
                    message:
                        "printed apiVersion \"\(apiVersion)\", but the kubeconfig asks for \"\(config.apiVersion)\""))
        }
        guard let status = object["status"], case .object = status else {
            return .failure(Problem(message: "printed an ExecCredential without status"))
        }
        var credential = ExecCredential()
        if let token = status["token"]?.stringValue, !token.isEmpty { credential.token = SecretValue(token) }
        if let certificate = status["clientCertificateData"]?.stringValue, !certificate.isEmpty {
            credential.clientCertificate = Array(certificate.utf8)
        }
        if let key = status["clientKeyData"]?.stringValue, !key.isEmpty { credential.clientKey = SecretValue(key) }
        if (credential.clientCertificate == nil) != (credential.clientKey == nil) {
            return .failure(
                Problem(message: "printed clientCertificateData without clientKeyData or the other way round"))
        }
        if credential.token == nil && credential.clientCertificate == nil {
            return .failure(Problem(message: "printed an ExecCredential with neither a token nor a client certificate"))
        }
        if let text = status["expirationTimestamp"]?.stringValue, !text.isEmpty {
            guard let date = RFC3339.date(text) else {
                return .failure(
                    Problem(message: "printed expirationTimestamp \"\(text)\", which is not an RFC 3339 time"))
            }
            credential.expiration = date
        }
        return .success(credential)
    }

    private func failure(_ message: String, stderr: [UInt8] = []) -> ApplierError {
        // What the plugin printed on stderr, scrubbed of anything token-shaped and capped: it is shown in errors,
        // logs and `/status`, and a plugin may print a token there.
        let text = Redaction.scrubTokens(String(decoding: stderr.prefix(8192), as: UTF8.self))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let capped = text.count > 500 ? String(text.prefix(500)) + "… (\(text.count - 500) more characters)" : text
        return .credentialPlugin(user: userName, command: config.command, message: message, stderr: capped)
    }
}

/// Why a plugin's output is not a usable ExecCredential (never quoting the output).
struct Problem: Error {
    var message: String
}

/// RFC 3339 times as Kubernetes writes them (`2026-01-02T15:04:05Z`, fractions and offsets allowed).
enum RFC3339 {
    static func date(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
