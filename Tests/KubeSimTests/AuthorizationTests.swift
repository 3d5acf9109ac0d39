import Foundation
import SyncCore
import Testing
import TestSupport

/// authorization.k8s.io/v1 and impersonation: what kubesim's users may do, asked as kubectl and the API ask it.
@Suite struct AuthorizationTests {
    @Test func kubectlAuthCanIAnswersForTheAdminAndTheViewer() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        for (context, expected) in [
            ("us-sanjose-1", ["get": true, "list": true, "patch": true, "delete": true]),
            ("us-sanjose-1-viewer", ["get": true, "list": true, "patch": false, "delete": false]),
        ] {
            for (verb, allowed) in expected.sorted(by: { $0.key < $1.key }) {
                let output = try await sim.kubectl(["auth", "can-i", verb, "deployments.apps"], region: context)
                #expect(
                    output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == (allowed ? "yes" : "no"),
                    "\(context) can-i \(verb): \(output.stdout)\(output.stderr)")
                #expect(output.status == (allowed ? 0 : 1), "\(context) can-i \(verb) exit status")
            }
        }
        // An impersonated user without bindings may not; the viewer may not impersonate at all.
        let panda = try await sim.kubectl(["auth", "can-i", "get", "pods", "--as", "panda"])
        #expect(panda.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "no" && panda.status == 1)
        let viewerAs = try await sim.kubectl(
            ["auth", "can-i", "get", "pods", "--as", "panda"], region: "us-sanjose-1-viewer")
        #expect(
            viewerAs.stderr.contains(
                #"users "panda" is forbidden: User "kubesim-viewer" cannot impersonate resource "users""#),
            "\(viewerAs.stderr)")
    }

    @Test func serviceAccountsAreInTheirGroupsAndUnqualifiedSubjectsInTheBindingsNamespace() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        // One role, bound by the ServiceAccount groups and by a ServiceAccount subject without a namespace.
        let rbac = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: read-configmaps}
            rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: team-accounts, namespace: team}
            subjects: [{kind: Group, name: "system:serviceaccounts:team", apiGroup: rbac.authorization.k8s.io}]
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-configmaps}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: robot, namespace: shared}
            subjects: [{kind: ServiceAccount, name: robot}]
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-configmaps}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: all-accounts-read-defaults}
            subjects: [{kind: Group, name: "system:serviceaccounts", apiGroup: rbac.authorization.k8s.io}]
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-configmaps}
            """
        try await blocking {
            try sim.kubectlChecked(["create", "namespace", "team"])
            try sim.kubectlChecked(["create", "namespace", "shared"])
            try sim.kubectlChecked(["apply", "-f", "-"], input: rbac)
        }
        func canGet(_ namespace: String, as user: String) async throws -> String {
            let output = try await blocking {
                try sim.kubectl(["auth", "can-i", "get", "configmaps", "-n", namespace, "--as", user])
            }
            return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // system:serviceaccounts (the ClusterRoleBinding): every account, anywhere; never a user, nor a name that
        // only looks like an account's.
        #expect(try await canGet("default", as: "system:serviceaccount:elsewhere:builder") == "yes")
        #expect(try await canGet("team", as: "robot") == "no")
        #expect(try await canGet("default", as: "system:serviceaccount:team") == "no")
        // Without it: system:serviceaccounts:team is every account of team, in team; the unqualified ServiceAccount
        // subject of shared's binding is shared's robot.
        try await blocking { try sim.kubectlChecked(["delete", "clusterrolebinding", "all-accounts-read-defaults"]) }
        #expect(try await canGet("team", as: "system:serviceaccount:team:robot") == "yes")
        #expect(try await canGet("team", as: "system:serviceaccount:other:robot") == "no")
        #expect(try await canGet("shared", as: "system:serviceaccount:shared:robot") == "yes")
        #expect(try await canGet("shared", as: "system:serviceaccount:team:robot") == "no")
        #expect(try await canGet("default", as: "system:serviceaccount:elsewhere:builder") == "no")
    }

    @Test func subjectAccessReviewsFollowRBACBindings() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let review =
            #"{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"panda","#
            + #""resourceAttributes":{"verb":"get","resource":"configmaps","namespace":"default","name":"settings"}}}"#
        func allowed() async throws -> Bool? {
            let answer = try await sim.request(
                "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body: review)
            #expect(answer.status == 201, "\(answer.body)")
            return try Value(json: answer.body)[path: ["status", "allowed"]]?.boolValue
        }
        #expect(try await allowed() == false)
        let role =
            #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"read-settings"},"#
            + #""rules":[{"verbs":["get"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["settings"]}]}"#
        let binding =
            #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"panda"},"#
            + #""subjects":[{"kind":"User","name":"panda"}],"#
            + #""roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"read-settings"}}"#
        let rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"
        #expect(try await sim.request("POST", "\(rbac)/roles", body: role).status == 201)
        #expect(try await sim.request("POST", "\(rbac)/rolebindings", body: binding).status == 201)
        #expect(try await allowed() == true)
        // Another name, or another namespace, is still denied.
        let other = review.replacingOccurrences(of: #""name":"settings""#, with: #""name":"other""#)
        let denied = try await sim.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body: other)
        #expect(try Value(json: denied.body)[path: ["status", "allowed"]]?.boolValue == false)
        let missing = try await sim.request(
            "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            body: #"{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{}}"#)
        #expect(missing.status == 422, "\(missing.body)")
    }
}

/// Apply-body rules of the real server that no client should rely on kubesim to forgive.
@Suite struct ApplyBodyRulesTests {
    @Test func applyBodiesAndFieldManagersAreCheckedAsTheRealServerDoes() async throws {
        let sim = try await KubeSimCluster(regions: ["us-sanjose-1"])
        let path = "/api/v1/namespaces/default/configmaps/settings?fieldManager=test"
        let withManaged =
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","managedFields":[{"manager":"x"}]}}"#
        let refused = try await sim.request(
            "PATCH", path, body: withManaged, contentType: "application/apply-patch+yaml")
        #expect(refused.status == 400 && refused.body.contains("metadata.managedFields must be nil"), "\(refused.body)")
        let withUID = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","uid":"1234"}}"#
        let conflict = try await sim.request("PATCH", path, body: withUID, contentType: "application/apply-patch+yaml")
        #expect(conflict.status == 409 && conflict.body.contains("uid mismatch"), "\(conflict.body)")
        // YAML flow mappings take trailing commas, as the real server's apply decoder does.
        let trailing = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"settings\",},}"
        let created = try await sim.request("PATCH", path, body: trailing, contentType: "application/apply-patch+yaml")
        #expect(created.status == 201, "\(created.body)")
        let long = String(repeating: "m", count: 129)
        let tooLong = try await sim.request(
            "PATCH", "/api/v1/namespaces/default/configmaps/settings?fieldManager=\(long)", body: trailing,
            contentType: "application/apply-patch+yaml")
        #expect(
            tooLong.status == 422 && tooLong.body.contains(#"PatchOptions.meta.k8s.io \"\" is invalid: fieldManager"#),
            "\(tooLong.body)")
    }
}
