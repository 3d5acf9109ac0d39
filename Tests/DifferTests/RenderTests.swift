import Differ
import SyncCore
import Testing

/// The problems `render` reports for these files, as printed lines; empty when it succeeds.
func problems(_ files: [ManifestFile], limits: InputLimits = .standard) -> [String] {
    do {
        _ = try render(files, limits: limits)
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

let configMapA = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"

@Suite("Rendering manifests")
struct RenderTests {
    @Test("objects from several files, sorted by key then version, each knowing where it came from")
    func sorted() throws {
        let files = [
            ManifestFile(
                path: "z.yaml",
                text: """
                    apiVersion: networking.istio.io/v1
                    kind: VirtualService
                    metadata: {name: reviews, namespace: bookinfo}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: reviews}
                    """),
            ManifestFile(path: "a.yml", text: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"),
            ManifestFile(
                path: "b.json",
                text: "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\",\n \"metadata\": {\"name\": \"bookinfo\"}}"),
        ]
        let resources = try render(files)
        #expect(
            resources.map(\.ref.description) == [
                "v1/Namespace bookinfo", "v1/Service reviews", "apps/v1/Deployment web",
                "networking.istio.io/v1/VirtualService bookinfo/reviews",
            ])
        #expect(
            resources.map { $0.source?.description ?? "" } == ["b.json:1:1", "z.yaml:5:1", "a.yml:1:1", "z.yaml:1:1"])
    }

    @Test("the same key at two versions sorts by version; but two documents for one key are a duplicate")
    func versions() {
        let files = [
            ManifestFile(
                path: "v2.yaml",
                text: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"),
            ManifestFile(
                path: "v1.yaml",
                text: "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"),
        ]
        #expect(
            problems(files) == [
                "v2.yaml:1:1: HorizontalPodAutoscaler.autoscaling h is defined twice: first at v1.yaml:1:1"
            ])
    }

    @Test("List and XList documents stand for their items, each with its own position")
    func lists() throws {
        let text = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: ConfigMap
              metadata: {name: one}
            - apiVersion: v1
              kind: ServiceList
              items:
              - apiVersion: v1
                kind: Service
                metadata: {name: two}
            ---
            apiVersion: v1
            kind: ConfigMapList
            items: []
            """
        let resources = try render([ManifestFile(path: "list.yaml", text: text)])
        #expect(resources.map(\.ref.description) == ["v1/ConfigMap one", "v1/Service two"])
        #expect(resources.map { $0.source?.description ?? "" } == ["list.yaml:4:3", "list.yaml:10:5"])
    }

    @Test("a malformed List item is reported at the item")
    func badListItem() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n- just text\n"
        #expect(
            problems([ManifestFile(path: "l.yaml", text: text)]) == [
                "l.yaml:4:3: missing required field \"metadata.name\"",
                "l.yaml:6:3: a Kubernetes object must be a mapping, found a string",
            ])
    }

    @Test("a kind that merely ends in List, without items, is an object")
    func listLikeKind() throws {
        let resources = try render([
            ManifestFile(path: "p.yaml", text: "apiVersion: music.example/v1\nkind: PlayList\nmetadata: {name: mix}\n")
        ])
        #expect(resources.map(\.kind) == ["PlayList"])
    }

    @Test("the same object in two files is an error naming both places")
    func duplicateAcrossFiles() {
        let files = [
            ManifestFile(path: "b/second.yaml", text: "# again\n" + configMapA),
            ManifestFile(path: "a/first.yaml", text: configMapA),
        ]
        #expect(problems(files) == ["b/second.yaml:2:1: ConfigMap a is defined twice: first at a/first.yaml:1:1"])
    }

    @Test("no namespace and an explicit namespace are different keys; two namespaces too")
    func namespaces() throws {
        let text =
            configMapA + "---\n" + configMapA.replacingOccurrences(of: "name: a", with: "name: a\n  namespace: default")
            + "---\n" + configMapA.replacingOccurrences(of: "name: a", with: "name: a\n  namespace: other")
        let resources = try render([ManifestFile(path: "ns.yaml", text: text)])
        #expect(resources.map(\.namespace) == ["", "default", "other"])
    }

    @Test("every problem in every file is reported at once, sorted, and nothing is returned")
    func allProblems() throws {
        let files = [
            ManifestFile(path: "syntax.yaml", text: "a: b: c\n"),
            ManifestFile(
                path: "fields.yaml", text: "apiVersion: v1\nmetadata:\n  name: x\n---\nkind: Pod\nmetadata: {name: y}\n"
            ),
            ManifestFile(path: "dup.yaml", text: configMapA + "---\n" + configMapA),
            ManifestFile(path: "keys.yaml", text: "apiVersion: v1\nkind: Pod\nkind: Pod\nmetadata: {name: p}\n"),
            ManifestFile(path: "inf.yml", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec: {x: .inf}\n"),
            ManifestFile(path: "tab.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: r\n"),
            ManifestFile(path: "utf8.json", bytes: Array("{\"a\": \"".utf8) + [0xFE] + Array("\"}".utf8)),
            ManifestFile(path: "nameless.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: b}\n"),
            ManifestFile(
                path: "types.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  namespace: [x]\n"),
            ManifestFile(path: "scalar.yaml", text: "--- just a string\n"),
            ManifestFile(path: "good.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: fine}\n"),
        ]
        let error = try #require(throws: RenderError.self) { try render(files) }
        let expected = [
            "dup.yaml:8:1: ConfigMap a is defined twice: first at dup.yaml:1:1",
            "fields.yaml:1:1: missing required field \"kind\"",
            "fields.yaml:5:1: missing required field \"apiVersion\"",
            "inf.yml:4:11: unsupported value .inf: JSON has no infinity or NaN (quote it to keep the text)",
            "keys.yaml:3:1: duplicate key \"kind\" (first at line 2, column 1)",
            "nameless.yaml:4:3: missing required field \"metadata.name\"",
            "scalar.yaml:1:5: a Kubernetes object must be a mapping, found a string",
            "syntax.yaml:1:5: mapping values are not allowed in this context",
            "tab.yaml:4:1: tab character in indentation (YAML indents with spaces only)",
            "types.yaml:5:14: field \"metadata.namespace\" must be a string, found a sequence",
            "utf8.json:1:8: invalid UTF-8 (byte 0xFE at offset 7); manifests must be UTF-8 text",
        ]
        #expect(error.problems.map(\.description) == expected)
        #expect(error.description == expected.joined(separator: "\n"))
    }

    @Test("only .yaml, .yml and .json files are read")
    func nonManifests() throws {
        let files = [
            ManifestFile(path: "README.md", text: "# not: [yaml\n"),
            ManifestFile(path: "deploy.sh", text: "kubectl apply -f .\n"),
            ManifestFile(path: "kustomization.yaml.orig", text: "a: b: c\n"),
            ManifestFile(path: "UPPER.YAML", text: configMapA),
        ]
        #expect(try render(files).map(\.name) == ["a"])
        #expect(ManifestFile(path: "x.Yml", text: "").isManifest)
        #expect(!ManifestFile(path: "yaml", text: "").isManifest)
    }

    @Test("empty and comment-only documents and files are skipped")
    func emptyDocuments() throws {
        let files = [
            ManifestFile(path: "empty.yaml", text: ""),
            ManifestFile(path: "comments.yaml", text: "# nothing here yet\n# really\n"),
            ManifestFile(path: "separators.yaml", text: "---\n---\n# c\n---\n" + configMapA + "---\n\n---\n"),
        ]
        let resources = try render(files)
        #expect(resources.map(\.name) == ["a"])
        #expect(resources.first?.source?.description == "separators.yaml:5:1")
        #expect(try render([]).isEmpty)
    }

    @Test("JSON problems have line and column too")
    func jsonPositions() {
        let json = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\n    \"labels\": {}\n  }\n}\n"
        #expect(
            problems([ManifestFile(path: "pod.json", text: json)]) == [
                "pod.json:4:15: missing required field \"metadata.name\""
            ])
        #expect(
            problems([ManifestFile(path: "bad.json", text: "{\"a\": [1, 2}\n")]).first?.hasPrefix("bad.json:1:12: ")
                == true)
    }

    @Test("anchors and merge keys work in manifests")
    func anchorsInManifests() throws {
        let text = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              labels: &labels {app: web, tier: front}
            spec:
              selector:
                matchLabels: *labels
              template:
                metadata:
                  labels:
                    <<: *labels
                    version: v1
            """
        let resource = try #require(try render([ManifestFile(path: "d.yaml", text: text)]).first)
        #expect(resource.body[path: ["spec", "selector", "matchLabels"]] == ["app": "web", "tier": "front"])
        #expect(
            resource.body[path: ["spec", "template", "metadata", "labels"]] == [
                "app": "web", "tier": "front", "version": "v1",
            ])
    }
}

/// ``InputLimits/maxObjects``: a revision of too many objects is refused at the first one past the limit, having
/// read no further (issue 13: a million documents took 37 s and 1.3 GB before).
@Suite struct RenderLimitTests {
    private func configMaps(_ count: Int, prefix: String = "c") -> String {
        (0..<count).map { "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(prefix)\($0)}\n" }
            .joined(separator: "---\n")
    }

    @Test func theFirstObjectPastTheLimitIsTheOneProblem() throws {
        let limits = InputLimits(maxObjects: 100)
        let file = ManifestFile(path: "mesh/many.yaml", text: configMaps(1_000))
        #expect(throws: RenderError.self) { try render([file], limits: limits) }
        do {
            _ = try render([file], limits: limits)
        } catch {
            // Document 101 starts with the `---` on line 400 (three lines a document, one `---` between).
            #expect(
                error.problems.map(\.description) == [
                    "mesh/many.yaml:400:1: more than 100 objects in the revision (repo.limits.maxObjects); reading stopped "
                        + "here and nothing was applied: split the repository or raise the limit"
                ])
        }
        // At the limit exactly: every object.
        #expect(try render([ManifestFile(path: "ok.yaml", text: configMaps(100))], limits: limits).count == 100)
    }

    @Test func theLimitCountsEveryFileAndListItemsTogether() throws {
        let limits = InputLimits(maxObjects: 5)
        let list = """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: l0}}
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: l1}}
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: l2}}

            """
        let files = [
            ManifestFile(path: "a.yaml", text: configMaps(3, prefix: "a")),
            ManifestFile(path: "b.yaml", text: list),
            ManifestFile(path: "c.yaml", text: configMaps(3, prefix: "c")),
        ]
        #expect(throws: RenderError.self) { try render(files, limits: limits) }
        do {
            _ = try render(files, limits: limits)
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems.first?.description.hasPrefix("b.yaml:6:3: more than 5 objects") == true)
        }
        // The region overlay shares one budget between the common files and the region's.
        let overlay = [
            ManifestFile(path: "mesh/base.yaml", text: configMaps(4, prefix: "a")),
            ManifestFile(path: "mesh/regions/r/extra.yaml", text: configMaps(2, prefix: "r")),
        ]
        #expect(throws: RenderError.self) { try render(overlay, root: "mesh", region: "r", limits: limits) }
        #expect(try render(overlay, root: "mesh", region: "r", limits: InputLimits(maxObjects: 6)).count == 6)
    }

    /// The files are read concurrently, but reading still stops where reading them one by one stops: past the
    /// limit nothing more is reported, not a bad document later in that file, nor one in a later file.
    @Test func readingStopsAtTheLimitThoughTheFilesAreReadTogether() throws {
        let limits = InputLimits(maxObjects: 5)
        let files = [
            ManifestFile(path: "a.yaml", text: configMaps(3, prefix: "a")),
            ManifestFile(path: "b.yaml", text: configMaps(3, prefix: "b") + "---\nkind: [unclosed\n"),
            ManifestFile(path: "c.yaml", text: "kind: [unclosed\n"),
        ]
        let refused = problems(files, limits: limits)
        // b.yaml's third document (the first past the limit) starts with the `---` on line 8.
        #expect(
            refused == [
                "b.yaml:8:1: more than 5 objects in the revision (repo.limits.maxObjects); reading stopped here and "
                    + "nothing was applied: split the repository or raise the limit"
            ], "\(refused)")
        // Under the limit, every file's problems are reported, in file order.
        let all = problems(files, limits: InputLimits(maxObjects: 100))
        #expect(all.count == 2, "\(all)")
        #expect(all.first?.hasPrefix("b.yaml:") == true && all.last?.hasPrefix("c.yaml:") == true, "\(all)")
    }

    @Test func aMillionDocumentsAreRefusedAtTheDefaultLimit() throws {
        var text = ""
        text.reserveCapacity(1_000_000 * 48)
        for index in 0..<1_000_000 { text += "{apiVersion: v1, kind: ConfigMap, metadata: {name: c\(index)}}\n---\n" }
        let refused = problems([ManifestFile(path: "huge.yaml", text: text)])
        #expect(refused.count == 1)
        #expect(refused.first?.hasPrefix("huge.yaml:40000:1: more than 20000 objects") == true, "\(refused)")
    }
}
