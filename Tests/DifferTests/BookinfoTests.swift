import Differ
import Foundation
import SyncCore
import Testing

@Suite("Rendering the Istio corpus")
struct BookinfoTests {
    @Test("INDEX.md lists every Bookinfo manifest")
    func indexRead() throws {
        #expect(bookinfoSamples.count == 48)
        let onDisk = FileManager.default.enumerator(atPath: corpusRoot.appendingPathComponent("istio-bookinfo").path)?
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") }.map { "istio-bookinfo/" + $0 }
        #expect(Set(onDisk ?? []) == Set(bookinfoSamples.map(\.path)))
    }

    @Test("each Bookinfo sample renders into the kinds INDEX.md lists", arguments: bookinfoSamples)
    func sample(_ sample: BookinfoSample) throws {
        let resources = try render([try corpusFile(sample.path)])
        #expect(resources.map(\.kind).sorted() == sample.kinds)
        for resource in resources {
            #expect(!resource.name.isEmpty)
            #expect(resource.source?.file == sample.path)
        }
    }

    @Test("all Bookinfo samples at once: every file read, the overlapping variants reported as duplicates")
    func wholeFolder() throws {
        let files = try bookinfoSamples.map { try corpusFile($0.path) }
        let error = try #require(throws: RenderError.self) { try render(files) }
        #expect(error.problems.allSatisfy { $0.message.contains("is defined twice: first at istio-bookinfo/") })
        // bookinfo.yaml, bookinfo-psa.yaml and bookinfo-dualstack.yaml define the same 14 objects.
        #expect(error.problems.filter { $0.location.file == "istio-bookinfo/platform/kube/bookinfo.yaml" }.count == 14)
    }

    @Test("bookinfo.yaml: the services, accounts and deployments of productpage, details, reviews and ratings")
    func bookinfo() throws {
        let resources = try render([try corpusFile("istio-bookinfo/platform/kube/bookinfo.yaml")])
        let names = Dictionary(grouping: resources, by: \.kind).mapValues { $0.map(\.name) }
        #expect(names["Service"] == ["details", "productpage", "ratings", "reviews"])
        #expect(
            names["ServiceAccount"] == [
                "bookinfo-details", "bookinfo-productpage", "bookinfo-ratings", "bookinfo-reviews",
            ])
        #expect(
            names["Deployment"] == [
                "details-v1", "productpage-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3",
            ])
        // The core group sorts before apps.
        #expect(resources.first?.ref.description == "v1/Service details")
        let reviews = try #require(resources.first { $0.name == "reviews" && $0.kind == "Service" })
        // The document starts after its comment banner.
        #expect(reviews.source?.description == "istio-bookinfo/platform/kube/bookinfo.yaml:134:1")
    }

    @Test("virtual-service-reviews-90-10.yaml: VirtualService reviews, 90/10 between v1 and v2")
    func reviews9010() throws {
        let resources = try render([try corpusFile("istio-bookinfo/networking/virtual-service-reviews-90-10.yaml")])
        #expect(resources.count == 1)
        let vs = try #require(resources.first.flatMap(VirtualServiceView.init))
        #expect(resources[0].ref.description == "networking.istio.io/v1/VirtualService reviews")
        #expect(vs.hosts == ["reviews"])
        #expect(vs.http.count == 1)
        #expect(vs.http[0].destinations.map(\.weight) == [90, 10])
        #expect(vs.http[0].destinations.map(\.subset) == ["v1", "v2"])
        #expect(vs.http[0].destinations.allSatisfy { $0.host == "reviews" })
    }

    @Test("the Istio CRD file renders into its 15 CRDs")
    func istioCRDs() throws {
        let path = "istio-crds/crd-all.gen.yaml"
        let file = try corpusFile(path)
        let expected = String(decoding: file.bytes, as: UTF8.self).components(separatedBy: "\n")
            .filter { $0 == "kind: CustomResourceDefinition" }.count
        let resources = try render([file])
        #expect(resources.count == expected)
        #expect(expected == 15)
        #expect(
            resources.allSatisfy {
                $0.ref.gvk == GroupVersionKind(apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition")
            })
        let names = Set(resources.map(\.name))
        for name in [
            "virtualservices.networking.istio.io", "destinationrules.networking.istio.io",
            "gateways.networking.istio.io", "serviceentries.networking.istio.io",
            "authorizationpolicies.security.istio.io", "telemetries.telemetry.istio.io",
            "wasmplugins.extensions.istio.io",
        ] {
            #expect(names.contains(name))
        }
        #expect(resources.map(\.name) == resources.map(\.name).sorted())
    }
}
