import Applier
import Foundation
import KubeYAML
import SyncCore
import Testing
import TestSupport

/// Resources from a YAML stream, each with the place its document starts.
func resources(_ yaml: String, file: String = "plan.yaml") throws -> [Resource] {
    try YAML.load(yaml, file: file).map { try Resource(body: $0.value, source: $0.location) }
}

/// The example configuration of one region, read as `syncagent render --dir config/mesh --region R` reads it: every
/// file of `base/` and `regions/<R>/`, an object of the region replacing the base object of the same identity.
func meshConfiguration(region: String) throws -> [Resource] {
    var byKey: [ObjectKey: Resource] = [:]
    for folder in ["config/mesh/base", "config/mesh/regions/\(region)"] {
        let url = packageRoot.appendingPathComponent(folder)
        for name in try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() where name.hasSuffix(".yaml")
        {
            let text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
            for resource in try resources(text, file: "\(folder)/\(name)") { byKey[resource.key] = resource }
        }
    }
    return byKey.values.sorted { $0.key < $1.key }
}

/// Compares `text` with `Fixtures/plan/<name>.txt`; with `RECORD_SNAPSHOTS=1` in the environment, writes it there.
func expectGolden(_ text: String, _ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let url = packageRoot.appendingPathComponent("Tests/ApplierTests/Fixtures/plan/\(name).txt")
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let golden = try String(contentsOf: url, encoding: .utf8)
    #expect(
        text == golden, "plan differs from \(url.path); RECORD_SNAPSHOTS=1 re-records it",
        sourceLocation: sourceLocation)
}

/// Objects of every tier, written in no particular order.
let mixedObjects = """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews, namespace: shop}
    spec:
      hosts: [reviews]
      gateways: [shop-gateway]
      http:
      - route:
        - {destination: {host: reviews, subset: v1}, weight: 90}
        - {destination: {host: reviews, subset: v2}, weight: 10}
    ---
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingWebhookConfiguration
    metadata: {name: shop-policy}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: reviews-v2, namespace: shop}
    ---
    apiVersion: example.com/v1
    kind: Widget
    metadata: {name: w, namespace: shop}
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: reviews, namespace: shop}
    spec:
      host: reviews.shop.svc.cluster.local
      subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: reviews, namespace: shop}
    ---
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: widgets.example.com}
    spec:
      group: example.com
      names: {kind: Widget, plural: widgets}
      scope: Namespaced
      versions: [{name: v1, served: true, storage: true}]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: reviews, namespace: shop}
    ---
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: {name: shop-gateway, namespace: shop}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: shop}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: reviews-reader}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: token, namespace: shop}
    ---
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: reviews, namespace: shop}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: reviews-v1, namespace: shop}
    ---
    apiVersion: batch/v1
    kind: Job
    metadata: {name: migrate, namespace: shop}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: reviews, namespace: shop}
    ---
    apiVersion: v1
    kind: ResourceQuota
    metadata: {name: quota, namespace: shop}
    ---
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {name: data, namespace: shop}
    """

@Suite("Region plans: order, waves, prunes, make-before-break")
struct PlanTests {
    @Test("the example configuration of us-sanjose-1 (golden text)")
    func meshGolden() throws {
        let plan = try RegionPlan(region: "us-sanjose-1", desired: try meshConfiguration(region: "us-sanjose-1"))
        try expectGolden(plan.description, "mesh-us-sanjose-1")
        #expect(plan.applied.count == 26)
        #expect(plan.waits.map(\.reason) == [.workloadsBeforeRoutes])
    }

    @Test("with Istio's own CustomResourceDefinitions in the same wave, Istio objects wait until they are established")
    func istioDefinitions() throws {
        let url = sharedRoot.appendingPathComponent("corpus/istio-crds/crd-all.gen.yaml")
        let definitions = try resources(try String(contentsOf: url, encoding: .utf8), file: "istio-crds.yaml")
        let desired = definitions + (try meshConfiguration(region: "us-chicago-1"))
        let plan = try RegionPlan(region: "us-chicago-1", desired: desired)
        let established = try #require(
            plan.steps.firstIndex { if case .wait(let wait) = $0 { wait.condition == .established } else { false } })
        let applied = plan.steps.prefix(established).compactMap { step -> ObjectRef? in
            if case .apply(let resource, _) = step { resource.ref } else { nil }
        }
        // The namespace and the definitions first; built-in kinds go on while the definitions are established, and
        // nothing of a kind they define comes before the wait.
        #expect(
            Array(applied.prefix(1 + definitions.count).map(\.kind)) == ["Namespace"]
                + Array(repeating: "CustomResourceDefinition", count: definitions.count))
        #expect(applied.count > 1 + definitions.count)
        let defined = ApplyOrder.definedKinds(definitions)
        #expect(!applied.contains { defined["\($0.group)/\($0.kind)"] != nil })
        #expect(plan.waits.first?.objects.count == definitions.count)
        let firstIstio = try #require(plan.steps.firstIndex { $0.description.contains("networking.istio.io/v1/") })
        #expect(firstIstio > established)
    }

    @Test("every tier in order, with the waits it needs")
    func tiers() throws {
        let plan = try RegionPlan(region: "test", desired: try resources(mixedObjects))
        #expect(
            plan.description == """
                region test: 19 to apply, 2 waits, 0 to prune
                wave 0:
                  apply v1/Namespace shop  # plan.yaml:68:1
                  apply apiextensions.k8s.io/v1/CustomResourceDefinition widgets.example.com  # plan.yaml:35:1
                  apply v1/ResourceQuota shop/quota  # plan.yaml:84:1
                  apply v1/ServiceAccount shop/reviews  # plan.yaml:64:1
                  apply rbac.authorization.k8s.io/v1/ClusterRole reviews-reader  # plan.yaml:56:1
                  apply rbac.authorization.k8s.io/v1/RoleBinding shop/reviews  # plan.yaml:44:1
                  apply v1/ConfigMap shop/settings  # plan.yaml:52:1
                  apply v1/Secret shop/token  # plan.yaml:60:1
                  apply v1/PersistentVolumeClaim shop/data  # plan.yaml:88:1
                  apply v1/Service shop/reviews  # plan.yaml:31:1
                  apply apps/v1/Deployment shop/reviews-v1  # plan.yaml:72:1
                  apply apps/v1/Deployment shop/reviews-v2  # plan.yaml:16:1
                  apply batch/v1/Job shop/migrate  # plan.yaml:76:1
                  apply policy/v1/PodDisruptionBudget shop/reviews  # plan.yaml:80:1
                  wait until ready (workloads are ready before Istio routes traffic to them):
                      apps/v1/Deployment shop/reviews-v1
                      apps/v1/Deployment shop/reviews-v2
                  apply networking.istio.io/v1/DestinationRule shop/reviews  # plan.yaml:24:1
                  apply networking.istio.io/v1/Gateway shop/shop-gateway  # plan.yaml:48:1
                  apply networking.istio.io/v1/VirtualService shop/reviews  # plan.yaml:1:1
                  wait until established (new kinds are served before objects of them are applied):
                      apiextensions.k8s.io/v1/CustomResourceDefinition widgets.example.com
                  apply example.com/v1/Widget shop/w  # plan.yaml:20:1
                  apply admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration shop-policy  # plan.yaml:12:1

                """)
    }

    @Test("the same plan whatever the input order", arguments: 0..<8)
    func deterministic(seed: Int) throws {
        let objects = try resources(mixedObjects)
        let expected = try RegionPlan(region: "r", desired: objects).description
        var generator = SplitMix64(seed: UInt64(seed))
        let desired = objects.shuffled(using: &generator)
        #expect(try RegionPlan(region: "r", desired: desired).description == expected)
    }

    @Test("waves: lower first, default 0, each wave ready before the next; kinds order within a wave")
    func waves() throws {
        let desired = try resources(
            """
            apiVersion: batch/v1
            kind: Job
            metadata: {name: migrate, namespace: shop, annotations: {syncagent.io/wave: "-1"}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: late, namespace: shop, annotations: {syncagent.io/wave: "2"}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: api, namespace: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop, annotations: {syncagent.io/wave: "0"}}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop, annotations: {syncagent.io/wave: "-1"}}
            """)
        let plan = try RegionPlan(region: "r", desired: desired)
        #expect(
            plan.description == """
                region r: 5 to apply, 2 waits, 0 to prune
                wave -1:
                  apply v1/Namespace shop  # plan.yaml:17:1
                  apply batch/v1/Job shop/migrate  # plan.yaml:1:1
                  wait until ready (the wave is ready before what follows it):
                      v1/Namespace shop
                      batch/v1/Job shop/migrate
                wave 0:
                  apply v1/ConfigMap shop/settings  # plan.yaml:13:1
                  apply apps/v1/Deployment shop/api  # plan.yaml:9:1
                  wait until ready (the wave is ready before what follows it):
                      v1/ConfigMap shop/settings
                      apps/v1/Deployment shop/api
                wave 2:
                  apply v1/ConfigMap shop/late  # plan.yaml:5:1

                """)
        #expect(plan.steps.map(\.wave) == [-1, -1, -1, 0, 0, 0, 2])
    }

    @Test("prunes come last, in the apply order reversed: routes, rules, workloads, services, namespaces")
    func pruneReversal() throws {
        let live = try resources(
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: old}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: ratings, namespace: old}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: ratings-v1, namespace: old}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: ratings, namespace: old}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ratings, namespace: old}
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata: {name: w, namespace: old, annotations: {syncagent.io/wave: "3"}}
            ---
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            """, file: "live")
        let desired = try resources("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: shop}\n")
        let plan = try RegionPlan(region: "r", desired: desired, prune: live.reversed())
        #expect(
            plan.description == """
                region r: 1 to apply, 1 wait, 7 to prune
                wave 0:
                  apply v1/ConfigMap shop/keep  # plan.yaml:1:1
                  wait until ready (the wave is ready before what follows it):
                      v1/ConfigMap shop/keep
                prunes, in reverse apply order:
                  prune example.com/v1/Widget old/w  # wave 3
                  prune networking.istio.io/v1/VirtualService old/ratings  # wave 0
                  prune networking.istio.io/v1/DestinationRule old/ratings  # wave 0
                  prune apps/v1/Deployment old/ratings-v1  # wave 0
                  prune v1/Service old/ratings  # wave 0
                  prune apiextensions.k8s.io/v1/CustomResourceDefinition widgets.example.com  # wave 0
                  prune v1/Namespace old  # wave 0

                """)

        let byReference = try RegionPlan(region: "r", desired: [], pruneRefs: live.map(\.ref))
        #expect(byReference.pruned.map(\.kind).prefix(2) == ["Widget", "VirtualService"])
        #expect(byReference.pruned.last?.kind == "Namespace")
        #expect(byReference.waits.isEmpty)
    }

    @Test("make-before-break: the DestinationRule with the new subset, then the VirtualService that routes to it")
    func makeBeforeBreak() throws {
        let text = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: a-reviews, namespace: bookinfo}
            spec:
              hosts: [reviews]
              http:
              - route:
                - {destination: {host: reviews, subset: v1}, weight: 80}
                - {destination: {host: reviews, subset: v4}, weight: 20}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: z-reviews, namespace: bookinfo}
            spec:
              host: reviews.bookinfo.svc.cluster.local
              subsets: [{name: v1, labels: {version: v1}}, {name: v4, labels: {version: v4}}]
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: reviews-v4, namespace: bookinfo}
            """
        let plan = try RegionPlan(region: "r", desired: try resources(text))
        #expect(
            plan.steps.map { $0.description.components(separatedBy: "  #")[0] } == [
                "apply apps/v1/Deployment bookinfo/reviews-v4",
                "wait until ready (workloads are ready before Istio routes traffic to them):\n"
                    + "    apps/v1/Deployment bookinfo/reviews-v4",
                "apply networking.istio.io/v1/DestinationRule bookinfo/z-reviews",
                "apply networking.istio.io/v1/VirtualService bookinfo/a-reviews",
            ])

        // A wave may not put the route before the rule that defines its subsets.
        let early = text.replacingOccurrences(
            of: "{name: a-reviews, namespace: bookinfo}",
            with: "{name: a-reviews, namespace: bookinfo, annotations: {syncagent.io/wave: \"-1\"}}")
        let error = #expect(throws: PlanError.self) { try RegionPlan(region: "r", desired: try resources(early)) }
        #expect(
            error?.description
                == "plan.yaml:1:1: networking.istio.io/v1/VirtualService bookinfo/a-reviews (wave -1) routes to "
                + "reviews.bookinfo.svc.cluster.local, configured by networking.istio.io/v1/DestinationRule "
                + "bookinfo/z-reviews, which is in the later wave 0; give DestinationRule z-reviews a wave of -1 or "
                + "lower, or this VirtualService a wave of 0 or higher")
    }

    @Test("waves may not put a custom resource before its definition, or a route before its Gateway")
    func dependencyConflicts() throws {
        var text = mixedObjects.replacingOccurrences(
            of: "metadata: {name: w, namespace: shop}",
            with: "metadata: {name: w, namespace: shop, annotations: {syncagent.io/wave: \"-2\"}}")
        text = text.replacingOccurrences(
            of: "metadata: {name: shop-gateway, namespace: shop}",
            with: "metadata: {name: shop-gateway, namespace: shop, annotations: {syncagent.io/wave: \"1\"}}")
        let error = #expect(throws: PlanError.self) { try RegionPlan(region: "r", desired: try resources(text)) }
        #expect(
            error?.description.components(separatedBy: "\n").map { $0.components(separatedBy: ", which")[0] } == [
                "plan.yaml:1:1: networking.istio.io/v1/VirtualService shop/reviews (wave 0) binds "
                    + "networking.istio.io/v1/Gateway shop/shop-gateway",
                "plan.yaml:20:1: example.com/v1/Widget shop/w (wave -2) is a custom resource defined by "
                    + "apiextensions.k8s.io/v1/CustomResourceDefinition widgets.example.com",
            ])
    }

    @Test("an invalid wave names the object and where it was written", arguments: ["first", "1.5", "", "99999999999"])
    func invalidWave(_ value: String) throws {
        let text = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: ok, namespace: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: shop
              annotations: {syncagent.io/wave: "\(value)"}
            """
        let error = #expect(throws: PlanError.self) {
            try RegionPlan(region: "r", desired: try resources(text, file: "config/shop/settings.yaml"))
        }
        #expect(
            error?.description
                == "config/shop/settings.yaml:5:1: v1/ConfigMap shop/settings: annotation syncagent.io/wave must be "
                + "a whole number written as a string (\"-1\", \"0\", \"2\"); found \"\(value)\"")
    }

    @Test("a wave written as a number is rejected with a hint to quote it")
    func unquotedWave() throws {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s, annotations: {syncagent.io/wave: 1}}\n"
        let error = #expect(throws: PlanError.self) { try RegionPlan(region: "r", desired: try resources(text)) }
        #expect(
            error?.description.hasSuffix("found the number 1 (annotation values are strings: quote it, \"1\")") == true)
    }

    @Test("duplicates, objects both applied and pruned, and pruning a namespace in use are all reported together")
    func validation() throws {
        let desired = try resources(
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop}
            """, file: "shop.yaml")
        let prune = try resources(
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop}
            """, file: "live")
        let error = #expect(throws: PlanError.self) { try RegionPlan(region: "r", desired: desired, prune: prune) }
        #expect(
            error?.description == """
                live:5:1: v1/Service shop/api is both desired and listed for pruning; an object is one or the other
                shop.yaml:1:1: v1/ConfigMap shop/settings is desired in namespace shop, which is listed for pruning; \
                deleting the namespace would delete it: keep the Namespace in Git, or move the object
                shop.yaml:5:1: ConfigMap shop/settings is defined twice (first at shop.yaml:1:1); keep one definition
                shop.yaml:9:1: v1/Service shop/api is desired in namespace shop, which is listed for pruning; \
                deleting the namespace would delete it: keep the Namespace in Git, or move the object
                """)
    }
}
