import Applier
import RolloutEngine
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// `syncagent run`: the continuous agent. A group of services (swift-service-lifecycle): the git poller and
/// reconciler, the drift checker and the HTTP endpoint, stopped gracefully on SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: poll (and take webhooks), roll out region by region, check drift, serve metrics.",
        discussion: """
            Endpoints on agent.listen: /metrics (Prometheus), /healthz, /readyz, /status (the last rollout, JSON), \
            POST /hooks/git (GitHub or GitLab push webhooks, verified with agent.webhookSecretFile). SIGTERM or \
            SIGINT stops it after the current step; a restart resumes from the clusters' inventories.
            """
    )

    @Option(help: "The agent's configuration file.")
    var config: String = "config/syncagent.yaml"

    @Option(help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(help: "Listen here instead of agent.listen (HOST:PORT).")
    var listen: String?

    @Option(
        help: """
            This replica's name in the regions' Leases (holderIdentity) and in its User-Agent (agent.leaderElection);             default <hostname>-<pid>. Unique per replica: in Kubernetes, the pod's name.
            """)
    var identity: String?

    enum LogFormat: String, ExpressibleByArgument, Sendable { case text, json }

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let listen, AgentConfig.hostAndPort(listen) == nil { throw ValidationError("--listen takes HOST:PORT") }
        if let identity, identity.isEmpty || identity.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw ValidationError("--identity must be a name without spaces")
        }
    }

    func run() async throws {
        HeapTrim.keepLargeBlocksApart()
        var agent = try AgentConfig.load(file: config)
        guard let repo = agent.repo else { throw ValidationError("\(config): run needs a repo") }
        if let listen { agent.listen(listen) }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "syncagent")
        var secret: [UInt8]?
        if let file = agent.agent.webhookSecretFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("\(config): agent.webhookSecretFile \(file) cannot be read")
            }
            secret = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        }
        let repository = ConfigRepository(repo, cacheRoot: agent.agent.cache)
        let state = AgentState()
        let metrics = AgentMetrics()
        let wakeup = Wakeup()
        // Leader election: a Lease per region, and every region's client fenced by it.
        var leases: LeaseCoordinator?
        if let timing = agent.agent.leaderElection {
            leases = try LeaseCoordinator(
                regions: agent.regions, identity: identity ?? LeaseCoordinator.defaultIdentity, timing: timing,
                logger: logger)
        }
        // One client and one watch-fed cache per region for the life of the process (fenced by the Leases), its
        // objects kept deflated: the agent holds them for good.
        let connections = RegionConnections(
            logger: logger, options: LiveCache.Options(packObjects: true), leases: leases,
            ledgerFolder: ConfigRepository.cacheRoot(agent.agent.cache) + "/settled")
        var rollout = Rollout(config: agent.rollout, logger: logger)
        rollout.connections = connections
        rollout.leases = leases
        let notifier = try Notifier(config: agent.notifications, logger: logger)
        let reconciler = Reconciler(
            config: agent, repository: repository, rollout: rollout, wakeup: wakeup, state: state, metrics: metrics,
            notifier: notifier, leases: leases, logger: logger)
        let drift = DriftChecker(
            config: agent, repository: repository, connections: connections, wakeup: wakeup, state: state,
            metrics: metrics, notifier: notifier, leases: leases, logger: logger)
        guard let (host, port) = AgentConfig.hostAndPort(agent.agent.listen) else {
            throw ValidationError("agent.listen must be HOST:PORT")
        }
        let router = AgentHTTP.router(
            config: agent, state: state, metrics: metrics, wakeup: wakeup, secret: secret, logger: logger)
        let app = AgentHTTP.application(
            router: router, agent: agent.agent, host: host, port: port, metrics: metrics, logger: logger)
        logger.info(
            "syncagent starting",
            metadata: [
                "repo": "\(repository.cache.remote.redactedURL)", "branch": "\(repo.branch)",
                "regions": "\(agent.regions.map(\.name).joined(separator: ","))",
                "lease.identity": "\(leases?.identity ?? "-")",
            ])
        // Shut down in reverse order: the Leases are released after the reconciler stopped writing.
        var election: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let leases {
            election.append(
                .init(service: LeaseService(coordinator: leases, metrics: metrics, wakeup: wakeup, logger: logger)))
        }
        var configuration = ServiceGroupConfiguration(
            services: election + [
                .init(service: app),
                .init(service: reconciler, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: drift),
                .init(service: notifier),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Bounded: a service that has not stopped 20 s after SIGTERM is cancelled, and one that ignores the
        // cancellation for 5 s more is left behind (the records are written step by step, so stopping there is as
        // safe as a SIGKILL). Within Kubernetes' default 30 s grace period.
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
        connections.stop()
        logger.info("syncagent stopped")
    }
}

extension AgentConfig {
    /// Overrides `agent.listen`.
    mutating func listen(_ address: String) { agent.listen = address }
}
