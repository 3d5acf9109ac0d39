import Foundation
import SyncCore

/// Writes the kubeconfig: one cluster, user and context per region, each named after the region; bearer-token
/// users; the CA embedded as `certificate-authority-data`. Each region also has a read-only user and context
/// `<region>-viewer` (every write answered 403 Forbidden), for testing read-only credentials.
enum Kubeconfig {
    static func text(regions: [Region], caPEM: String) -> String {
        let ca = Data(caPEM.utf8).base64EncodedString()
        var lines = ["apiVersion: v1", "kind: Config", "preferences: {}", "clusters:"]
        for region in regions {
            lines += [
                "- name: \(region.name)", "  cluster:", "    server: https://127.0.0.1:\(region.apiPort)",
                "    certificate-authority-data: \(ca)",
            ]
        }
        lines.append("users:")
        for region in regions {
            lines += ["- name: \(region.name)", "  user:", "    token: \(region.token)"]
            if !region.viewerToken.isEmpty {
                lines += ["- name: \(region.name)-viewer", "  user:", "    token: \(region.viewerToken)"]
            }
        }
        lines.append("contexts:")
        for region in regions {
            lines += ["- name: \(region.name)", "  context:", "    cluster: \(region.name)", "    user: \(region.name)", "    namespace: default"]
            if !region.viewerToken.isEmpty {
                lines += [
                    "- name: \(region.name)-viewer", "  context:", "    cluster: \(region.name)",
                    "    user: \(region.name)-viewer", "    namespace: default",
                ]
            }
        }
        lines.append("current-context: \(regions.first?.name ?? "")")
        return lines.joined(separator: "\n") + "\n"
    }

    static func write(to path: String, regions: [Region], caPEM: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text(regions: regions, caPEM: caPEM).utf8).write(to: url, options: .atomic)
        chmod(path, 0o600)
    }
}
