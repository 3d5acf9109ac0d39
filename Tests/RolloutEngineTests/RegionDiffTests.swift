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
    /// syncagent's requests in kubesim's audit log `audit`, from its line `start` on: verb and request URI.
    static func syncagentRequests(_ audit: String, from start: Int) throws -> [(verb: String, uri: String)] {
        try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").dropFirst(start).compactMap {
            line -> (verb: String, uri: String)? in
            guard let event = try? Value(json: Array(line.utf8)), event["userAgent"]?.stringValue == "syncagent",
                let verb = event["verb"]?.stringValue, let uri = event["requestURI"]?.stringValue
            else { return nil }
            return (verb, uri)
        }
    }

    /// One kubesim region writing an audit log (its path returned) in a new folder, with `namespaces` created.
    static func auditedCluster(_ prefix: String, namespaces: [String]) async throws -> (
        TemporaryDirectory, String, KubeSimCluster
    ) {
        let work = try TemporaryDirectory(prefix: prefix)
        let audit = work.path + "/audit.log"
        let cluster = try await KubeSimCluster(regions: ["us-sanjose-1"], extraArguments: ["--audit-log", audit])
        for namespace in namespaces {
            try await cluster.kubectlChecked(["create", "namespace", namespace])
        }
        return (work, audit, cluster)
    }

    static func configMap(_ namespace: String, _ name: String) -> String {
        #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"#
            + #""data":{"a":"1"}}"#
    }

    /// `ours` and `others` applied server-side as `syncagent`; `ours` as desired resources, their inventory, and a
    /// client of the region.
    static func applied(_ ours: [String], others: [String] = [], in cluster: KubeSimCluster) async throws -> (
        desired: [Resource], inventory: Inventory, client: RegionClient
    ) {
        for manifest in ours + others {
            try await cluster.kubectlChecked(
                ["apply", "--server-side", "--field-manager", "syncagent", "-f", "-"], input: manifest)
        }
        let desired = try ours.map { try Resource(body: try Value(json: Array($0.utf8))) }
        let inventory = Inventory(revision: "r1", time: "2026-01-01T00:00:00Z", objects: desired.map(\.ref))
        let region = RegionTarget(name: "us-sanjose-1", kubeconfig: cluster.kubeconfigPath, context: "us-sanjose-1")
        return (desired, inventory, try RegionClient(region, logger: Logger(label: "test")))
    }

    /// A ledger holding what a sync would have proved of `resources`: each in sync at its live version.
    static func proofs(of resources: [Resource], client: RegionClient) async throws -> SettledLedger {
        let ledger = SettledLedger(file: nil, checker: RegionConnections.settleChecker)
        for resource in resources {
            let live = try await client.client.get(resource.ref)
            ledger.prove(
                resource.key, version: try #require(LiveVersion(of: live.body)),
                digest: try #require(SettledLedger.digest(resource)))
        }
        return ledger
    }

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
            try Self.syncagentRequests(audit, from: start)
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

    /// With a settled ledger's proofs, lists that would read many objects not ours ask for metadata alone: several
    /// objects of a cluster-scoped kind (one list, not a GET each) and a kind with one object in each of several
    /// namespaces (one list across them). A proof settles an object without its body; an object written since is
    /// read whole and compared. Namespaces are listed whole (no proof settles a name-only one). Without proofs,
    /// neither metadata list is made; credentials that may not list across namespaces get a GET each.
    @Test func proofsLetListsCarryMetadataAloneAndTheUnsettledAreReadWhole() async throws {
        let (work, audit, cluster) = try await Self.auditedCluster(
            "region-diff-metadata", namespaces: ["ns-a", "ns-b", "ns-c"])
        defer { withExtendedLifetime(work) {} }
        func clusterRole(_ name: String) -> String {
            #"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"\#(name)"},"#
                + #""rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}"#
        }
        func namespace(_ name: String) -> String {
            #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(name)"}}"#
        }
        let (desired, inventory, client) = try await Self.applied(
            [
                clusterRole("ours-1"), clusterRole("ours-2"), namespace("ns-a"), namespace("ns-b"),
                Self.configMap("ns-a", "one"), Self.configMap("ns-b", "one"),
            ],
            others: [clusterRole("theirs"), Self.configMap("ns-c", "theirs")], in: cluster)
        // What a sync would have proved: every object but the name-only Namespaces, at its live version.
        let ledger = try await Self.proofs(of: desired.filter { $0.kind != "Namespace" }, client: client)
        // Written since by hand: no longer settled by its proof.
        try await cluster.kubectlChecked(
            [
                "patch", "clusterrole", "ours-2", "--type", "json", "-p",
                #"[{"op":"replace","path":"/rules/0/verbs","value":["get","list"]}]"#,
            ])
        try await cluster.kubectlChecked(["patch", "configmap", "one", "-n", "ns-b", "-p", #"{"data":{"a":"2"}}"#])

        func auditedRequests(from start: Int) throws -> [(verb: String, uri: String)] {
            try Self.syncagentRequests(audit, from: start)
        }
        func auditLines() throws -> Int {
            try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").count
        }
        func classes(_ result: RegionDiff) -> [String: DriftClass] {
            Dictionary(uniqueKeysWithValues: result.resources.map { ("\($0.ref.namespace)/\($0.ref.name)", $0.drift) })
        }
        let expected: [String: DriftClass] = [
            "/ours-1": .inSync, "/ours-2": .modified, "/ns-a": .inSync, "/ns-b": .inSync, "ns-a/one": .inSync,
            "ns-b/one": .modified,
        ]
        let objectReads: ((verb: String, uri: String)) -> Bool = { request in
            (request.verb == "get" || request.verb == "list")
                && ["/apis/rbac.authorization.k8s.io/v1/clusterroles", "/api/v1/namespaces", "/api/v1/configmaps"]
                    .contains { request.uri.hasPrefix($0) }
                && !request.uri.contains("syncagent-system")
        }

        // One-shot diff as `syncagent diff` makes it: the inventory's objects read ahead, then the diff.
        var start = try auditLines()
        let ahead = try await client.readAhead(inventory, forProofs: true)
        let proved = try await client.diff(
            desired: desired, options: DiffOptions(mode: .serverSide), inventory: inventory, ledger: ledger,
            readAhead: ahead)
        #expect(classes(proved) == expected, "\(proved)")
        let reads = try auditedRequests(from: start).filter(objectReads)
        #expect(
            Set(reads.map { "\($0.verb) \($0.uri)" }) == [
                "list /apis/rbac.authorization.k8s.io/v1/clusterroles?limit=12", "list /api/v1/namespaces?limit=12",
                "list /api/v1/configmaps?limit=12",
                // Written since their proofs: read whole.
                "get /apis/rbac.authorization.k8s.io/v1/clusterroles/ours-2",
                "get /api/v1/namespaces/ns-b/configmaps/one",
            ] && reads.count == 5, "\(reads)")

        // The metadata lists carried no bodies; the same list without metadataOnly does.
        let roles = GroupVersionKind(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole")
        let metadataOnly = try await client.client.listRaw(roles, metadataOnly: true)
        #expect(!metadataOnly.items.isEmpty && metadataOnly.items.allSatisfy { $0.metadataOnly && $0.bytes.isEmpty })
        #expect(metadataOnly.items.allSatisfy { !$0.uid.isEmpty && !$0.resourceVersion.isEmpty })
        let whole = try await client.client.listRaw(roles)
        #expect(whole.items.allSatisfy { !$0.metadataOnly && !$0.bytes.isEmpty })

        // Without proofs: no metadata lists; ClusterRoles and the lone ConfigMaps by a GET each.
        start = try auditLines()
        let unproved = try await client.diff(
            desired: desired, options: DiffOptions(mode: .serverSide), inventory: inventory)
        #expect(classes(unproved) == expected, "\(unproved)")
        let plain = try auditedRequests(from: start).filter(objectReads)
        #expect(
            Set(plain.map { "\($0.verb) \($0.uri)" }) == [
                "list /api/v1/namespaces?limit=12",
                "get /apis/rbac.authorization.k8s.io/v1/clusterroles/ours-1",
                "get /apis/rbac.authorization.k8s.io/v1/clusterroles/ours-2",
                "get /api/v1/namespaces/ns-a/configmaps/one", "get /api/v1/namespaces/ns-b/configmaps/one",
            ] && plain.count == 5, "\(plain)")

        // Credentials that may read but not list ConfigMaps across namespaces: the lone ConfigMaps by a GET each.
        try await cluster.kubectlChecked(
            ["apply", "-f", "-"],
            input: """
                {"apiVersion": "v1", "kind": "List", "items": [
                 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "panda"},
                  "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"]},
                   {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "patch"]},
                   {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"],
                    "verbs": ["get", "list", "patch"]}]},
                 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                  "metadata": {"name": "panda"},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "panda"},
                  "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "panda"}]}]}
                """)
        let token = try cluster.token()
        let port = try #require(cluster.apiPorts["us-sanjose-1"])
        let pandaConfig = try work.write(
            "panda.kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster: {server: "https://127.0.0.1:\(port)", certificate-authority: "\(cluster.caPath)"}
            users:
            - name: panda
              user: {token: "\(token)", as: panda}
            contexts:
            - name: panda
              context: {cluster: c, user: panda}
            current-context: panda
            """)
        let panda = try RegionClient(
            RegionTarget(name: "us-sanjose-1", kubeconfig: pandaConfig.path, context: "panda"),
            logger: Logger(label: "test"))
        start = try auditLines()
        let limited = try await panda.diff(
            desired: desired, options: DiffOptions(mode: .serverSide), inventory: inventory, ledger: ledger,
            readAhead: try await panda.readAhead(inventory, forProofs: true))
        #expect(classes(limited) == expected, "\(limited)")
        let pandaReads = try auditedRequests(from: start).filter(objectReads)
        #expect(
            pandaReads.filter { $0.uri.hasPrefix("/api/v1/namespaces/ns-") && $0.verb == "get" }.count == 2,
            "\(pandaReads)")
    }

    /// A list across namespaces for metadata also holds the objects of a namespace listed whole: those keep their
    /// bytes, so one that no proof settles is compared from them, never read again.
    @Test func aMetadataListNeverReplacesTheBytesOfANamespaceListedWhole() async throws {
        let (work, audit, cluster) = try await Self.auditedCluster(
            "region-diff-overlap", namespaces: ["ns-a", "ns-b", "ns-x"])
        defer { withExtendedLifetime(work) {} }
        let (desired, inventory, client) = try await Self.applied(
            [
                Self.configMap("ns-a", "one"), Self.configMap("ns-b", "one"), Self.configMap("ns-x", "pair-1"),
                Self.configMap("ns-x", "pair-2"),
            ], in: cluster)
        // Proofs of the lone ConfigMaps only: the pair in ns-x is compared in full.
        let ledger = try await Self.proofs(of: desired.filter { $0.namespace != "ns-x" }, client: client)
        for attempt in 0..<5 {
            let start = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").count
            let result = try await client.diff(
                desired: desired, options: DiffOptions(mode: .serverSide), inventory: inventory, ledger: ledger,
                readAhead: try await client.readAhead(inventory, forProofs: true))
            #expect(result.resources.allSatisfy { $0.drift == .inSync }, "\(result)")
            let reads = try Self.syncagentRequests(audit, from: start).filter {
                $0.uri.contains("configmaps") && !$0.uri.contains("syncagent-system")
            }
            #expect(
                Set(reads.map { "\($0.verb) \($0.uri)" }) == [
                    "list /api/v1/namespaces/ns-x/configmaps?limit=12", "list /api/v1/configmaps?limit=12",
                ] && reads.count == 2, "attempt \(attempt): \(reads)")
        }
    }
}
