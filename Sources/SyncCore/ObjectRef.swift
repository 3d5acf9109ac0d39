/// An API group, version and kind, e.g. `networking.istio.io/v1` `VirtualService`. The core group is "".
public struct GroupVersionKind: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }

    /// Splits an `apiVersion` ("apps/v1", "v1") and pairs it with a kind.
    public init(apiVersion: String, kind: String) {
        if let slash = apiVersion.lastIndex(of: "/") {
            group = String(apiVersion[..<slash])
            version = String(apiVersion[apiVersion.index(after: slash)...])
        } else {
            group = ""
            version = apiVersion
        }
        self.kind = kind
    }

    /// The `apiVersion` field's spelling: "group/version", or "version" for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The group and kind, without the version: "Deployment.apps", "Service".
    public var groupKind: String { group.isEmpty ? kind : "\(kind).\(group)" }

    public var description: String { "\(apiVersion)/\(kind)" }

    public static func < (a: GroupVersionKind, b: GroupVersionKind) -> Bool {
        (a.group, a.kind, a.version) < (b.group, b.kind, b.version)
    }
}

/// The identity of an object in a cluster: group, kind, namespace and name. The version is not part of it:
/// `apps/v1` and `apps/v1beta1` Deployments of one name are the same object.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var kind: String
    /// "" for cluster-scoped objects.
    public var namespace: String
    public var name: String

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String {
        let gk = group.isEmpty ? kind : "\(kind).\(group)"
        return namespace.isEmpty ? "\(gk) \(name)" : "\(gk) \(namespace)/\(name)"
    }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        (a.group, a.kind, a.namespace, a.name) < (b.group, b.kind, b.namespace, b.name)
    }
}

/// A reference to one object: group, version, kind, namespace and name.
public struct ObjectRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var gvk: GroupVersionKind
    /// "" for cluster-scoped objects, or when the manifest leaves it to the default namespace.
    public var namespace: String
    public var name: String

    public init(gvk: GroupVersionKind, namespace: String, name: String) {
        self.gvk = gvk
        self.namespace = namespace
        self.name = name
    }

    public init(apiVersion: String, kind: String, namespace: String = "", name: String) {
        self.init(gvk: GroupVersionKind(apiVersion: apiVersion, kind: kind), namespace: namespace, name: name)
    }

    public var group: String { gvk.group }
    public var version: String { gvk.version }
    public var kind: String { gvk.kind }
    public var apiVersion: String { gvk.apiVersion }

    /// The version-free identity.
    public var key: ObjectKey { ObjectKey(group: gvk.group, kind: gvk.kind, namespace: namespace, name: name) }

    /// "networking.istio.io/v1/VirtualService bookinfo/reviews", the form errors and reports use.
    public var description: String {
        namespace.isEmpty ? "\(gvk) \(name)" : "\(gvk) \(namespace)/\(name)"
    }

    public static func < (a: ObjectRef, b: ObjectRef) -> Bool {
        (a.key, a.version) < (b.key, b.version)
    }
}

extension ObjectKey {
    /// This key with its group and kind strings taken from `gvk` where they are equal: a cache of thousands of
    /// objects of one kind then holds one copy of a long group name (`networking.istio.io`), not one per object.
    public func sharingStrings(of gvk: GroupVersionKind) -> ObjectKey {
        var key = self
        if key.group == gvk.group { key.group = gvk.group }
        if key.kind == gvk.kind { key.kind = gvk.kind }
        return key
    }
}
