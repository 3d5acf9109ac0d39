import Foundation
import SyncCore
import TestSupport
import Testing

/// `repo.verify` with the release binary: an unsigned head is refused before anything is applied (reported by
/// `/readyz` and `syncagent_git_polls_total{result="unverified"}`); a head signed by an allowed key syncs; `sync`
/// refuses an unsigned head too, and `rollback` (which cannot sign) explains what to do instead.
@Suite struct AgentSignatureTests {
    /// Commits a change to the clone's `mesh/file` signed as `signer`, and pushes it; returns the new head.
    static func commit(
        _ mesh: SyncMesh, _ keys: SigningKeys, _ signer: SigningKeys.Signer, file: String, _ text: String
    ) throws -> String {
        try text.write(toFile: mesh.clone + "/mesh/" + file, atomically: true, encoding: .utf8)
        let (options, environment) = keys.git(signer)
        let git = ["git", "-C", mesh.clone, "-c", "user.name=Rel", "-c", "user.email=release@example.com"] + options
        try runChecked(git + ["add", "-A"], environment: environment)
        try runChecked(git + ["commit", "-qm", "change \(file)"], environment: environment)
        try runChecked(["git", "-C", mesh.clone, "push", "-q", "origin", "main"])
        return try runChecked(["git", "-C", mesh.clone, "rev-parse", "HEAD"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func anUnsignedHeadIsRefusedAndASignedOneSyncs() async throws {
        let mesh = try await SyncMesh()
        let keys = try SigningKeys()
        let config = try String(contentsOfFile: mesh.configPath, encoding: .utf8)
        let verify =
            ", verify: {openpgp: {keyring: \(keys.openPGPKeyring)}, ssh: {allowedSigners: \(keys.sshAllowedSigners)}}}"
        try mesh.work.write(
            "syncagent.yaml", config.replacingOccurrences(of: "pollInterval: 1s}", with: "pollInterval: 1s" + verify))

        // The initial commit is not signed.
        let agent = try AgentTests.Agent(mesh)
        try await agent.waitUntilListening()
        try await waitUntil(timeout: 300, "two refused polls; log:\n\(agent.process.log())") {
            let metrics = try agent.request("GET", "/metrics").body
            let line = metrics.split(separator: "\n").first {
                $0.hasPrefix(#"syncagent_git_polls_total{result="unverified"}"#)
            }
            return (line?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 2
        }
        let ready = try agent.request("GET", "/readyz")
        #expect(ready.status == 503)
        #expect(
            ready.body.contains("commit \(mesh.initial.prefix(12)) is not verified: the commit is not signed"),
            "\(ready.body)")
        for region in SyncMesh.regionNames {
            #expect(try await mesh.get("/api/v1/namespaces/bookinfo", region: region) == nil, "nothing applied")
        }

        // Signed by the allowed SSH key: synced.
        let signed = try Self.commit(
            mesh, keys, .ssh, file: "base/60-flags.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: bookinfo}\ndata: {a: \"1\"}\n")
        try await AgentTests.waitForSynced(mesh, signed, agent: agent)
        try await waitUntil(timeout: 300, "readyz") { try agent.request("GET", "/readyz").status == 200 }
        #expect(agent.process.log().contains("the branch head is signed by an allowed key"))

        // Signed by a key nobody allowed: refused, and the clusters keep the signed revision.
        let stranger = try Self.commit(
            mesh, keys, .unknownOpenPGP, file: "base/60-flags.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: bookinfo}\ndata: {a: \"2\"}\n")
        try await waitUntil(timeout: 300, "the stranger's head refused") {
            let body = try agent.request("GET", "/readyz").body
            return body.contains(
                "commit \(stranger.prefix(12)) is not verified: signed by an OpenPGP key that is not in")
        }
        let flags = try await mesh.get("/api/v1/namespaces/bookinfo/configmaps/flags", region: "us-sanjose-1")
        #expect(flags?[path: ["data", "a"]] == "1")
        _ = agent.process.stop()

        // The CLI refuses it as well; rollback cannot sign, so it says what to do instead.
        let sync = try await mesh.syncagent(["sync"])
        #expect(sync.status != 0)
        #expect(sync.stderr.contains("is not verified: signed by an OpenPGP key that is not in"), "\(sync.stderr)")
        let rollback = try await mesh.syncagent(["rollback", "--no-push"])
        #expect(rollback.status != 0)
        #expect(rollback.stderr.contains("git revert -S HEAD"), "\(rollback.stderr)")
    }
}
