import Differ
import SyncCore
import Testing

/// The resources of one corpus file.
func corpusResources(_ path: String) throws -> [Resource] {
    try render([try corpusFile(path)])
}

/// The first resource of `kind` named `name`.
func find(_ resources: [Resource], _ kind: String, _ name: String) throws -> Resource {
    try #require(resources.first { $0.kind == kind && $0.name == name }, "no \(kind) \(name)")
}

@Suite("Typed views")
struct TypedViewTests {
    @Test("Deployment: replicas, selector, pod annotations, containers")
    func workload() throws {
        let resources = try corpusResources("istio-bookinfo/platform/kube/bookinfo.yaml")
        let reviews = try #require(WorkloadView(try find(resources, "Deployment", "reviews-v2")))
        #expect(reviews.kind == "Deployment")
        #expect(reviews.replicas == 1)
        #expect(reviews.selector == ["app": "reviews", "version": "v2"])
        #expect(reviews.podLabels == ["app": "reviews", "version": "v2"])
        #expect(
            reviews.containers == [
                ContainerView(name: "reviews", image: "registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3")
            ])
        #expect(WorkloadView(try find(resources, "Service", "reviews")) == nil)
        #expect(WorkloadView(try find(resources, "ServiceAccount", "bookinfo-reviews")) == nil)
    }

    @Test("StatefulSet and DaemonSet views; a DaemonSet has no replicas")
    func otherWorkloads() throws {
        let text = """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent}
            spec:
              replicas: 4
              selector: {matchLabels: {app: agent}}
              template:
                metadata:
                  annotations: {sidecar.istio.io/inject: "false"}
                spec:
                  containers: [{name: a, image: "agent:1"}, {name: b, image: "helper:2"}]
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db}
            spec: {replicas: 3}
            """
        let resources = try render([ManifestFile(path: "w.yaml", text: text)])
        let daemon = try #require(WorkloadView(try find(resources, "DaemonSet", "agent")))
        #expect(daemon.replicas == nil)
        #expect(daemon.podAnnotations == ["sidecar.istio.io/inject": "false"])
        #expect(daemon.containers.map(\.image) == ["agent:1", "helper:2"])
        let db = try #require(WorkloadView(try find(resources, "StatefulSet", "db")))
        #expect(db.replicas == 3)
        #expect(db.containers.isEmpty && db.selector.isEmpty)
    }

    @Test("Service: type, ports, selector")
    func service() throws {
        let productpage = try #require(
            ServiceView(
                try find(try corpusResources("istio-bookinfo/platform/kube/bookinfo.yaml"), "Service", "productpage")))
        #expect(productpage.type == "ClusterIP")
        #expect(productpage.selector == ["app": "productpage"])
        #expect(productpage.ports.map(\.port) == [9080])
        #expect(productpage.ports.map(\.name) == ["http"])
        #expect(productpage.ports.map(\.protocol) == ["TCP"])
        let nodePort = try #require(
            ServiceView(
                try find(
                    try corpusResources("istio-bookinfo/platform/kube/productpage-nodeport.yaml"), "Service",
                    "productpage")))
        #expect(nodePort.type == "NodePort")
    }

    @Test("DestinationRule: host, subsets with labels, traffic policy")
    func destinationRule() throws {
        let plain = try corpusResources("istio-bookinfo/networking/destination-rule-all.yaml")
        let reviews = try #require(DestinationRuleView(try find(plain, "DestinationRule", "reviews")))
        #expect(reviews.host == "reviews")
        #expect(reviews.subsets.map(\.name) == ["v1", "v2", "v3"])
        #expect(reviews.subsets.map(\.labels) == [["version": "v1"], ["version": "v2"], ["version": "v3"]])
        #expect(!reviews.hasTrafficPolicy)
        let mtls = try corpusResources("istio-bookinfo/networking/destination-rule-all-mtls.yaml")
        #expect(try #require(DestinationRuleView(try find(mtls, "DestinationRule", "reviews"))).hasTrafficPolicy)
    }

    @Test("Istio Gateway: selector and servers; the Gateway API kind of the same name is not one")
    func gateway() throws {
        let resources = try corpusResources("istio-bookinfo/networking/bookinfo-gateway.yaml")
        let gateway = try #require(GatewayView(try find(resources, "Gateway", "bookinfo-gateway")))
        #expect(gateway.selector == ["istio": "ingressgateway"])
        #expect(gateway.servers.count == 1)
        #expect(gateway.servers.first?.portNumber == 8080)
        #expect(gateway.servers.first?.protocol == "HTTP")
        #expect(gateway.servers.first?.hosts == ["*"])
        let vs = try #require(VirtualServiceView(try find(resources, "VirtualService", "bookinfo")))
        #expect(vs.gateways == ["bookinfo-gateway"])
        #expect(vs.http.first?.hasMatch == true)
        #expect(vs.http.first?.destinations.first?.port == 9080)
        let api = try corpusResources("istio-bookinfo/gateway-api/bookinfo-gateway.yaml")
        let apiGateway = try #require(api.first { $0.kind == "Gateway" })
        #expect(apiGateway.ref.group == "gateway.networking.k8s.io")
        #expect(GatewayView(apiGateway) == nil)
    }

    @Test("VirtualService: retries and timeout")
    func virtualServiceRetries() throws {
        let text = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: ratings}
            spec:
              hosts: [ratings]
              http:
              - name: main
                route:
                - destination: {host: ratings, subset: v1}
                retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx"}
                timeout: 10s
            """
        let resource = try #require(try render([ManifestFile(path: "r.yaml", text: text)]).first)
        let vs = try #require(VirtualServiceView(resource))
        #expect(vs.http.first?.name == "main")
        let retries = try #require(vs.http.first?.retries)
        #expect(retries.attempts == 3 && retries.perTryTimeout == "2s" && retries.retryOn == "5xx")
        #expect(vs.http.first?.timeout == "10s")
        #expect(vs.http.first?.destinations.first?.weight == nil)
        #expect(vs.http.first?.hasMatch == false)
    }

    @Test("CustomResourceDefinition: group, names, scope, versions")
    func crd() throws {
        let resources = try corpusResources("istio-crds/crd-all.gen.yaml")
        let vs = try #require(
            CustomResourceDefinitionView(
                try find(resources, "CustomResourceDefinition", "virtualservices.networking.istio.io")))
        #expect(vs.group == "networking.istio.io")
        #expect(vs.kind == "VirtualService")
        #expect(vs.plural == "virtualservices")
        #expect(vs.scope == "Namespaced")
        #expect(vs.versions.map(\.name) == ["v1", "v1alpha3", "v1beta1"])
        #expect(vs.versions.allSatisfy { $0.served })
        #expect(vs.storageVersion == "v1")
        #expect(vs.definedKind == GroupVersionKind(group: "networking.istio.io", version: "v1", kind: "VirtualService"))
        #expect(resources.compactMap(CustomResourceDefinitionView.init).count == 15)
        #expect(resources.compactMap(CustomResourceDefinitionView.init).allSatisfy { $0.storageVersion != nil })
    }

    @Test("Namespace")
    func namespace() throws {
        let text =
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bookinfo\n  labels: {istio-injection: enabled}\n"
        let resource = try #require(try render([ManifestFile(path: "ns.yaml", text: text)]).first)
        let view = try #require(NamespaceView(resource))
        #expect(view.name == "bookinfo")
        #expect(view.labels == ["istio-injection": "enabled"])
        #expect(
            ServiceView(resource) == nil && VirtualServiceView(resource) == nil && DestinationRuleView(resource) == nil)
        #expect(CustomResourceDefinitionView(resource) == nil && GatewayView(resource) == nil)
    }
}
