import Applier
import Foundation
import Logging
import SyncCore
import Synchronization
import TestSupport
import Testing

/// The executor of a region plan against kubesim: apply (created / unchanged / configured), wait, prune, inventory.
@Suite
struct RegionApplierTests {
    /// Namespace, ConfigMap, Service and Deployment in namespace `shop`; `mode` and `image` vary.
    static func shop(mode: String = "blue", image: String = "nginx:1.27") throws -> [Resource] {
        try resources(
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop}
            data: {mode: \(mode)}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              selector: {app: web}
              ports: [{port: 80, targetPort: 8080}]
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: web, image: "\(image)"}]
            """)
    }

    static let deployment = ObjectRef(apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web")

    /// The plan for `desired`, ending with a wait until every applied object is ready.
    static func planWithWait(region: String, _ desired: [Resource], prune: [ObjectRef] = []) throws -> RegionPlan {
        var plan = try RegionPlan(region: region, desired: desired, pruneRefs: prune)
        if prune.isEmpty {
            plan.steps.append(
                .wait(WaitStep(condition: .ready, reason: .waveComplete, wave: 0, objects: plan.applied.map(\.ref))))
        }
        return plan
    }

    static func applier(_ sim: KubeSim, _ region: String) throws -> RegionApplier {
        RegionApplier(client: try sim.client(region), logger: Logger(label: "test"), pollInterval: .milliseconds(50))
    }

    @Test func appliesOnceThenLeavesUnchangedThenConfiguresTheChangeInEachRegion() async throws {
        let sim = try await KubeSim()
        let regions = ["us-sanjose-1", "us-chicago-1"]
        for region in regions {
            let applier = try Self.applier(sim, region)
            let plan = try Self.planWithWait(region: region, try Self.shop())
            let report = await applier.execute(plan, revision: "rev1", readinessTimeout: .seconds(20))
            #expect(report.failure == nil, "\(report)")
            #expect(report.changes.map(\.action) == [.created, .created, .created, .created], "\(report)")
            #expect(
                report.description.hasPrefix(
                    "region \(region) at rev1: 4 created, 0 configured, 0 unchanged, 0 pruned, 0 skipped\n"
                        + "  v1/Namespace shop created\n"))
            // The wait ended only once the Deployment rolled out.
            let live = try await applier.client.get(Self.deployment)
            #expect(assessHealth(live).isSuccessful, "\(assessHealth(live))")
            #expect(live.body[path: ["status", "availableReplicas"]]?.intValue == 2)
        }

        // A bare Namespace (only its name) applies no field, so the server keeps no managedFields entry for it, and at the next apply records the fields it defaulted under `before-first-apply` (kube-apiserver's skip-non-applied manager): that apply changes the object once.
        let chicago = try Self.applier(sim, "us-chicago-1")
        let settle = await chicago.execute(
            try Self.planWithWait(region: "us-chicago-1", try Self.shop()), revision: "rev1",
            readinessTimeout: .seconds(20))
        #expect(settle.changes.map(\.action) == [.configured, .unchanged, .unchanged, .unchanged], "\(settle)")
        // Re-run: nothing sent; the resourceVersions do not move.
        let before = try await chicago.client.get(Self.deployment).body[path: ["metadata", "resourceVersion"]]
        let rerun = await chicago.execute(
            try Self.planWithWait(region: "us-chicago-1", try Self.shop()), revision: "rev2",
            readinessTimeout: .seconds(20))
        #expect(rerun.failure == nil, "\(rerun)")
        #expect(rerun.changes.map(\.action) == [.unchanged, .unchanged, .unchanged, .unchanged], "\(rerun)")
        #expect(try await chicago.client.get(Self.deployment).body[path: ["metadata", "resourceVersion"]] == before)

        // One change in one region: only that object is configured, and only there.
        let changed = await chicago.execute(
            try Self.planWithWait(region: "us-chicago-1", try Self.shop(mode: "green")), revision: "rev3",
            readinessTimeout: .seconds(20))
        #expect(changed.failure == nil, "\(changed)")
        #expect(
            changed.changes.map(\.description) == [
                "v1/Namespace shop unchanged", "v1/ConfigMap shop/settings configured", "v1/Service shop/web unchanged",
                "apps/v1/Deployment shop/web unchanged",
            ])
        let settings = ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "settings")
        #expect(try await chicago.client.get(settings).body[path: ["data", "mode"]] == "green")
        let sanJose = try Self.applier(sim, "us-sanjose-1")
        #expect(try await sanJose.client.get(settings).body[path: ["data", "mode"]] == "blue")

        // The inventory records the revision, the time and the objects.
        let inventory = try #require(try await chicago.readInventory())
        #expect(inventory.revision == "rev3")
        #expect(!inventory.time.isEmpty)
        #expect(inventory.objects == (try Self.shop()).map(\.ref).sorted())
        #expect(changed.inventory == inventory)
        let text = try await sim.kubectlChecked(
            ["get", "configmap", "-n", "syncagent-system", "syncagent-inventory", "-o", "jsonpath={.data}"],
            region: "us-chicago-1")
        #expect(text.contains("rev3") && text.contains("settings"), "\(text)")
        #expect(try await sanJose.readInventory()?.revision == "rev1")
    }

    @Test func aBrokenImageFailsTheWaitWithProgressDeadlineExceeded() async throws {
        let sim = try await KubeSim()
        let applier = try Self.applier(sim, "us-sanjose-1")
        let plan = try Self.planWithWait(region: "us-sanjose-1", try Self.shop(image: "nginx:1.27-broken"))
        let clock = ContinuousClock()
        let started = clock.now
        // ProgressDeadlineExceeded comes after a few seconds; the wait's own timeout is far beyond it (a loaded 2-core
        // machine running every suite has taken 30 s to get there).
        let report = await applier.execute(plan, revision: "badc0de", readinessTimeout: .seconds(120))
        #expect(clock.now - started < .seconds(120))
        let failure = try #require(report.failure, "\(report)")
        #expect(failure.step == "wait")
        #expect(failure.object == Self.deployment)
        #expect(failure.message.contains("ProgressDeadlineExceeded"), "\(failure)")
        #expect(
            failure.description.hasPrefix(
                "region us-sanjose-1 at badc0de: step 5 (wait) failed on apps/v1/Deployment shop/web: not ready: "
                    + "failed (ProgressDeadlineExceeded)"), "\(failure)")
        #expect(report.inventory == nil)
        #expect(failure.cause == .revision)
        // A failed sync records no revision, but every object it may have created was recorded before it was
        // created, so a later sync (or a rollback) can prune them.
        let recorded = try #require(try await applier.readInventory())
        #expect(recorded.revision == "")
        #expect(recorded.pendingRevision == "badc0de")
        #expect(Set(recorded.objects) == Set(plan.applied.map(\.ref)))
    }

    @Test func aSecondSyncRecordsOnlyItsNewObjectsAheadAndDropsThePendingMarkOnSuccess() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let applier = try Self.applier(sim, "us-sanjose-1")
        let first = await applier.execute(
            try Self.planWithWait(region: "us-sanjose-1", try Self.shop()), revision: "rev1",
            readinessTimeout: .seconds(20))
        #expect(first.succeeded, "\(first)")
        let extra = try resources(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: shop}\ndata: {a: b}\n")
        let broken = try Self.shop(image: "nginx:1.27-broken") + extra
        let failed = await applier.execute(
            try Self.planWithWait(region: "us-sanjose-1", broken), revision: "rev2", readinessTimeout: .seconds(20))
        #expect(failed.failure?.step == "wait", "\(failed)")
        let pending = try #require(try await applier.readInventory())
        #expect(pending.revision == "rev1")  // still the last revision that finished
        #expect(pending.pendingRevision == "rev2")
        #expect(pending.objects.contains { $0.name == "extra" })
        let fixed = await applier.execute(
            try Self.planWithWait(region: "us-sanjose-1", try Self.shop() + extra), revision: "rev3",
            readinessTimeout: .seconds(20))
        #expect(fixed.succeeded, "\(fixed)")
        let done = try #require(try await applier.readInventory())
        #expect(done.revision == "rev3")
        #expect(done.pendingRevision == nil)
        #expect(done.objects.count == 5)
    }

    @Test func aWaitThatDoesNotFinishTimesOutNamingTheObject() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"], rolloutSeconds: 300)
        let applier = try Self.applier(sim, "us-sanjose-1")
        let plan = try Self.planWithWait(region: "us-sanjose-1", try Self.shop())
        let clock = ContinuousClock()
        let started = clock.now
        let report = await applier.execute(plan, revision: "slow", readinessTimeout: .milliseconds(800))
        // The rollout takes 300 s: ending well before that proves the 0.8 s timeout ended the wait. (The steps
        // before it have taken over 25 s on a loaded 2-core machine running every suite at once.)
        #expect(clock.now - started < .seconds(150))
        let failure = try #require(report.failure, "\(report)")
        #expect(failure.object == Self.deployment)
        #expect(failure.message.hasPrefix("not ready after 0.8 seconds: in progress"), "\(failure)")
    }

    @Test func prunesOnlyInventoryObjectsAndKeepsDisabledOnes() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let applier = try Self.applier(sim, "us-sanjose-1")
        let extra = try resources(
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: old, namespace: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: keep
              namespace: shop
              annotations: {syncagent.io/prune: disabled}
            """)
        let desired = try Self.shop()
        #expect(try await applier.pruneCandidates(desired: desired).isEmpty)  // no inventory yet
        let first = await applier.execute(
            try RegionPlan(region: "us-sanjose-1", desired: desired + extra), revision: "rev1",
            readinessTimeout: .seconds(20))
        #expect(first.failure == nil, "\(first)")
        // Made by hand with kubectl (kubesim does not decode `kubectl create configmap`'s protobuf body).
        try await sim.kubectlChecked(
            ["apply", "--server-side", "-f", "-"],
            input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: manual, namespace: shop}\ndata: {a: '1'}\n")

        let candidates = try await applier.pruneCandidates(desired: desired)
        let old = ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "old")
        let keep = ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "keep")
        let manual = ObjectRef(apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "manual")
        #expect(candidates == [keep, old])

        // Even when a plan asks to prune the kubectl-made object, it is not in the inventory, so it stays.
        let plan = try RegionPlan(region: "us-sanjose-1", desired: desired, pruneRefs: candidates + [manual])
        let report = await applier.execute(plan, revision: "rev2", readinessTimeout: .seconds(20))
        #expect(report.failure == nil, "\(report)")
        #expect(
            report.changes.filter { $0.action != .unchanged }.map(\.description).sorted() == [
                "v1/ConfigMap shop/keep skipped (syncagent.io/prune: disabled)",
                "v1/ConfigMap shop/manual skipped (not in the inventory)", "v1/ConfigMap shop/old pruned",
                // The bare Namespace's one change at its second apply (see the test above).
                "v1/Namespace shop configured",
            ])
        #expect(try await applier.client.getIfPresent(old) == nil)
        #expect(try await applier.client.getIfPresent(keep) != nil)
        #expect(try await applier.client.getIfPresent(manual) != nil)
        let inventory = try #require(try await applier.readInventory())
        #expect(inventory.revision == "rev2")
        #expect(inventory.objects == desired.map(\.ref).sorted())
        #expect(try await applier.pruneCandidates(desired: desired).isEmpty)
    }

    /// A CronTab CRD and the CronTab `nightly` (and `weekly`); `shortNames` changes the CRD.
    static func cronTabs(shortNames: String? = nil, weekly: Bool = true) throws -> [Resource] {
        try resources(
            """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: crontabs.stable.example.com}
            spec:
              group: stable.example.com
              scope: Namespaced
              names: {plural: crontabs, singular: crontab, kind: CronTab\(shortNames.map { ", shortNames: [\($0)]" } ?? "")}
              versions:
              - name: v1
                served: true
                storage: true
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
            ---
            apiVersion: stable.example.com/v1
            kind: CronTab
            metadata: {name: nightly, namespace: default}
            spec: {cronSpec: "0 3 * * *"}
            """
                + (weekly
                    ? "\n---\napiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: weekly, namespace: default}\n"
                    : ""))
    }

    @Test func waitsForADefinitionToBeEstablishedBeforeApplyingObjectsOfIt() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let applier = try Self.applier(sim, "us-sanjose-1")
        let desired = try Self.cronTabs(weekly: false)
        let plan = try RegionPlan(region: "us-sanjose-1", desired: desired)
        #expect(plan.waits.map(\.condition) == [.established])
        let report = await applier.execute(plan, revision: "crd1", readinessTimeout: .seconds(20))
        #expect(report.failure == nil, "\(report)")
        #expect(report.changes.map(\.action) == [.created, .created], "\(report)")
        #expect(try await applier.readInventory()?.objects == desired.map(\.ref).sorted())
    }

    /// Objects of a kind a CRD in the plan defines are never dry-run in the preflight (the CRD may change their
    /// schema first). When the revision leaves that CRD as it is, the preflight settles them client-side, and the
    /// apply sends nothing for them; when the CRD changes, they are left to their own step. The settle check here
    /// says yes to whatever it is asked (except of the CRD that changes): what is asked, and what the apply sends,
    /// is the preflight's doing.
    @Test func customResourcesAreSettledBeforehandOnlyWhileTheirDefinitionStaysAsItIs() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        var applier = try Self.applier(sim, "us-sanjose-1")
        // What the apply's own steps ask: an object the preflight settled is never asked again.
        let askedAtStep = Mutex<Set<ObjectKey>>([])
        applier.settled = { desired, _ in
            askedAtStep.withLock { _ = $0.insert(desired.key) }
            return true
        }
        let desired = try Self.cronTabs()
        let first = await applier.execute(
            try RegionPlan(region: "us-sanjose-1", desired: desired), revision: "crd1", readinessTimeout: .seconds(20))
        #expect(first.failure == nil, "\(first)")
        let cronTabs = Set(desired.filter { $0.kind == "CronTab" }.map(\.key))
        let definition = try #require(desired.first { $0.kind == "CustomResourceDefinition" }).key

        // The CRD stays as it is: its CronTabs are settled in the preflight, and the apply sends nothing.
        let asked = Mutex<Set<ObjectKey>>([])
        let yes: SettledCheck = { desired, _ in
            asked.withLock { _ = $0.insert(desired.key) }
            return true
        }
        let plan = try RegionPlan(region: "us-sanjose-1", desired: desired)
        let inventory = try await applier.readInventory()
        let stable = try await applier.preflight(plan, inventory: inventory, adoptAll: false, settled: yes)
        #expect(stable.refusals.isEmpty, "\(stable.refusals)")
        #expect(stable.unchanged.isSuperset(of: cronTabs.union([definition])), "\(stable.unchanged)")
        #expect(asked.withLock { $0 }.isSuperset(of: cronTabs))
        askedAtStep.withLock { $0 = [] }
        let again = await applier.execute(plan, revision: "crd2", readinessTimeout: .seconds(20), preflight: stable)
        #expect(again.failure == nil, "\(again)")
        #expect(again.changes.map(\.action) == [.unchanged, .unchanged, .unchanged], "\(again)")
        #expect(askedAtStep.withLock { $0 }.isEmpty)

        // The CRD changes: its CronTabs are not settled beforehand (not even asked about).
        let changed = try Self.cronTabs(shortNames: "ct")
        asked.withLock { $0 = [] }
        let no: SettledCheck = { desired, _ in
            asked.withLock { _ = $0.insert(desired.key) }
            return desired.key != definition
        }
        let moving = try await applier.preflight(
            try RegionPlan(region: "us-sanjose-1", desired: changed), inventory: inventory, adoptAll: false, settled: no
        )
        #expect(moving.accepted.contains(definition), "\(moving)")
        #expect(moving.unchanged.isDisjoint(with: cronTabs), "\(moving.unchanged)")
        #expect(asked.withLock { $0 }.isDisjoint(with: cronTabs))
    }

    /// The settled ledger: an object seen ready after the apply is proved settled, and the next preflight takes
    /// it as unchanged without reading or checking it, until something writes it (a hand edit) or Git asks for
    /// something else; a proof for another manifest (a ledger that lies) is not taken.
    @Test func aLedgerProofSparesTheCheckOnlyUntilTheObjectIsWrittenAgain() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let client = try sim.client("us-sanjose-1")
        let cache = LiveCache(client: client, logger: Logger(label: "test"))
        defer { cache.stop() }
        let ledger = SettledLedger(file: nil, checker: "test")
        let asked = Mutex<Set<ObjectKey>>([])
        // A settle check of ConfigMaps by their data (this target has no Differ), noting what it was asked.
        let check: SettledCheck = { desired, live in
            asked.withLock { _ = $0.insert(desired.key) }
            return desired.body["data"] == live.body["data"]
        }
        func applier() -> RegionApplier {
            RegionApplier(
                client: client, logger: Logger(label: "test"), pollInterval: .milliseconds(50), live: cache,
                settled: check, ledger: ledger)
        }
        let desired = try (0..<4).map { try configMap("settings-\($0)", data: ["n": "\($0)"]) }
        let keys = Set(desired.map(\.key))
        let plan = try RegionPlan(region: "us-sanjose-1", desired: desired).withReadinessGate()
        let first = await applier().execute(plan, revision: "rev1", readinessTimeout: .seconds(60))
        #expect(first.failure == nil, "\(first)")
        #expect(ledger.count == 4)
        #expect(await cache.waitUntilCurrent([desired[0].ref.gvk], timeout: .seconds(60)))

        // Nobody wrote them since: unchanged, none read or asked about.
        asked.withLock { $0 = [] }
        var inventory = try await applier().readInventory()
        let proven = try await applier().preflight(plan, inventory: inventory, adoptAll: false)
        #expect(proven.refusals.isEmpty, "\(proven.refusals)")
        #expect(proven.unchanged == keys)
        #expect(asked.withLock { $0 }.isEmpty)

        // A hand edit writes one: it alone is checked, found changed, and applied back.
        let edited = desired[1]
        let hand = try configMap("settings-1", data: ["n": "edited by hand"])
        _ = try await client.apply(hand, options: ApplyOptions(force: true, fieldManager: "kubectl-edit"))
        let deadline = ContinuousClock.now + .seconds(60)  // a far-off safety net
        while cache.objects([edited.ref])?[edited.key]?.body[path: ["data", "n"]] != "edited by hand" {
            guard ContinuousClock.now < deadline else { throw TestSupportError("the cache never saw the edit") }
            try await Task.sleep(for: .milliseconds(20))
        }
        asked.withLock { $0 = [] }
        inventory = try await applier().readInventory()
        let afterEdit = try await applier().preflight(plan, inventory: inventory, adoptAll: false)
        #expect(asked.withLock { $0 } == [edited.key])
        #expect(afterEdit.unchanged == keys.subtracting([edited.key]))
        #expect(afterEdit.accepted == [edited.key])
        let restore = await applier().execute(
            plan, revision: "rev1", readinessTimeout: .seconds(60), preflight: afterEdit)
        #expect(restore.failure == nil, "\(restore)")
        #expect(try await client.get(edited.ref).body[path: ["data", "n"]] == "1")

        // A proof at the object's live version, but of another manifest than the one Git now asks for, is not
        // taken for it.
        let live = try await client.get(desired[2].ref)
        let version = try #require(LiveVersion(of: live.body))
        let other = try #require(SettledLedger.digest(try configMap("settings-2", data: ["n": "something else"])))
        ledger.prove(desired[2].key, version: version, digest: other)
        var changed = desired
        changed[2] = try configMap("settings-2", data: ["n": "changed in Git"])
        asked.withLock { $0 = [] }
        inventory = try await applier().readInventory()
        let lied = try await applier().preflight(
            try RegionPlan(region: "us-sanjose-1", desired: changed).withReadinessGate(), inventory: inventory,
            adoptAll: false)
        #expect(asked.withLock { $0 }.contains(desired[2].key))
        #expect(lied.accepted.contains(desired[2].key))
        #expect(!lied.unchanged.contains(desired[2].key))
    }

    @Test func aFailedApplyStopsThePlanThere() async throws {
        let sim = try await KubeSim(regions: ["us-sanjose-1"])
        let applier = try Self.applier(sim, "us-sanjose-1")
        // A custom resource whose definition was never applied: the apply fails, and the webhook after it is not
        // applied.
        let desired = try resources(
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: stable.example.com/v1
            kind: CronTab
            metadata: {name: nightly, namespace: shop}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: guard}
            webhooks: []
            """)
        let plan = try RegionPlan(region: "us-sanjose-1", desired: desired)
        let report = await applier.execute(plan, revision: "r9", readinessTimeout: .seconds(5))
        let failure = try #require(report.failure, "\(report)")
        #expect(failure.step == "apply")
        #expect(failure.object?.kind == "CronTab")
        #expect(failure.description.hasPrefix("region us-sanjose-1 at r9: step 2 (apply) failed on "), "\(failure)")
        #expect(report.changes.map(\.description) == ["v1/Namespace shop created"])
        #expect(report.inventory == nil)
    }
}
