import Foundation
import Synchronization
import SyncCore

/// Simulated Istio telemetry for one region: steady traffic to every Service that has Deployments behind it,
/// routed by the live VirtualService weights to DestinationRule subsets and the Deployments they select. The
/// pod-template annotations `kubesim.io/error-rate` (0..1) and `kubesim.io/latency-ms` make a workload's requests
/// fail (HTTP 500) or slow down. Exposed in Prometheus text format as Istio's standard metrics.
final class Telemetry: Sendable {
    /// Requests per second each service receives.
    static let requestsPerSecond = 10.0
    /// Istio's default duration buckets (milliseconds).
    static let buckets: [Double] = [
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
    ]

    /// One series' identity: the labels that vary.
    struct SeriesKey: Sendable, Hashable, Comparable {
        var namespace: String
        var service: String
        var workload: String
        var version: String
        var app: String
        var code: Int
        var reporter: String

        static func < (a: SeriesKey, b: SeriesKey) -> Bool {
            (a.namespace, a.service, a.workload, a.reporter, a.code) < (
                b.namespace, b.service, b.workload, b.reporter, b.code
            )
        }
    }

    struct Series: Sendable {
        var count: Double = 0
        var sum: Double = 0
        var bucketCounts: [Double] = Array(repeating: 0, count: Telemetry.buckets.count)
    }

    /// Where one service's traffic goes: each backend with its share, error rate and latency.
    struct Backend: Sendable {
        var namespace: String
        var service: String
        var workload: String
        var version: String
        var app: String
        var share: Double
        var errorRate: Double
        var latency: Double
        var available: Bool
    }

    private let series = Mutex<[SeriesKey: Series]>([:])
    /// The last routes and the store's resourceVersion they were computed at.
    private let routesCache = Mutex<(version: UInt64, backends: [Backend])?>(nil)

    /// Adds `seconds` worth of traffic.
    func advance(region: Region, seconds: Double) {
        guard seconds > 0 else { return }
        // The routes follow from the stored objects alone: computed again only after a write.
        let backends = region.withState { state in
            routesCache.withLock { cache -> [Backend] in
                if let cache, cache.version == state.store.resourceVersion { return cache.backends }
                let backends = Telemetry.routes(state)
                cache = (state.store.resourceVersion, backends)
                return backends
            }
        }
        series.withLock { series in
            for backend in backends where backend.share > 0 {
                let requests = Telemetry.requestsPerSecond * seconds * backend.share
                let failed = backend.available ? requests * backend.errorRate : requests
                let code = backend.available ? 500 : 503
                for (count, status) in [(requests - failed, 200), (failed, code)] where count > 0 {
                    for reporter in ["source", "destination"] {
                        let key = SeriesKey(
                            namespace: backend.namespace, service: backend.service, workload: backend.workload,
                            version: backend.version, app: backend.app, code: status, reporter: reporter)
                        var entry = series[key] ?? Series()
                        let latency = backend.available ? backend.latency : 0.5
                        entry.count += count
                        entry.sum += count * latency
                        for (index, bound) in Telemetry.buckets.enumerated() where latency <= bound {
                            entry.bucketCounts[index] += count
                        }
                        series[key] = entry
                    }
                }
            }
        }
    }

    /// The traffic split of every Service with workloads behind it.
    static func routes(_ state: RegionState) -> [Backend] {
        // Deployments by namespace, with their pod labels read once (each Service looks only at its namespace).
        var deployments: [String: [(value: Value, labels: [String: String])]] = [:]
        for object in state.store.list("apps/deployments", namespace: nil) {
            let ns = object.value[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let labels = object.value[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
            deployments[ns, default: []].append((object.value, labels))
        }
        var virtualServices: [String: Value] = [:]
        for vs in state.store.list("networking.istio.io/virtualservices", namespace: nil).map(\.value) {
            let ns = vs[path: ["metadata", "namespace"]]?.stringValue ?? ""
            for host in vs[path: ["spec", "hosts"]]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                virtualServices["\(ns)/\(shortHost(host))"] = vs
            }
        }
        var subsets: [String: [String: [String: String]]] = [:]
        for dr in state.store.list("networking.istio.io/destinationrules", namespace: nil).map(\.value) {
            let ns = dr[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let host = shortHost(dr[path: ["spec", "host"]]?.stringValue ?? "")
            for subset in dr[path: ["spec", "subsets"]]?.arrayValue ?? [] {
                if let name = subset["name"]?.stringValue {
                    subsets["\(ns)/\(host)", default: [:]][name] = subset["labels"]?.stringMap ?? [:]
                }
            }
        }
        var backends: [Backend] = []
        for service in state.store.list("/services", namespace: nil).map(\.value) {
            let ns = service[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let name = service[path: ["metadata", "name"]]?.stringValue ?? ""
            let selector = service[path: ["spec", "selector"]]?.stringMap ?? [:]
            guard !selector.isEmpty else { continue }
            let behind = (deployments[ns] ?? []).filter { d in selector.allSatisfy { d.labels[$0.key] == $0.value } }
            guard !behind.isEmpty else { continue }
            // Weighted subsets from the first HTTP route of the VirtualService, else an even split.
            var targets: [(labels: [String: String], weight: Double)] = []
            if let vs = virtualServices["\(ns)/\(name)"],
                let route = vs[path: ["spec", "http"]]?.arrayValue?.first?["route"]?.arrayValue
            {
                for destination in route {
                    let subset = destination[path: ["destination", "subset"]]?.stringValue
                    let labels = subset.flatMap { subsets["\(ns)/\(name)"]?[$0] } ?? [:]
                    let weight = Double(destination["weight"]?.intValue ?? (route.count == 1 ? 100 : 0))
                    if subset != nil && subsets["\(ns)/\(name)"]?[subset ?? ""] == nil { continue }
                    targets.append((labels, weight))
                }
            }
            if targets.isEmpty { targets = [([:], 100)] }
            let total = targets.reduce(0) { $0 + $1.weight }
            guard total > 0 else { continue }
            for target in targets {
                let chosen = behind.filter { d in target.labels.allSatisfy { d.labels[$0.key] == $0.value } }
                for (d, labels) in chosen {
                    let annotations = d[path: ["spec", "template", "metadata", "annotations"]]?.stringMap ?? [:]
                    backends.append(
                        Backend(
                            namespace: ns, service: name, workload: d[path: ["metadata", "name"]]?.stringValue ?? "",
                            version: labels["version"] ?? "unknown", app: labels["app"] ?? name,
                            share: target.weight / total / Double(chosen.count),
                            errorRate: min(1, max(0, Double(annotations["kubesim.io/error-rate"] ?? "") ?? 0)),
                            latency: Double(annotations["kubesim.io/latency-ms"] ?? "") ?? 5,
                            available: (d[path: ["status", "availableReplicas"]]?.intValue ?? 0) > 0))
                }
            }
        }
        return backends
    }

    private static func shortHost(_ host: String) -> String {
        String(host.split(separator: ".").first ?? Substring(host))
    }

    /// The Prometheus text exposition of all series.
    func exposition(region: String) -> String {
        let snapshot = series.withLock { $0 }
        var out = "# HELP istio_requests_total Total requests.\n# TYPE istio_requests_total counter\n"
        let keys = snapshot.keys.sorted()
        func labels(_ key: SeriesKey) -> String {
            let pairs: [(String, String)] = [
                ("reporter", key.reporter), ("source_workload", "productpage-v1"),
                ("source_workload_namespace", key.namespace),
                ("source_app", "productpage"), ("source_cluster", region), ("destination_workload", key.workload),
                ("destination_workload_namespace", key.namespace), ("destination_app", key.app),
                ("destination_version", key.version),
                ("destination_service", "\(key.service).\(key.namespace).svc.cluster.local"),
                ("destination_service_name", key.service), ("destination_service_namespace", key.namespace),
                ("destination_cluster", region), ("request_protocol", "http"), ("response_code", String(key.code)),
                ("response_flags", key.code == 503 ? "UH" : "-"),
                ("connection_security_policy", key.reporter == "destination" ? "mutual_tls" : "unknown"),
            ]
            return pairs.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
        }
        func number(_ d: Double) -> String { String(Int64(d.rounded(.down))) }
        for key in keys { out += "istio_requests_total{\(labels(key))} \(number(snapshot[key]?.count ?? 0))\n" }
        out +=
            "# HELP istio_request_duration_milliseconds Request duration.\n# TYPE istio_request_duration_milliseconds histogram\n"
        for key in keys {
            guard let entry = snapshot[key] else { continue }
            let base = labels(key)
            for (index, bound) in Telemetry.buckets.enumerated() {
                out +=
                    "istio_request_duration_milliseconds_bucket{\(base),le=\"\(Value.goFloatString(bound))\"} \(number(entry.bucketCounts[index]))\n"
            }
            out += "istio_request_duration_milliseconds_bucket{\(base),le=\"+Inf\"} \(number(entry.count))\n"
            out +=
                "istio_request_duration_milliseconds_sum{\(base)} \(Value.goFloatString((entry.sum * 1000).rounded() / 1000))\n"
            out += "istio_request_duration_milliseconds_count{\(base)} \(number(entry.count))\n"
        }
        return out
    }
}
