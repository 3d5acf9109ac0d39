import Foundation
import KubeYAML
import SyncCore
import TestSupport
import Testing

@testable import Applier

/// The agent's live-state cache keeps objects deflated; what it reads back must be the bytes it was given, or nothing.
@Suite struct PackedJSONTests {
    /// Istio's 15 CRDs (the largest objects the agent keeps: 20–200 KB each, past the 8 KiB window) and the health
    /// corpus's objects with their status, as JSON.
    private func corpusObjects() throws -> [[UInt8]] {
        let corpus = sharedRoot.appendingPathComponent("corpus")
        var files = [corpus.appendingPathComponent("istio-crds/crd-all.gen.yaml")]
        let health = corpus.appendingPathComponent("health/kstatus")
        for name in try FileManager.default.contentsOfDirectory(atPath: health.path).sorted()
        where name.hasSuffix(".yaml") {
            files.append(health.appendingPathComponent(name))
        }
        var objects: [[UInt8]] = []
        for file in files {
            let documents = try YAML.load(
                Array(try Data(contentsOf: file)), file: file.lastPathComponent,
                options: YAMLLoadOptions(duplicateKeys: .lastWins))
            objects += documents.map(\.value.jsonBytes)
        }
        return objects
    }

    @Test func everyObjectComesBackAsItsBytesInAThirdOfTheRoom() throws {
        let objects = try corpusObjects()
        try #require(objects.count > 20)
        let packed = PackedJSON.packing(objects, deflater: Deflater())
        var inflater: Inflater?
        for (original, json) in zip(objects, packed) {
            #expect(json.count == original.count)
            #expect(json.bytes(&inflater) == original)
        }
        let kept = packed.reduce(0) { $0 + $1.storedCount }
        let total = objects.reduce(0) { $0 + $1.count }
        #expect(kept * 3 < total, "kept \(kept) of \(total) bytes")
        // One at a time (a watch event) the same.
        let single = PackedJSON(objects[0], deflater: Deflater())
        #expect(single.deflated && single.bytes(&inflater) == objects[0])
    }

    /// A Deployment as kubesim serves it, managedFields and status included: the cache's typical object.
    @Test func aDeploymentWithItsManagedFieldsKeepsInLessThanHalf() throws {
        let deployment = try Value(
            json: #"""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"creationTimestamp":"2026-12-04T21:42:02Z","generation":1,"labels":{"app":"reviews","version":"v1"},"managedFields":[{"apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{"f:app":{},"f:version":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{},"f:version":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"reviews\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":9080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}},"manager":"syncagent","operation":"Apply","time":"2026-12-04T21:42:02Z"},{"apiVersion":"apps/v1","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:availableReplicas":{},"f:conditions":{},"f:observedGeneration":{},"f:readyReplicas":{},"f:replicas":{},"f:updatedReplicas":{}}},"manager":"kube-controller-manager","operation":"Update","subresource":"status","time":"2026-12-04T21:42:03Z"}],"name":"reviews-v1","namespace":"bookinfo","resourceVersion":"3856","uid":"d8e2b7d3-279a-4255-bed8-aeaaea4c710d"},"spec":{"progressDeadlineSeconds":600,"replicas":1,"revisionHistoryLimit":10,"selector":{"matchLabels":{"app":"reviews","version":"v1"}},"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"},"type":"RollingUpdate"},"template":{"metadata":{"labels":{"app":"reviews","version":"v1"}},"spec":{"containers":[{"image":"docker.io/istio/examples-bookinfo-reviews-v1:1.20.3","imagePullPolicy":"IfNotPresent","name":"reviews","ports":[{"containerPort":9080,"protocol":"TCP"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],"dnsPolicy":"ClusterFirst","restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},"terminationGracePeriodSeconds":30}}},"status":{"availableReplicas":1,"conditions":[{"lastTransitionTime":"2026-12-04T21:42:02Z","lastUpdateTime":"2026-12-04T21:42:02Z","message":"Deployment has minimum availability.","reason":"MinimumReplicasAvailable","status":"True","type":"Available"}],"observedGeneration":1,"readyReplicas":1,"replicas":1,"updatedReplicas":1}}
                """#)
        let bytes = deployment.jsonBytes
        let packed = PackedJSON(bytes, deflater: Deflater())
        var inflater: Inflater?
        #expect(packed.deflated && packed.storedCount * 2 < bytes.count, "\(packed.storedCount) of \(bytes.count)")
        #expect(packed.bytes(&inflater) == bytes)
    }

    /// Bytes that deflate to no fewer bytes (tiny ones, or ones with no repetition) are kept as they are.
    @Test func whatDeflatingWouldNotShrinkIsKeptAsItIs() {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<512).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for bytes in [Array("{}".utf8), [], noise] {
            let packed = PackedJSON(bytes, deflater: Deflater())
            var inflater: Inflater?
            #expect(!packed.deflated && packed.storedCount == bytes.count)
            #expect(packed.bytes(&inflater) == bytes)
        }
        let none = PackedJSON(Array(#"{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#.utf8), deflater: nil)
        #expect(!none.deflated)
    }

    /// Bytes that do not inflate to the length recorded are refused (nil: the cache's reader reads the cluster), not
    /// returned short, padded or garbled.
    @Test func damagedOrShortBytesAreRefused() throws {
        let bytes = Array(String(repeating: #"{"kind":"ConfigMap","data":{"k":"v"}},"#, count: 40).utf8)
        let deflated = try #require(Deflater().deflate(bytes))
        let inflater = Inflater()
        #expect(inflater.inflate(deflated[...], count: bytes.count) == bytes)
        #expect(inflater.inflate(deflated[...], count: bytes.count + 1) == nil)  // shorter than recorded
        #expect(inflater.inflate(deflated[...], count: bytes.count - 1) == nil)  // longer than recorded
        #expect(inflater.inflate(deflated.dropLast(4), count: bytes.count) == nil)  // cut off
        var damaged = deflated
        damaged[damaged.count / 2] ^= 0xFF
        #expect(inflater.inflate(damaged[...], count: bytes.count) == nil)  // zlib's checksum
        #expect(inflater.inflate([0xFF, 0xFF, 0xFF][...], count: 10) == nil)
        // The stream is reset between objects: a refused one does not spoil the next.
        #expect(inflater.inflate(deflated[...], count: bytes.count) == bytes)
    }
}
