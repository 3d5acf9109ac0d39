/// Kubernetes' rules for `metadata.name`, by kind, as the API server validates them (apimachinery's
/// `NameIsDNSSubdomain`, `NameIsDNSLabel`, `NameIsDNS1035Label`, `ValidatePathSegmentName`): a name the server
/// would refuse is a render error, before any request, and a name can never change the URL path it goes into.
///
/// - Namespace: a DNS-1123 label (at most 63 characters of `a-z`, `0-9`, `-`, starting and ending alphanumeric).
/// - Service: a DNS-1035 label (the same, starting with a letter).
/// - Role, ClusterRole, RoleBinding, ClusterRoleBinding: a path segment (`system:controller:x` is valid), at most
///   253 characters.
/// - Every other kind: a DNS-1123 subdomain (labels joined by `.`, at most 253 characters).
/// - Whatever the kind: never `.` or `..`, never `/` or `%`.
public enum NameRules {
    /// Why `name` is not a valid name for an object of `group`/`kind`, or nil.
    public static func problem(group: String, kind: String, name: String) -> String? {
        if name == "." || name == ".." { return "name \"\(name)\" may not be '.' or '..'" }
        if name.contains("/") || name.contains("%") { return "name \"\(name)\" may not contain '/' or '%'" }
        switch (group, kind) {
        case ("", "Namespace"):
            return isLabel(name, firstIsLetter: false)
                ? nil
                : "name \"\(name)\" must be a DNS-1123 label (at most 63 characters: a-z, 0-9 and '-', "
                    + "starting and ending with a letter or digit)"
        case ("", "Service"):
            return isLabel(name, firstIsLetter: true)
                ? nil
                : "name \"\(name)\" must be a DNS-1035 label (at most 63 characters: a-z, 0-9 and '-', "
                    + "starting with a letter and ending with a letter or digit)"
        case ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            return name.utf8.count <= 253 ? nil : "name must be at most 253 characters"
        default:
            return isSubdomain(name)
                ? nil
                : "name \"\(name)\" must be a DNS-1123 subdomain (at most 253 characters: a-z, 0-9, '-' and "
                    + "'.', starting and ending with a letter or digit)"
        }
    }

    /// A DNS-1123 label, or with `firstIsLetter` a DNS-1035 label; at most `maxLength` bytes.
    static func isLabel(_ text: Substring, firstIsLetter: Bool, maxLength: Int = 63) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maxLength else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        guard firstIsLetter ? (0x61...0x7A).contains(first) : alphanumeric(first), alphanumeric(last) else {
            return false
        }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    static func isLabel(_ text: String, firstIsLetter: Bool) -> Bool {
        isLabel(Substring(text), firstIsLetter: firstIsLetter)
    }

    /// A DNS-1123 subdomain.
    static func isSubdomain(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            isLabel($0, firstIsLetter: false, maxLength: 253)  // the server's subdomain pattern caps the whole only
        }
    }
}
