import Applier
import Foundation
import SyncCore
import TestSupport
import Testing

/// Every way of authenticating, against kubesim over HTTPS: token, token file, client certificate, exec plugin
/// (OKE's `oci ce cluster generate-token`); and the failures: wrong CA, refused token, failing plugin.
@Suite struct KubeClientAuthTests {
    private let configMaps = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")

    @Test func bearerTokenFromKubesimsKubeconfig() async throws {
        let sim = try await KubeSim()
        for region in ["us-sanjose-1", "us-chicago-1"] {
            let client = try sim.client(region)
            _ = try await client.apply(try configMap("in-\(region)"))
            #expect(try await client.list(configMaps, namespace: "default").items.map(\.name).contains("in-\(region)"))
        }
    }

    @Test func refusedTokenIs401WithoutRetries() async throws {
        let sim = try await KubeSim()
        let capture = LogCapture()
        let path = try sim.kubeconfig(user: "token: not-the-token")
        let client = try KubeClient(kubeconfig: try Kubeconfig.load(file: path), logger: capture.logger())
        await #expect {
            _ = try await client.serverVersion()
        } throws: { error in
            guard case .api(_, let status) = error as? ApplierError else { return false }
            return status.code == 401 && status.reason == .unauthorized && !"\(error)".contains("not-the-token")
        }
        #expect(!capture.text.contains("retrying"))
        #expect(!capture.text.contains("not-the-token"))
    }

    @Test func tokenFileIsReadAgainWhenItChanges() async throws {
        let sim = try await KubeSim()
        let tokenFile = try sim.folder.write("token-\(UUID().uuidString)", "stale-token\n").path
        let client = try KubeClient(
            kubeconfig: try Kubeconfig.load(file: try sim.kubeconfig(user: "tokenFile: \(tokenFile)")),
            logger: LogCapture().logger())
        await #expect {
            _ = try await client.serverVersion()
        } throws: { error in
            (error as? ApplierError)?.status?.code == 401
        }
        try Data((try sim.token() + "\n").utf8).write(to: URL(fileURLWithPath: tokenFile))  // a rotated token
        _ = try await client.serverVersion()
        _ = try await client.apply(try configMap("rotated"))
    }

    @Test func clientCertificateFromFiles() async throws {
        let sim = try await KubeSim()
        let path = try sim.kubeconfig(
            user: "client-certificate: \(sim.dataPath)/client.crt\nclient-key: \(sim.dataPath)/client.key")
        let client = try KubeClient(kubeconfig: try Kubeconfig.load(file: path), logger: LogCapture().logger())
        _ = try await client.apply(try configMap("by-certificate"))
        #expect(
            try await client.get(
                ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "by-certificate")
            ).name == "by-certificate")
    }

    @Test func clientCertificateInlineData() async throws {
        let sim = try await KubeSim()
        let certificate = try Data(contentsOf: URL(fileURLWithPath: sim.dataPath + "/client.crt")).base64EncodedString()
        let key = try Data(contentsOf: URL(fileURLWithPath: sim.dataPath + "/client.key")).base64EncodedString()
        let path = try sim.kubeconfig(user: "client-certificate-data: \(certificate)\nclient-key-data: \(key)")
        let client = try KubeClient(kubeconfig: try Kubeconfig.load(file: path), logger: LogCapture().logger())
        #expect(try await client.serverVersion()["major"] == "1")
    }

    @Test func wrongCertificateAuthorityIsAClearTLSError() async throws {
        let sim = try await KubeSim()
        let pki = try TestPKI()
        let path = try sim.kubeconfig(user: "token: \(try sim.token())", caFile: pki.caPath)
        let client = try KubeClient(kubeconfig: try Kubeconfig.load(file: path), logger: LogCapture().logger())
        await #expect {
            _ = try await client.serverVersion()
        } throws: { error in
            guard case .tls(_, _, let message) = error as? ApplierError else { return false }
            return message.contains("certificate") && "\(error)".contains("check the cluster's certificate-authority")
        }
    }

    @Test func tlsServerNameAndInsecureSkip() async throws {
        let sim = try await KubeSim()
        let token = try sim.token()
        // kubesim's certificate names localhost and kubernetes.default besides 127.0.0.1.
        let named = try Kubeconfig.load(file: try sim.kubeconfig(user: "token: \(token)"))
        var context = try named.resolve()
        context.connection.serverName = "kubernetes.default"
        _ = try await KubeClient(context: context, logger: LogCapture().logger()).serverVersion()
        context.connection.serverName = "elsewhere.example"
        await #expect(throws: ApplierError.self) {
            _ = try await KubeClient(
                context: context, options: KubeClientOptions(retry: .none), logger: LogCapture().logger()
            )
            .serverVersion()
        }
        let capture = LogCapture()
        var insecure = try named.resolve()
        insecure.connection = ConnectionOptions(verifyServer: false)
        _ = try await KubeClient(context: insecure, logger: capture.logger()).serverVersion()
        #expect(capture.all.contains { $0.hasPrefix("warning TLS verification is off") })
    }
}

/// An exec credential plugin that behaves like OKE's `oci ce cluster generate-token --cluster-id ID --region R`:
/// prints a v1beta1 ExecCredential with a token and an expiry. `mode` (a file) picks its behaviour; `runs` counts
/// its runs; `exec-info` keeps the last KUBERNETES_EXEC_INFO and `args` its arguments.
struct FakeOCI {
    let folder: TemporaryDirectory
    var script: String { folder.path + "/oci" }

    init(tokenFile: String) throws {
        folder = try TemporaryDirectory(prefix: "fake-oci")
        try folder.write(
            "oci",
            """
            #!/bin/sh
            dir="$(dirname "$0")"
            runs=$(( $(cat "$dir/runs" 2>/dev/null || echo 0) + 1 ))
            echo "$runs" > "$dir/runs"
            echo "$KUBERNETES_EXEC_INFO" > "$dir/exec-info"
            echo "$@" > "$dir/args"
            mode=$(cat "$dir/mode" 2>/dev/null || echo good)
            token=$(cat "\(tokenFile)")
            ttl=3600
            case "$mode" in
              fail)
                echo '{"status":{"token":"leaked-token-in-stdout"}}'
                echo "ServiceError: NotAuthenticated: the config file has no valid key (region $OCI_CLI_REGION)" >&2
                echo "debug: Authorization: Bearer s3cr3t-bearer and cached eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnMTIz" >&2
                exit 1 ;;
              wrong-first)
                if [ "$runs" = 1 ]; then token=expired-token; fi ;;
              short)
                ttl=60 ;;
            esac
            expiry=$(date -u -d "+$ttl seconds" +%Y-%m-%dT%H:%M:%SZ)
            printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\\n' "$token" "$expiry"
            """)
        chmod(script, 0o755)
    }

    func setMode(_ mode: String) throws { try folder.write("mode", mode) }
    var runs: Int {
        Int(
            (try? String(contentsOfFile: folder.path + "/runs", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines) ?? "0") ?? 0
    }
    func read(_ name: String) throws -> String { try String(contentsOfFile: folder.path + "/" + name, encoding: .utf8) }

    /// The kubeconfig `user:` lines, as OKE writes them.
    var userYAML: String {
        """
        exec:
          apiVersion: client.authentication.k8s.io/v1beta1
          command: \(script)
          args: [ce, cluster, generate-token, --cluster-id, ocid1.cluster.oc1.phx.test, --region, us-phoenix-1]
          env:
          - name: OCI_CLI_REGION
            value: us-phoenix-1
          provideClusterInfo: true
          interactiveMode: Never
        """
    }
}

@Suite struct ExecCredentialTests {
    private func client(_ sim: KubeSim, _ oci: FakeOCI, _ capture: LogCapture) throws -> KubeClient {
        try KubeClient(
            kubeconfig: try Kubeconfig.load(file: try sim.kubeconfig(user: oci.userYAML)),
            options: KubeClientOptions(retry: RetryPolicy(maxAttempts: 2, initialBackoff: 0.05)),
            logger: capture.logger())
    }

    @Test func runsOnceForConcurrentRequestsAndCachesUntilExpiry() async throws {
        let sim = try await KubeSim()
        let oci = try FakeOCI(tokenFile: "\(sim.dataPath)/regions/us-sanjose-1/token")
        let capture = LogCapture()
        let client = try client(sim, oci, capture)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask { _ = try await client.apply(try configMap("exec-\(index)")) }
            }
            try await group.waitForAll()
        }
        #expect(oci.runs == 1)
        #expect(try oci.read("args").contains("ce cluster generate-token --cluster-id ocid1.cluster.oc1.phx.test"))
        let info = try Value(json: try oci.read("exec-info"))
        #expect(info["apiVersion"] == "client.authentication.k8s.io/v1beta1")
        #expect(info[path: ["spec", "interactive"]] == false)
        #expect(
            info[path: ["spec", "cluster", "server"]]
                == .string("https://127.0.0.1:\(sim.apiPorts["us-sanjose-1"] ?? 0)"))
        #expect(info[path: ["spec", "cluster", "certificate-authority-data"]]?.stringValue?.isEmpty == false)
        _ = try await client.serverVersion()
        #expect(oci.runs == 1)  // cached
        #expect(!capture.text.contains(try sim.token()))
    }

    @Test func runsAgainAfterExpiry() async throws {
        let sim = try await KubeSim()
        let oci = try FakeOCI(tokenFile: "\(sim.dataPath)/regions/us-sanjose-1/token")
        // Expires 60 s after it is made (whole seconds: 59 to 60): two calls fit in that even on a machine loaded by
        // every suite at once (a 15 s lifetime was once outrun there).
        try oci.setMode("short")
        let client = try client(sim, oci, LogCapture())
        _ = try await client.serverVersion()
        _ = try await client.serverVersion()
        #expect(oci.runs == 1)
        let expired = Date().addingTimeInterval(61)
        try await waitUntil(timeout: 300, "the credential to expire") { Date() > expired }
        _ = try await client.serverVersion()
        #expect(oci.runs == 2)
    }

    @Test func runsAgainWhenTheServerRefusesItsToken() async throws {
        let sim = try await KubeSim()
        let oci = try FakeOCI(tokenFile: "\(sim.dataPath)/regions/us-sanjose-1/token")
        try oci.setMode("wrong-first")  // first run: a token the server refuses, valid for an hour
        let capture = LogCapture()
        let client = try client(sim, oci, capture)
        _ = try await client.apply(try configMap("after-refresh"))
        #expect(oci.runs == 2)
        #expect(capture.text.contains("credentials refused (401)"))
        #expect(!capture.text.contains("expired-token"))
    }

    @Test func aFailingPluginShowsItsStderrNotItsOutput() async throws {
        let sim = try await KubeSim()
        let oci = try FakeOCI(tokenFile: "\(sim.dataPath)/regions/us-sanjose-1/token")
        try oci.setMode("fail")
        let capture = LogCapture()
        let client = try client(sim, oci, capture)
        await #expect {
            _ = try await client.serverVersion()
        } throws: { error in
            let text = "\(error)"
            guard case .credentialPlugin(let user, _, let message, _) = error as? ApplierError else { return false }
            return user == "tester" && message == "exited with status 1"
                && text.contains(
                    "ServiceError: NotAuthenticated: the config file has no valid key (region us-phoenix-1)")
                && !text.contains("leaked-token-in-stdout")
                // Token-shaped words in its stderr are scrubbed: the bearer word and a JWT.
                && !text.contains("s3cr3t-bearer") && !text.contains("eyJhbGci") && text.contains("Bearer ***")
        }
        #expect(!capture.text.contains("leaked-token-in-stdout"))
    }

    @Test func aMissingPluginIsNamed() async throws {
        let sim = try await KubeSim()
        let user = """
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: no-such-oci-binary
              installHint: install the OCI CLI
              interactiveMode: Never
            """
        let client = try KubeClient(
            kubeconfig: try Kubeconfig.load(file: try sim.kubeconfig(user: user)), logger: LogCapture().logger())
        await #expect {
            _ = try await client.serverVersion()
        } throws: { error in
            "\(error)".contains("exec credential plugin no-such-oci-binary of user \"tester\": command not found")
        }
    }
}
