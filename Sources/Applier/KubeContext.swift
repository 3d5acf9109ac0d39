import Foundation
import SyncCore

/// Where a user's credentials come from, once a kubeconfig is resolved.
public enum CredentialSource: Sendable, Hashable {
    /// No credentials besides a client certificate, if any.
    case none
    /// A fixed bearer token.
    case token(SecretValue)
    /// A bearer token read from a file, and read again whenever the file changes (a projected token, say).
    case tokenFile(path: String)
    /// HTTP basic authentication.
    case basic(username: String, password: SecretValue)
    /// An exec credential plugin, run when a token is needed and none is cached or it has expired.
    case exec(Kubeconfig.ExecConfig)
}

/// One kubeconfig context, resolved: the API server's URL, how to trust it, who to be, and the default namespace.
///
/// Files the kubeconfig names (CA, client certificate and key) have been read into memory; the token file and the
/// exec plugin are used when requests are made. Printing a context never shows a credential.
public struct KubeContext: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var clusterName: String
    public var userName: String
    /// The API server's base URL, without a trailing slash, e.g. `https://127.0.0.1:6443`.
    public var server: String
    /// The context's namespace, `default` when it sets none: where namespaced objects without one go.
    public var namespace: String
    /// TLS trust and the static client certificate.
    public var connection: ConnectionOptions
    public var credentials: CredentialSource
    /// The user's `as`, `as-uid` and `as-groups`: sent as `Impersonate-User`, `-Uid` and `-Group` headers.
    public var impersonateUser: String?
    public var impersonateUID: String?
    public var impersonateGroups: [String]
    /// The cluster as an exec plugin sees it in `KUBERNETES_EXEC_INFO` when it asks (`provideClusterInfo`).
    var execClusterInfo: Value

    /// A context made by hand (tests, or a caller with its own configuration source).
    public init(
        name: String, server: String, namespace: String = "default",
        connection: ConnectionOptions = ConnectionOptions(),
        credentials: CredentialSource = .none
    ) {
        self.name = name
        self.clusterName = name
        self.userName = name
        self.server = KubeContext.normalise(server)
        self.namespace = namespace.isEmpty ? "default" : namespace
        self.connection = connection
        self.credentials = credentials
        self.impersonateGroups = []
        self.execClusterInfo = ["server": .string(self.server)]
    }

    init(
        name: String, clusterName: String, cluster: Kubeconfig.Cluster, userName: String, user: Kubeconfig.User,
        namespace: String
    ) throws(ApplierError) {
        guard !cluster.server.isEmpty else {
            throw .kubeconfig(file: cluster.origin, message: "cluster \"\(clusterName)\" has no server")
        }
        self.name = name
        self.clusterName = clusterName
        self.userName = userName
        self.server = KubeContext.normalise(cluster.server)
        self.namespace = namespace.isEmpty ? "default" : namespace

        var connection = ConnectionOptions()
        connection.certificateAuthority = try KubeContext.dataOrFile(
            cluster.certificateAuthorityData, cluster.certificateAuthority, origin: cluster.origin,
            what: "certificate-authority of cluster \"\(clusterName)\"")
        if cluster.insecureSkipTLSVerify {
            guard connection.certificateAuthority == nil else {
                throw .kubeconfig(
                    file: cluster.origin,
                    message: "cluster \"\(clusterName)\" sets insecure-skip-tls-verify and a certificate-authority; "
                        + "a root certificate with the insecure flag is not allowed, remove one")
            }
            connection.verifyServer = false
        }
        connection.serverName = cluster.tlsServerName.flatMap { $0.isEmpty ? nil : $0 }
        connection.proxy = cluster.proxyURL.flatMap { $0.isEmpty ? nil : $0 }
        connection.compression = !cluster.disableCompression

        let userWhat = "user \"\(userName)\""
        connection.clientCertificate = try KubeContext.dataOrFile(
            user.clientCertificateData, user.clientCertificate, origin: user.origin,
            what: "client-certificate of \(userWhat)")
        let keyData = user.clientKeyData.flatMap { $0.isEmpty ? nil : $0 }
        if let keyData {
            connection.clientKey = keyData
        } else if let keyFile = user.clientKey, !keyFile.isEmpty {
            let path = FileAccess.resolve(keyFile, relativeTo: user.origin)
            do {
                connection.clientKey = SecretValue(try FileAccess.read(path))
            } catch {
                throw .credentials(user: userName, message: "cannot read client-key \(path): \(error)")
            }
        }
        if (connection.clientCertificate == nil) != (connection.clientKey == nil) {
            throw .kubeconfig(
                file: user.origin,
                message: "\(userWhat) has a client-certificate without a client-key or the other way round; "
                    + "both are needed")
        }
        self.connection = connection
        self.credentials = try KubeContext.credentials(user, name: userName)

        self.impersonateUser = user.impersonate.flatMap { $0.isEmpty ? nil : $0 }
        self.impersonateUID = user.impersonateUID.flatMap { $0.isEmpty ? nil : $0 }
        self.impersonateGroups = user.impersonateGroups

        var info: Value = ["server": .string(cluster.server)]
        if let serverName = connection.serverName { info["tls-server-name"] = .string(serverName) }
        if cluster.insecureSkipTLSVerify { info["insecure-skip-tls-verify"] = true }
        if let authority = connection.certificateAuthority {
            info["certificate-authority-data"] = .string(Data(authority).base64EncodedString())
        }
        if let proxy = connection.proxy { info["proxy-url"] = .string(proxy) }
        if cluster.disableCompression { info["disable-compression"] = true }
        self.execClusterInfo = info
    }

    /// "context us-sanjose-1 (cluster us-sanjose-1 at https://127.0.0.1:6443, user admin)".
    public var description: String {
        "context \(name) (cluster \(clusterName) at \(server), user \(userName.isEmpty ? "none" : userName))"
    }

    /// `host:6443` becomes `https://host:6443`; a trailing slash goes.
    static func normalise(_ server: String) -> String {
        var url = server.contains("://") ? server : "https://\(server)"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Inline data wins over a file, as in client-go; the file is read now so that a bad path fails early.
    private static func dataOrFile(_ data: [UInt8]?, _ file: String?, origin: String, what: String)
        throws(ApplierError) -> [UInt8]?
    {
        if let data, !data.isEmpty { return data }
        guard let file, !file.isEmpty else { return nil }
        let path = FileAccess.resolve(file, relativeTo: origin)
        do {
            return try FileAccess.read(path)
        } catch {
            throw .kubeconfig(file: origin, message: "cannot read \(what) \(path): \(error)")
        }
    }

    private static func credentials(_ user: Kubeconfig.User, name: String) throws(ApplierError) -> CredentialSource {
        if let provider = user.authProvider {
            throw .kubeconfig(
                file: user.origin,
                message: "user \"\(name)\" uses auth-provider \"\(provider)\", which syncagent does not support; "
                    + "use an exec credential plugin instead")
        }
        let hasToken = user.token.map { !$0.isEmpty } ?? false
        let hasTokenFile = !(user.tokenFile ?? "").isEmpty
        let hasBasic = !(user.username ?? "").isEmpty || !(user.password?.isEmpty ?? true)
        if (hasToken || hasTokenFile) && hasBasic {
            throw .kubeconfig(
                file: user.origin,
                message: "user \"\(name)\" has both a token and a username/password; only one method is allowed")
        }
        if var exec = user.exec {
            guard !exec.command.isEmpty else {
                throw .kubeconfig(file: user.origin, message: "user \"\(name)\": exec has no command")
            }
            let versions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
            guard versions.contains(exec.apiVersion) else {
                throw .kubeconfig(
                    file: user.origin,
                    message: "user \"\(name)\": exec apiVersion \"\(exec.apiVersion)\" is not supported; "
                        + "use \(versions.joined(separator: " or "))")
            }
            if exec.interactiveMode == "Always" {
                throw .kubeconfig(
                    file: user.origin,
                    message: "user \"\(name)\": exec interactiveMode Always needs a terminal, and syncagent has none")
            }
            if exec.command.contains("/") {
                exec.command = FileAccess.resolve(exec.command, relativeTo: user.origin)
            }
            return .exec(exec)
        }
        if hasTokenFile, let file = user.tokenFile {
            return .tokenFile(path: FileAccess.resolve(file, relativeTo: user.origin))
        }
        if hasToken, let token = user.token { return .token(token) }
        if hasBasic { return .basic(username: user.username ?? "", password: user.password ?? SecretValue("")) }
        return .none
    }
}
