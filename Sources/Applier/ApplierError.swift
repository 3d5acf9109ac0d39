import Foundation
import SyncCore

/// Everything that can go wrong while talking to a cluster.
///
/// No case ever carries a bearer token, a private key, a password or an `Authorization` header: messages name
/// files, users, contexts and URLs, never credentials.
public enum ApplierError: Error, CustomStringConvertible, Sendable, Equatable {
    /// libcurl could not complete the transfer (connection refused, reset, timeout...).
    case transport(url: String, code: Int, message: String)
    /// The TLS handshake failed: the server's certificate is not trusted, or names another host, or our client
    /// certificate was refused.
    case tls(url: String, code: Int, message: String)
    /// libcurl refused an option or could not start.
    case curl(function: String, code: Int, message: String)
    /// A kubeconfig file cannot be read or is not valid, or names a context, cluster or user that is not there.
    /// `file` is empty when the problem is with the merged configuration rather than one file.
    case kubeconfig(file: String, message: String)
    /// A user's credentials cannot be used: a token file or certificate that cannot be read, say.
    case credentials(user: String, message: String)
    /// An exec credential plugin failed; `stderr` is what it printed there (never its output, which holds tokens).
    case credentialPlugin(user: String, command: String, message: String, stderr: String)
    /// The API server answered with a failure `Status`; `operation` says what was asked, e.g.
    /// `apply v1/ConfigMap default/settings`.
    case api(operation: String, status: KubeStatus)
    /// No resource of the cluster serves this kind at this version, even after discovery was refreshed.
    case unknownKind(GroupVersionKind, server: String)
    /// The response cannot be read as what the API promises.
    case invalidResponse(operation: String, message: String)
    /// The request failed every time it was tried; `last` is the final failure.
    indirect case retriesExhausted(attempts: Int, last: ApplierError)
    /// The calling task was cancelled, or the client was shut down, before the response came.
    case cancelled(url: String)
    /// Not sent: this process does not hold the region's Lease (``WriteFence``), so another replica may be
    /// writing there. Nothing says the revision is bad; the holder carries on.
    case notHolder(operation: String, message: String)

    /// The API server's Status when this is (or, after retries, ends in) an API failure.
    public var status: KubeStatus? {
        switch self {
        case .api(_, let status): return status
        case .retriesExhausted(_, let last): return last.status
        default: return nil
        }
    }

    /// Whether the error is the cluster's (unreachable, TLS, credentials, overloaded or failing after every
    /// retry) rather than a verdict on the request: a rollout retries such a region later instead of rolling back.
    public var pointsAtCluster: Bool {
        switch self {
        case .transport, .tls, .curl, .credentials, .credentialPlugin, .kubeconfig, .cancelled, .notHolder: return true
        case .api(_, let status): return status.code >= 500 || status.code == 429 || status.code == 401
        case .retriesExhausted(_, let last): return last.pointsAtCluster
        case .unknownKind, .invalidResponse: return false
        }
    }

    public var description: String {
        switch self {
        case .transport(let url, let code, let message):
            return "request to \(Redaction.scrub(url)) failed: \(Redaction.scrub(message)) (curl error \(code))"
        case .tls(let url, let code, let message):
            return
                "TLS handshake with \(Redaction.scrub(url)) failed: \(Redaction.scrub(message)) (curl error \(code)); check the cluster's "
                + "certificate-authority(-data) and tls-server-name in the kubeconfig"
        case .curl(let function, let code, let message):
            return "\(function) failed: \(message) (curl error \(code))"
        case .kubeconfig(let file, let message):
            return file.isEmpty ? "kubeconfig: \(message)" : "kubeconfig \(file): \(message)"
        case .credentials(let user, let message):
            return "credentials of user \"\(user)\": \(message)"
        case .credentialPlugin(let user, let command, let message, let stderr):
            let trimmed = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            let shown = trimmed.count > 2000 ? String(trimmed.prefix(2000)) + "…" : trimmed
            return "exec credential plugin \(command) of user \"\(user)\": \(message)"
                + (shown.isEmpty ? "" : "; its stderr:\n\(shown)")
        case .api(let operation, let status):
            return "\(operation): \(status)"
        case .unknownKind(let gvk, let server):
            return "no resource of \(server) serves kind \"\(gvk.kind)\" in version \"\(gvk.apiVersion)\"; "
                + "is its CustomResourceDefinition applied and established?"
        case .invalidResponse(let operation, let message):
            return "\(operation): unreadable response: \(message)"
        case .retriesExhausted(let attempts, let last):
            return "\(last) (gave up after \(attempts) attempts)"
        case .cancelled(let url):
            return "request to \(url) was cancelled"
        case .notHolder(let operation, let message):
            return "\(operation): not sent: \(message)"
        }
    }
}
