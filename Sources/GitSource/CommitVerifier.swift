import Foundation
import ProcessThreads

/// Which keys may sign the commits syncagent applies (`repo.verify`): an OpenPGP keyring (checked with gpg) and/or
/// an SSH allowed-signers file (checked with `ssh-keygen -Y verify`, git's `gpg.ssh.allowedSignersFile` format).
public struct SignaturePolicy: Sendable, Hashable {
    /// Public keys, armored or binary, as `gpg --export [--armor]` writes them.
    public var openPGPKeyring: String?
    /// `principal [options] key-type key` lines, as `ssh-keygen -Y verify` reads them.
    public var sshAllowedSigners: String?
    /// How long one gpg or ssh-keygen run may take.
    public var timeout: Double

    /// A policy from its parts.
    public init(openPGPKeyring: String? = nil, sshAllowedSigners: String? = nil, timeout: Double = 30) {
        self.openPGPKeyring = openPGPKeyring
        self.sshAllowedSigners = sshAllowedSigners
        self.timeout = timeout
    }
}

/// Who signed a verified commit.
public struct VerifiedSignature: Sendable, Hashable, CustomStringConvertible {
    /// OpenPGP or SSH.
    public var format: CommitSignatureFormat
    /// The OpenPGP key's fingerprint, or the SSH principal and key fingerprint.
    public var signer: String

    /// `OpenPGP key 7D2F…`, `SSH key of release@example.com (SHA256:…)`.
    public var description: String { "\(format.rawValue) \(signer)" }
}

/// Verifies commit signatures as `git verify-commit` does, with Debian's gpg and ssh-keygen, against the keys of a
/// ``SignaturePolicy`` only (a throwaway gpg home: the user's keyrings and trust database are never consulted).
public enum CommitVerifier {
    /// The signer of `commit`, or ``GitSourceError/unverified(commit:reason:)`` when it is unsigned, signed by a key
    /// the policy does not list, badly signed, or signed in a format the policy has no keys for.
    public static func verify(_ signature: CommitSignature?, commit: String, policy: SignaturePolicy)
        async throws(GitSourceError) -> VerifiedSignature
    {
        guard let signature else { throw .unverified(commit: commit, reason: "the commit is not signed") }
        switch signature.format {
        case .openPGP:
            guard let keyring = policy.openPGPKeyring else {
                throw .unverified(
                    commit: commit, reason: "signed with OpenPGP, but repo.verify has no openpgp.keyring")
            }
            return try await openPGP(signature, commit: commit, keyring: keyring, timeout: policy.timeout)
        case .ssh:
            guard let allowed = policy.sshAllowedSigners else {
                throw .unverified(commit: commit, reason: "signed with SSH, but repo.verify has no ssh.allowedSigners")
            }
            return try await ssh(signature, commit: commit, allowedSigners: allowed, timeout: policy.timeout)
        case .x509, .unknown:
            throw .unverified(
                commit: commit, reason: "signed in a format syncagent does not verify (\(signature.format.rawValue))")
        }
    }

    private static func openPGP(_ signature: CommitSignature, commit: String, keyring: String, timeout: Double)
        async throws(GitSourceError) -> VerifiedSignature
    {
        let home = try scratch(commit: commit)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let environment = ["PATH": searchPath, "GNUPGHOME": home, "HOME": home, "LC_ALL": "C"]
        let imported = try await run(
            "gpg", ["--batch", "--no-tty", "--quiet", "--import", keyring], environment, timeout: timeout,
            commit: commit)
        guard imported.status == 0 else {
            throw .unverified(
                commit: commit, reason: "cannot read the OpenPGP keyring \(keyring): \(firstLine(imported.stderr))")
        }
        try write(signature.signature, to: "\(home)/commit.sig", commit: commit)
        try write(signature.signedData, to: "\(home)/commit.data", commit: commit)
        let output = try await run(
            "gpg",
            ["--batch", "--no-tty", "--status-fd", "1", "--verify", "\(home)/commit.sig", "\(home)/commit.data"],
            environment, timeout: timeout, commit: commit)
        let status = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: " ").map(String.init)
        }
        func has(_ keyword: String) -> [String]? { status.first { $0.count > 1 && $0[1] == keyword } }
        if has("NO_PUBKEY") != nil || has("ERRSIG") != nil {
            throw .unverified(commit: commit, reason: "signed by an OpenPGP key that is not in \(keyring)")
        }
        if has("BADSIG") != nil { throw .unverified(commit: commit, reason: "the OpenPGP signature does not match") }
        for refused in ["EXPKEYSIG", "REVKEYSIG", "EXPSIG"] where has(refused) != nil {
            throw .unverified(
                commit: commit,
                reason: "the OpenPGP key or signature is \(refused.hasPrefix("REV") ? "revoked" : "expired")")
        }
        guard output.status == 0, has("GOODSIG") != nil, let valid = has("VALIDSIG"), valid.count > 2 else {
            throw .unverified(commit: commit, reason: "gpg did not accept the signature: \(firstLine(output.stderr))")
        }
        return VerifiedSignature(format: .openPGP, signer: "key \(valid[2])")
    }

    private static func ssh(_ signature: CommitSignature, commit: String, allowedSigners: String, timeout: Double)
        async throws(GitSourceError) -> VerifiedSignature
    {
        let folder = try scratch(commit: commit)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let environment = ["PATH": searchPath, "HOME": folder, "LC_ALL": "C"]
        try write(signature.signature, to: "\(folder)/commit.sig", commit: commit)
        let found = try await run(
            "ssh-keygen", ["-Y", "find-principals", "-f", allowedSigners, "-s", "\(folder)/commit.sig"], environment,
            timeout: timeout, commit: commit)
        let principal = String(decoding: found.stdout, as: UTF8.self).split(separator: "\n").first.map(String.init)
        guard found.status == 0, let principal, !principal.isEmpty else {
            throw .unverified(commit: commit, reason: "signed by an SSH key that is not in \(allowedSigners)")
        }
        let verified = try await run(
            "ssh-keygen",
            ["-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", "git", "-s", "\(folder)/commit.sig"],
            environment, input: signature.signedData, timeout: timeout, commit: commit)
        let said = String(decoding: verified.stdout + verified.stderr, as: UTF8.self)
        guard verified.status == 0, said.contains("Good \"git\" signature") else {
            throw .unverified(
                commit: commit, reason: "the SSH signature does not verify: \(firstLine(verified.stderr))")
        }
        let key = said.components(separatedBy: " key ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return VerifiedSignature(format: .ssh, signer: "key of \(principal)\(key.map { " (\($0))" } ?? "")")
    }

    // MARK: - Helpers

    private static let searchPath = "/usr/local/bin:/usr/bin:/bin"

    private static func run(
        _ tool: String, _ arguments: [String], _ environment: [String: String], input: [UInt8]? = nil,
        timeout: Double, commit: String
    ) async throws(GitSourceError) -> ProcessOutput {
        let output: ProcessOutput
        do {
            output = try await ProcessRunner.run(
                command: tool, arguments: arguments, environment: environment, input: input, timeout: timeout)
        } catch {
            throw .unverified(
                commit: commit,
                reason:
                    "cannot run \(tool) (install it: apt-get install \(tool == "gpg" ? "gnupg" : "openssh-client")): \(error)"
            )
        }
        if output.timedOut {
            throw .unverified(commit: commit, reason: "\(tool) did not finish within \(Int(timeout))s")
        }
        return output
    }

    /// A private folder for one verification (mode 0700, as gpg wants its home).
    private static func scratch(commit: String) throws(GitSourceError) -> String {
        let path = NSTemporaryDirectory() + "syncagent-verify-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .unverified(commit: commit, reason: "cannot create a scratch folder: \(error.localizedDescription)")
        }
        return path
    }

    private static func write(_ bytes: [UInt8], to path: String, commit: String) throws(GitSourceError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw .unverified(commit: commit, reason: "cannot write \(path)")
        }
    }

    private static func firstLine(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "(no message)"
    }
}
