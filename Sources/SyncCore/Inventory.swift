/// What syncagent applied to one region: the revision and every object it created or configured there.
///
/// Stored in each cluster (a ConfigMap `syncagent-inventory` in namespace `syncagent-system`, data `revision`,
/// `time` and `objects`, a JSON list of references). It is the source of truth for prune ("extra" objects are in the
/// inventory but no longer in Git) and for `syncagent drift` (the last revision synced).
public struct Inventory: Sendable, Hashable {
    /// The full commit id last synced to the region.
    public var revision: String
    /// When it was synced, RFC 3339 as written in the ConfigMap; "" when not recorded.
    public var time: String
    /// Every object syncagent applied, sorted.
    public var objects: [ObjectRef] {
        didSet { keys = Set(objects.map(\.key)) }
    }
    /// The version-free identities of ``objects``, for membership tests (kept with them: a lookup is O(1)).
    public private(set) var keys: Set<ObjectKey>
    /// The revision a sync has started to apply and not finished, when there is one; ``objects`` then already
    /// lists every object that sync may create, written before it creates any, so a sync cut short (a crash, a
    /// failed step) never leaves an object that no inventory names and no prune could find.
    public var pendingRevision: String?

    /// An inventory from its parts; `objects` are sorted.
    public init(revision: String, time: String, objects: [ObjectRef], pendingRevision: String? = nil) {
        self.revision = revision
        self.time = time
        self.objects = objects.sorted()
        self.keys = Set(objects.map(\.key))
        self.pendingRevision = pendingRevision
    }

    /// Whether syncagent applied the object with this identity.
    public func contains(_ key: ObjectKey) -> Bool { keys.contains(key) }
}

extension Inventory {
    /// The ConfigMap's name.
    public static let configMapName = "syncagent-inventory"
    /// The ConfigMap's namespace.
    public static let namespace = "syncagent-system"
    /// The ConfigMap's reference.
    public static let configMapRef = ObjectRef(
        apiVersion: "v1", kind: "ConfigMap", namespace: namespace, name: configMapName)

    /// Reads an inventory ConfigMap's body; throws when `data.objects` is missing or malformed, or when
    /// `data.revision` is missing outside a first sync (`data.pendingRevision` set).
    public init(configMap body: Value) throws(InventoryError) {
        let pending = body[path: ["data", "pendingRevision"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let revision = body[path: ["data", "revision"]]?.stringValue ?? ""
        guard !revision.isEmpty || pending != nil else {
            throw InventoryError(message: "data.revision is missing")
        }
        guard let text = body[path: ["data", "objects"]]?.stringValue else {
            throw InventoryError(message: "data.objects is missing")
        }
        let list: Value
        do { list = try Value(json: text) } catch { throw InventoryError(message: "data.objects: \(error)") }
        guard let items = list.arrayValue else { throw InventoryError(message: "data.objects is not a JSON list") }
        var objects: [ObjectRef] = []
        for (index, item) in items.enumerated() {
            guard let apiVersion = item["apiVersion"]?.stringValue, let kind = item["kind"]?.stringValue,
                let name = item["name"]?.stringValue
            else {
                throw InventoryError(message: "data.objects[\(index)] needs apiVersion, kind and name")
            }
            objects.append(
                ObjectRef(
                    apiVersion: apiVersion, kind: kind, namespace: item["namespace"]?.stringValue ?? "", name: name))
        }
        self.init(
            revision: revision, time: body[path: ["data", "time"]]?.stringValue ?? "", objects: objects,
            pendingRevision: pending)
    }

    /// The ConfigMap that stores this inventory.
    public var configMap: Value {
        let refs: [Value] = objects.map { ref in
            var item: Value = ["apiVersion": .string(ref.apiVersion), "kind": .string(ref.kind)]
            if !ref.namespace.isEmpty { item["namespace"] = .string(ref.namespace) }
            item["name"] = .string(ref.name)
            return item
        }
        var data: Value = [
            "revision": .string(revision), "time": .string(time), "objects": .string(Value.array(refs).jsonString),
        ]
        if let pendingRevision { data["pendingRevision"] = .string(pendingRevision) }
        return [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(Self.configMapName), "namespace": .string(Self.namespace)],
            "data": data,
        ]
    }
}

/// Why an inventory ConfigMap could not be read.
public struct InventoryError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What is wrong with it.
    public var message: String

    /// An error with this message.
    public init(message: String) { self.message = message }

    public var description: String {
        "ConfigMap \(Inventory.namespace)/\(Inventory.configMapName): \(message)"
    }
}
