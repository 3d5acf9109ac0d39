import Crypto
import Foundation
import Synchronization
import SyncCore

/// A live object's identity and version: any write gives it a new `resourceVersion`, and an object deleted and
/// created again has a new `uid`.
public struct LiveVersion: Sendable, Hashable {
    public var uid: String
    public var resourceVersion: String

    public init(uid: String, resourceVersion: String) {
        self.uid = uid
        self.resourceVersion = resourceVersion
    }

    /// The version `object` carries in its metadata; nil without a uid or a resourceVersion.
    public init?(of object: Value) {
        guard let uid = object[path: ["metadata", "uid"]]?.stringValue, !uid.isEmpty,
            let version = object[path: ["metadata", "resourceVersion"]]?.stringValue, !version.isEmpty
        else { return nil }
        self.init(uid: uid, resourceVersion: version)
    }
}

/// What earlier passes proved settled in one region, kept so that an object nobody wrote since needs no check.
///
/// A proof says: the manifest with this digest was found in sync with the live object at this uid and
/// resourceVersion (by the client-side settle check, or by a server-side dry run equal to live), by this checker.
/// While the live object keeps that uid and resourceVersion nothing has written it, so the same manifest is still
/// in sync with it: the preflight takes it as unchanged without decoding or checking it again.
///
/// - A proof counts only when the uid, the resourceVersion and the digest all match, the checker is the same, and
///   it is younger than ``maxAge`` (a cluster restored from an etcd backup can hand out a resourceVersion again;
///   after at most `maxAge` every object is checked in full once more).
/// - Secrets have no proofs: no digest of their data is ever kept.
/// - The file is a cache, never a record: missing, unreadable, damaged, or written by another checker, it is an
///   empty ledger; a write that fails costs only speed. It holds object names, uids, resourceVersions, digests and
///   times, nothing else. It is as trusted as the folder it is in (the Git cache's).
public final class SettledLedger: Sendable {
    /// The file's format; a file of another format is not read.
    public static let format = 1

    struct Proof: Sendable, Hashable {
        var version: LiveVersion
        var digest: String
        /// Seconds since 1970 when it was proved.
        var time: Int64
    }

    private struct State: Sendable {
        /// The file was read (or there is none).
        var loaded = false
        var proofs: [ObjectKey: Proof] = [:]
        /// What the file holds (nil: not written by this ledger yet), so an unchanged ledger is not written again.
        var written: [ObjectKey: Proof]?
    }

    /// Where the proofs are kept between processes; nil keeps them in memory only.
    public let file: String?
    /// The check that proved them (its name and revision): proofs by another are not taken.
    public let checker: String
    /// How long a proof counts.
    public let maxAge: Duration
    private let clock: @Sendable () -> Int64
    private let state = Mutex(State())

    /// A ledger kept in `file` (read at first use, or by ``load()``, when it is a ledger of `checker`).
    public init(
        file: String?, checker: String, maxAge: Duration = .seconds(3600),
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.file = file
        self.checker = checker
        self.maxAge = maxAge
        self.clock = clock
    }

    /// Reads the file, once (later calls return at once): a caller with time to spare (the agent warming a region
    /// while the revision renders) takes it off the first check's path.
    public func load() {
        guard !state.withLock({ $0.loaded }) else { return }
        let proofs = file.flatMap { Self.read($0, checker: checker) }
        state.withLock { state in
            guard !state.loaded else { return }
            state.loaded = true
            if let proofs {
                // Proofs made in this process before the read are newer than the file's.
                state.proofs.merge(proofs) { mine, _ in mine }
                state.written = proofs
            }
        }
    }

    /// The digest the ledger keys `resource`'s manifest by (SHA-256 of its JSON), or nil when it keeps no proof of
    /// it (a Secret).
    public static func digest(_ resource: Resource) -> String? {
        if resource.ref.group.isEmpty && resource.kind == "Secret" { return nil }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: resource.body.jsonBytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether a proof says `resource`'s manifest (of digest `digest`) is in sync with its live object at
    /// `version`.
    public func isSettled(_ key: ObjectKey, version: LiveVersion, digest: String) -> Bool {
        guard !version.uid.isEmpty, !version.resourceVersion.isEmpty else { return false }
        load()
        let now = clock()
        let seconds = maxAge.components.seconds
        return state.withLock { state in
            guard let proof = state.proofs[key] else { return false }
            return proof.version == version && proof.digest == digest && proof.time <= now
                && now - proof.time < seconds
        }
    }

    /// Notes that the manifest of digest `digest` was just found in sync with `key`'s live object at `version`.
    public func prove(_ key: ObjectKey, version: LiveVersion, digest: String) {
        load()
        let proof = Proof(version: version, digest: digest, time: clock())
        state.withLock { $0.proofs[key] = proof }
    }

    /// Keeps the proofs of `keys` and drops the rest (objects no longer in the plan, or about to be written).
    public func keep(only keys: Set<ObjectKey>) {
        load()
        state.withLock { state in state.proofs = state.proofs.filter { keys.contains($0.key) } }
    }

    /// Writes the file, when there is one and the proofs changed since it was read or written. Never throws: a
    /// failed write is returned as its message for the caller to log.
    @discardableResult
    public func save() -> String? {
        load()
        let (proofs, changed) = state.withLock { state in (state.proofs, state.written != state.proofs) }
        guard let file, changed else { return nil }
        if let problem = Self.write(proofs, to: file, checker: checker) { return problem }
        state.withLock { $0.written = proofs }
        return nil
    }

    /// How many proofs it holds.
    public var count: Int {
        load()
        return state.withLock { $0.proofs.count }
    }

    /// The digest of each manifest in `resources` that the ledger may keep a proof of (``digest(_:)``), by key.
    public static func digests(_ resources: [Resource]) -> [ObjectKey: String] {
        var digests: [ObjectKey: String] = [:]
        digests.reserveCapacity(resources.count)
        for resource in resources {
            if let digest = digest(resource) { digests[resource.key] = digest }
        }
        return digests
    }

    /// The proofs in `file`, or nil when it is not a ledger of this format and checker.
    private static func read(_ file: String, checker: String) -> [ObjectKey: Proof]? {
        guard let data = FileManager.default.contents(atPath: file), let value = try? Value(json: data),
            value["format"]?.intValue.map(Int.init) == format, value["checker"]?.stringValue == checker,
            let rows = value["proofs"]?.arrayValue
        else { return nil }
        var proofs: [ObjectKey: Proof] = [:]
        proofs.reserveCapacity(rows.count)
        for row in rows {
            guard let fields = row.arrayValue, fields.count == 8,
                let group = fields[0].stringValue, let kind = fields[1].stringValue,
                let namespace = fields[2].stringValue, let name = fields[3].stringValue,
                let uid = fields[4].stringValue, let resourceVersion = fields[5].stringValue,
                let digest = fields[6].stringValue, digest.utf8.count == 64, let time = fields[7].intValue
            else { return nil }  // one damaged row: the whole file is not trusted
            proofs[ObjectKey(group: group, kind: kind, namespace: namespace, name: name)] = Proof(
                version: LiveVersion(uid: uid, resourceVersion: resourceVersion), digest: digest, time: time)
        }
        return proofs
    }

    /// Writes `proofs` to `file` through a new file renamed over it (a reader sees the old file or the new one),
    /// readable by its owner only; the problem, or nil.
    private static func write(_ proofs: [ObjectKey: Proof], to file: String, checker: String) -> String? {
        let rows: [Value] = proofs.sorted { $0.key < $1.key }.map { key, proof in
            .array([
                .string(key.group), .string(key.kind), .string(key.namespace), .string(key.name),
                .string(proof.version.uid), .string(proof.version.resourceVersion), .string(proof.digest),
                .int(proof.time),
            ])
        }
        let document: Value = .object([
            "format": .int(Int64(format)), "checker": .string(checker), "proofs": .array(rows),
        ])
        let folder = (file as NSString).deletingLastPathComponent
        let temporary = "\(file).\(getpid()).tmp"
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard
                FileManager.default.createFile(
                    atPath: temporary, contents: Data(document.jsonBytes), attributes: [.posixPermissions: 0o600])
            else { return "cannot write \(temporary)" }
            guard rename(temporary, file) == 0 else {
                unlink(temporary)
                return "cannot replace \(file): \(String(cString: strerror(errno)))"
            }
            return nil
        } catch {
            return "cannot create \(folder): \(error)"
        }
    }
}
