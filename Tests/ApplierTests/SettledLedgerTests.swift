import Foundation
import Synchronization
import SyncCore
import Testing
import TestSupport

@testable import Applier

/// The settled ledger: a proof counts only for the exact object version and manifest it was made for, and a file
/// that is damaged, foreign or old proves nothing.
@Suite struct SettledLedgerTests {
    static let checker = "test-checker/1"

    static func configMap(_ name: String, _ value: String) throws -> Resource {
        try Resource(
            body: [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": .string(name), "namespace": "shop"], "data": ["k": .string(value)],
            ])
    }


    @Test func aProofCountsOnlyForTheSameObjectVersionAndManifest() throws {
        let ledger = SettledLedger(file: nil, checker: Self.checker)
        let manifest = try Self.configMap("settings", "a")
        let digest = try #require(SettledLedger.digest(manifest))
        let version = LiveVersion(uid: "u-1", resourceVersion: "41")
        #expect(!ledger.isSettled(manifest.key, version: version, digest: digest))
        ledger.prove(manifest.key, version: version, digest: digest)
        #expect(ledger.isSettled(manifest.key, version: version, digest: digest))
        // Written since (a hand edit, a controller): another resourceVersion.
        #expect(
            !ledger.isSettled(manifest.key, version: LiveVersion(uid: "u-1", resourceVersion: "42"), digest: digest))
        // Deleted and created again: another uid, even at the same resourceVersion.
        #expect(
            !ledger.isSettled(manifest.key, version: LiveVersion(uid: "u-2", resourceVersion: "41"), digest: digest))
        // Git asks for something else.
        let changed = try #require(SettledLedger.digest(try Self.configMap("settings", "b")))
        #expect(changed != digest)
        #expect(!ledger.isSettled(manifest.key, version: version, digest: changed))
        // Another object.
        let other = try Self.configMap("other", "a").key
        #expect(!ledger.isSettled(other, version: version, digest: digest))
        // A version the cache could not read proves nothing.
        #expect(!ledger.isSettled(manifest.key, version: LiveVersion(uid: "", resourceVersion: "41"), digest: digest))
    }

    @Test func secretsHaveNoDigest() throws {
        let secret = try Resource(
            body: [
                "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "db", "namespace": "shop"],
                "stringData": ["password": "hunter2"],
            ])
        #expect(SettledLedger.digest(secret) == nil)
        #expect(SettledLedger.digests([secret, try Self.configMap("settings", "a")]).count == 1)
    }

    @Test func aProofExpires() throws {
        let now = Mutex<Int64>(1_000_000)
        let ledger = SettledLedger(file: nil, checker: Self.checker, maxAge: .seconds(60)) { now.withLock { $0 } }
        let manifest = try Self.configMap("settings", "a")
        let digest = try #require(SettledLedger.digest(manifest))
        let version = LiveVersion(uid: "u-1", resourceVersion: "7")
        ledger.prove(manifest.key, version: version, digest: digest)
        now.withLock { $0 += 59 }
        #expect(ledger.isSettled(manifest.key, version: version, digest: digest))
        now.withLock { $0 += 1 }
        #expect(!ledger.isSettled(manifest.key, version: version, digest: digest))
        // A proof dated after now (a clock set back) does not count either.
        now.withLock { $0 -= 3600 }
        #expect(!ledger.isSettled(manifest.key, version: version, digest: digest))
    }

    @Test func theFileKeepsWhatIsKeptForTheNextProcessOwnerOnly() throws {
        let folder = try TemporaryDirectory(prefix: "settled-ledger")
        defer { withExtendedLifetime(folder) {} }
        let file = folder.path + "/deep/region.json"
        let first = SettledLedger(file: file, checker: Self.checker)
        let kept = try Self.configMap("kept", "a")
        let dropped = try Self.configMap("dropped", "a")
        let version = LiveVersion(uid: "u-1", resourceVersion: "3")
        let droppedVersion = LiveVersion(uid: "u-2", resourceVersion: "3")
        for (manifest, at) in [(kept, version), (dropped, droppedVersion)] {
            first.prove(manifest.key, version: at, digest: try #require(SettledLedger.digest(manifest)))
        }
        first.keep(only: [kept.key])
        #expect(first.save() == nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        let second = SettledLedger(file: file, checker: Self.checker)
        #expect(second.count == 1)
        #expect(second.isSettled(kept.key, version: version, digest: try #require(SettledLedger.digest(kept))))
        #expect(
            !second.isSettled(dropped.key, version: droppedVersion, digest: try #require(SettledLedger.digest(dropped)))
        )
        // Another checker (another build's settle check) takes none of it.
        #expect(SettledLedger(file: file, checker: "test-checker/2").count == 0)
    }

    @Test func aDamagedFileProvesNothingAndIsReplaced() throws {
        let folder = try TemporaryDirectory(prefix: "settled-ledger")
        defer { withExtendedLifetime(folder) {} }
        let file = folder.path + "/region.json"
        let manifest = try Self.configMap("settings", "a")
        let digest = try #require(SettledLedger.digest(manifest))
        let version = LiveVersion(uid: "u-1", resourceVersion: "3")
        let writer = SettledLedger(file: file, checker: Self.checker)
        writer.prove(manifest.key, version: version, digest: digest)
        writer.keep(only: [manifest.key])
        #expect(writer.save() == nil)
        let good = try #require(FileManager.default.contents(atPath: file))
        // Cut short, one row damaged, not JSON: each is an empty ledger.
        let text = String(decoding: good, as: UTF8.self)
        for damaged in [
            String(text.prefix(text.count / 2)),
            text.replacingOccurrences(of: digest.description, with: String(digest.description.prefix(10))),
            "not a ledger",
        ] {
            try Data(damaged.utf8).write(to: URL(fileURLWithPath: file))
            let reader = SettledLedger(file: file, checker: Self.checker)
            #expect(!reader.isSettled(manifest.key, version: version, digest: digest), "\(damaged)")
            // Its next keep writes a whole file again.
            reader.prove(manifest.key, version: version, digest: digest)
            #expect(reader.save() == nil)
            #expect(SettledLedger(file: file, checker: Self.checker).count == 1)
        }
    }

    @Test func aFolderThatCannotBeWrittenCostsOnlyTheProofs() throws {
        let ledger = SettledLedger(file: "/proc/no-such-folder/region.json", checker: Self.checker)
        let manifest = try Self.configMap("settings", "a")
        let version = LiveVersion(uid: "u-1", resourceVersion: "3")
        let digest = try #require(SettledLedger.digest(manifest))
        ledger.prove(manifest.key, version: version, digest: digest)
        #expect(ledger.save() != nil)
        #expect(ledger.isSettled(manifest.key, version: version, digest: digest))
    }
}

/// Uids and resourceVersions kept compactly: each gives back exactly the text it was made from, and two are equal
/// exactly when their texts are.
@Suite struct OpaqueIDTests {
    @Test func everyFormGivesBackItsTextAndComparesAsText() {
        let texts = [
            "", "0", "7", "41", "18446744073709551615", "9999999999999999999", "10000000000000000000", "007", "-1",
            "12a", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
            "3f2504e0-4f89-11d3-9a0c-0305e82c330", "3f2504e0x4f89-11d3-9a0c-0305e82c3301",
            "3f2504e0-4f89-11d3-9a0c-0305e82c330g", "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "00000000-0000-0000-0000-000000000000", "u-1", "ümlaut",
        ]
        for text in texts {
            #expect(OpaqueID(text).description == text)
            #expect(OpaqueID(text).isEmpty == text.isEmpty)
        }
        for a in texts {
            for b in texts {
                #expect((OpaqueID(a) == OpaqueID(b)) == (a == b), "\(a) vs \(b)")
            }
        }
    }

    @Test func aDigestGoesToHexAndBack() throws {
        let manifest = try SettledLedgerTests.configMap("settings", "a")
        let digest = try #require(SettledLedger.digest(manifest))
        #expect(digest.description.utf8.count == 64)
        #expect(ManifestDigest(hex: digest.description) == digest)
        #expect(ManifestDigest(hex: digest.description.uppercased()) == nil)
        #expect(ManifestDigest(hex: String(digest.description.dropLast())) == nil)
        // SHA-256 of the empty input, as every other tool writes it.
        #expect(
            ManifestDigest(of: []).description
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

/// The cache's change signal: a ring between a waiter's look and its wait is never missed.
@Suite struct ChangeSignalTests {
    @Test func aRingSinceTheTicketReturnsAtOnceAndALaterOneWakes() async throws {
        let signal = ChangeSignal()
        let ticket = signal.ticket
        signal.ring()
        let clock = ContinuousClock()
        let start = clock.now
        await signal.wait(after: ticket, timeout: .seconds(600))
        #expect(clock.now - start < .seconds(300))

        let next = signal.ticket
        let waiter = Task { await signal.wait(after: next, timeout: .seconds(600)) }
        try await Task.sleep(for: .milliseconds(50))
        signal.ring()
        await waiter.value
        #expect(clock.now - start < .seconds(300))
    }

    @Test func withoutARingItReturnsAtItsTimeoutOrWhenCancelled() async throws {
        let signal = ChangeSignal()
        let clock = ContinuousClock()
        let start = clock.now
        await signal.wait(after: signal.ticket, timeout: .milliseconds(100))
        #expect(clock.now - start >= .milliseconds(100))
        // A timeout of zero cannot lose its waiter.
        await signal.wait(after: signal.ticket, timeout: .zero)
        let waiter = Task { await signal.wait(after: signal.ticket, timeout: .seconds(600)) }
        waiter.cancel()
        await waiter.value
        #expect(clock.now - start < .seconds(300))
    }
}
