import Foundation
import SyncCore
import Testing
import TestSupport

/// Defaults the real server sets that a manifest usually leaves out; a diff that did not know them would report
/// false drift on every probe, token volume and sticky Service.
@Suite
struct DefaultsTests {
    @Test func probesTokensAndSessionAffinityGetTheRealServersDefaults() async throws {
        let sim = try await KubeSimCluster()
        let manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - name: web
                    image: nginx:1.27
                    readinessProbe: {httpGet: {port: 8080}}
                    lifecycle: {preStop: {httpGet: {port: 8080, path: /drain}}}
                  volumes:
                  - name: token
                    projected:
                      sources: [{serviceAccountToken: {path: token, audience: mesh}}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              sessionAffinity: ClientIP
              ports: [{port: 80}]
            """
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: manifest)
        let deployment = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
        let container = deployment[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container?[path: ["readinessProbe", "httpGet", "path"]] == "/")
        #expect(container?[path: ["readinessProbe", "httpGet", "scheme"]] == "HTTP")
        #expect(container?[path: ["lifecycle", "preStop", "httpGet", "path"]] == "/drain")
        #expect(container?[path: ["lifecycle", "preStop", "httpGet", "scheme"]] == "HTTP")
        let volume = deployment[path: ["spec", "template", "spec", "volumes"]]?.arrayValue?.first
        let source = volume?[path: ["projected", "sources"]]?.arrayValue?.first
        #expect(source?[path: ["serviceAccountToken", "expirationSeconds"]] == 3600)
        let service = try Value(json: try await sim.kubectlChecked(["get", "service", "web", "-o", "json"]))
        #expect(service[path: ["spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"]] == 10800)

        // Re-applying the manifest without the defaults changes no spec: the defaults are not drift.
        try await sim.kubectlChecked(["apply", "--server-side", "-f", "-"], input: manifest)
        let again = try Value(json: try await sim.kubectlChecked(["get", "deployment", "web", "-o", "json"]))
        #expect(again[path: ["metadata", "generation"]] == 1)
        #expect(again["spec"] == deployment["spec"])
    }
}
