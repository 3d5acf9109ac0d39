import Foundation
import KubeYAML
import SyncCore

/// A kubeconfig: clusters, users and contexts by name, and the current context, read as kubectl reads them.
///
/// Loading follows client-go's rules:
/// - ``load(files:)`` merges files in order (`$KUBECONFIG`): the first file to define a cluster, user or context
///   name wins that whole entry (later entries of the same name are dropped, not merged field by field), and the
///   first non-empty `current-context` wins. Missing files are skipped; unreadable or invalid ones are errors.
/// - Relative paths (`certificate-authority`, `client-certificate`, `client-key`, `tokenFile`, and an exec
///   `command` containing a `/`) are relative to the folder of the file that wrote them.
/// - Two entries of one name in one file are an error, as are values of the wrong type; unknown fields are ignored.
///
/// Nothing here is a secret in its printed form: tokens, keys and passwords are ``SecretValue``s.
public struct Kubeconfig: Sendable, Hashable {
    /// How to reach one API server.
    public struct Cluster: Sendable, Hashable {
        public var server: String = ""
        /// A PEM file of CA certificates, as written (see ``origin``).
        public var certificateAuthority: String?
        /// PEM CA certificates (base64-decoded from `certificate-authority-data`).
        public var certificateAuthorityData: [UInt8]?
        public var tlsServerName: String?
        public var insecureSkipTLSVerify = false
        public var proxyURL: String?
        public var disableCompression = false
        /// The file this entry came from; relative paths are relative to its folder.
        public var origin = ""

        public init() {}
    }

    /// An `exec` credential plugin (`client.authentication.k8s.io` ExecCredential).
    public struct ExecConfig: Sendable, Hashable {
        /// One `env` entry.
        public struct EnvVar: Sendable, Hashable {
            public var name: String
            public var value: String
        }

        /// `client.authentication.k8s.io/v1` or `/v1beta1`.
        public var apiVersion = ""
        /// The program, as written: found on `PATH` unless it contains a `/`.
        public var command = ""
        public var args: [String] = []
        public var env: [EnvVar] = []
        public var installHint = ""
        public var provideClusterInfo = false
        /// `Never`, `IfAvailable` or `Always`; syncagent never has a terminal, so `Always` cannot work.
        public var interactiveMode = ""

        public init() {}
    }

    /// Who to be: a user's credentials.
    public struct User: Sendable, Hashable {
        public var clientCertificate: String?
        public var clientCertificateData: [UInt8]?
        public var clientKey: String?
        public var clientKeyData: SecretValue?
        public var token: SecretValue?
        public var tokenFile: String?
        public var username: String?
        public var password: SecretValue?
        /// `as`, `as-uid`, `as-groups`: impersonation.
        public var impersonate: String?
        public var impersonateUID: String?
        public var impersonateGroups: [String] = []
        public var exec: ExecConfig?
        /// `auth-provider`'s name: legacy in-tree plugins, which syncagent does not run.
        public var authProvider: String?
        public var origin = ""

        public init() {}
    }

    /// A cluster, a user and a default namespace, under one name.
    public struct Context: Sendable, Hashable {
        public var cluster = ""
        public var user = ""
        public var namespace = ""
        public var origin = ""

        public init() {}
    }

    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    /// Empty when unset.
    public var currentContext = ""
    /// The files read, in order (missing ones left out).
    public var files: [String] = []

    public init() {}

    /// Reads one kubeconfig file; throws when it cannot be read or is not a valid kubeconfig.
    public static func load(file path: String) throws(ApplierError) -> Kubeconfig {
        let bytes: [UInt8]
        do {
            bytes = try FileAccess.read(path)
        } catch {
            throw .kubeconfig(file: path, message: "cannot read the file: \(error)")
        }
        return try Kubeconfig(bytes: bytes, file: path)
    }

    /// Reads and merges kubeconfig files in order, skipping those that do not exist (kubectl's `$KUBECONFIG`).
    public static func load(files: [String]) throws(ApplierError) -> Kubeconfig {
        var merged = Kubeconfig()
        var seen = Set<String>()
        for path in files where !path.isEmpty && seen.insert(path).inserted {
            guard FileAccess.exists(path) else { continue }
            merged = merged.merging(try load(file: path))
        }
        return merged
    }

    /// The configuration kubectl would use: `explicitFile` alone when given (it must exist), else the files of
    /// `$KUBECONFIG` (separated by `:`) merged, else `~/.kube/config` when it exists, else an empty configuration.
    public static func loadDefault(
        explicitFile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ApplierError) -> Kubeconfig {
        if let explicitFile, !explicitFile.isEmpty {
            guard FileAccess.exists(explicitFile) else {
                throw .kubeconfig(file: explicitFile, message: "no such file")
            }
            return try load(file: explicitFile)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return try load(files: list.split(separator: ":", omittingEmptySubsequences: true).map(String.init))
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return try load(files: ["\(home)/.kube/config"])
    }

    /// This configuration with `other`'s entries added where this one has none of that name (the first file wins).
    public func merging(_ other: Kubeconfig) -> Kubeconfig {
        var result = self
        result.clusters.merge(other.clusters) { first, _ in first }
        result.users.merge(other.users) { first, _ in first }
        result.contexts.merge(other.contexts) { first, _ in first }
        if result.currentContext.isEmpty { result.currentContext = other.currentContext }
        result.files += other.files
        return result
    }

    /// Parses a kubeconfig document; `file` names it in errors and anchors its relative paths.
    public init(bytes: [UInt8], file: String) throws(ApplierError) {
        let documents: [YAMLDocument]
        do {
            documents = try YAML.load(bytes, file: file)
        } catch {
            throw .kubeconfig(file: file, message: "not valid YAML: \(error)")
        }
        guard documents.count <= 1 else {
            throw .kubeconfig(file: file, message: "expected one YAML document, found \(documents.count)")
        }
        files = [file]
        guard let document = documents.first else { return }
        let reader = KubeconfigReader(file: file, document: document)
        try reader.read(into: &self)
    }

    /// The named context (the current one when nil), with its cluster's and user's files read: what a
    /// ``KubeClient`` needs. Throws naming what is missing or unreadable.
    public func resolve(context name: String? = nil) throws(ApplierError) -> KubeContext {
        let contextName = name ?? currentContext
        guard !contextName.isEmpty else {
            throw .kubeconfig(
                file: "",
                message: "no context given and no current-context set\(describeFiles); contexts: \(contextList)")
        }
        guard let context = contexts[contextName] else {
            throw .kubeconfig(
                file: "", message: "context \"\(contextName)\" not found\(describeFiles); contexts: \(contextList)")
        }
        guard let cluster = clusters[context.cluster] else {
            throw .kubeconfig(
                file: context.origin,
                message: "context \"\(contextName)\" names cluster \"\(context.cluster)\", which is not defined")
        }
        let user: User
        if context.user.isEmpty {
            user = User()
        } else if let found = users[context.user] {
            user = found
        } else {
            throw .kubeconfig(
                file: context.origin,
                message: "context \"\(contextName)\" names user \"\(context.user)\", which is not defined")
        }
        return try KubeContext(
            name: contextName, clusterName: context.cluster, cluster: cluster, userName: context.user, user: user,
            namespace: context.namespace)
    }

    private var describeFiles: String {
        files.isEmpty ? " (no kubeconfig file found)" : " in \(files.joined(separator: ", "))"
    }

    private var contextList: String {
        contexts.isEmpty ? "none" : contexts.keys.sorted().joined(separator: ", ")
    }
}

/// Walks one kubeconfig document, checking types and naming `file:line:column` and the field on errors.
struct KubeconfigReader {
    let file: String
    let document: YAMLDocument

    func read(into config: inout Kubeconfig) throws(ApplierError) {
        let root = document.value
        if root.isNull { return }
        guard case .object = root else { throw mismatch([], "mapping", root) }
        config.currentContext = try string(root, ["current-context"]) ?? ""
        for (name, body, path) in try namedEntries(root, "clusters", "cluster") {
            config.clusters[name] = try cluster(body, path)
        }
        for (name, body, path) in try namedEntries(root, "users", "user") {
            config.users[name] = try user(body, path)
        }
        for (name, body, path) in try namedEntries(root, "contexts", "context") {
            var context = Kubeconfig.Context()
            context.cluster = try string(body, path + ["cluster"]) ?? ""
            context.user = try string(body, path + ["user"]) ?? ""
            context.namespace = try string(body, path + ["namespace"]) ?? ""
            context.origin = file
            config.contexts[name] = context
        }
    }

    private func cluster(_ root: Value, _ path: [PathElement]) throws(ApplierError) -> Kubeconfig.Cluster {
        var cluster = Kubeconfig.Cluster()
        cluster.server = try string(root, path + ["server"]) ?? ""
        cluster.certificateAuthority = try string(root, path + ["certificate-authority"])
        cluster.certificateAuthorityData = try data(root, path + ["certificate-authority-data"])
        cluster.tlsServerName = try string(root, path + ["tls-server-name"])
        cluster.insecureSkipTLSVerify = try bool(root, path + ["insecure-skip-tls-verify"]) ?? false
        cluster.proxyURL = try string(root, path + ["proxy-url"])
        cluster.disableCompression = try bool(root, path + ["disable-compression"]) ?? false
        cluster.origin = file
        return cluster
    }

    private func user(_ root: Value, _ path: [PathElement]) throws(ApplierError) -> Kubeconfig.User {
        var user = Kubeconfig.User()
        user.clientCertificate = try string(root, path + ["client-certificate"])
        user.clientCertificateData = try data(root, path + ["client-certificate-data"])
        user.clientKey = try string(root, path + ["client-key"])
        user.clientKeyData = try data(root, path + ["client-key-data"]).map(SecretValue.init)
        user.token = try string(root, path + ["token"]).map(SecretValue.init)
        user.tokenFile = try string(root, path + ["tokenFile"])
        user.username = try string(root, path + ["username"])
        user.password = try string(root, path + ["password"]).map(SecretValue.init)
        user.impersonate = try string(root, path + ["as"])
        user.impersonateUID = try string(root, path + ["as-uid"])
        user.impersonateGroups = try strings(root, path + ["as-groups"])
        if try value(root, path + ["auth-provider"]) != nil {
            user.authProvider = try string(root, path + ["auth-provider", "name"]) ?? ""
        }
        if try value(root, path + ["exec"]) != nil {
            let execPath = path + ["exec"]
            var exec = Kubeconfig.ExecConfig()
            exec.apiVersion = try string(root, execPath + ["apiVersion"]) ?? ""
            exec.command = try string(root, execPath + ["command"]) ?? ""
            exec.args = try strings(root, execPath + ["args"])
            exec.installHint = try string(root, execPath + ["installHint"]) ?? ""
            exec.provideClusterInfo = try bool(root, execPath + ["provideClusterInfo"]) ?? false
            exec.interactiveMode = try string(root, execPath + ["interactiveMode"]) ?? ""
            if let env = try value(root, execPath + ["env"]) {
                guard case .array(let entries) = env else { throw mismatch(execPath + ["env"], "sequence", env) }
                for index in entries.indices {
                    let entryPath = execPath + ["env", .index(index)]
                    exec.env.append(
                        .init(
                            name: try string(root, entryPath + ["name"]) ?? "",
                            value: try string(root, entryPath + ["value"]) ?? ""))
                }
            }
            user.exec = exec
        }
        user.origin = file
        return user
    }

    /// The `name`d entries of a list such as `clusters`, each with its body's path; an error for a name used twice.
    private func namedEntries(_ root: Value, _ list: String, _ bodyKey: String) throws(ApplierError)
        -> [(String, Value, [PathElement])]
    {
        guard let entries = try value(root, [.key(list)]) else { return [] }
        guard case .array(let items) = entries else { throw mismatch([.key(list)], "sequence", entries) }
        var result: [(String, Value, [PathElement])] = []
        var seen = Set<String>()
        for index in items.indices {
            let path: [PathElement] = [.key(list), .index(index)]
            guard case .object = items[index] else { throw mismatch(path, "mapping", items[index]) }
            let name = try string(root, path + ["name"]) ?? ""
            guard seen.insert(name).inserted else {
                throw failure(path + ["name"], "duplicate name \"\(name)\" in \(list)")
            }
            if let body = try value(root, path + [.key(bodyKey)]) {
                guard case .object = body else { throw mismatch(path + [.key(bodyKey)], "mapping", body) }
            }
            result.append((name, root, path + [.key(bodyKey)]))
        }
        return result
    }

    private func value(_ root: Value, _ path: [PathElement]) throws(ApplierError) -> Value? {
        var current = root
        for element in path {
            switch element {
            case .key(let key):
                guard let next = current[key] else { return nil }
                current = next
            case .index(let index):
                guard let elements = current.arrayValue, elements.indices.contains(index) else { return nil }
                current = elements[index]
            }
        }
        return current.isNull ? nil : current
    }

    private func string(_ root: Value, _ path: [PathElement]) throws(ApplierError) -> String? {
        guard let found = try value(root, path) else { return nil }
        switch found {
        case .string(let text): return text
        // Go's decoder reads `server: 8` into a string field as an error; YAML's own scalars stay text here.
        default: throw mismatch(path, "string", found)
        }
    }

    private func strings(_ root: Value, _ path: [PathElement]) throws(ApplierError) -> [String] {
        guard let found = try value(root, path) else { return [] }
        guard case .array(let elements) = found else { throw mismatch(path, "sequence of strings", found) }
        var result: [String] = []
        for index in elements.indices {
            result.append(try string(root, path + [.index(index)]) ?? "")
        }
        return result
    }

    private func bool(_ root: Value, _ path: [PathElement]) throws(ApplierError) -> Bool? {
        guard let found = try value(root, path) else { return nil }
        guard let flag = found.boolValue else { throw mismatch(path, "boolean", found) }
        return flag
    }

    /// A `*-data` field: base64 text (line breaks allowed) decoded to bytes.
    private func data(_ root: Value, _ path: [PathElement]) throws(ApplierError) -> [UInt8]? {
        guard let text = try string(root, path) else { return nil }
        let compact = text.filter { !$0.isWhitespace }
        guard let decoded = Data(base64Encoded: compact) else { throw failure(path, "not valid base64") }
        return [UInt8](decoded)
    }

    private func mismatch(_ path: [PathElement], _ expected: String, _ found: Value) -> ApplierError {
        failure(path, "expected a \(expected), found a \(found.typeName)")
    }

    private func failure(_ path: [PathElement], _ message: String) -> ApplierError {
        let location = document.location(at: path)
        let field = path.map(\.description).joined().drop { $0 == "." }
        return .kubeconfig(
            file: file,
            message: "\(location.line):\(location.column): \(field.isEmpty ? "document" : field): \(message)")
    }
}
