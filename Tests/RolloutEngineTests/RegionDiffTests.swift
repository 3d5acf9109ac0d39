import Applier
import Differ
import Foundation
import Logging
import RolloutEngine
import SyncCore
import TestSupport
import Testing

/// How `RegionClient.diff` reads live objects from kubesim, seen in kubesim's audit log.
@Suite struct RegionDiffTests {
    /// Several objects of one kind in one namespace are listed: one page of at most twice as many as wanted, and 8
    /// more. A namespace holding many others of the kind is never read whole: ours that are not on that page are
    /// read one by one and compared as any other. Secrets are never listed (others' data is not read).
    @Test func aListReadsOnePageAtMostAndTheRestOneByOne() async throws {
        let work = try TemporaryDirectory(prefix: "region-diff")
        let audit = work.path + "/audit.log"
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"], extraArguments: ["--audit-log", audit])
        func configMap(_ namespace: String, _ name: String, _ value: String) -> String {
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"\(name)\", \"namespace\": "
                + "\"\(namespace)\"}, \"data\": {\"a\": \"\(value)\"}}\n"
        }
        func secret(_ name: String) -> String {
            "{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"\(name)\", \"namespace\": "
                + "\"quiet\"}, \"stringData\": {\"token\": \"t-\(name)\"}}\n"
        }
        try await cluster.kubectlChecked(["create", "namespace", "crowded"])
        try await cluster.kubectlChecked(["create", "namespace", "quiet"])
        // 40 ConfigMaps another tool made, named before ours (kubesim lists by name, as etcd's key order does).
        try await cluster.kubectlChecked(
            ["create", "-f", "-"],
            input: "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": ["
                + (0..<40).map { configMap("crowded", "other-\($0 + 10)", "x") }.joined(separator: ",") + "]}")
        let ours =
            [configMap("crowded", "aa-0", "1")] + (0..<3).map { configMap("crowded", "zz-\($0)", "1") }
            + (0..<2).map { configMap("quiet", "cm-\($0)", "1") }
            + (0..<2).map { secret("s-\($0)") }
        for manifest in ours {
            try await cluster.kubectlChecked(
                ["apply", "--server-side", "--field-manager", "syncagent", "-f", "-"], input: manifest)
        }
        // A hand edit of one of ours that the first page does not hold (it holds aa-0 and 15 others').
        try await cluster.kubectlChecked(["patch", "configmap", "zz-2", "-n", "crowded", "-p", #"{"data":{"a":"2"}}"#])

        let desired = try ours.map { try Resource(body: try Value(json: Array($0.utf8))) }
        let inventory = Inventory(revision: "r1", time: "2026-01-01T00:00:00Z", objects: desired.map(\.ref))
        let region = RegionTarget(name: "us-sanjose-1", kubeconfig: cluster.kubeconfigPath, context: "us-sanjose-1")
        let client = try RegionClient(region, logger: Logger(label: "test"))
        let result = try await client.diff(
            desired: desired, options: DiffOptions(mode: .serverSide), inventory: inventory)
        let classes = Dictionary(uniqueKeysWithValues: result.resources.map { ($0.ref.name, $0.drift) })
        #expect(
            classes == [
                "aa-0": .inSync, "zz-0": .inSync, "zz-1": .inSync, "zz-2": .modified, "cm-0": .inSync, "cm-1": .inSync,
                "s-0": .inSync,
                "s-1": .inSync,
            ], "\(result)")

        func auditedRequests(from start: Int = 0) throws -> [(verb: String, uri: String)] {
            try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").dropFirst(start).compactMap {
                line -> (verb: String, uri: String)? in
                guard let event = try? Value(json: Array(line.utf8)), event["userAgent"]?.stringValue == "syncagent",
                    let verb = event["verb"]?.stringValue, let uri = event["requestURI"]?.stringValue
                else { return nil }
                return (verb, uri)
            }
        }
        let requests = try auditedRequests()
        let crowdedLists = requests.filter {
            $0.verb == "list" && $0.uri.hasPrefix("/api/v1/namespaces/crowded/configmaps")
        }
        #expect(crowdedLists.map(\.uri) == ["/api/v1/namespaces/crowded/configmaps?limit=16"], "\(requests)")
        // aa-0 came with the page; the zz-* were not on it.
        let crowdedGets = requests.filter {
            $0.verb == "get" && $0.uri.hasPrefix("/api/v1/namespaces/crowded/configmaps/")
        }
        #expect(
            Set(crowdedGets.map(\.uri)) == Set((0..<3).map { "/api/v1/namespaces/crowded/configmaps/zz-\($0)" }),
            "\(requests)")
        let quiet = requests.filter { $0.uri.hasPrefix("/api/v1/namespaces/quiet/configmaps") }
        #expect(quiet.map(\.verb) == ["list"] && quiet.first?.uri.hasSuffix("limit=12") == true, "\(requests)")
        let secrets = requests.filter { $0.uri.hasPrefix("/api/v1/namespaces/quiet/secrets") }
        #expect(secrets.map(\.verb).sorted() == ["get", "get"], "\(requests)")

        // Read ahead from the inventory (as a one-shot diff does while the revision renders): the same objects
        // read the same way, none twice, the same result.
        let before = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").count
        let ahead = try await client.readAhead(inventory)
        let again = try await client.diff(
            desired: desired, options: DiffOptions(mode: .serverSide), inventory: inventory, readAhead: ahead)
        #expect(again.resources.map(\.drift) == result.resources.map(\.drift))
        let reads = try auditedRequests(from: before).filter { $0.verb == "list" || $0.verb == "get" }
        let objectReads = reads.filter {
            $0.uri.hasPrefix("/api/v1/namespaces/crowded/") || $0.uri.hasPrefix("/api/v1/namespaces/quiet/")
        }
        #expect(objectReads.count == Set(objectReads.map(\.uri)).count, "\(reads)")
        #expect(
            Set(objectReads.map(\.uri))
                == Set(
                    requests.filter { $0.verb == "list" || $0.verb == "get" }.map(\.uri).filter {
                        $0.hasPrefix("/api/v1/namespaces/crowded/") || $0.hasPrefix("/api/v1/namespaces/quiet/")
                    }), "\(reads)")
    }
}
