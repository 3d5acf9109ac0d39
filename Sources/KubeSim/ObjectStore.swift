import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// One stored object: its value, its compact JSON (encoded once per write, served by every read) and its version.
struct StoredObject: Sendable {
    var value: Value
    var json: [UInt8]
    var resourceVersion: UInt64

    init(value: Value, resourceVersion: UInt64) {
        self.value = value
        self.json = value.jsonBytes
        self.resourceVersion = resourceVersion
    }
}

/// The objects of one region: storage key ("apps/deployments") → namespace → name. Not thread-safe by itself;
/// ``Region`` keeps it under its lock.
struct ObjectStore: Sendable {
    private(set) var tables: [String: [String: [String: StoredObject]]] = [:]
    /// The last resourceVersion handed out; every write takes the next one.
    private(set) var resourceVersion: UInt64 = 0
    /// Appends every write to a file when the region persists (`--data`).
    let journal: Journal?
    /// Hands every write to the region's open watches.
    let watchHub = WatchHub()

    init(journal: Journal?) {
        self.journal = journal
    }

    func get(_ key: String, namespace: String, name: String) -> StoredObject? {
        tables[key]?[namespace]?[name]
    }

    /// Objects of one resource, in one namespace or all, sorted by namespace then name (etcd's key order).
    func list(_ key: String, namespace: String?) -> [StoredObject] {
        guard let table = tables[key] else { return [] }
        if let namespace {
            guard let names = table[namespace] else { return [] }
            return names.keys.sorted().compactMap { names[$0] }
        }
        var result: [StoredObject] = []
        for ns in table.keys.sorted() {
            guard let names = table[ns] else { continue }
            for name in names.keys.sorted() { if let object = names[name] { result.append(object) } }
        }
        return result
    }

    /// The storage keys that hold objects in `namespace`.
    func keys(inNamespace namespace: String) -> [String] {
        tables.compactMap { key, table in (table[namespace]?.isEmpty ?? true) ? nil : key }
    }

    mutating func nextResourceVersion() -> UInt64 {
        resourceVersion += 1
        return resourceVersion
    }

    /// Stores `value` with a fresh resourceVersion written into its metadata; returns what was stored.
    @discardableResult
    mutating func put(_ key: String, namespace: String, name: String, value: Value) -> StoredObject {
        let rv = nextResourceVersion()
        var value = value
        value["metadata"]?["resourceVersion"] = .string(String(rv))
        let object = StoredObject(value: value, resourceVersion: rv)
        let previous = tables[key]?[namespace]?[name]?.value
        tables[key, default: [:]][namespace, default: [:]][name] = object
        journal?.record(key: key, namespace: namespace, name: name, object: object, resourceVersion: rv)
        watchHub.publish(
            WatchEvent(
                kind: previous != nil ? .modified : .added, key: key, namespace: namespace, object: object,
                previous: previous))
        return object
    }

    /// Removes an object; returns it. `finalState` is what the DELETED event shows when the deletion was an update's
    /// doing (the last finalizer removed).
    @discardableResult
    mutating func delete(_ key: String, namespace: String, name: String, finalState: Value? = nil) -> StoredObject? {
        guard let object = tables[key]?[namespace]?[name] else { return nil }
        tables[key]?[namespace]?[name] = nil
        if tables[key]?[namespace]?.isEmpty == true { tables[key]?[namespace] = nil }
        let rv = nextResourceVersion()
        journal?.record(key: key, namespace: namespace, name: name, object: nil, resourceVersion: rv)
        var last = finalState ?? object.value
        last["metadata"]?["resourceVersion"] = .string(String(rv))
        watchHub.publish(
            WatchEvent(
                kind: .deleted, key: key, namespace: namespace, object: StoredObject(value: last, resourceVersion: rv)))
        return object
    }

    /// Rebuilds the state from the journal's replayed entries (at start-up), without writing them again.
    mutating func restore(_ entries: [Journal.Entry]) {
        for entry in entries {
            resourceVersion = max(resourceVersion, entry.resourceVersion)
            if let value = entry.object {
                tables[entry.key, default: [:]][entry.namespace, default: [:]][entry.name] = StoredObject(
                    value: value, resourceVersion: entry.resourceVersion)
            } else {
                tables[entry.key]?[entry.namespace]?[entry.name] = nil
            }
        }
        watchHub.expire(through: resourceVersion)
    }

    /// Every stored object with its place, for compacting the journal.
    var allEntries: [Journal.Entry] {
        var result: [Journal.Entry] = []
        for (key, table) in tables {
            for (ns, names) in table {
                for (name, object) in names {
                    result.append(
                        Journal.Entry(
                            key: key, namespace: ns, name: name, object: object.value,
                            resourceVersion: object.resourceVersion))
                }
            }
        }
        return result
    }
}

/// An append-only file of writes (one JSON line each), replayed and compacted at start-up, so objects survive a
/// restart or a crash. Writes happen under the region's lock, one `write(2)` per object.
final class Journal: @unchecked Sendable {
    // @unchecked: `fd` is written only under the owning Region's lock (ObjectStore is kept inside it).
    private var fd: Int32
    let path: String

    /// One replayed write: an object, or a deletion when `object` is nil.
    struct Entry: Sendable {
        var key: String
        var namespace: String
        var name: String
        var object: Value?
        var resourceVersion: UInt64
    }

    /// Opens (creating) the journal at `path`.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd < 0 { throw KubeSimError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Reads every entry of the journal at `path` (a missing file is empty). A torn last line is ignored.
    static func replay(path: String) -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var entries: [Entry] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let value = try? Value(json: line), let key = value["k"]?.stringValue,
                let ns = value["ns"]?.stringValue, let name = value["n"]?.stringValue,
                let rv = value["rv"]?.intValue
            else { continue }
            let object = value["o"].flatMap { $0.isNull ? nil : $0 }
            entries.append(Entry(key: key, namespace: ns, name: name, object: object, resourceVersion: UInt64(rv)))
        }
        return entries
    }

    /// Replaces the journal's content by one line per live object (atomically, via rename).
    func compact(_ entries: [Entry]) throws {
        var text = ""
        for entry in entries {
            text += Journal.line(entry.key, entry.namespace, entry.name, entry.object, entry.resourceVersion)
        }
        let temporary = path + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        close(fd)
        guard rename(temporary, path) == 0 else { throw KubeSimError.io("cannot replace \(path)") }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    }

    private static func line(_ key: String, _ ns: String, _ name: String, _ object: Value?, _ rv: UInt64) -> String {
        var entry: Value = ["k": .string(key), "ns": .string(ns), "n": .string(name), "rv": .int(Int64(rv))]
        entry["o"] = object ?? .null
        return entry.jsonString + "\n"
    }

    func record(key: String, namespace: String, name: String, object: StoredObject?, resourceVersion: UInt64) {
        let text = Journal.line(key, namespace, name, object?.value, resourceVersion)
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

/// kubesim's own failures (start-up, files, certificates).
enum KubeSimError: Error, CustomStringConvertible, Sendable {
    case io(String)
    case certificate(String)
    case usage(String)

    var description: String {
        switch self {
        case .io(let message): return "I/O error: \(message)"
        case .certificate(let message): return "certificate error: \(message)"
        case .usage(let message): return message
        }
    }
}
