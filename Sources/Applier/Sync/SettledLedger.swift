import Crypto
import Foundation
import Synchronization
import SyncCore

/// A live object's identity and version: any write gives it a new `resourceVersion`, and an object deleted and
/// created again has a new `uid`.
public struct LiveVersion: Sendable, Hashable {
    public var uid: OpaqueID
    public var resourceVersion: OpaqueID

    public init(uid: OpaqueID, resourceVersion: OpaqueID) {
        self.uid = uid
        self.resourceVersion = resourceVersion
    }

    public init(uid: String, resourceVersion: String) {
        self.init(uid: OpaqueID(uid), resourceVersion: OpaqueID(resourceVersion))
    }

    /// The version `object` carries in its metadata; nil without a uid or a resourceVersion.
    public init?(of object: Value) {
        self.init(
            scanned: object[path: ["metadata", "uid"]]?.stringValue ?? "",
            object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "")
    }

    /// The version of a uid and a resourceVersion as read (empty when missing); nil when either is missing.
    public init?(scanned uid: String, _ resourceVersion: String) {
        guard !uid.isEmpty, !resourceVersion.isEmpty else { return nil }
        self.init(uid: uid, resourceVersion: resourceVersion)
    }
}

/// The SHA-256 of a manifest's JSON, in 32 bytes (a proof keeps it, not the manifest).
public struct ManifestDigest: Sendable, Hashable, CustomStringConvertible {
    private let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    /// The digest of `bytes`.
    public init(of bytes: [UInt8]) {
        (a, b, c, d) = SHA256.hash(data: bytes).withUnsafeBytes { raw in
            func word(_ at: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            return (word(0), word(8), word(16), word(24))
        }
    }

    /// The digest written as 64 lowercase hex digits (``description``); nil for any other text.
    public init?(hex: String) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            guard let value = Hex.value(byte) else { return nil }
            words[index / 16] = words[index / 16] << 4 | UInt64(value)
        }
        (a, b, c, d) = (words[0], words[1], words[2], words[3])
    }

    public var description: String {
        String(unsafeUninitializedCapacity: 64) { buffer in
            for (index, word) in [a, b, c, d].enumerated() { Hex.write(word, digits: 16, into: buffer, at: 16 * index) }
            return 64
        }
    }
}

/// What earlier passes proved settled in one region, kept so that an object nobody wrote since needs no check.
///
/// A proof says: the manifest with this digest was found in sync with the live object at this uid and
/// resourceVersion (by the client-side settle check, or by a server-side dry run equal to live), by this checker.
/// While the live object keeps that uid and resourceVersion nothing has written it, so the same manifest is still
/// in sync with it: the preflight takes it as unchanged without decoding or checking it again.
///
/// - A proof counts only when the uid, the resourceVersion, the object's key and the digest all match, the checker
///   is the same, and it is younger than ``maxAge`` (a cluster restored from an etcd backup can hand out a
///   resourceVersion again; after at most `maxAge` every object is checked in full once more).
/// - Secrets have no proofs: no digest of their data is ever kept.
/// - The file is a cache, never a record: missing, unreadable, damaged, or written by another checker, it is an
///   empty ledger; a write that fails costs only speed. It holds uids, resourceVersions, digests, times and a hash
///   of each object's key, nothing else. It is as trusted as the folder it is in (the Git cache's).
/// - Proofs are kept by uid, in about a hundred bytes each and no heap block of their own: the agent holds one
///   per object it manages, for as long as it runs.
public final class SettledLedger: Sendable {
    /// The file's format; a file of another format is not read.
    public static let format = 2

    struct Proof: Sendable, Hashable {
        /// ``keyHash(_:)`` of the object's key.
        var key: UInt64
        var resourceVersion: OpaqueID
        var digest: ManifestDigest
        /// Seconds since 1970 when it was proved.
        var time: Int64
    }

    private struct State: Sendable {
        /// The file was read (or there is none).
        var loaded = false
        /// By uid.
        var proofs: [OpaqueID: Proof] = [:]
        /// The proofs changed since the file was read or written.
        var dirty = false
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
            } else if file != nil {
                state.dirty = true  // a missing or unusable file is replaced at the next save
            }
        }
    }

    /// The digest the ledger keys `resource`'s manifest by (SHA-256 of its JSON), or nil when it keeps no proof of
    /// it (a Secret).
    public static func digest(_ resource: Resource) -> ManifestDigest? {
        if resource.ref.group.isEmpty && resource.kind == "Secret" { return nil }
        return ManifestDigest(of: resource.body.jsonBytes)
    }

    /// Whether a proof says `resource`'s manifest (of digest `digest`) is in sync with its live object at
    /// `version`.
    public func isSettled(_ key: ObjectKey, version: LiveVersion, digest: ManifestDigest) -> Bool {
        guard !version.uid.isEmpty, !version.resourceVersion.isEmpty else { return false }
        load()
        let now = clock()
        let seconds = maxAge.components.seconds
        let hash = Self.keyHash(key)
        return state.withLock { state in
            guard let proof = state.proofs[version.uid] else { return false }
            return proof.key == hash && proof.resourceVersion == version.resourceVersion && proof.digest == digest
                && proof.time <= now && now - proof.time < seconds
        }
    }

    /// Notes that the manifest of digest `digest` was just found in sync with `key`'s live object at `version`.
    public func prove(_ key: ObjectKey, version: LiveVersion, digest: ManifestDigest) {
        guard !version.uid.isEmpty, !version.resourceVersion.isEmpty else { return }
        load()
        let proof = Proof(
            key: Self.keyHash(key), resourceVersion: version.resourceVersion, digest: digest, time: clock())
        state.withLock { state in
            if state.proofs.updateValue(proof, forKey: version.uid) != proof { state.dirty = true }
        }
    }

    /// Keeps the proofs of `keys` and drops the rest (objects no longer in the plan, or about to be written).
    public func keep(only keys: Set<ObjectKey>) {
        load()
        let hashes = Set(keys.map(Self.keyHash))
        state.withLock { state in
            let count = state.proofs.count
            state.proofs = state.proofs.filter { hashes.contains($0.value.key) }
            if state.proofs.count != count { state.dirty = true }
        }
    }

    /// Writes the file, when there is one and the proofs changed since it was read or written. Never throws: a
    /// failed write is returned as its message for the caller to log.
    @discardableResult
    public func save() -> String? {
        load()
        let (proofs, changed) = state.withLock { state in (state.proofs, state.dirty) }
        guard let file, changed else { return nil }
        if let problem = Self.write(proofs, to: file, checker: checker) { return problem }
        state.withLock { state in
            // Proofs made during the write are not in the file yet.
            if state.proofs == proofs { state.dirty = false }
        }
        return nil
    }

    /// How many proofs it holds.
    public var count: Int {
        load()
        return state.withLock { $0.proofs.count }
    }

    /// The digest of each manifest in `resources` that the ledger may keep a proof of (``digest(_:)``), by key.
    public static func digests(_ resources: [Resource]) -> [ObjectKey: ManifestDigest] {
        var digests: [ObjectKey: ManifestDigest] = [:]
        digests.reserveCapacity(resources.count)
        for resource in resources {
            if let digest = digest(resource) { digests[resource.key] = digest }
        }
        return digests
    }

    /// A hash of `key` that stays the same across processes (FNV-1a over its fields), kept in a proof so that a
    /// proof of one object is never taken for another's, and so that proofs can be dropped by key.
    static func keyHash(_ key: ObjectKey) -> UInt64 {
        var hash = StableHash()
        func field(_ text: String) {
            hash.combine(text)
            hash.combine(0xff)  // a byte no UTF-8 text holds ends each field
        }
        field(key.group)
        field(key.kind)
        field(key.namespace)
        field(key.name)
        return hash.value
    }

    /// The proofs in `file`, or nil when it is not a ledger of this format and checker.
    private static func read(_ file: String, checker: String) -> [OpaqueID: Proof]? {
        guard let data = FileManager.default.contents(atPath: file), let value = try? Value(json: data),
            value["format"]?.intValue.map(Int.init) == format, value["checker"]?.stringValue == checker,
            let rows = value["proofs"]?.arrayValue
        else { return nil }
        var proofs: [OpaqueID: Proof] = [:]
        proofs.reserveCapacity(rows.count)
        for row in rows {
            guard let fields = row.arrayValue, fields.count == 5,
                let uid = fields[0].stringValue, !uid.isEmpty,
                let resourceVersion = fields[1].stringValue, !resourceVersion.isEmpty,
                let digest = fields[2].stringValue.flatMap(ManifestDigest.init(hex:)),
                let time = fields[3].intValue, let key = fields[4].intValue
            else { return nil }  // one damaged row: the whole file is not trusted
            proofs[OpaqueID(uid)] = Proof(
                key: UInt64(bitPattern: key), resourceVersion: OpaqueID(resourceVersion), digest: digest, time: time)
        }
        return proofs
    }

    /// Writes `proofs` to `file` through a new file renamed over it (a reader sees the old file or the new one),
    /// readable by its owner only; the problem, or nil.
    private static func write(_ proofs: [OpaqueID: Proof], to file: String, checker: String) -> String? {
        let rows: [Value] = proofs.map { uid, proof in (uid.description, proof) }.sorted { $0.0 < $1.0 }.map {
            uid, proof in
            .array([
                .string(uid), .string(proof.resourceVersion.description), .string(proof.digest.description),
                .int(proof.time), .int(Int64(bitPattern: proof.key)),
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
