import Foundation
import SyncCore
import TestSupport
import Testing

/// `syncagent render` end to end: the built binary on the example config, from a folder and from Git.
@Suite struct RenderCommandTests {
    let syncagent = productPath("syncagent")
    let mesh = packageRoot.appendingPathComponent("config/mesh").path

    /// Hostile sizes on the release binary: a file past the byte limit is refused before it is read (a 4 GiB sparse
    /// file: reading it would take seconds and gigabytes), and a million documents stop at the object limit.
    @Test func oversizedInputIsRefusedBeforeItIsRead() async throws {
        let work = try TemporaryDirectory(prefix: "render-limits")
        try await runChecked(["mkdir", "-p", work.path + "/huge", work.path + "/many"])
        try await runChecked(["truncate", "-s", "4G", work.path + "/huge/zeros.yaml"])
        let huge = try await run([syncagent, "render", "--dir", work.path + "/huge"])
        #expect(huge.status == 2)
        #expect(huge.stderr.contains("huge/zeros.yaml: this file (4096.0 MiB) takes the folder past 128.0 MiB"))

        var text = ""
        for index in 0..<1_000_000 { text += "{apiVersion: v1, kind: ConfigMap, metadata: {name: c\(index)}}\n---\n" }
        _ = try work.write("many/many.yaml", text)
        let many = try await run([syncagent, "render", "--dir", work.path + "/many"])
        #expect(many.status == 2)
        #expect(many.stderr.contains("many/many.yaml:40000:1: more than 20000 objects in the revision"))
    }

    /// A folder that cannot be read stops the render with its name: a revision missing its files is never rendered
    /// (a sync from it would prune what they define). Symbolic links, to a file or a folder, are never followed,
    /// so nothing outside the folder is read. (As root, the binary runs as `nobody`, whom permissions bind.)
    @Test func anUnreadableFolderStopsTheRenderAndLinksAreNotFollowed() async throws {
        let work = try TemporaryDirectory(prefix: "render-unreadable")
        let outside = try TemporaryDirectory(prefix: "render-outside")
        _ = try work.write("folder/top.yaml", "{apiVersion: v1, kind: ConfigMap, metadata: {name: top}}\n")
        _ = try work.write("folder/locked/x.yaml", "{apiVersion: v1, kind: ConfigMap, metadata: {name: locked}}\n")
        _ = try outside.write("x.yaml", "{apiVersion: v1, kind: ConfigMap, metadata: {name: outside}}\n")
        let fileManager = FileManager.default
        try fileManager.createSymbolicLink(
            atPath: work.path + "/folder/link.yaml", withDestinationPath: outside.path + "/x.yaml")
        try fileManager.createSymbolicLink(atPath: work.path + "/folder/linked", withDestinationPath: outside.path)
        for path in [work.path, work.path + "/folder", outside.path] {
            try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let asUser = getuid() == 0 ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] : []
        let folder = work.path + "/folder"

        let readable = try await run(asUser + [syncagent, "render", "--dir", folder, "-o", "json"])
        #expect(readable.status == 0, "\(readable.stderr)")
        let names = try Value(json: readable.stdout)["items"]?.arrayValue?.compactMap {
            $0[path: ["metadata", "name"]]?.stringValue
        }
        #expect(names == ["locked", "top"], "links are not followed: \(readable.stdout)")

        try fileManager.setAttributes([.posixPermissions: 0o000], ofItemAtPath: folder + "/locked")
        defer { try? fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/locked") }
        let locked = try await run(asUser + [syncagent, "render", "--dir", folder, "-o", "json"])
        #expect(locked.status == 2)
        #expect(locked.stdout.isEmpty)
        #expect(locked.stderr.contains("\(folder)/locked: cannot be read ("), "\(locked.stderr)")
        #expect(locked.stderr.contains("nothing was rendered from \(folder)"), "\(locked.stderr)")
    }

    @Test func rendersTheExampleConfigForEachRegion() async throws {
        for (region, other) in [("us-sanjose-1", "us-chicago-1"), ("us-chicago-1", "us-sanjose-1")] {
            let output = try await run([syncagent, "render", "--dir", mesh, "--region", region, "-o", "json"])
            #expect(output.status == 0, "\(output.stderr)")
            let list = try Value(json: output.stdout)
            let items = try #require(list["items"]?.arrayValue)
            let kinds = items.compactMap { $0["kind"]?.stringValue }
            #expect(kinds.filter { $0 == "Deployment" }.count == 6)  // productpage, details, reviews v1-v3, ratings
            #expect(kinds.filter { $0 == "DestinationRule" }.count == 4)
            #expect(kinds.filter { $0 == "VirtualService" }.count == 5)
            #expect(kinds.contains("Namespace") && kinds.contains("Gateway") && kinds.contains("PrometheusRule"))

            // The region's own reviews DestinationRule keeps 80 % local and sends 20 % to the other region.
            let reviews = try #require(
                items.first { $0["kind"] == "DestinationRule" && $0[path: ["metadata", "name"]] == "reviews" })
            let distribute = try #require(
                reviews[path: ["spec", "trafficPolicy", "loadBalancer", "localityLbSetting", "distribute"]]?.arrayValue?
                    .first)
            #expect(distribute["from"] == .string("\(region)/*"))
            #expect(distribute[path: ["to", "\(region)/*"]] == 80)
            #expect(distribute[path: ["to", "\(other)/*"]] == 20)

            // The reviews VirtualService splits 50/30/20 with 3 retries of 2 s and a 10 s timeout.
            let vs = try #require(
                items.first { $0["kind"] == "VirtualService" && $0[path: ["metadata", "name"]] == "reviews" })
            let route = try #require(vs[path: ["spec", "http"]]?.arrayValue?.first)
            #expect(route["route"]?.arrayValue?.map { $0["weight"] } == [50, 30, 20])
            #expect(route[path: ["retries", "attempts"]] == 3)
            #expect(route[path: ["retries", "perTryTimeout"]] == "2s")
            #expect(route["timeout"] == "10s")
        }
    }

    @Test func outputIsStableAndSorted() async throws {
        let first = try await runChecked([syncagent, "render", "--dir", mesh, "--region", "us-sanjose-1"])
        let second = try await runChecked([syncagent, "render", "--dir", mesh, "--region", "us-sanjose-1"])
        #expect(first == second)
        #expect(first.hasPrefix("apiVersion: v1\nkind: Namespace\n"))  // core group first, by kind
    }

    @Test func asksForARegionWhenTheFolderHasRegionFolders() async throws {
        let output = try await run([syncagent, "render", "--dir", mesh])
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains("--region"))
        #expect(output.stderr.contains("us-chicago-1, us-sanjose-1"))
    }

    @Test func unknownRegionIsAnError() async throws {
        let output = try await run([syncagent, "render", "--dir", mesh, "--region", "eu-frankfurt-1"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("no folder for region \"eu-frankfurt-1\""))
    }

    @Test func everyProblemIsReportedAndNothingIsPrinted() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n")
        try dir.write("a/missing-name.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n")
        try dir.write("b/dup-key.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n")
        try dir.write("notes.txt", "not: [a manifest")
        let output = try await run([syncagent, "render", "--dir", dir.path])
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains("\(dir.path)/a/missing-name.yaml:4:3"))  // the metadata mapping
        #expect(output.stderr.contains("metadata.name"))
        #expect(output.stderr.contains("\(dir.path)/b/dup-key.yaml:5:"))
        #expect(!output.stderr.contains("notes.txt"))
    }

    @Test func usageErrorsExitTwo() async throws {
        let neither = try await run([syncagent, "render"])
        #expect(neither.status == 2)
        #expect(neither.stderr.contains("--dir DIR or --repo URL"))
        let both = try await run([syncagent, "render", "--dir", mesh, "--repo", "file:///nowhere"])
        #expect(both.status == 2)
        let badFormat = try await run([syncagent, "render", "--dir", mesh, "-o", "xml"])
        #expect(badFormat.status == 2)
        let version = try await run([syncagent, "--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let help = try await run([syncagent, "render", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--region"))
    }

    @Test func rendersFromGitAtAnyCommitWithoutAWorkTree() async throws {
        let work = try TemporaryDirectory()
        let repo = work.url.appendingPathComponent("config-repo")
        try await runChecked(["git", "init", "-q", "-b", "main", repo.path])
        try await runChecked(["cp", "-R", mesh, repo.appendingPathComponent("mesh").path])
        try await runChecked(["git", "-C", repo.path, "add", "-A"])
        try await runChecked(["git", "-C", repo.path, "commit", "-qm", "Bookinfo mesh"])
        let first = try await runChecked(["git", "-C", repo.path, "rev-parse", "HEAD"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        // A second commit changes the reviews weights.
        let vsFile = repo.appendingPathComponent("mesh/base/30-virtual-services.yaml")
        let text = try String(contentsOf: vsFile, encoding: .utf8)
        try text.replacingOccurrences(of: "weight: 50", with: "weight: 40").replacingOccurrences(
            of: "weight: 30", with: "weight: 40"
        )
        .write(to: vsFile, atomically: true, encoding: .utf8)
        try await runChecked(["git", "-C", repo.path, "commit", "-qam", "reviews 40/40/20"])

        let cache = work.url.appendingPathComponent("cache").path
        let fromDir = try await runChecked([
            syncagent, "render", "--dir", repo.appendingPathComponent("mesh").path, "--region", "us-chicago-1",
        ])
        let head = try await runChecked([
            syncagent, "render", "--repo", "file://\(repo.path)", "--path", "mesh", "--region", "us-chicago-1",
            "--cache", cache,
        ])
        #expect(head == fromDir)
        #expect(head.contains("weight: 40"))

        let old = try await runChecked([
            syncagent, "render", "--repo", "file://\(repo.path)", "--ref", first, "--path", "mesh", "--region",
            "us-chicago-1",
            "--cache", cache,
        ])
        #expect(old.contains("weight: 50"))
        #expect(!old.contains("weight: 40"))

        let missing = try await run([
            syncagent, "render", "--repo", "file://\(repo.path)", "--ref", "no-such-branch", "--cache", cache,
        ])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no-such-branch"))
    }
}
