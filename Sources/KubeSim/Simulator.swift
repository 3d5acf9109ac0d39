import Foundation
import Logging
import NIOSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The whole simulator: regions, their API and metrics ports, the controllers, and the start-up/shutdown rules
/// (print `kubesim ready` once every region's ports listen, its API port and its metrics port; SIGTERM stops cleanly with the journals consistent).
final class Simulator: Sendable {
    let regions: [Region]
    let certificates: Certificates
    let kubeconfigPath: String?
    let rolloutSeconds: Double
    /// Whether controllers act on objects (rollouts, status); off, kubesim is an API server alone.
    let controllers: Bool
    let logger: Logger
    private let listening = Mutex(0)

    init(
        specs: [RegionSpec], dataDirectory: String?, kubeconfigPath: String?, rolloutSeconds: Double,
        auditLogPath: String? = nil, controllers: Bool = true, crdEstablishSeconds: Double = 0.2,
        watchBookmarkSeconds: Double = 60, logger: Logger
    ) throws {
        let audit = try auditLogPath.map { try AuditLog(path: $0) }
        let base = dataDirectory ?? NSTemporaryDirectory() + "kubesim-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        certificates = try Certificates.loadOrCreate(in: base)
        var regions: [Region] = []
        for (index, spec) in specs.enumerated() {
            let folder = "\(base)/regions/\(spec.name)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let token = try Self.token(at: "\(folder)/token")
            let viewerToken = try Self.token(at: "\(folder)/viewer-token")
            var regionLogger = logger
            regionLogger[metadataKey: "region"] = "\(spec.name)"
            regions.append(
                try Region(
                    name: spec.name, index: index, apiPort: spec.apiPort, metricsPort: spec.metricsPort, token: token,
                    viewerToken: viewerToken, dataDirectory: dataDirectory == nil ? nil : folder, audit: audit,
                    crdEstablishSeconds: crdEstablishSeconds, watchBookmarkSeconds: watchBookmarkSeconds,
                    logger: regionLogger))
        }
        self.regions = regions
        self.kubeconfigPath = kubeconfigPath
        self.rolloutSeconds = rolloutSeconds
        self.controllers = controllers
        self.logger = logger
    }

    /// The token saved at `path`, or a new random one written there (mode 0600).
    static func token(at path: String) throws -> String {
        if let saved = try? String(contentsOfFile: path, encoding: .utf8), !saved.isEmpty {
            return saved.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let token = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        try Data(token.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        chmod(path, 0o600)
        return token
    }

    func run() async throws {
        if let kubeconfigPath {
            try Kubeconfig.write(to: kubeconfigPath, regions: regions, caPEM: certificates.caPEM)
        }
        let tls = try TLSSetup.configuration(certificates)
        let signals = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let stop: @Sendable () -> Void = { [regions, logger] in
            // Taking every region's lock waits out any write in progress, so the journals end on whole lines.
            for region in regions { region.state.withLock { _ in } }
            logger.info("kubesim stopped")
            exit(0)
        }
        signals.setEventHandler(handler: stop)
        interrupts.setEventHandler(handler: stop)
        signals.resume()
        interrupts.resume()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for region in regions {
                group.addTask {
                    try await RegionAPIServer(region: region, tls: tls, onFirstListen: { self.portListening() }).run()
                }
                if region.metricsPort != nil {
                    group.addTask { try await MetricsServer(region: region, onListen: { self.portListening() }).run() }
                }
                if controllers {
                    group.addTask { await Controllers(region: region, rolloutSeconds: self.rolloutSeconds).run() }
                }
                // CRDs are established by the API server itself (apiextensions), controllers or not.
                group.addTask { await CRDController(region: region).run() }
            }
            try await group.next()
            group.cancelAll()
        }
        withExtendedLifetime((signals, interrupts)) {}
    }

    /// One more port listens; once they all do, kubesim is ready (a port that cannot be bound, taken by another
    /// process meanwhile, ends kubesim before it says so).
    private func portListening() {
        let count = listening.withLock { count -> Int in
            count += 1
            return count
        }
        let ports = regions.count + regions.filter { $0.metricsPort != nil }.count
        if count == ports {
            print("kubesim ready")
            fflush(nil)
            logger.info("kubesim ready", metadata: ["regions": "\(regions.map(\.name).joined(separator: ","))"])
        }
    }
}
