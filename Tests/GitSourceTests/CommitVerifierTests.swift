import Foundation
import GitSource
import Testing
import TestSupport

/// `repo.verify`: commits signed at test time by gpg and ssh-keygen keys; only the allowed keys pass.
@Suite struct CommitVerifierTests {
    /// A repository with one commit per signer, in `Signer.allCases` order; returns the commit ids by signer.
    static func repository(_ keys: SigningKeys) throws -> (TemporaryDirectory, [SigningKeys.Signer: String]) {
        let folder = try TemporaryDirectory(prefix: "signed")
        var environment = [
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "Rel",
            "GIT_AUTHOR_EMAIL": "release@example.com", "GIT_COMMITTER_NAME": "Rel",
            "GIT_COMMITTER_EMAIL": "release@example.com",
        ]
        try runChecked(["git", "init", "-q", "-b", "main", folder.path], environment: environment)
        var commits: [SigningKeys.Signer: String] = [:]
        for (index, signer) in SigningKeys.Signer.allCases.enumerated() {
            try "n: \(index)\n".write(toFile: folder.path + "/file.yaml", atomically: true, encoding: .utf8)
            let (options, extra) = keys.git(signer)
            environment.merge(extra) { $1 }
            try runChecked(["git", "add", "-A"], cwd: folder.url, environment: environment)
            try runChecked(
                ["git"] + options + ["commit", "-q", "-m", "commit \(index)"], cwd: folder.url, environment: environment
            )
            commits[signer] = try runChecked(["git", "rev-parse", "HEAD"], cwd: folder.url)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return (folder, commits)
    }

    @Test func onlyCommitsSignedByAnAllowedKeyPass() async throws {
        let keys = try SigningKeys()
        let (folder, commits) = try Self.repository(keys)
        let repository = try GitRepository(openingExisting: folder.path)
        let policy = SignaturePolicy(openPGPKeyring: keys.openPGPKeyring, sshAllowedSigners: keys.sshAllowedSigners)
        func verify(_ signer: SigningKeys.Signer) async throws -> VerifiedSignature {
            let sha = try #require(commits[signer])
            return try await CommitVerifier.verify(try repository.commitSignature(sha), commit: sha, policy: policy)
        }
        let gpg = try await verify(.openPGP)
        #expect(gpg.format == .openPGP && gpg.signer.hasPrefix("key "), "\(gpg)")
        let ssh = try await verify(.ssh)
        #expect(ssh.format == .ssh && ssh.signer.hasPrefix("key of release@example.com (SHA256:"), "\(ssh)")

        for (signer, reason) in [
            (SigningKeys.Signer.unsigned, "the commit is not signed"),
            (.unknownOpenPGP, "signed by an OpenPGP key that is not in \(keys.openPGPKeyring)"),
            (.unknownSSH, "signed by an SSH key that is not in \(keys.sshAllowedSigners)"),
        ] {
            let sha = try #require(commits[signer])
            await #expect {
                try await verify(signer)
            } throws: { error in
                guard let error = error as? GitSourceError, case .unverified(let commit, let why) = error else {
                    return false
                }
                return commit == sha && why == reason
                    && error.description.hasPrefix("commit \(sha.prefix(12)) is not verified: \(reason);")
            }
        }
    }

    @Test func aSignatureMovedOntoAnotherCommitIsRefused() async throws {
        let keys = try SigningKeys()
        let (folder, commits) = try Self.repository(keys)
        let repository = try GitRepository(openingExisting: folder.path)
        let policy = SignaturePolicy(openPGPKeyring: keys.openPGPKeyring, sshAllowedSigners: keys.sshAllowedSigners)
        let unsigned = try #require(commits[.unsigned])
        let strangerCommit = try #require(commits[.unknownSSH])
        let content = try #require(try repository.commitSignature(strangerCommit))
        for signer in [SigningKeys.Signer.openPGP, .ssh] {
            // A good signature of one commit presented with another commit's content: a lie that must not pass.
            let signed = try #require(commits[signer])
            let real = try #require(try repository.commitSignature(signed))
            let forged = CommitSignature(signature: real.signature, signedData: content.signedData)
            await #expect(throws: GitSourceError.self) {
                try await CommitVerifier.verify(forged, commit: unsigned, policy: policy)
            }
        }
        // A format the policy has no keys for is refused, not waved through.
        let sshOnly = SignaturePolicy(sshAllowedSigners: keys.sshAllowedSigners)
        let gpgCommit = try #require(commits[.openPGP])
        await #expect(throws: GitSourceError.self) {
            try await CommitVerifier.verify(
                try repository.commitSignature(gpgCommit), commit: gpgCommit, policy: sshOnly)
        }
    }
}
