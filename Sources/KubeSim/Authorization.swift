import SyncCore

/// Who is asking and what for, as kube-apiserver's authorizer sees a request: a user with groups, and either a
/// resource (verb, API group, resource, subresource, namespace, name) or a non-resource path.
struct AuthorizationAttributes: Sendable {
    var user: String
    var groups: [String] = []
    var verb: String
    var group: String = ""
    var resource: String = ""
    var subresource: String = ""
    var namespace: String = ""
    var name: String = ""
    /// A non-resource URL (`/healthz`), when `resource` is empty.
    var path: String = ""
}

/// kubesim's authorizer: the admin (`kubesim-admin`, group `system:masters`) may do everything; the read-only
/// `kubesim-viewer` may get, list and watch everything; any other user (impersonated by the admin with
/// `Impersonate-User`) is evaluated by RBAC over the region's stored ClusterRoles, Roles and their bindings, as the
/// real RBAC authorizer does (no aggregation of cluster roles).
enum Authorization {
    /// The administrator every kubeconfig credential of kubesim authenticates as.
    static let admin = "kubesim-admin"
    /// The read-only user of the viewer token.
    static let viewer = "kubesim-viewer"

    /// The groups an authenticated user belongs to. A ServiceAccount's user (`system:serviceaccount:NS:NAME`,
    /// impersonated without `Impersonate-Group`) is in `system:serviceaccounts` and `system:serviceaccounts:NS`, as
    /// the real impersonation filter (and the ServiceAccount token authenticator) makes it.
    static func groups(of user: String) -> [String] {
        if user == admin { return ["system:masters", "system:authenticated"] }
        if let account = serviceAccount(user) {
            return ["system:serviceaccounts", "system:serviceaccounts:\(account.namespace)", "system:authenticated"]
        }
        return ["system:authenticated"]
    }

    /// The namespace and name of a ServiceAccount's user name (`system:serviceaccount:NS:NAME`), or nil, as
    /// `serviceaccount.SplitUsername` reads it: exactly two non-empty parts after the prefix.
    static func serviceAccount(_ user: String) -> (namespace: String, name: String)? {
        let prefix = "system:serviceaccount:"
        guard user.hasPrefix(prefix) else { return nil }
        let parts = user.dropFirst(prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// Whether the attributes are allowed, with the reason the real authorizers give.
    static func decide(_ attributes: AuthorizationAttributes, in state: RegionState) -> (allowed: Bool, reason: String)
    {
        if attributes.user == admin || attributes.groups.contains("system:masters") {
            return (true, "")
        }
        // system:basic-user, bound to every authenticated user: may ask what it may do.
        if attributes.group == "authorization.k8s.io" && attributes.verb == "create"
            && ["selfsubjectaccessreviews", "selfsubjectrulesreviews"].contains(attributes.resource)
        {
            return (true, "")
        }
        if attributes.user == viewer {
            return (["get", "list", "watch"].contains(attributes.verb), "")
        }
        for binding in state.store.list("rbac.authorization.k8s.io/clusterrolebindings", namespace: nil) {
            guard binds(binding.value, attributes, namespace: "") else { continue }
            let rules = rules(of: binding.value, namespace: "", in: state)
            if rules.contains(where: { matches($0, attributes) }) {
                let name = binding.value[path: ["metadata", "name"]]?.stringValue ?? ""
                return (true, "RBAC: allowed by ClusterRoleBinding \"\(name)\" of \(roleText(binding.value))")
            }
        }
        if !attributes.namespace.isEmpty {
            for binding in state.store.list("rbac.authorization.k8s.io/rolebindings", namespace: attributes.namespace) {
                guard binds(binding.value, attributes, namespace: attributes.namespace) else { continue }
                let rules = rules(of: binding.value, namespace: attributes.namespace, in: state)
                if rules.contains(where: { matches($0, attributes) }) {
                    let name = binding.value[path: ["metadata", "name"]]?.stringValue ?? ""
                    return (
                        true,
                        "RBAC: allowed by RoleBinding \"\(name)/\(attributes.namespace)\" of \(roleText(binding.value))"
                    )
                }
            }
        }
        return (false, "")
    }

    private static func roleText(_ binding: Value) -> String {
        let kind = binding[path: ["roleRef", "kind"]]?.stringValue ?? ""
        let name = binding[path: ["roleRef", "name"]]?.stringValue ?? ""
        return "\(kind) \"\(name)\" to User"
    }

    /// Whether one of the binding's subjects is the user, as RBAC's `appliesToUser` decides: a ServiceAccount
    /// subject without a namespace is in the binding's `namespace` (none for a ClusterRoleBinding: it matches
    /// nobody).
    private static func binds(_ binding: Value, _ attributes: AuthorizationAttributes, namespace: String) -> Bool {
        for subject in binding["subjects"]?.arrayValue ?? [] {
            let name = subject["name"]?.stringValue ?? ""
            switch subject["kind"]?.stringValue ?? "" {
            case "User" where name == attributes.user: return true
            case "Group" where attributes.groups.contains(name): return true
            case "ServiceAccount":
                let own = subject["namespace"]?.stringValue ?? ""
                let account = own.isEmpty ? namespace : own
                if !account.isEmpty && attributes.user == "system:serviceaccount:\(account):\(name)" { return true }
            default: continue
            }
        }
        return false
    }

    private static func rules(of binding: Value, namespace: String, in state: RegionState) -> [Value] {
        let name = binding[path: ["roleRef", "name"]]?.stringValue ?? ""
        let role: StoredObject?
        switch binding[path: ["roleRef", "kind"]]?.stringValue {
        case "ClusterRole": role = state.store.get("rbac.authorization.k8s.io/clusterroles", namespace: "", name: name)
        case "Role" where !namespace.isEmpty:
            role = state.store.get("rbac.authorization.k8s.io/roles", namespace: namespace, name: name)
        default: role = nil
        }
        return role?.value["rules"]?.arrayValue ?? []
    }

    private static func matches(_ rule: Value, _ attributes: AuthorizationAttributes) -> Bool {
        func list(_ key: String) -> [String] { rule[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let verbs = list("verbs")
        guard verbs.contains("*") || verbs.contains(attributes.verb) else { return false }
        if attributes.resource.isEmpty {
            return list("nonResourceURLs").contains { url in
                url == "*" || url == attributes.path
                    || (url.hasSuffix("*") && attributes.path.hasPrefix(url.dropLast()))
            }
        }
        let groups = list("apiGroups")
        guard groups.contains("*") || groups.contains(attributes.group) else { return false }
        let resources = list("resources")
        let combined =
            attributes.subresource.isEmpty
            ? attributes.resource : "\(attributes.resource)/\(attributes.subresource)"
        let resourceMatches = resources.contains { resource in
            resource == "*" || resource == combined
                || (!attributes.subresource.isEmpty
                    && (resource == "*/\(attributes.subresource)" || resource == "\(attributes.resource)/*"))
        }
        guard resourceMatches else { return false }
        let names = list("resourceNames")
        return names.isEmpty || names.contains(attributes.name)
    }

    /// The Forbidden error the real server answers for denied attributes.
    static func forbidden(_ attributes: AuthorizationAttributes) -> APIError {
        let resource =
            attributes.subresource.isEmpty
            ? attributes.resource : "\(attributes.resource)/\(attributes.subresource)"
        let what = attributes.name.isEmpty ? resource : "\(attributes.resource) \"\(attributes.name)\""
        let scope =
            attributes.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(attributes.namespace)\""
        let message: String
        if attributes.resource.isEmpty {
            message = "forbidden: User \"\(attributes.user)\" cannot \(attributes.verb) path \"\(attributes.path)\""
        } else {
            message =
                "\(what) is forbidden: User \"\(attributes.user)\" cannot \(attributes.verb) resource \"\(resource)\" "
                + "in API group \"\(attributes.group)\" \(scope)"
        }
        var error = APIError.forbidden(message)
        error.kind = attributes.resource
        error.name = attributes.name
        error.group = attributes.group
        return error
    }

    /// The attributes of an HTTP request by `user` (nil for paths that are not API resources and not guarded).
    static func attributes(user: String, method: String, path: String, query: String) -> AuthorizationAttributes {
        let ref = AuditLog.objectRef(path: path)
        let verb = AuditLog.verb(method: method, named: ref.name != nil, query: query)
        guard let resource = ref.resource else {
            return AuthorizationAttributes(
                user: user, groups: groups(of: user), verb: method == "GET" ? "get" : method.lowercased(), path: path)
        }
        return AuthorizationAttributes(
            user: user, groups: groups(of: user), verb: verb, group: ref.group, resource: resource,
            subresource: ref.subresource ?? "", namespace: ref.namespace ?? "", name: ref.name ?? "")
    }

    // MARK: authorization.k8s.io/v1

    /// The kinds of `authorization.k8s.io/v1`, all create-only reviews.
    static let reviewKinds: [(plural: String, kind: String, namespaced: Bool)] = [
        ("subjectaccessreviews", "SubjectAccessReview", false),
        ("selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
        ("localsubjectaccessreviews", "LocalSubjectAccessReview", true),
    ]

    /// `POST` of an access review: evaluates its spec and returns it with `status`.
    static func review(
        plural: String, namespace: String?, request: APIRequest, state: RegionState
    ) throws(APIError) -> APIResponse {
        guard request.method == "POST" else { throw .methodNotAllowed(request.method, request.path) }
        guard let entry = reviewKinds.first(where: { $0.plural == plural }) else { throw .pathNotFound() }
        var review = try RegionState.objectBody(request)
        guard case .object = review else { throw .badRequest("the object provided is unrecognized") }
        let spec = review["spec"] ?? .emptyObject
        var attributes: AuthorizationAttributes
        if entry.kind == "SelfSubjectAccessReview" {
            attributes = AuthorizationAttributes(user: request.user, groups: groups(of: request.user), verb: "")
        } else {
            let user = spec["user"]?.stringValue ?? ""
            let groups = spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if user.isEmpty && groups.isEmpty {
                throw .invalid(
                    kind: entry.kind, group: "authorization.k8s.io", name: "",
                    causes: [
                        StatusCause(
                            reason: "FieldValueRequired",
                            message: "Required value: at least one of user or group must be specified",
                            field: "spec.user")
                    ])
            }
            attributes = AuthorizationAttributes(user: user, groups: groups, verb: "")
        }
        if let resource = spec["resourceAttributes"] {
            attributes.verb = resource["verb"]?.stringValue ?? ""
            attributes.group = resource["group"]?.stringValue ?? ""
            attributes.resource = resource["resource"]?.stringValue ?? ""
            attributes.subresource = resource["subresource"]?.stringValue ?? ""
            attributes.namespace = resource["namespace"]?.stringValue ?? ""
            attributes.name = resource["name"]?.stringValue ?? ""
            if entry.namespaced {
                let inPath = namespace ?? ""
                if !attributes.namespace.isEmpty && attributes.namespace != inPath {
                    throw .badRequest("spec.resourceAttributes.namespace must match namespace: \(inPath)")
                }
                attributes.namespace = inPath
            }
        } else if let nonResource = spec["nonResourceAttributes"] {
            attributes.verb = nonResource["verb"]?.stringValue ?? ""
            attributes.path = nonResource["path"]?.stringValue ?? ""
        } else {
            throw .invalid(
                kind: entry.kind, group: "authorization.k8s.io", name: "",
                causes: [
                    StatusCause(
                        reason: "FieldValueRequired",
                        message:
                            "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
                        field: "spec.resourceAttributes")
                ])
        }
        let decision = decide(attributes, in: state)
        review["apiVersion"] = "authorization.k8s.io/v1"
        review["kind"] = .string(entry.kind)
        if review["metadata"] == nil { review["metadata"] = ["creationTimestamp": nil] }
        var status: Value = ["allowed": .bool(decision.allowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        review["status"] = status
        return APIResponse(status: 201, value: review)
    }
}
