import AgentWebhook
import Foundation
import KubeYAML
import SyncCore
import TestSupport
import Testing

@testable import RolloutEngine
@testable import SyncAgent

/// Pure parts of the agent: webhook verification, durations, the configuration's gates and policy.
struct AgentUnitTests {
    static let secret = Array("s3cret".utf8)
    static let push = Array(#"{"ref":"refs/heads/main","after":"abc123"}"#.utf8)

    @Test func aGitHubSignatureMustMatchTheBody() {
        let signature = Webhook.signature(body: Self.push, secret: Self.secret)
        #expect(signature.hasPrefix("sha256=") && signature.count == 7 + 64)
        let good = Webhook.verify(
            headers: ["x-hub-signature-256": signature, "x-github-event": "push"], body: Self.push,
            secret: Self.secret, branch: "main")
        #expect(good == .push(ref: "refs/heads/main", after: "abc123"))
        // One byte of the body changed: refused.
        var tampered = Self.push
        tampered[tampered.count - 3] = UInt8(ascii: "9")
        let bad = Webhook.verify(
            headers: ["x-hub-signature-256": signature], body: tampered, secret: Self.secret, branch: "main")
        #expect(bad == .refused("the signature does not match the body"))
        // Signed with another secret, malformed, missing, or no secret configured: refused.
        let other = Webhook.signature(body: Self.push, secret: Array("other".utf8))
        #expect(
            Webhook.verify(
                headers: ["x-hub-signature-256": other], body: Self.push, secret: Self.secret, branch: "main")
                == .refused("the signature does not match the body"))
        #expect(
            Webhook.verify(
                headers: ["x-hub-signature-256": "sha1=00"], body: Self.push, secret: Self.secret, branch: "main")
                == .refused("X-Hub-Signature-256 is not sha256=<hex>"))
        #expect(
            Webhook.verify(headers: [:], body: Self.push, secret: Self.secret, branch: "main")
                == .refused("no X-Hub-Signature-256 or X-Gitlab-Token header"))
        #expect(
            Webhook.verify(headers: ["x-hub-signature-256": signature], body: Self.push, secret: [], branch: "main")
                == .refused("no webhook secret is configured"))
    }

    @Test func aGitLabTokenPingsAndOtherBranchesAreJudged() {
        let gitlab = Webhook.verify(
            headers: ["x-gitlab-token": "s3cret", "x-gitlab-event": "Push Hook"], body: Self.push, secret: Self.secret,
            branch: "main")
        #expect(gitlab == .push(ref: "refs/heads/main", after: "abc123"))
        #expect(
            Webhook.verify(headers: ["x-gitlab-token": "s3cre"], body: Self.push, secret: Self.secret, branch: "main")
                == .refused("X-Gitlab-Token does not match"))
        let ping = Array(#"{"zen":"hi"}"#.utf8)
        #expect(
            Webhook.verify(
                headers: [
                    "x-hub-signature-256": Webhook.signature(body: ping, secret: Self.secret), "x-github-event": "ping",
                ],
                body: ping, secret: Self.secret, branch: "main") == .ignored("ping"))
        #expect(
            Webhook.verify(
                headers: ["x-hub-signature-256": Webhook.signature(body: Self.push, secret: Self.secret)],
                body: Self.push, secret: Self.secret, branch: "release")
                == .ignored("a push to refs/heads/main, not refs/heads/release"))
        #expect(Webhook.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Webhook.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Webhook.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)), ("1h", .seconds(3600)),
        ("1m30s", .seconds(90)), ("0s", .zero), ("2", .seconds(2)), ("1.5s", .milliseconds(1500)),
    ])
    func durations(text: String, expected: Duration) {
        #expect(parseDuration(text) == expected)
    }

    @Test func unreadableDurationsAreRefused() {
        for text in ["", "5x", "m", "-1s", "10 minutes", "5m3"] { #expect(parseDuration(text) == nil, "\(text)") }
    }

    static func config(_ text: String) throws -> AgentConfig {
        let documents = try YAML.load(Array(text.utf8), file: "syncagent.yaml")
        return try AgentConfig(try #require(documents.first))
    }

    @Test func defaultGatesApplyToEveryRegionWithItsNameFilledIn() throws {
        let config = try Self.config(
            """
            repo: {url: "file:///srv/mesh.git", pollInterval: 10s, tokenFile: /run/token}
            regions:
              - {name: us-sanjose-1}
              - name: us-chicago-1
                gates: {readinessTimeout: 1m}
            gates:
              readinessTimeout: 2m
              prometheus:
                url: http://prometheus.{region}:9090
                bakeTime: 30s
                checks:
                  - {name: error-rate, query: 'x{cluster="{region}"}', threshold: 0.05, valueWhenEmpty: 0}
                  - {name: p99, query: up, operator: "<=", threshold: 1000}
              probes: [{url: "http://{region}.example/healthz"}]
            sync: {prune: false, selfHeal: true, allowedKinds: [apps/Deployment], allowedNamespaces: [bookinfo]}
            agent: {listen: "0.0.0.0:9464", driftInterval: 1m}
            """)
        #expect(config.repo?.pollInterval == .seconds(10))
        #expect(config.repo?.branch == "main")
        let sanJose = try #require(config.region("us-sanjose-1"))
        #expect(sanJose.gates.readinessTimeout == .seconds(120))
        let gate = try #require(sanJose.gates.metrics)
        #expect(gate.prometheusURL == "http://prometheus.us-sanjose-1:9090")
        #expect(gate.checks.map(\.query) == [#"x{cluster="us-sanjose-1"}"#, "up"])
        #expect(gate.checks[0].valueWhenEmpty == 0)
        #expect(gate.checks[1].comparison == .lessThanOrEqual)
        #expect(gate.bakeTime == .seconds(30))
        #expect(gate.interval == .seconds(10))
        #expect(gate.failOpen == false)  // fail closed unless told otherwise
        #expect(gate.probes.map(\.url) == ["http://us-sanjose-1.example/healthz"])
        // A region's own gates replace the defaults whole.
        let chicago = try #require(config.region("us-chicago-1"))
        #expect(chicago.gates.readinessTimeout == .seconds(60))
        #expect(chicago.gates.metrics == nil)
        #expect(config.sync.prune == false && config.sync.selfHeal == true)
        #expect(config.agent.listen == "0.0.0.0:9464")
        #expect(config.agent.driftInterval == .seconds(60))
    }

    @Test(arguments: [
        (
            "regions: [{name: a}]\ngates: {prometheus: {url: x, checks: [{name: c, query: q}]}}\n",
            "syncagent.yaml:2:39: missing required key \"threshold\""
        ),
        (
            "regions: [{name: a}]\ngates: {readinessTimeout: soon}\n",
            "syncagent.yaml:2:27: \"readinessTimeout\" must be a duration such as 500ms, 30s, 5m or 1h, at most 8760h (a year)"
        ),
        // Numbers too large for their type are config errors, never a trap (SIGILL) in the conversion.
        (
            "regions: [{name: a}]\nrepo: {url: x, branch: main, pollInterval: \"1e30\"}\n",
            "syncagent.yaml:2:44: \"pollInterval\" must be a duration such as 500ms, 30s, 5m or 1h, at most 8760h (a year)"
        ),
        (
            "regions: [{name: a}]\nrepo: {url: x, branch: main, pollInterval: inf}\n",
            "syncagent.yaml:2:44: \"pollInterval\" must be a duration such as 500ms, 30s, 5m or 1h, at most 8760h (a year)"
        ),
        (
            "regions: [{name: a}]\ngates: {readinessTimeout: 99999999999999999999h}\n",
            "syncagent.yaml:2:27: \"readinessTimeout\" must be a duration such as 500ms, 30s, 5m or 1h, at most 8760h (a year)"
        ),
        (
            "regions: [{name: a}]\ngates: {probes: [{url: x, expectedStatus: 1e30}]}\n",
            "syncagent.yaml:2:43: \"expectedStatus\" must be a whole number from 100 to 599"
        ),
        (
            "regions: [{name: a}]\ngates: {prometheus: {url: x, checks: [{name: c, query: q, threshold: .nan}]}}\n",
            "syncagent.yaml:2:70: unsupported value .nan: JSON has no infinity or NaN (quote it to keep the text)"
        ),
        (
            "regions: [{name: a}]\nsync: {maxPrune: 1e300}\n",
            "syncagent.yaml:2:18: \"maxPrune\" must be a whole number from 0 to 1000000"
        ),
        (
            "regions: [{name: a}]\ngates: {prometheus: {url: x, onUnreachable: maybe, checks: [{name: c, query: q, threshold: 1}]}}\n",
            "syncagent.yaml:2:45: must be fail or pass"
        ),
        ("regions: [{name: a}, {name: a}]\n", "syncagent.yaml:1:29: region \"a\" is listed twice"),
        ("regions: [{name: a}]\nsync: {prune: sometimes}\n", "syncagent.yaml:2:15: \"prune\" must be true or false"),
        (
            "regions: [{name: a}]\nsync: {purge: true}\n",
            "syncagent.yaml:2:8: unknown key \"purge\" (allowed here: adopt, allowEmpty, allowedKinds, allowedNamespaces, maxPrune, prune, selfHeal)"
        ),
        (
            "repo: {url: x, timeout: 0s}\nregions: [{name: a}]\n",
            "syncagent.yaml:1:25: must be between 1s and 1h (the deadline of one Git fetch)"
        ),
        (
            "repo: {url: x, limits: {maxObjects: 0}}\nregions: [{name: a}]\n",
            "syncagent.yaml:1:37: \"maxObjects\" must be a whole number from 1 to 1000000"
        ),
        (
            "regions: [{name: a}]\nagent: {listen: nowhere}\n",
            "syncagent.yaml:2:17: expected HOST:PORT, e.g. 127.0.0.1:9464"
        ),
        // The HTTP endpoint's limits are range-checked: no cap of 0 or of 1e30 connections, no body limit a
        // GitHub delivery cannot fit or that would let a client make the agent buffer gigabytes, no zero timeout.
        (
            "regions: [{name: a}]\nagent: {maxConnections: 0}\n",
            "syncagent.yaml:2:25: \"maxConnections\" must be a whole number from 1 to 10000"
        ),
        (
            "regions: [{name: a}]\nagent: {maxConnections: 1e30}\n",
            "syncagent.yaml:2:25: \"maxConnections\" must be a whole number from 1 to 10000"
        ),
        (
            "regions: [{name: a}]\nagent: {webhookBodyLimit: 4294967296}\n",
            "syncagent.yaml:2:27: \"webhookBodyLimit\" must be a whole number from 1024 to 26214400"
        ),
        ("regions: [{name: a}]\nagent: {idleTimeout: 0s}\n", "syncagent.yaml:2:22: must be above 0s"),
        (
            "regions: [{name: a}]\nagent: {requestTimeout: forever}\n",
            "syncagent.yaml:2:25: \"requestTimeout\" must be a duration such as 500ms, 30s, 5m or 1h, at most 8760h (a year)"
        ),
    ])
    func badConfigurationNamesThePlace(text: String, message: String) {
        #expect(throws: (any Error).self) { try Self.config(text) }
        do {
            _ = try Self.config(text)
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func theHTTPEndpointsLimitsHaveDefaultsAndAreRead() throws {
        let defaults = try Self.config("regions: [{name: a}]\n").agent
        #expect(defaults.webhookBodyLimit == 1 << 20)
        #expect(defaults.idleTimeout == .seconds(30))
        #expect(defaults.requestTimeout == .seconds(10))
        #expect(defaults.maxConnections == 64)
        let set = try Self.config(
            "regions: [{name: a}]\n"
                + "agent: {webhookBodyLimit: 65536, idleTimeout: 1s, requestTimeout: 500ms, maxConnections: 4}\n"
        ).agent
        #expect(set.webhookBodyLimit == 65536)
        #expect(set.idleTimeout == .seconds(1))
        #expect(set.requestTimeout == .milliseconds(500))
        #expect(set.maxConnections == 4)
    }

    /// Every string of `/status` is scrubbed where it is rendered: messages and problems quote errors from Git,
    /// clusters and gates, whatever those did or did not scrub themselves.
    @Test func statusTextCarriesNoCredentials() throws {
        let sha = String(repeating: "a1", count: 20)
        let someone = Signature(name: "Dana", email: "dana@example.invalid", time: Date())
        var report = RolloutReport(
            revision: Revision(sha: sha, author: someone, committer: someone, message: "Bump", parents: []),
            dryRun: false)
        report.regions = [
            RegionOutcome(
                region: "us-sanjose-1", result: .unavailable,
                message: "request to https://admin:hunter2@oke.example/api?access_token=tok3n-value failed"),
            RegionOutcome(
                region: "us-chicago-1", result: .failed,
                message: "networking.istio.io/v1/VirtualService bookinfo/reviews: apply failed (Forbidden): "
                    + "webhook said Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl refused"),
        ]
        report.invalid = [
            #"config: {"password": "hunter2", "url": "https://ghp_0123456789abcdefghijABCDEFGHIJ@github.com/x"}"#
        ]
        let status = AgentHTTP.statusJSON(report.json)
        for secret in ["hunter2", "tok3n-value", "eyJhbGciOiJIUzI1NiJ9", "ghp_0123456789"] {
            #expect(!status.contains(secret), "\(secret) in \(status)")
        }
        // What names the revision and the objects is kept.
        #expect(status.contains(sha))
        #expect(status.contains("networking.istio.io/v1/VirtualService bookinfo/reviews: apply failed (Forbidden)"))
        #expect(status.contains("https://admin:***@oke.example/api?access_token=***"), "\(status)")
        #expect(status.contains("Authorization: Bearer *** refused"), "\(status)")
        #expect(try Value(json: status)["regions"]?.arrayValue?.count == 2)  // still JSON
    }

    @Test func textADeliveryBringsIsShownPrintableScrubbedAndShort() {
        #expect(Webhook.shown("refs/heads/feature") == "refs/heads/feature")
        #expect(Webhook.shown("push\r\nfake: log line") == "push??fake: log line")
        #expect(Webhook.shown("token=abcdef0123") == "token=***")
        let long = Webhook.shown(String(repeating: "r", count: 500))
        #expect(long.count == 101 && long.hasSuffix("…"))
        let ignored = Webhook.verify(
            headers: [
                "x-hub-signature-256": Webhook.signature(body: Self.push, secret: Self.secret),
                "x-github-event": "deploy\nsecret=hunter2",
            ],
            body: Self.push, secret: Self.secret, branch: "main")
        #expect(ignored == .ignored("event deploy?secret=***"))
    }

    @Test func theCheckedInConfigurationsParse() throws {
        let seed = try AgentConfig.load(file: packageRoot.appendingPathComponent("config/syncagent.yaml").path)
        #expect(seed.regions.map(\.name) == ["us-sanjose-1", "us-chicago-1"])
        let gate = try #require(seed.region("us-chicago-1")?.gates.metrics)
        #expect(gate.checks.map(\.name) == ["error-rate", "p99-latency"])
        #expect(gate.checks[0].threshold == 0.05 && gate.checks[1].threshold == 1000)
        #expect(gate.checks[0].query.contains(#"destination_cluster="us-chicago-1""#))
        #expect(gate.bakeTime == .seconds(300) && !gate.failOpen)
        // The demo's template, with its placeholders filled in as scripts/demo.sh does.
        let template = try String(
            contentsOf: packageRoot.appendingPathComponent("config/demo/syncagent.yaml"), encoding: .utf8)
        let demo = try Self.config(template.replacingOccurrences(of: "@LISTEN@", with: "127.0.0.1:9464"))
        #expect(demo.sync.allowedNamespaces == ["bookinfo"])
        #expect(demo.repo?.pollInterval == .seconds(2))
    }

    @Test func thePolicyRefusesKindsAndNamespacesItDoesNotAllow() throws {
        var config = try Self.config("regions: [{name: a}]\n")
        config.sync.allowedKinds = ["apps/Deployment", "Service", "networking.istio.io/*", "Namespace"]
        config.sync.allowedNamespaces = ["bookinfo"]
        let rollout = Rollout(config: config.rollout, logger: .init(label: "test"))
        let resources = try [
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: bookinfo}\n",
            "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: kube-system}\n",
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: bookinfo}\n",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: bookinfo}\n",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: bookinfo}\n",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
        ].map { try Resource(body: try #require(try YAML.load(Array($0.utf8), file: "f.yaml").first).value) }
        #expect(
            rollout.policyViolations(resources) == [
                "v1/Service kube-system/s: namespace kube-system is not in sync.allowedNamespaces",
                "v1/Secret bookinfo/x: kind Secret is not in sync.allowedKinds",
                "v1/Namespace other: namespace other is not in sync.allowedNamespaces",
            ])
    }

    static func resources(_ documents: [String]) throws -> [Resource] {
        try documents.map {
            try Resource(body: try #require(try YAML.load(Array($0.utf8), file: "f.yaml").first).value)
        }
    }

    @Test func withAllowedNamespacesObjectsWithoutANamespaceAndClusterScopedKindsNeedAnExplicitEntry() throws {
        var config = try Self.config("regions: [{name: a}]\n")
        config.sync.allowedNamespaces = ["bookinfo"]
        config.sync.allowedKinds = ["rbac.authorization.k8s.io/*", "", "/ConfigMap", "example.com/Widget"]
        let resources = try Self.resources([
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: admin}\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loose}\n",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n",
        ])
        let problems = Rollout(config: config.rollout, logger: .init(label: "test")).policyViolations(resources)
        #expect(problems.count == 4, "\(problems)")
        #expect(problems.contains { $0.contains("ClusterRoleBinding admin: cluster-scoped kind") })
        #expect(problems.contains { $0.contains("ConfigMap loose: has no namespace") })
        // Unknown scope (no CRD in the revision): a namespace is needed, whatever allowedKinds says.
        #expect(problems.contains { $0.contains("Widget w: has no namespace, and syncagent cannot tell") })
        #expect(problems.contains { $0.contains("Gadget g: kind example.com/Gadget is not in sync.allowedKinds") })

        // Listed explicitly, and declared cluster-scoped by a CRD in the same revision: allowed.
        config.sync.allowedKinds = [
            "rbac.authorization.k8s.io/ClusterRoleBinding", "example.com/Widget", "apiextensions.k8s.io/*",
        ]
        let crd = try Self.resources([
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
                + "spec: {group: example.com, scope: Cluster, names: {kind: Widget, plural: widgets}}\n"
        ])
        let allowed = Rollout(config: config.rollout, logger: .init(label: "test")).policyViolations(
            [resources[0], resources[2]] + crd)
        // The CRD itself is cluster-scoped and only matched by a wildcard: refused; the other two pass.
        #expect(allowed.count == 1, "\(allowed)")
        #expect(allowed.first?.contains("CustomResourceDefinition widgets.example.com: cluster-scoped kind") == true)
    }

    @Test func syncagentSystemIsReservedWhateverThePolicy() throws {
        let config = try Self.config("regions: [{name: a}]\n")
        let resources = try Self.resources([
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: syncagent-inventory, namespace: syncagent-system}\n",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: syncagent-system}\n",
        ])
        let problems = Rollout(config: config.rollout, logger: .init(label: "test")).policyViolations(resources)
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { $0.contains("reserved for syncagent's own records") }, "\(problems)")
    }

    @Test func pruneCandidatesOutsideThePolicyAreKeptAndReported() throws {
        var config = try Self.config("regions: [{name: a}]\n")
        config.sync.allowedNamespaces = ["bookinfo"]
        let rollout = Rollout(config: config.rollout, logger: .init(label: "test"))
        let candidates = [
            ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "bookinfo", name: "old"),
            ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "kube-system", name: "coredns"),
            ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "syncagent-system", name: "syncagent-status"),
            ObjectRef(apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", namespace: "", name: "admin"),
        ]
        let (allowed, refused) = rollout.prunable(candidates, desired: [])
        #expect(allowed == [candidates[0]])
        #expect(refused.count == 3, "\(refused)")
        #expect(refused.allSatisfy { $0.contains("not pruned") })
    }

    @Test func aRevisionThatEmptiesARegionOrPrunesTooMuchIsRefusedUnlessAllowed() throws {
        var config = try Self.config("regions: [{name: a}]\n")
        let owned = (0..<40).map { ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "app", name: "c\($0)") }
        let inventory = Inventory(revision: String(repeating: "a", count: 40), time: "t", objects: owned)
        let keep = try Self.resources(
            (0..<29).map { "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c\($0), namespace: app}\n" })
        var rollout = Rollout(config: config.rollout, logger: .init(label: "test"))

        let empty = rollout.massDeletion(region: "a", desired: [], inventory)
        #expect(empty?.contains("renders no objects for this region, whose inventory lists 40") == true)
        #expect(empty?.contains("sync.allowEmpty: true") == true)
        #expect(rollout.massDeletion(region: "a", desired: [], nil) == nil, "an empty region may stay empty")
        // 11 of 40 pruned: more than the default limit, max(10, 40 / 4) = 10.
        let many = rollout.massDeletion(region: "a", desired: keep, inventory)
        #expect(many?.contains("would prune 11 of the 40 objects") == true, "\(many ?? "nil")")
        #expect(many?.contains("(10)") == true)
        #expect(
            rollout.massDeletion(
                region: "a",
                desired: keep + [
                    try Self.resources([
                        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c29, namespace: app}\n"
                    ])[0]
                ], inventory) == nil, "10 prunes are within the limit")

        rollout.allowMassPrune = true
        #expect(rollout.massDeletion(region: "a", desired: keep, inventory) == nil)
        #expect(rollout.massDeletion(region: "a", desired: [], inventory) != nil, "--allow-mass-prune never empties")
        config.sync.allowEmpty = true
        config.sync.maxPrune = 5
        rollout = Rollout(config: config.rollout, logger: .init(label: "test"))
        #expect(rollout.massDeletion(region: "a", desired: [], inventory) == nil)
        #expect(rollout.massDeletion(region: "a", desired: keep, inventory)?.contains("allows (5)") == true)
    }

    @Test func theConfigFolderIsNormalisedAndMayNotLeaveTheRepository() throws {
        for spelling in ["./mesh", "/mesh", "mesh/", "mesh//"] {
            let config = try Self.config("repo: {url: file:///x, path: \"\(spelling)\"}\nregions: [{name: a}]\n")
            #expect(config.repo?.path == "mesh", "\(spelling)")
        }
        #expect(throws: (any Error).self) {
            try Self.config("repo: {url: file:///x, path: ../up}\nregions: [{name: a}]\n")
        }
        let limits = try Self.config("regions: [{name: a}]\nsync: {maxPrune: 3, allowEmpty: true}\n")
        #expect(limits.sync.maxPrune == 3 && limits.sync.allowEmpty)
        #expect(throws: (any Error).self) { try Self.config("regions: [{name: a}]\nsync: {maxPrune: -1}\n") }
    }
}

/// The region record's history: carried by every write, capped, never erased; revisions read back are commit ids.
struct RegionStatusTests {
    static func sha(_ n: Int) -> String { String(repeating: String(n % 10), count: 40) }

    @Test func goodRevisionsAreCarriedCappedAndNeverErased() throws {
        var previous: RegionStatus? = nil
        for n in 0..<12 {
            let good = RegionStatus(revision: Self.sha(n), result: .synced, lastGoodRevision: Self.sha(n))
            previous = good.carrying(previous)
        }
        let history = previous?.goodRevisions.map(\.revision) ?? []
        #expect(history.count == RegionStatus.historyLength)
        #expect(history.first == Self.sha(11))
        // A failed or abandoned write without a good revision of its own keeps the last one.
        let failed = RegionStatus(revision: "f" + String(repeating: "0", count: 39), result: .failed).carrying(previous)
        #expect(failed.lastGoodRevision == Self.sha(11))
        #expect(failed.goodRevisions.map(\.revision) == history)
        // Re-gating the good revision itself failed: the target is the one before it.
        #expect(failed.rollbackTarget(excluding: Self.sha(11)) == Self.sha(10))

        let body = try #require(Resource(body: failed.configMap).body as Value?)
        let read = try #require(RegionStatus(configMap: body))
        #expect(read.goodRevisions.map(\.revision) == history)
        #expect(read.lastGoodRevision == Self.sha(11))
    }

    @Test func aGoodLocalFolderIsNoRollbackTargetAndErasesNone() throws {
        let commit = RegionStatus(revision: Self.sha(1), result: .synced, lastGoodRevision: Self.sha(1)).carrying(nil)
        // `sync --dir` passed its gates: its record says synced, but a folder cannot be checked out again.
        let local = RegionStatus(revision: "local-1796408902", result: .synced, lastGoodRevision: "local-1796408902")
            .carrying(commit)
        #expect(local.result == .synced && local.revision == "local-1796408902")
        #expect(local.lastGoodRevision == Self.sha(1))
        #expect(local.goodRevisions.map(\.revision) == [Self.sha(1)])
        let read = try #require(RegionStatus(configMap: local.configMap))
        #expect(read.warnings.isEmpty, "\(read.warnings)")
        #expect(read.rollbackTarget(excluding: "local-1796408902") == Self.sha(1))
        // With no commit before it, it records none.
        let first = RegionStatus(revision: "local-1", result: .synced, lastGoodRevision: "local-1").carrying(nil)
        #expect(first.lastGoodRevision == nil && first.goodRevisions.isEmpty)
    }

    @Test func aRevisionThatIsNotACommitIdIsIgnoredWithAWarning() throws {
        let body: Value = [
            "data": ["revision": "x", "result": "synced", "lastGoodRevision": "../../etc", "failedRevision": "HEAD"]
        ]
        let read = try #require(RegionStatus(configMap: body))
        #expect(read.lastGoodRevision == nil && read.failedRevision == nil)
        #expect(read.warnings.count == 2)
        #expect(read.rollbackTarget(excluding: "x") == nil)
    }

    /// The drift checker keeps an object common to the regions once, keeps a region's own version apart, and
    /// forgets what no region's revision holds any more.
    @Test func theRegionsShareTheRevisionsObjectsAndForgetOldOnes() {
        let store = SharedObjects()
        let key = ObjectKey(group: "", kind: "ConfigMap", namespace: "team-00", name: "a")
        let other = ObjectKey(group: "", kind: "ConfigMap", namespace: "team-00", name: "b")
        let one = Array(#"{"a":1}"#.utf8)
        let two = Array(#"{"a":2}"#.utf8)
        func address(_ bytes: ArraySlice<UInt8>?) -> UnsafeRawPointer? {
            bytes?.withUnsafeBytes { $0.baseAddress }
        }
        let sanJose = store.share([(key, one)], holder: "us-sanjose-1")
        var chicago = store.share([(key, one)], holder: "us-chicago-1")
        #expect(address(sanJose[key]) != nil && address(sanJose[key]) == address(chicago[key]))  // one copy
        // A region's own version is its own; the common one is still shared with whoever holds it. Of two objects
        // with one key, the first is kept.
        chicago = store.share(
            [(key, two), (other, Array("{}".utf8)), (other, Array("[]".utf8))], holder: "us-chicago-1")
        #expect(address(chicago[key]) != address(sanJose[key]) && chicago[key].map { Array($0) } == two)
        #expect(chicago[other].map { Array($0) } == Array("{}".utf8))
        #expect(sanJose[key].map { Array($0) } == one)
        store.prune()
        #expect(store.count == 2)  // both held by Chicago (and the key by San Jose)
        _ = store.share([], holder: "us-chicago-1")
        store.prune()
        #expect(store.count == 1)  // San Jose still holds the key
        _ = store.share([], holder: "us-sanjose-1")
        store.prune()
        #expect(store.count == 0)
        #expect(sanJose[key].map { Array($0) } == one)  // a region's own copy outlives the store's
    }
}
