import Differ
import Foundation
import KubeYAML
import SyncCore
import TestSupport
import Testing

/// Custom resources checked client-side against a CRD in the same revision, as the API server would check them.
struct CustomResourceCheckTests {
    static func load(_ yaml: String, file: String) throws -> [Resource] {
        try YAML.load(yaml, file: file).map { try Resource(body: $0.value, source: $0.location) }
    }

    static let crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          scope: Namespaced
          names: {kind: Widget, plural: widgets}
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema:
                  type: object
                  properties:
                    spec:
                      type: object
                      required: [size]
                      additionalProperties: false
                      properties:
                        size: {type: integer, minimum: 1, maximum: 10}
                        mode: {type: string, enum: [fast, safe]}
                        port: {x-kubernetes-int-or-string: true}
                        name: {type: string, pattern: "^[a-z]+$", maxLength: 8}
                        tags: {type: array, maxItems: 2, items: {type: string}}
                        extra: {type: object, x-kubernetes-preserve-unknown-fields: true}

        """

    static func problems(_ spec: String) throws -> [String] {
        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: app}\nspec: \(spec)\n"
        let resources = try load(crd + "---\n" + widget, file: "w.yaml")
        return CustomResourceCheck.problems(in: resources).map { "\($0.field): \($0.message)" }
    }

    @Test func aWidgetThatFitsHasNoProblem() throws {
        #expect(
            try Self.problems(
                #"{size: 3, mode: safe, port: http, name: abc, tags: [a, b], extra: {anything: [1, {x: y}]}}"#)
                == [])
        #expect(try Self.problems("{size: 10, port: 8080}") == [])
    }

    @Test(arguments: [
        ("{mode: fast}", "spec.size: is required"),
        ("{size: \"3\"}", "spec.size: must be an integer, found string"),
        ("{size: 2.5}", "spec.size: must be an integer, found number"),
        ("{size: 0}", "spec.size: must be at least 1"),
        ("{size: 11}", "spec.size: must be at most 10"),
        ("{size: 1, mode: slow}", #"spec.mode: must be one of "fast", "safe", found "slow""#),
        ("{size: 1, port: [1]}", "spec.port: must be an integer or a string, found array"),
        ("{size: 1, name: Abc}", "spec.name: must match the pattern ^[a-z]+$"),
        ("{size: 1, name: abcdefghi}", "spec.name: must be at most 8 characters long"),
        ("{size: 1, tags: [a, b, c]}", "spec.tags: must have at most 2 items"),
        ("{size: 1, tags: [1]}", "spec.tags[0]: must be a string, found integer"),
        ("{size: 1, colour: red}", "spec.colour: is not allowed here (the schema permits no other fields)"),
        ("not-a-mapping", "spec: must be an object, found string"),
    ])
    func aWidgetThatDoesNotFitIsNamedByField(spec: String, problem: String) throws {
        let found = try Self.problems(spec)
        #expect(
            found.map { $0.replacingOccurrences(of: " (CustomResourceDefinition widgets.example.com)", with: "") } == [
                problem
            ], "\(found)")
    }

    @Test func aProblemNamesTheFileThePositionAndTheCRD() throws {
        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: app}\nspec: {size: 0}\n"
        let resources = try Self.load(Self.crd + "---\n" + widget, file: "mesh/w.yaml")
        let problems = CustomResourceCheck.problems(in: resources)
        #expect(
            problems.map(\.description) == [
                "mesh/w.yaml:28:1: example.com/v1/Widget app/w: spec.size: must be at least 1 "
                    + "(CustomResourceDefinition widgets.example.com)"
            ])
    }

    @Test func aKindWithoutACRDInTheRevisionIsLeftToTheServer() throws {
        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 0}\n"
        #expect(CustomResourceCheck.problems(in: try Self.load(widget, file: "w.yaml")).isEmpty)
    }

    /// No false refusal: Istio's real CRDs (enums, patterns, int-or-string, bounds) accept the Bookinfo samples and
    /// this repository's mesh.
    @Test func istiosRealCRDsAcceptBookinfoAndTheMesh() throws {
        let crds = try Self.load(
            try String(
                contentsOf: sharedRoot.appendingPathComponent("corpus/istio-crds/crd-all.gen.yaml"), encoding: .utf8),
            file: "crd-all.gen.yaml")
        var objects: [Resource] = []
        let folders = [
            sharedRoot.appendingPathComponent("corpus/istio-bookinfo/networking"),
            packageRoot.appendingPathComponent("config/mesh/base"),
            packageRoot.appendingPathComponent("config/mesh/regions/us-sanjose-1"),
        ]
        for folder in folders {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            where name.hasSuffix(".yaml") {
                let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                objects += try Self.load(text, file: name).filter { $0.ref.group.hasSuffix("istio.io") }
            }
        }
        #expect(objects.count > 20)
        let problems = CustomResourceCheck.problems(in: crds + objects)
        #expect(problems.isEmpty, "\(problems)")

        // And a real mistake in a real CRD's terms: a DestinationRule's load balancer that does not exist.
        var broken = try #require(objects.first { $0.kind == "DestinationRule" })
        broken.body["spec"] = [
            "host": "reviews", "trafficPolicy": ["loadBalancer": ["simple": "FASTEST"]],
        ]
        let found = CustomResourceCheck.problems(in: crds + [broken])
        #expect(found.map(\.field) == ["spec.trafficPolicy.loadBalancer.simple"], "\(found)")
    }
}
