import Applier
import Foundation
import OrderedCollections
import SyncCore
import TestSupport
import Testing

/// Loading, merging and resolving kubeconfigs; `kubectl config view --merge` is the referee for merges.
@Suite struct KubeconfigTests {
    /// Three files with overlapping names, a relative path, an empty and a missing entry in the list.
    private func writeMergeFixture(_ folder: TemporaryDirectory) throws -> [String] {
        try folder.write(
            "a.yaml",
            """
            apiVersion: v1
            kind: Config
            clusters:
            - name: c1
              cluster:
                server: https://a.example:6443
                certificate-authority: ca.crt
                tls-server-name: kube.local
                proxy-url: http://proxy:3128
            - name: shared
              cluster:
                server: https://from-a
                insecure-skip-tls-verify: true
            users:
            - name: u1
              user:
                token: secret-token-a
                client-certificate-data: Zm9v
                client-key-data: YmFy
            - name: ex
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: ./bin/plugin
                  args: [a, b]
                  env:
                  - name: X
                    value: "1"
                  provideClusterInfo: true
                  interactiveMode: Never
            contexts:
            - name: ctx-a
              context: {cluster: c1, user: u1, namespace: ns-a}
            current-context: ""
            """)
        try folder.write(
            "sub/b.yaml",
            """
            apiVersion: v1
            kind: Config
            clusters:
            - name: shared
              cluster:
                server: https://from-b
                certificate-authority-data: Zm9v
            - name: c2
              cluster: {server: "https://b.example"}
            users:
            - name: u1
              user: {tokenFile: tok, username: admin, password: pw}
            - name: u2
              user: {client-certificate: cert.pem, client-key: /abs/key.pem, as: someone, as-groups: [g1, g2]}
            contexts:
            - name: ctx-a
              context: {cluster: c2, user: u2}
            - name: ctx-b
              context: {cluster: shared, user: u2}
            current-context: ctx-b
            """)
        try folder.write(
            "c.json",
            #"{"apiVersion":"v1","kind":"Config","current-context":"ctx-c","contexts":[{"name":"ctx-c","context":{"cluster":"c2","user":"ex"}}],"users":[{"name":"u3","user":{"exec":{"command":"oci","apiVersion":"client.authentication.k8s.io/v1"}}}]}"#
        )
        return ["a.yaml", "", "sub/b.yaml", "missing.yaml", "c.json", "a.yaml"].map {
            $0.isEmpty ? "" : folder.path + "/" + $0
        }
    }

    @Test func mergeMatchesKubectlConfigView() async throws {
        let kubectl = try requireTool("kubectl")
        let folder = try TemporaryDirectory()
        let files = try writeMergeFixture(folder)
        let list = files.joined(separator: ":")
        let referee = try await runChecked(
            [kubectl, "config", "view", "--merge", "-o", "json"], environment: ["KUBECONFIG": list])
        let merged = try Kubeconfig.loadDefault(environment: ["KUBECONFIG": list, "HOME": folder.path])
        #expect(sortedKeys(merged.view) == sortedKeys(try Value(json: referee)))
        #expect(merged.currentContext == "ctx-b")
        #expect(merged.clusters["shared"]?.server == "https://from-a")
        #expect(merged.users["u1"]?.tokenFile == nil)  // the first file's u1 wins whole
        #expect(merged.contexts["ctx-a"]?.cluster == "c1")
    }

    @Test func resolvesAContextWithRelativePathsAndInlineData() throws {
        let folder = try TemporaryDirectory()
        try folder.write("certs/ca.crt", "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")
        try folder.write("certs/client.crt", "CLIENT CERT")
        try folder.write("certs/client.key", "CLIENT KEY")
        let key = Data("INLINE KEY".utf8).base64EncodedString()
        try folder.write(
            "config",
            """
            clusters:
            - name: prod
              cluster: {server: "https://10.0.0.1:6443/", certificate-authority: certs/ca.crt, tls-server-name: kubernetes}
            - name: dev
              cluster: {server: "127.0.0.1:8443", insecure-skip-tls-verify: true}
            users:
            - name: files
              user: {client-certificate: certs/client.crt, client-key: certs/client.key, token: abc}
            - name: inline
              user: {client-certificate-data: \(Data("INLINE CERT".utf8).base64EncodedString()), client-key-data: \(key)}
            - name: oke
              user:
                exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./oci, args: [ce, cluster, generate-token]}
            contexts:
            - name: prod
              context: {cluster: prod, user: files, namespace: bookinfo}
            - name: dev
              context: {cluster: dev, user: inline}
            - name: oke
              context: {cluster: prod, user: oke}
            current-context: prod
            """)
        let config = try Kubeconfig.load(file: folder.path + "/config")
        let prod = try config.resolve()
        #expect(prod.server == "https://10.0.0.1:6443")
        #expect(prod.namespace == "bookinfo")
        #expect(
            prod.connection.certificateAuthority.map { String(decoding: $0, as: UTF8.self) }?.contains("CA") == true)
        #expect(prod.connection.serverName == "kubernetes")
        #expect(prod.connection.clientCertificate == Array("CLIENT CERT".utf8))
        #expect(prod.connection.clientKey == SecretValue("CLIENT KEY"))
        #expect(prod.credentials == .token(SecretValue("abc")))

        let dev = try config.resolve(context: "dev")
        #expect(dev.server == "https://127.0.0.1:8443")
        #expect(dev.namespace == "default")
        #expect(!dev.connection.verifyServer)
        #expect(dev.connection.clientKey == SecretValue("INLINE KEY"))

        let oke = try config.resolve(context: "oke")
        guard case .exec(let exec) = oke.credentials else {
            Issue.record("expected exec credentials")
            return
        }
        #expect(exec.command == folder.path + "/oci")
        #expect(exec.args == ["ce", "cluster", "generate-token"])
    }

    @Test func clearErrors() throws {
        let folder = try TemporaryDirectory()
        try folder.write(
            "config",
            """
            clusters:
            - name: c
              cluster: {server: "https://x", certificate-authority: missing-ca.crt}
            users:
            - name: u
              user: {token: t}
            contexts:
            - name: one
              context: {cluster: c, user: u}
            - name: two
              context: {cluster: nowhere, user: u}
            """)
        let config = try Kubeconfig.load(file: folder.path + "/config")
        #expect(
            throws: ApplierError.kubeconfig(
                file: "", message: "context \"three\" not found in \(folder.path)/config; contexts: one, two")
        ) {
            try config.resolve(context: "three")
        }
        #expect(throws: ApplierError.self) { try config.resolve() }  // no current-context
        #expect {
            try config.resolve(context: "one")
        } throws: { error in
            "\(error)".contains(
                "cannot read certificate-authority of cluster \"c\" \(folder.path)/missing-ca.crt: No such file")
        }
        #expect {
            try config.resolve(context: "two")
        } throws: { error in
            "\(error)".contains("names cluster \"nowhere\", which is not defined")
        }

        // A folder where the file should be: unreadable.
        try FileManager.default.createDirectory(atPath: folder.path + "/dir", withIntermediateDirectories: true)
        #expect {
            try Kubeconfig.load(file: folder.path + "/dir")
        } throws: { error in
            "\(error)" == "kubeconfig \(folder.path)/dir: cannot read the file: Is a directory"
        }
        #expect {
            try Kubeconfig.loadDefault(explicitFile: folder.path + "/nope")
        } throws: { error in
            "\(error)" == "kubeconfig \(folder.path)/nope: no such file"
        }

        try folder.write("bad", "clusters:\n- name: q\n  cluster:\n    server: [1]\n")
        #expect {
            try Kubeconfig.load(file: folder.path + "/bad")
        } throws: { error in
            "\(error)"
                == "kubeconfig \(folder.path)/bad: 4:13: clusters[0].cluster.server: expected a string, found a sequence"
        }
        try folder.write("dup", "users:\n- name: a\n  user: {}\n- name: a\n  user: {}\n")
        #expect {
            try Kubeconfig.load(file: folder.path + "/dup")
        } throws: { error in
            "\(error)" == "kubeconfig \(folder.path)/dup: 4:9: users[1].name: duplicate name \"a\" in users"
        }
    }

    @Test func noKubeconfigAtAllIsEmpty() throws {
        let folder = try TemporaryDirectory()
        let config = try Kubeconfig.loadDefault(environment: ["HOME": folder.path])
        #expect(config.contexts.isEmpty)
        #expect {
            try config.resolve()
        } throws: { error in
            "\(error)"
                == "kubeconfig: no context given and no current-context set (no kubeconfig file found); contexts: none"
        }
    }

    @Test func secretsNeverPrint() throws {
        let folder = try TemporaryDirectory()
        let files = try writeMergeFixture(folder)
        try folder.write("ca.crt", "not really a certificate")
        let config = try Kubeconfig.load(files: files)
        let context = try config.resolve(context: "ctx-a")
        for text in [
            "\(config)", String(reflecting: config), "\(context)", String(reflecting: context), "\(config.view)",
            dumped(config), dumped(context),
        ] {
            #expect(!text.contains("secret-token-a"))
            #expect(!text.contains("bar"))  // client-key-data
        }
        #expect(config.users["u1"]?.token?.text == "secret-token-a")
    }

    private func dumped(_ value: Any) -> String {
        var text = ""
        dump(value, to: &text)
        return text
    }
}

/// The value with every mapping's keys sorted, so that two values compare regardless of member order.
func sortedKeys(_ value: Value) -> Value {
    switch value {
    case .object(let members):
        var sorted = OrderedDictionary<String, Value>()
        for key in members.keys.sorted() { sorted[key] = members[key].map(sortedKeys) }
        return .object(sorted)
    case .array(let elements):
        return .array(elements.map(sortedKeys))
    default:
        return value
    }
}
