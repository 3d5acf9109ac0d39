import Differ
import SyncCore
import Testing

/// Names the API server refuses are render errors at the name's position; names it accepts pass.
struct NameRulesTests {
    @Test(arguments: [
        ("", "ConfigMap", "settings", true), ("", "ConfigMap", "a.b-c.d", true), ("", "ConfigMap", "..", false),
        ("", "ConfigMap", ".", false), ("", "ConfigMap", "a/b", false), ("", "ConfigMap", "a%2F", false),
        ("", "ConfigMap", "Upper", false), ("", "ConfigMap", "-dash", false), ("", "ConfigMap", "a..b", false),
        ("", "ConfigMap", String(repeating: "a", count: 253), true),
        ("", "ConfigMap", String(repeating: "a", count: 254), false),
        ("", "Namespace", "bookinfo", true), ("", "Namespace", "book.info", false),
        ("", "Namespace", String(repeating: "n", count: 64), false), ("", "Service", "reviews", true),
        ("", "Service", "1reviews", false), ("", "Namespace", "1team", true),
        ("rbac.authorization.k8s.io", "ClusterRole", "system:controller:x", true),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding", "..", false),
        ("networking.istio.io", "VirtualService", "reviews.bookinfo", true),
        ("networking.istio.io", "VirtualService", "Reviews", false),
    ])
    func names(group: String, kind: String, name: String, valid: Bool) {
        #expect((NameRules.problem(group: group, kind: kind, name: name) == nil) == valid)
    }

    @Test func aRefusedNameIsARenderErrorAtItsPosition() throws {
        let yaml =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ..\n---\napiVersion: v1\nkind: ConfigMap\n"
            + "metadata:\n  name: a/b\n  namespace: app\n"
        #expect {
            try render([ManifestFile(path: "bad.yaml", bytes: Array(yaml.utf8))])
        } throws: { error in
            let text = "\(error)"
            return text.contains("bad.yaml:4:9: v1/ConfigMap ..: name \"..\" may not be '.' or '..'")
                && text.contains("bad.yaml:9:9: v1/ConfigMap app/a/b: name \"a/b\" may not contain '/' or '%'")
        }
    }

    @Test func everySpellingOfTheFolderRendersTheSameObjects() throws {
        let files = [
            ManifestFile(
                path: "mesh/base/a.yaml", bytes: Array("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n".utf8)),
            ManifestFile(
                path: "mesh/regions/r1/b.yaml",
                bytes: Array("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n".utf8)),
        ]
        let expected = try render(files, root: "mesh", region: "r1").map(\.ref)
        #expect(expected.count == 2)
        for spelling in ["./mesh", "mesh/", "mesh//", "./mesh/./"] {
            #expect(try render(files, root: spelling, region: "r1").map(\.ref) == expected, "\(spelling)")
        }
        let rootFiles = files.map { ManifestFile(path: String($0.path.dropFirst("mesh/".count)), bytes: $0.bytes) }
        for spelling in ["", ".", "./"] {
            #expect(try render(rootFiles, root: spelling, region: "r1").map(\.ref) == expected, "\(spelling)")
        }
    }
}
