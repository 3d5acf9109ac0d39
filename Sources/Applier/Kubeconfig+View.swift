import SyncCore

extension Kubeconfig {
    /// The configuration as `kubectl config view` prints it (JSON model): entries sorted by name, credentials
    /// shown as `REDACTED` and embedded data as `DATA+OMITTED`, paths as written. For `syncagent` to show which
    /// kubeconfig it uses, and for tests that hold the merge against kubectl's.
    public var view: Value {
        func list(_ entries: [(String, String, Value)]) -> Value {
            entries.isEmpty
                ? .null : .array(entries.sorted { $0.0 < $1.0 }.map { ["name": .string($0.0), .init($0.1): $0.2] })
        }
        return [
            "kind": "Config", "apiVersion": "v1", "preferences": .emptyObject,
            "clusters": list(clusters.map { ($0.key, "cluster", $0.value.view) }),
            "users": list(users.map { ($0.key, "user", $0.value.view) }),
            "contexts": list(contexts.map { ($0.key, "context", $0.value.view) }),
            "current-context": .string(currentContext),
        ]
    }
}

extension Kubeconfig.Cluster {
    var view: Value {
        var view: Value = .emptyObject
        view["server"] = .string(server)
        if let tlsServerName, !tlsServerName.isEmpty { view["tls-server-name"] = .string(tlsServerName) }
        if insecureSkipTLSVerify { view["insecure-skip-tls-verify"] = true }
        if let certificateAuthority, !certificateAuthority.isEmpty {
            view["certificate-authority"] = .string(certificateAuthority)
        }
        if let certificateAuthorityData, !certificateAuthorityData.isEmpty {
            view["certificate-authority-data"] = "DATA+OMITTED"
        }
        if let proxyURL, !proxyURL.isEmpty { view["proxy-url"] = .string(proxyURL) }
        if disableCompression { view["disable-compression"] = true }
        return view
    }
}

extension Kubeconfig.User {
    var view: Value {
        var view: Value = .emptyObject
        func set(_ key: String, _ text: String?) {
            if let text, !text.isEmpty { view[key] = .string(text) }
        }
        set("client-certificate", clientCertificate)
        if let clientCertificateData, !clientCertificateData.isEmpty {
            view["client-certificate-data"] = "DATA+OMITTED"
        }
        set("client-key", clientKey)
        if let clientKeyData, !clientKeyData.isEmpty { view["client-key-data"] = "DATA+OMITTED" }
        if let token, !token.isEmpty { view["token"] = "REDACTED" }
        set("tokenFile", tokenFile)
        set("as", impersonate)
        set("as-uid", impersonateUID)
        if !impersonateGroups.isEmpty { view["as-groups"] = .array(impersonateGroups.map { .string($0) }) }
        set("username", username)
        if let password, !password.isEmpty { view["password"] = "REDACTED" }
        if let authProvider { view["auth-provider"] = ["name": .string(authProvider)] }
        if let exec {
            var execView: Value = [
                "command": .string(exec.command),
                "args": exec.args.isEmpty ? .null : .array(exec.args.map { .string($0) }),
                "env": exec.env.isEmpty
                    ? .null : .array(exec.env.map { ["name": .string($0.name), "value": .string($0.value)] }),
                "apiVersion": .string(exec.apiVersion),
                "provideClusterInfo": .bool(exec.provideClusterInfo),
            ]
            if !exec.installHint.isEmpty { execView["installHint"] = .string(exec.installHint) }
            if !exec.interactiveMode.isEmpty { execView["interactiveMode"] = .string(exec.interactiveMode) }
            view["exec"] = execView
        }
        return view
    }
}

extension Kubeconfig.Context {
    var view: Value {
        var view: Value = ["cluster": .string(cluster), "user": .string(user)]
        if !namespace.isEmpty { view["namespace"] = .string(namespace) }
        return view
    }
}
