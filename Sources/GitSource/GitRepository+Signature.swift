import CGit2
import SyncCore

/// A commit's signature and the bytes it signs (the commit object without its `gpgsig` header), as `git verify-commit`
/// hands them to gpg or ssh-keygen.
public struct CommitSignature: Sendable, Hashable {
    /// The armored signature: `-----BEGIN PGP SIGNATURE-----` or `-----BEGIN SSH SIGNATURE-----`.
    public var signature: [UInt8]
    /// The signed commit content.
    public var signedData: [UInt8]

    /// A signature and the content it claims to sign.
    public init(signature: [UInt8], signedData: [UInt8]) {
        self.signature = signature
        self.signedData = signedData
    }

    /// What signed it, from the armor.
    public var format: CommitSignatureFormat {
        let head = String(decoding: signature.prefix(40), as: UTF8.self)
        if head.hasPrefix("-----BEGIN PGP SIGNATURE-----") { return .openPGP }
        if head.hasPrefix("-----BEGIN SSH SIGNATURE-----") { return .ssh }
        if head.hasPrefix("-----BEGIN SIGNED MESSAGE-----") { return .x509 }
        return .unknown
    }
}

/// The kinds of commit signature git writes.
public enum CommitSignatureFormat: String, Sendable, Hashable {
    case openPGP = "OpenPGP"
    case ssh = "SSH"
    case x509 = "X.509"
    case unknown = "unknown"
}

extension GitRepository {
    /// The signature of the commit `spec` names, or nil when the commit is not signed.
    public func commitSignature(_ spec: String) throws(GitSourceError) -> CommitSignature? {
        var id = try ObjectID.parse(try resolve(spec))
        var signature = git_buf()
        var signed = git_buf()
        defer {
            git_buf_dispose(&signature)
            git_buf_dispose(&signed)
        }
        let code = handle.withPointer { git_commit_extract_signature(&signature, &signed, $0, &id, nil) }
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try git("git_commit_extract_signature", "\(subject) commit \(spec)") { code }
        func bytes(_ buffer: git_buf) -> [UInt8] {
            guard let pointer = buffer.ptr else { return [] }
            return Array(UnsafeRawBufferPointer(start: pointer, count: buffer.size))
        }
        return CommitSignature(signature: bytes(signature), signedData: bytes(signed))
    }
}
