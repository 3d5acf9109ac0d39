import Differ
import KubeSchema
import SyncCore
import Testing

/// The settle check's walks (``FieldSets/covers(fieldsV1:of:schema:hasStatusSubresource:)`` and
/// ``FieldMembership``) give the answers of the field sets they stand in for, on every manifest of the corpus, on
/// parts of their sets, on sets that reach past them, and on manifests with a field taken away.
@Suite struct FieldSetWalkTests {
    static func manifests() throws -> [Value] {
        var values: [Value] = []
        for sample in bookinfoSamples { values += try render([try corpusFile(sample.path)]).map(\.body) }
        values += try corpusResources("istio-crds/crd-all.gen.yaml").map(\.body)
        return values
    }

    /// A deterministic generator (SplitMix64): the same cases on every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func setAnswer(_ fields: FieldSet, _ value: Value, _ schema: Schema) -> Bool {
        fields.subtracting(FieldSets.of(value, schema: schema, hasStatusSubresource: true)).isEmpty
    }

    static func walkAnswer(_ fields: FieldSet, _ value: Value, _ schema: Schema) -> Bool {
        FieldSets.covers(fieldsV1: fields.fieldsV1, of: value, schema: schema, hasStatusSubresource: true)
    }

    @Test func coversAgreesWithTheFieldSetsOnTheCorpus() throws {
        let manifests = try Self.manifests()
        #expect(manifests.count > 100)
        var random = Generator(state: 14)
        var counted = (covered: 0, notCovered: 0)
        for (index, manifest) in manifests.enumerated() {
            let schema = BuiltinSchemas.schema(for: manifest)
            let full = FieldSets.of(manifest, schema: schema, hasStatusSubresource: true)
            let paths = Array(full.paths).sorted { $0.pathString < $1.pathString }
            #expect(Self.walkAnswer(full, manifest, schema), "\(manifest[path: ["metadata", "name"]] ?? .null)")
            // A part of the set is covered.
            let part = FieldSet(Set(paths.filter { _ in Bool.random(using: &random) }))
            #expect(Self.walkAnswer(part, manifest, schema) == Self.setAnswer(part, manifest, schema))
            // A path of another manifest, or a child of one of its own leaves: as the sets say.
            let other = manifests[(index + 1) % manifests.count]
            let otherPaths = Array(FieldSets.of(other, schema: schema, hasStatusSubresource: true).paths)
            for extra in [
                otherPaths.randomElement(using: &random),
                paths.randomElement(using: &random).map { $0 + [.field("x")] },
            ] {
                guard let extra else { continue }
                var wider = full
                wider.insert(extra)
                let answer = Self.setAnswer(wider, manifest, schema)
                #expect(Self.walkAnswer(wider, manifest, schema) == answer, "\(extra.pathString)")
                if answer { counted.covered += 1 } else { counted.notCovered += 1 }
            }
            // The manifest with one field taken away: the old set is covered only if the field set nothing.
            if let removed = paths.randomElement(using: &random) {
                var smaller = manifest
                FieldSets.remove(removed, from: &smaller, schema: schema)
                let answer = Self.setAnswer(full, smaller, schema)
                #expect(Self.walkAnswer(full, smaller, schema) == answer, "\(removed.pathString)")
                if answer { counted.covered += 1 } else { counted.notCovered += 1 }
            }
        }
        // Both answers were exercised, not only the easy one.
        #expect(counted.covered > 10 && counted.notCovered > 100)
    }

    @Test func ignoredPathsAndEmptyTriesAreAsTheSetsReadThem() throws {
        let manifest: Value = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "a"], "data": ["k": "v"]]
        let schema = BuiltinSchemas.schema(for: manifest)
        let name = FieldSet([[.field("metadata"), .field("name")]])
        #expect(!Self.walkAnswer(name, manifest, schema))  // dropped from the manifest's set, so not covered
        #expect(Self.walkAnswer(FieldSet(), manifest, schema))
        #expect(!FieldSets.hasPaths(fieldsV1: .emptyObject))
        #expect(!FieldSets.hasPaths(fieldsV1: [".": [:]]))
        #expect(FieldSets.hasPaths(fieldsV1: ["f:data": ["f:k": [:]]]))
    }

    @Test func membershipAgreesWithTheFieldSets() throws {
        var random = Generator(state: 15)
        for manifest in try Self.manifests() {
            let schema = BuiltinSchemas.schema(for: manifest)
            let full = FieldSets.of(manifest, schema: schema, hasStatusSubresource: true)
            let half = FieldSet(Set(full.paths.filter { _ in Bool.random(using: &random) }))
            let membership = FieldMembership(fieldsV1: [half.fieldsV1])
            for path in full.paths {
                #expect(membership.contains(path) == half.contains(path), "\(path.pathString)")
                #expect(!membership.contains(path + [.field("x")]) || half.contains(path + [.field("x")]))
            }
        }
        // A key the server spelled with its members in another order is the same key.
        let port: FieldPathElement = .key([
            .init(name: "containerPort", value: 80), .init(name: "protocol", value: "TCP"),
        ])
        let spelled: Value = ["f:ports": [#"k:{"protocol":"TCP","containerPort":80}"#: [".": [:]]]]
        #expect(FieldMembership(fieldsV1: [spelled]).contains([.field("ports"), port]))
        #expect(!FieldMembership(fieldsV1: [spelled]).contains([.field("ports")]))
    }
}
