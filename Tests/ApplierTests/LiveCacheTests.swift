import Applier
import Foundation
import Logging
import SyncCore
import TestSupport
import Testing

/// The live-state cache against kubesim over HTTPS: one list per kind, then a watch; 410 → list again; a cluster
/// that goes away is not current until it is back.
@Suite struct LiveCacheTests {
    /// Waits (far-off safety net, not the assertion) until `condition` holds.
    private func eventually(_ what: String, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw TestSupportError("never: \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func ref(_ name: String) -> ObjectRef {
        ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: name)
    }

    /// Also with the objects kept deflated (the agent's cache): what is read back is what the cluster serves.
    @Test(arguments: [false, true])
    func followsEveryChangeWithOneListAndAWatch(packed: Bool) async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let client = try sim.client()
        for index in 0..<12 { _ = try await client.apply(try configMap("cm-\(index)", data: ["n": "\(index)"])) }
        let cache = LiveCache(
            client: client, options: LiveCache.Options(packObjects: packed), logger: Logger(label: "test"))
        defer { cache.stop() }
        let kind = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        #expect(cache.objects([ref("cm-0")]) == nil)  // not current yet: the caller reads the cluster
        #expect(await cache.waitUntilCurrent([kind], timeout: .seconds(60)))
        let first = try #require(cache.objects((0..<12).map { ref("cm-\($0)") }))
        #expect(first.count == 12)
        #expect(first[ref("cm-3").key]?.body[path: ["data", "n"]] == "3")
        for index in 0..<12 {
            let served = try await client.get(ref("cm-\(index)")).body
            #expect(first[ref("cm-\(index)").key]?.body == served)
        }
        let holding = cache.holding
        #expect(holding.objects == 12)
        if packed {
            #expect(holding.storedBytes * 2 < holding.jsonBytes, "\(holding)")
        } else {
            #expect(holding.storedBytes == holding.jsonBytes)
        }
        let changes = cache.changes()

        // A hand edit by another manager, a delete and a create: each reaches the cache through the watch.
        _ = try await client.apply(
            try configMap("cm-3", data: ["n": "edited"]),
            options: ApplyOptions(force: true, fieldManager: "kubectl-edit"))
        _ = try await client.delete(ref("cm-4"))
        _ = try await client.apply(try configMap("cm-new", data: ["n": "new"]))
        try await eventually("the three changes in the cache") {
            let now = cache.objects([ref("cm-3"), ref("cm-4"), ref("cm-new")]) ?? [:]
            return now[ref("cm-3").key]?.body[path: ["data", "n"]] == "edited" && now[ref("cm-4").key] == nil
                && now[ref("cm-new").key] != nil
        }
        var seen: Set<String> = []
        for await key in changes {
            seen.insert(key.name)
            if seen.isSuperset(of: ["cm-3", "cm-4", "cm-new"]) { break }
        }
        let edited = try #require(cache.objects([ref("cm-3")])?[ref("cm-3").key]?.body)
        #expect(edited == (try await client.get(ref("cm-3")).body))
        let managers = edited[path: ["metadata", "managedFields"]]
        #expect(managers?.arrayValue?.contains { $0["manager"] == "kubectl-edit" } == true)
        // One list for the kind: the changes came by watch, not by listing again.
        let statistics = cache.statistics
        #expect(statistics.lists == 1)
        #expect(statistics.watches >= 1)
        #expect(statistics.events >= 3)
    }

    /// syncagent's records are kept in syncagent-system only (its RBAC may grant no more); a reader asking for a
    /// ConfigMap elsewhere widens the kind to every namespace, reading the cluster meanwhile.
    @Test func aKindKeptInOneNamespaceIsWidenedWhenAskedForAnother() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let client = try sim.client()
        _ = try await client.apply(try configMap("outside", data: ["n": "1"]))
        let kind = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        let record = ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "kube-system", name: "record")
        _ = try await client.apply(try configMap("record", namespace: "kube-system", data: ["n": "r"]))
        let cache = LiveCache(client: client, logger: Logger(label: "test"))
        defer { cache.stop() }
        cache.track([kind], namespace: "kube-system")
        #expect(await cache.waitUntilCurrent([kind], timeout: .seconds(60)))
        #expect(cache.objects([record])?[record.key] != nil)
        #expect(cache.statistics.lists == 1)
        // Outside the namespace: not answered from the cache (it holds none of default's), widened instead.
        #expect(cache.objects([ref("outside")]) == nil)
        try await eventually("the widened kind to be listed and current") {
            cache.statistics.lists == 2 && cache.isCurrent([kind])
        }
        let both = try #require(cache.objects([ref("outside"), record]))
        #expect(both.count == 2)
        // Kept everywhere now: a change in default arrives by the watch.
        _ = try await client.apply(try configMap("outside", data: ["n": "2"]))
        try await eventually("the edit in the widened cache") {
            cache.objects([ref("outside")])?[ref("outside").key]?.body[path: ["data", "n"]] == "2"
        }
        #expect(cache.statistics.lists == 2)
    }

    @Test func listsAgainWhenTheServerForgotItsVersion() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let client = try sim.client()
        _ = try await client.apply(try configMap("before"))
        let cache = try await Self.currentCache(sim)
        defer { cache.stop() }
        // 4,100 writes of another kind move the server's history past the cache's version (kubesim keeps the
        // last 2,000 to 4,000 events); when the watch is broken (a restart), the watch from that version gets 410
        // Expired and the cache lists again, finding what changed meanwhile.
        try await Self.writeSecrets(client, count: 4_100)
        try await sim.restart()
        _ = try await client.apply(try configMap("after-restart"))
        try await eventually("the object created after the restart") {
            cache.objects([ref("after-restart")])?[ref("after-restart").key] != nil
        }
        #expect(cache.statistics.expired >= 1)
        #expect(cache.statistics.lists >= 2)
        #expect(cache.objects([ref("before")])?[ref("before").key] != nil)
    }

    @Test func bookmarksKeepAQuietKindResumableAfterTheHistoryMovedOn() async throws {
        // The same 4,100 writes of another kind as above, but the server sends bookmarks (kube-apiserver: about
        // every minute; here every 0.2 s): the quiet kind's version follows them, and the watch resumes after the
        // restart without a 410 or a second list.
        let sim = try await KubeSim(regions: ["us-sanjose-1"], extraArguments: ["--watch-bookmark-seconds", "0.2"])
        let client = try sim.client()
        _ = try await client.apply(try configMap("before"))
        let cache = try await Self.currentCache(sim)
        defer { cache.stop() }
        try await Self.writeSecrets(client, count: 4_100)
        let after = cache.statistics.bookmarks
        try await eventually("a bookmark after the writes") { cache.statistics.bookmarks > after + 1 }
        try await sim.restart()
        _ = try await client.apply(try configMap("after-restart"))
        try await eventually("the object created after the restart") {
            cache.objects([ref("after-restart")])?[ref("after-restart").key] != nil
        }
        #expect(cache.statistics.expired == 0)
        #expect(cache.statistics.lists == 1)
    }

    /// A cache of ConfigMaps in `sim`'s region, current, on a client that does not retry (the cache does).
    static func currentCache(_ sim: KubeSim) async throws -> LiveCache {
        let cache = LiveCache(
            client: try sim.client(retry: RetryPolicy(maxAttempts: 1)),
            options: .init(maxBackoff: .milliseconds(200)), logger: Logger(label: "test"))
        let kind = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        guard await cache.waitUntilCurrent([kind], timeout: .seconds(60)) else {
            cache.stop()
            throw TestSupportError("the cache never listed ConfigMaps")
        }
        return cache
    }

    /// `count` server-side applies of 50 Secrets in `default`, eight at a time.
    static func writeSecrets(_ client: KubeClient, count: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in stride(from: worker, to: count, by: 8) {
                        let secret = try Resource(body: [
                            "apiVersion": "v1", "kind": "Secret",
                            "metadata": ["name": .string("s-\(index % 50)"), "namespace": "default"],
                            "stringData": ["n": .string("\(index)")],
                        ])
                        _ = try await client.apply(secret)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func isNotCurrentWhileTheClusterIsDown() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let client = try sim.client()
        _ = try await client.apply(try configMap("steady"))
        let kind = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        let cache = LiveCache(
            client: try sim.client(retry: RetryPolicy(maxAttempts: 1)),
            options: .init(maxBackoff: .milliseconds(200)), logger: Logger(label: "test"))
        defer { cache.stop() }
        #expect(await cache.waitUntilCurrent([kind], timeout: .seconds(60)))
        try await sim.fault("down")
        try await eventually("the cache to stop calling itself current") { !cache.isCurrent([kind]) }
        #expect(cache.objects([ref("steady")]) == nil)
        try await sim.fault("up")
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                _ = try await client.apply(try configMap("while-away"))
                break
            } catch {
                guard ContinuousClock.now < deadline else { throw error }  // the port reopens in a moment
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        try await eventually("current again, with the new object") {
            cache.objects([ref("while-away")])?[ref("while-away").key] != nil
        }
    }
}
