import CGit2
import Foundation

/// What libgit2's remote callbacks need during one operation (credentials, host checks, the deadline), and what
/// they found (the first failure, push rejections).
///
/// libgit2 hands the callbacks a `void *payload`: the context's address, made with `Unmanaged.passUnretained`.
/// That is safe because a context is created by ``RemoteConnection``, which also owns the `git_remote` whose
/// callbacks carry the address, and frees the remote in its `deinit` before the context is released; every
/// callback runs synchronously inside a libgit2 call made through that connection, on the connection's thread.
final class RemoteCallbackContext {
    /// The remote and its credentials.
    let remote: GitRemote
    /// What is being done ("fetch main"), for messages.
    let operation: String
    /// When the operation must have finished (now + the remote's timeout).
    let deadline: ContinuousClock.Instant
    /// The first failure a callback found; reported instead of libgit2's generic "callback returned an error".
    var failure: GitSourceError?
    /// Refs the server refused on push, with its reason.
    var rejectedRefs: [(ref: String, reason: String)] = []
    private var credentialAttempts = 0

    /// A context for one operation on `remote`; the deadline starts now.
    init(remote: GitRemote, operation: String) {
        self.remote = remote
        self.operation = operation
        self.deadline = ContinuousClock.now.advanced(by: remote.timeout)
    }

    /// Records the first failure and returns the code that makes libgit2 stop.
    func fail(_ error: GitSourceError) -> Int32 {
        if failure == nil { failure = error }
        return GIT_EUSER.rawValue
    }

    /// Fails once the deadline has passed; called from every progress callback.
    func checkDeadline() -> Int32 {
        guard ContinuousClock.now >= deadline else { return 0 }
        return fail(timeoutError)
    }

    /// The error of this operation running past its deadline.
    var timeoutError: GitSourceError {
        let seconds =
            Double(remote.timeout.components.seconds)
            + Double(remote.timeout.components.attoseconds) / 1e18
        return .timedOut(operation: operation, remote: remote.redactedURL, seconds: seconds)
    }

    /// Callbacks for `git_remote_connect`, fetch and push, all pointing at this context.
    func makeCallbacks() -> git_remote_callbacks {
        var callbacks = git_remote_callbacks()
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        callbacks.credentials = { out, _, usernameFromURL, allowedTypes, payload in
            guard let out, let payload else { return GIT_ERROR.rawValue }
            let context = Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue()
            let username = usernameFromURL.map { String(cString: $0) }
            return context.acquireCredential(out, usernameFromURL: username, allowedTypes: allowedTypes)
        }
        callbacks.certificate_check = { certificate, valid, host, payload in
            guard let payload else { return GIT_ERROR.rawValue }
            let context = Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue()
            return context.checkCertificate(certificate, valid: valid != 0, host: host.map { String(cString: $0) })
        }
        callbacks.sideband_progress = { _, _, payload in
            guard let payload else { return 0 }
            return Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue().checkDeadline()
        }
        callbacks.transfer_progress = { _, payload in
            guard let payload else { return 0 }
            return Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue().checkDeadline()
        }
        callbacks.push_transfer_progress = { _, _, _, payload in
            guard let payload else { return 0 }
            return Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue().checkDeadline()
        }
        callbacks.push_update_reference = { ref, status, payload in
            guard let payload, let status else { return 0 }
            let context = Unmanaged<RemoteCallbackContext>.fromOpaque(payload).takeUnretainedValue()
            context.rejectedRefs.append((ref.map { String(cString: $0) } ?? "?", String(cString: status)))
            return 0
        }
        return callbacks
    }

    // MARK: - Credentials

    private func acquireCredential(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>, usernameFromURL: String?,
        allowedTypes: UInt32
    ) -> Int32 {
        if checkDeadline() != 0 { return GIT_EUSER.rawValue }
        let url = remote.redactedURL
        switch remote.credentials {
        case .none:
            return fail(
                .authenticationFailed(
                    remote: url, reason: "the server asks for credentials and none are configured"))
        case .token(let secret, let username):
            guard allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else {
                return fail(.authenticationFailed(remote: url, reason: "the server does not accept a token"))
            }
            credentialAttempts += 1
            guard credentialAttempts == 1 else {
                return fail(.authenticationFailed(remote: url, reason: "the server refused the token from \(secret)"))
            }
            do {
                let token = try secret.read()
                return git_credential_userpass_plaintext_new(out, usernameFromURL ?? username, token)
            } catch {
                return fail(.authenticationFailed(remote: url, reason: error.description))
            }
        case .sshKey(let username, let privateKey, let publicKey, let passphrase, _):
            let user = usernameFromURL ?? username
            if allowedTypes & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
                return git_credential_username_new(out, user)
            }
            guard allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 else {
                return fail(.authenticationFailed(remote: url, reason: "the server does not accept an SSH key"))
            }
            credentialAttempts += 1
            guard credentialAttempts == 1 else {
                return fail(
                    .authenticationFailed(remote: url, reason: "the server refused the key \(privateKey) for \(user)"))
            }
            do {
                let phrase = try passphrase?.read()
                return git_credential_ssh_key_new(out, user, publicKey, privateKey, phrase)
            } catch {
                return fail(.authenticationFailed(remote: url, reason: error.description))
            }
        }
    }

    // MARK: - Host verification

    private func checkCertificate(_ certificate: UnsafeMutablePointer<git_cert>?, valid: Bool, host: String?) -> Int32 {
        if checkDeadline() != 0 { return GIT_EUSER.rawValue }
        let host = host ?? "?"
        guard let certificate else {
            return fail(.hostVerificationFailed(remote: remote.redactedURL, host: host, reason: "no certificate"))
        }
        switch certificate.pointee.cert_type {
        case GIT_CERT_HOSTKEY_LIBSSH2:
            return checkHostKey(
                UnsafeRawPointer(certificate).assumingMemoryBound(to: git_cert_hostkey.self), host: host)
        case GIT_CERT_X509:
            if valid { return 0 }
            let x509 = UnsafeRawPointer(certificate).assumingMemoryBound(to: git_cert_x509.self)
            return checkPinned(x509, host: host)
        default:
            if valid { return 0 }
            return fail(
                .hostVerificationFailed(
                    remote: remote.redactedURL, host: host, reason: "the TLS certificate is not trusted"))
        }
    }

    /// Accepts a certificate that libgit2 could not verify only when it is exactly the pinned one.
    private func checkPinned(_ x509: UnsafePointer<git_cert_x509>, host: String) -> Int32 {
        let presented = x509.pointee.data.map { Data(bytes: $0, count: x509.pointee.len) } ?? Data()
        guard let pinnedPath = remote.pinnedCertificate else {
            return fail(
                .hostVerificationFailed(
                    remote: remote.redactedURL, host: host,
                    reason: "the TLS certificate is not trusted (self-signed, expired, or for another name)"))
        }
        guard let pinned = Self.derCertificates(pemFile: pinnedPath), !pinned.isEmpty else {
            return fail(
                .hostVerificationFailed(
                    remote: remote.redactedURL, host: host,
                    reason: "cannot read a PEM certificate from \(pinnedPath)"))
        }
        if pinned.contains(presented) { return 0 }
        return fail(
            .hostVerificationFailed(
                remote: remote.redactedURL, host: host,
                reason: "the TLS certificate is neither trusted nor the one pinned in \(pinnedPath)"))
    }

    /// The DER bytes of every certificate in a PEM file.
    static func derCertificates(pemFile path: String) -> [Data]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        var certificates: [Data] = []
        var body: String?
        for line in text.split(whereSeparator: \.isNewline) {
            let line = line.trimmingCharacters(in: .whitespaces)
            if line == "-----BEGIN CERTIFICATE-----" {
                body = ""
            } else if line == "-----END CERTIFICATE-----" {
                if let body, let der = Data(base64Encoded: body) { certificates.append(der) }
                body = nil
            } else if body != nil {
                body? += line
            }
        }
        return certificates
    }

    /// Checks an SSH host key against the known_hosts file of the credentials; no trust on first use.
    private func checkHostKey(_ hostkey: UnsafePointer<git_cert_hostkey>, host: String) -> Int32 {
        let url = remote.redactedURL
        guard case .sshKey(_, _, _, _, let knownHostsPath) = remote.credentials else {
            return fail(
                .hostVerificationFailed(
                    remote: url, host: host,
                    reason: "SSH needs credentials with a known_hosts file (GitCredentials.sshKey)"))
        }
        guard hostkey.pointee.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.pointee.hostkey else {
            return fail(
                .hostVerificationFailed(remote: url, host: host, reason: "libssh2 did not give the raw host key"))
        }
        let key = Data(bytes: raw, count: hostkey.pointee.hostkey_len).base64EncodedString()
        let knownHosts: KnownHosts
        do {
            knownHosts = try KnownHosts(contentsOf: knownHostsPath)
        } catch {
            return fail(.hostVerificationFailed(remote: url, host: host, reason: error.description))
        }
        switch knownHosts.verdict(host: host, port: GitURLHost(url: remote.url)?.port, base64Key: key) {
        case .trusted:
            return 0
        case .revoked:
            return fail(
                .hostVerificationFailed(remote: url, host: host, reason: "its key is revoked in \(knownHostsPath)"))
        case .unknownHost:
            return fail(
                .hostVerificationFailed(remote: url, host: host, reason: "it is not listed in \(knownHostsPath)"))
        case .mismatch(let types):
            return fail(
                .hostVerificationFailed(
                    remote: url, host: host,
                    reason: "its key differs from the \(types.joined(separator: "/")) key listed in \(knownHostsPath)"
                        + " (a changed key can mean an attack)"))
        }
    }
}
