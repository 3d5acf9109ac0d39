import Differ
import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// `isInSyncWithoutDryRun`: the server-side mode's shortcut must never hide drift.
@Suite struct ClientSideCheckTests {
    static let desired = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default, labels: {app: web}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
        """

    /// Live as the server holds `desired` after syncagent applied it: defaults filled, syncagent's Apply entry.
    static func live(
        replicas: Int = 2, extraLabel: Bool = false, ownedExtra: Bool = false, manager: String = "syncagent",
        lastApplied: Bool = false, sidecar: Bool = false
    ) throws -> Value {
        var labels = #""f:app": {}"#
        if ownedExtra { labels += #", "f:team": {}"# }
        let annotations = lastApplied ? "\n  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{}'}" : ""
        let sidecarItem = sidecar ? #", {name: envoy, image: "envoy:1.30"}"# : ""
        let text = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: default
              labels: {app: web\(extraLabel || ownedExtra ? ", team: mesh" : "")}\(annotations)
              managedFields:
              - manager: \(manager)
                operation: Apply
                apiVersion: apps/v1
                time: "2025-01-01T10:00:00Z"
                fieldsType: FieldsV1
                fieldsV1: {"f:metadata": {"f:labels": {\(labels)}}, "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:containers": {"k:{\\"name\\":\\"web\\"}": {".": {}, "f:name": {}, "f:image": {}, "f:ports": {"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}": {".": {}, "f:containerPort": {}}}}}}}}}
            spec:
              replicas: \(replicas)
              revisionHistoryLimit: 10
              progressDeadlineSeconds: 600
              strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - {name: web, image: "nginx:1.27", imagePullPolicy: IfNotPresent, ports: [{containerPort: 80, protocol: TCP}]}\(sidecarItem)
                  restartPolicy: Always
                  dnsPolicy: ClusterFirst
            status: {replicas: 2}
            """
        return try YAML.loadValue(Array(text.utf8), file: "live.yaml")
    }

    func resource(_ text: String = desired) throws -> Resource {
        try Resource(body: try YAML.loadValue(Array(text.utf8), file: "desired.yaml"))
    }

    @Test func anAppliedObjectWithOnlyDefaultsAndOthersFieldsNeedsNoDryRun() throws {
        #expect(isInSyncWithoutDryRun(desired: try resource(), live: try Self.live()))
        // A label or sidecar only live has, that syncagent never applied, is not drift either.
        #expect(isInSyncWithoutDryRun(desired: try resource(), live: try Self.live(extraLabel: true)))
    }

    @Test(arguments: [
        ("a value the manifest sets differs live", 3, false, "syncagent", false),
        ("a field syncagent applied that the manifest no longer sets", 2, true, "syncagent", false),
        ("syncagent never applied it", 2, false, "kubectl", false),
        ("a last-applied annotation speaks for other removals", 2, false, "syncagent", true),
    ])
    func lookingChangedAsksTheServer(
        _ reason: String, replicas: Int, ownedExtra: Bool, manager: String, lastApplied: Bool
    )
        throws
    {
        let live = try Self.live(replicas: replicas, ownedExtra: ownedExtra, manager: manager, lastApplied: lastApplied)
        #expect(!isInSyncWithoutDryRun(desired: try resource(), live: live), "\(reason)")
    }

    /// A Namespace by its name alone sets no field: its apply stores nothing (the server keeps no empty
    /// managedFields entry), so it needs no dry run once the server tracks the object's fields at all. A label, a
    /// field syncagent applied before, or an object without managedFields (its first apply records them) still asks.
    @Test func aManifestThatSetsNoFieldNeedsNoDryRun() throws {
        func namespace(_ metadata: String) throws -> Value {
            try YAML.loadValue(
                Array(
                    "apiVersion: v1\nkind: Namespace\nmetadata: \(metadata)\nspec: {finalizers: [kubernetes]}\n".utf8),
                file: "live.yaml")
        }
        let before = """
            {name: team-00, labels: {kubernetes.io/metadata.name: team-00}, managedFields: [{manager: before-first-apply, \
            operation: Update, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {"f:metadata": {"f:labels": \
            {"f:kubernetes.io/metadata.name": {}}}, "f:spec": {"f:finalizers": {"v:\\"kubernetes\\"": {}}}}}]}
            """
        let byName = try resource("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-00}\n")
        #expect(isInSyncWithoutDryRun(desired: byName, live: try namespace(before)))
        let labelled = try resource("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-00, labels: {team: a}}\n")
        #expect(!isInSyncWithoutDryRun(desired: labelled, live: try namespace(before)))
        #expect(!isInSyncWithoutDryRun(desired: byName, live: try namespace("{name: team-00}")))
        let appliedLabel = """
            {name: team-00, labels: {team: a}, managedFields: [{manager: syncagent, operation: Apply, apiVersion: v1, \
            fieldsType: FieldsV1, fieldsV1: {"f:metadata": {"f:labels": {"f:team": {}}}}}]}
            """
        #expect(!isInSyncWithoutDryRun(desired: byName, live: try namespace(appliedLabel)))
    }

    /// A diff asks whether an apply would change a value, not whether it would write: a Namespace by its name alone
    /// on a Namespace without managedFields (as the server leaves one created by that very apply) is in sync with no
    /// dry run, though the settle check still sends it (its first apply records `before-first-apply`). A label to
    /// set, a label syncagent applied before, or a Secret still go to the server.
    @Test func aDiffTakesAnApplyThatWouldWriteOnlyBookkeeping() throws {
        func live(_ metadata: String, kind: String = "Namespace") throws -> Value {
            try YAML.loadValue(
                Array("apiVersion: v1\nkind: \(kind)\nmetadata: \(metadata)\nspec: {finalizers: [kubernetes]}\n".utf8),
                file: "live.yaml")
        }
        let options = DiffOptions(mode: .serverSide)
        let created = try live(
            "{name: team-00, uid: u-1, resourceVersion: '8', labels: {kubernetes.io/metadata.name: team-00}}")
        let byName = try resource("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-00}\n")
        #expect(diffWithoutDryRun(desired: byName, live: created, options: options, ownership: .everything) == nil)
        let shown = diffWithoutDryRun(
            desired: byName, live: created, options: options, ownership: .everything, bookkeepingWrites: true)
        #expect(shown?.drift == .inSync)
        #expect(shown?.changes == [])
        #expect(!isInSyncWithoutDryRun(desired: byName, live: created))

        let labelled = try resource("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-00, labels: {team: a}}\n")
        #expect(
            diffWithoutDryRun(
                desired: labelled, live: created, options: options, ownership: .everything, bookkeepingWrites: true)
                == nil)
        let appliedLabel = try live(
            """
            {name: team-00, labels: {team: a}, managedFields: [{manager: syncagent, operation: Apply, apiVersion: v1, \
            fieldsType: FieldsV1, fieldsV1: {"f:metadata": {"f:labels": {"f:team": {}}}}}]}
            """)
        #expect(
            diffWithoutDryRun(
                desired: byName, live: appliedLabel, options: options, ownership: .everything, bookkeepingWrites: true)
                == nil)
        let secret = try resource("apiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: team-00}\n")
        #expect(
            diffWithoutDryRun(
                desired: secret, live: try live("{name: token, namespace: team-00}", kind: "Secret"), options: options,
                ownership: .everything, bookkeepingWrites: true) == nil)
    }

    @Test func aChangedImageOrAnAddedContainerPortAsksTheServer() throws {
        let image = Self.desired.replacingOccurrences(of: "nginx:1.27", with: "nginx:1.28")
        #expect(!isInSyncWithoutDryRun(desired: try resource(image), live: try Self.live()))
        let port = Self.desired.replacingOccurrences(
            of: "[{containerPort: 80}]", with: "[{containerPort: 80}, {containerPort: 443}]")
        #expect(!isInSyncWithoutDryRun(desired: try resource(port), live: try Self.live()))
    }

    @Test func webhookMutationsShownOnRequestAlwaysAskTheServer() throws {
        var options = DiffOptions()
        options.ignoreMutationWebhook = false
        #expect(!isInSyncWithoutDryRun(desired: try resource(), live: try Self.live(), options: options))
    }

    @Test func aChangedSecretValueAsksTheServer() throws {
        let desired = try resource(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: default}\nstringData: {password: new}\n")
        let live = try YAML.loadValue(
            Array(
                """
                apiVersion: v1
                kind: Secret
                metadata:
                  name: db
                  namespace: default
                  managedFields:
                  - {manager: syncagent, operation: Apply, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {"f:stringData": {"f:password": {}}}}
                type: Opaque
                data: {password: b2xk}
                """.utf8), file: "live.yaml")
        #expect(!isInSyncWithoutDryRun(desired: desired, live: live))
        var same = live
        same["data"] = ["password": "bmV3"]
        #expect(isInSyncWithoutDryRun(desired: desired, live: same))
    }

    /// Over the upstream corpus: whenever the shortcut says "in sync", the full server-side comparison (with the
    /// case's prediction) finds nothing either.
    @Test(arguments: driftChecks.filter { $0.predicted != nil && mockedPredictions[$0.folder] == nil })
    func neverDisagreesWithTheDryRun(_ check: DriftCheck) throws {
        let desired = try corpusObjects(check.config).map { try Resource(body: $0) }
        let live = try corpusObjects(check.live)
        guard let predictedPath = check.predicted else { return }
        var predicted: [ObjectKey: Value] = [:]
        for object in try corpusObjects(predictedPath) { predicted[try Resource(body: object).key] = object }
        var options = try diffOptions(check)
        options.ignore = []
        let full = diff(
            region: "corpus", desired: desired, live: live, predicted: predicted, options: options,
            ownership: .everything)
        for resource in desired {
            guard let found = live.first(where: { (try? Resource(body: $0).key) == resource.key }) else { continue }
            if isInSyncWithoutDryRun(desired: resource, live: found, options: options) {
                let result = full.resources.first { $0.ref.key == resource.key }
                #expect(result?.changes.isEmpty == true, "shortcut hid drift: \(result.map(\.description) ?? "")")
            }
        }
    }
}

/// Corpus cases whose mocked dry-run result is not what a server would return, so the shortcut (which reasons about
/// a real server) cannot be held to them.
let mockedPredictions: [String: String] = [
    "diff/gitops-engine/ssd-service-mutation-webhook":
        "the config sets label app.kubernetes.io/instance=httpbin, live has it, yet the mocked prediction drops it"
]
