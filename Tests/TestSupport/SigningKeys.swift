import Foundation

/// Keys made at test time for signed commits: an OpenPGP key and an SSH key that `repo.verify` allows (exported to
/// `keyring.asc` and `allowed_signers`), and one of each that it does not know. `git(...)` arguments and environment
/// sign a commit with any of them, as a developer's git would.
public final class SigningKeys: Sendable {
    /// Who signs a commit.
    public enum Signer: Sendable, CaseIterable {
        case openPGP, unknownOpenPGP, ssh, unknownSSH, unsigned
    }

    public let directory: TemporaryDirectory
    /// The allowed OpenPGP public key, armored.
    public let openPGPKeyring: String
    /// `release@example.com ssh-ed25519 AAAA…` for the allowed SSH key.
    public let sshAllowedSigners: String
    private let homes: [String]

    public init() throws {
        let gpg = try requireTool("gpg")
        _ = try requireTool("ssh-keygen")
        directory = try TemporaryDirectory(prefix: "keys")
        let root = directory.path
        var made: [String] = []
        for (name, email) in [("allowed", "release@example.com"), ("stranger", "stranger@example.com")] {
            let home = "\(root)/gnupg-\(name)"
            try FileManager.default.createDirectory(
                atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try runChecked([
                gpg, "--batch", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", "",
                "--quick-gen-key", "\(name) <\(email)>", "ed25519", "sign", "never",
            ])
            made.append(home)
            try runChecked(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", "\(root)/ssh-\(name)"])
        }
        homes = made
        openPGPKeyring = "\(root)/keyring.asc"
        let exported = try runChecked([
            gpg, "--batch", "--homedir", made[0], "--armor", "--export", "release@example.com",
        ])
        try exported.write(toFile: openPGPKeyring, atomically: true, encoding: .utf8)
        sshAllowedSigners = "\(root)/allowed_signers"
        let publicKey = try String(contentsOfFile: "\(root)/ssh-allowed.pub", encoding: .utf8)
        try "release@example.com \(publicKey)".write(toFile: sshAllowedSigners, atomically: true, encoding: .utf8)
    }

    deinit {
        for home in homes { _ = try? run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"]) }
    }

    /// `git` options and environment that make `git commit` sign as `signer` (or not at all).
    public func git(_ signer: Signer) -> (options: [String], environment: [String: String]) {
        let root = directory.path
        switch signer {
        case .openPGP:
            return (
                ["-c", "user.signingkey=release@example.com", "-c", "commit.gpgsign=true"], ["GNUPGHOME": homes[0]]
            )
        case .unknownOpenPGP:
            return (
                ["-c", "user.signingkey=stranger@example.com", "-c", "commit.gpgsign=true"], ["GNUPGHOME": homes[1]]
            )
        case .ssh:
            return (
                ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(root)/ssh-allowed", "-c", "commit.gpgsign=true"], [:]
            )
        case .unknownSSH:
            return (
                ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(root)/ssh-stranger", "-c", "commit.gpgsign=true"],
                [:]
            )
        case .unsigned:
            return (["-c", "commit.gpgsign=false"], [:])
        }
    }
}
