import ArgumentParser
import Foundation
import Logging

/// `kubesim`: a local multi-region Kubernetes API server for tests, benchmarks and demos.
@main
struct KubeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubesim",
        abstract: "A local multi-region Kubernetes API server (HTTPS, token auth, SSA, CRDs, simulated rollouts).",
        discussion: """
            Exit codes: 0 after SIGTERM/SIGINT; 64 for bad arguments; 1 when a port cannot be opened or the data \
            folder cannot be written.
            """)

    @Option(name: .customLong("region"), help: "NAME=APIPORT[:METRICSPORT]; repeat for several regions.")
    var regions: [String] = []

    @Option(help: "Folder for certificates, tokens and objects (kept across restarts).")
    var data: String?

    @Option(help: "Where to write the kubeconfig (one context per region).")
    var kubeconfig: String?

    @Option(help: "Seconds a simulated rollout takes.")
    var rolloutSeconds: Double = 2

    @Flag(
        help: """
            Serve the API alone, with no controllers acting on objects (no rollouts, no workload status), as \
            kube-apiserver's own integration tests run it.
            """)
    var noControllers = false

    @Option(help: "Seconds from a CRD's creation to its Established condition (its kind is served from then on).")
    var crdEstablishSeconds: Double = 0.2

    @Option(
        help: """
            Seconds between the BOOKMARK events a watch that allows them (allowWatchBookmarks=true) receives, as \
            kube-apiserver sends one about every minute.
            """)
    var watchBookmarkSeconds: Double = 60

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    @Option(help: "Append an audit.k8s.io/v1 Event (JSON, one a line) for every request every region answers.")
    var auditLog: String?

    func validate() throws {
        if regions.isEmpty { throw ValidationError("give at least one --region NAME=PORT[:METRICSPORT]") }
        for region in regions where (try? RegionSpec(region)) == nil {
            throw ValidationError("bad --region '\(region)': expected NAME=APIPORT[:METRICSPORT]")
        }
        if rolloutSeconds < 0 { throw ValidationError("--rollout-seconds must not be negative") }
        if crdEstablishSeconds < 0 { throw ValidationError("--crd-establish-seconds must not be negative") }
        if watchBookmarkSeconds <= 0 { throw ValidationError("--watch-bookmark-seconds must be above 0") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let specs = try regions.map { try RegionSpec($0) }
        let simulator = try Simulator(
            specs: specs, dataDirectory: data, kubeconfigPath: kubeconfig, rolloutSeconds: rolloutSeconds,
            auditLogPath: auditLog, controllers: !noControllers, crdEstablishSeconds: crdEstablishSeconds,
            watchBookmarkSeconds: watchBookmarkSeconds, logger: Logger(label: "kubesim"))
        try await simulator.run()
    }
}

/// One `--region` argument.
struct RegionSpec: Sendable {
    var name: String
    var apiPort: Int
    var metricsPort: Int?

    init(_ text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("bad region \(text)") }
        let ports = parts[1].split(separator: ":").map { Int($0) }
        guard let first = ports.first, let api = first, ports.count <= 2 else {
            throw ValidationError("bad region \(text)")
        }
        name = parts[0]
        apiPort = api
        if ports.count == 2 {
            guard let metrics = ports[1] else { throw ValidationError("bad region \(text)") }
            metricsPort = metrics
        }
    }
}
