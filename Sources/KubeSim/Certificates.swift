import Crypto
import Foundation
import SwiftASN1
import X509

/// The PKI kubesim serves with: a CA, a server certificate for 127.0.0.1/localhost, and a client certificate for
/// the admin user, generated into the data folder on first start and reused afterwards.
struct Certificates: Sendable {
    var caPEM: String
    var serverCertificatePEM: String
    var serverKeyPEM: String
    var clientCertificatePEM: String
    var clientKeyPEM: String

    /// Loads the files in `directory`, generating whichever set is missing.
    static func loadOrCreate(in directory: String) throws -> Certificates {
        let files = ["ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key"]
        func path(_ name: String) -> String { "\(directory)/\(name)" }
        if files.allSatisfy({ FileManager.default.fileExists(atPath: path($0)) }) {
            func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
            return Certificates(
                caPEM: try read("ca.crt"), serverCertificatePEM: try read("server.crt"), serverKeyPEM: try read("server.key"),
                clientCertificatePEM: try read("client.crt"), clientKeyPEM: try read("client.key"))
        }
        let generated = try generate()
        let contents = [
            "ca.crt": generated.caPEM, "ca.key": generated.caKeyPEM, "server.crt": generated.certificates.serverCertificatePEM,
            "server.key": generated.certificates.serverKeyPEM, "client.crt": generated.certificates.clientCertificatePEM,
            "client.key": generated.certificates.clientKeyPEM,
        ]
        for (name, text) in contents {
            let url = URL(fileURLWithPath: path(name))
            try Data(text.utf8).write(to: url, options: .atomic)
            if name.hasSuffix(".key") { chmod(url.path, 0o600) }
        }
        return generated.certificates
    }

    private static func generate() throws -> (certificates: Certificates, caPEM: String, caKeyPEM: String) {
        let now = Date()
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = now.addingTimeInterval(10 * 365 * 86400)
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("kubesim-ca") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey), notValidBefore: notBefore,
            notValidAfter: notAfter, issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(caKey.publicKey))
            }, issuerPrivateKey: .init(caKey))

        func leaf(_ subject: DistinguishedName, usage: ExtendedKeyUsage.Usage, names: [GeneralName]) throws -> (String, String) {
            let key = P256.Signing.PrivateKey()
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: notBefore,
                notValidAfter: notAfter, issuer: caName, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([usage])
                    if !names.isEmpty { SubjectAlternativeNames(names) }
                    AuthorityKeyIdentifier(keyIdentifier: try ca.extensions.subjectKeyIdentifier?.keyIdentifier)
                }, issuerPrivateKey: .init(caKey))
            return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
        }
        let server = try leaf(
            try DistinguishedName { CommonName("kubesim") }, usage: .serverAuth,
            names: [.dnsName("localhost"), .dnsName("kubernetes.default"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
        let client = try leaf(
            try DistinguishedName {
                OrganizationName("system:masters")
                CommonName("kubesim-admin")
            }, usage: .clientAuth, names: [])
        let caPEM = try ca.serializeAsPEM().pemString
        return (
            Certificates(caPEM: caPEM, serverCertificatePEM: server.0, serverKeyPEM: server.1, clientCertificatePEM: client.0, clientKeyPEM: client.1),
            caPEM, caKey.pemRepresentation
        )
    }
}
