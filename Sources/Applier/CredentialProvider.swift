import Foundation
import Logging
import Synchronization

/// What one request presents: an `Authorization` header value and/or a client certificate.
struct RequestCredentials: Sendable {
    var authorization: SecretValue?
    var clientCertificate: [UInt8]?
    var clientKey: SecretValue?
    /// Which version of the credential this is, so a refusal drops only the one that was refused.
    var generation: UInt64 = 0
}

/// Hands each request the user's current credentials: a fixed token, a token file read again when it changes, a
/// password, or an exec plugin's cached output. After a 401 it says whether trying again with fresh credentials
/// can help.
final class CredentialProvider: Sendable {
    private enum Source: Sendable {
        case none
        case fixed(SecretValue)
        case tokenFile(String)
        case exec(ExecCredentialPlugin)
    }

    private struct TokenFileState {
        var stamp: FileAccess.Stamp?
        var token: SecretValue?
    }

    let userName: String
    private let source: Source
    private let tokenFile = Mutex(TokenFileState())

    init(context: KubeContext, execTimeout: Double, logger: Logger) {
        userName = context.userName
        switch context.credentials {
        case .none:
            source = .none
        case .token(let token):
            source = .fixed(SecretValue("Bearer " + token.text))
        case .basic(let username, let password):
            let pair = Data((username + ":" + password.text).utf8).base64EncodedString()
            source = .fixed(SecretValue("Basic " + pair))
        case .tokenFile(let path):
            source = .tokenFile(path)
        case .exec(let config):
            source = .exec(
                ExecCredentialPlugin(
                    config: config, userName: context.userName, clusterInfo: context.execClusterInfo,
                    timeout: execTimeout, logger: logger))
        }
    }

    /// The credentials for the next request.
    func current() async throws(ApplierError) -> RequestCredentials {
        switch source {
        case .none:
            return RequestCredentials()
        case .fixed(let authorization):
            return RequestCredentials(authorization: authorization)
        case .tokenFile(let path):
            return RequestCredentials(
                authorization: SecretValue("Bearer " + (try token(fromFile: path, force: false)).text))
        case .exec(let plugin):
            let (credential, generation) = try await plugin.credential()
            return RequestCredentials(
                authorization: credential.token.map { SecretValue("Bearer " + $0.text) },
                clientCertificate: credential.clientCertificate, clientKey: credential.clientKey,
                generation: generation)
        }
    }

    /// Called after a 401 for `used`: drops it, and returns whether new credentials may be had (an exec plugin
    /// can be run again; a token file may have been rewritten). A fixed token gets no second try.
    func refused(_ used: RequestCredentials) -> Bool {
        switch source {
        case .none, .fixed:
            return false
        case .tokenFile(let path):
            guard let fresh = try? token(fromFile: path, force: true) else { return false }
            return "Bearer " + fresh.text != used.authorization?.text
        case .exec(let plugin):
            plugin.invalidate(generation: used.generation)
            return true
        }
    }

    /// The token in `path`, read again when the file's stamp changed since the last read (or when forced).
    private func token(fromFile path: String, force: Bool) throws(ApplierError) -> SecretValue {
        let stamp = FileAccess.stamp(path)
        if !force, let stamp, let cached = tokenFile.withLock({ $0.stamp == stamp ? $0.token : nil }) {
            return cached
        }
        let bytes: [UInt8]
        do {
            bytes = try FileAccess.read(path)
        } catch {
            throw .credentials(user: userName, message: "cannot read tokenFile \(path): \(error)")
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .credentials(user: userName, message: "tokenFile \(path) is empty") }
        let token = SecretValue(text)
        tokenFile.withLock { $0 = TokenFileState(stamp: stamp, token: token) }
        return token
    }
}
