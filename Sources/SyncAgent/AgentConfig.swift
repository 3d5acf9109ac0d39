import RolloutEngine
import Applier
import Differ
import Foundation
import GitSource
import KubeYAML
import SyncCore

/// The agent's configuration file (default `config/syncagent.yaml`); every key is documented in the README
/// ("Configuration"). Unknown keys are errors naming the key, file, line and column.
struct AgentConfig: Sendable {
    /// Where the desired state lives and how it is read.
    struct Repo: Sendable {
        var url: String
        var branch: String
        /// The config folder from the repository root, normalised (``ConfigPath/inRepository(_:)``): `""` is the
        /// root.
        var path: String
        /// How often `run` asks whether the branch moved.
        var pollInterval: Duration = .seconds(30)
        /// The deadline of one Git network operation (a moved-check, a fetch, a push), enforced on its sockets.
        var timeout: Duration = .seconds(60)
        /// How much one revision may be (files, bytes, objects).
        var limits = InputLimits.standard
        /// A file holding an HTTPS token.
        var tokenFile: String?
        /// An SSH key pair and the known_hosts file that must list the server.
        var sshKey: SSHKey?
        /// The keys that must have signed a head before anything of it is applied (`repo.verify`); nil: no check.
        var verify: SignaturePolicy?

        struct SSHKey: Sendable {
            var username: String
            var privateKey: String
            var publicKey: String?
            var knownHosts: String
        }

        /// The credentials for GitSource.
        var credentials: GitCredentials {
            if let sshKey {
                return .sshKey(
                    username: sshKey.username, privateKey: sshKey.privateKey, publicKey: sshKey.publicKey,
                    knownHosts: sshKey.knownHosts)
            }
            if let tokenFile { return .token(.file(tokenFile)) }
            return .none
        }
    }

    /// One cluster, in rollout order (RolloutEngine's type: the rollout reads it).
    typealias Region = RegionTarget
    /// How a region is judged after its apply.
    typealias Gates = RegionGates
    /// What a sync may do.
    typealias SyncPolicy = RolloutEngine.SyncPolicy

    /// The long-running agent's settings.
    struct Agent: Sendable {
        /// Where `/metrics`, `/healthz`, `/readyz` and `/hooks/git` listen.
        var listen: String = "127.0.0.1:9464"
        /// A file holding the webhook's shared secret; without one, `/hooks/git` answers 404.
        var webhookSecretFile: String?
        /// How often the drift check runs.
        var driftInterval: Duration = .seconds(300)
        /// Where the Git cache lives; default `$XDG_CACHE_HOME/syncagent` or `~/.cache/syncagent`.
        var cache: String?
        /// The largest webhook body read, in bytes: a larger `Content-Length` is answered 413 before any of the body
        /// is read, a longer chunked body once the limit is passed.
        var webhookBodyLimit = 1 << 20
        /// How long a connection may stay without a request: one that sends nothing, or its request head too slowly,
        /// or stalls mid-body, is closed.
        var idleTimeout: Duration = .seconds(30)
        /// How long a webhook body may take to arrive, from its request head to its last byte (answered 408 after).
        var requestTimeout: Duration = .seconds(10)
        /// The most HTTP connections open at once; a connection beyond is closed as soon as it is accepted.
        var maxConnections = 64
        /// Several replicas, one writer per region (`agent.leaderElection`); nil: this agent writes without Leases.
        var leaderElection: LeaseTiming?
    }

    var repo: Repo?
    var regions: [Region]
    var sync = SyncPolicy()
    var agent = Agent()
    var ignore: [IgnoreRule]
    /// Alertmanager and webhooks (`notifications:`); nil: no notifications.
    var notifications: NotificationConfig?

    /// Reads and checks the file.
    static func load(file: String) throws -> AgentConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(message: "\(file): cannot read the configuration file")
        }
        let documents = try YAML.load(Array(data), file: file)
        guard let document = documents.first else { throw ConfigError(message: "\(file): the file is empty") }
        return try AgentConfig(document)
    }

    init(_ document: YAMLDocument) throws {
        let reader = Reader(document: document)
        let root = try reader.object(
            [], allowed: ["repo", "regions", "gates", "sync", "agent", "ignore", "notifications"])
        if root["repo"] != nil {
            let path: [PathElement] = ["repo"]
            let members = try reader.object(
                path,
                allowed: [
                    "url", "branch", "path", "pollInterval", "timeout", "limits", "tokenFile", "sshKey", "verify",
                ])
            let folder = try reader.string(path + ["path"], in: members) ?? ""
            guard let normalised = ConfigPath.inRepository(folder) else {
                throw ConfigError(
                    message: "\(document.location(at: path + ["path"])): \"\(folder)\" leaves the repository ('..'); "
                        + "give the config folder from the repository root")
            }
            var repo = Repo(
                url: try reader.string(path + ["url"], in: members, required: true) ?? "",
                branch: try reader.string(path + ["branch"], in: members) ?? "main",
                path: normalised)
            if let interval = try reader.duration(path + ["pollInterval"], in: members) {
                guard interval > .zero else {
                    throw ConfigError(message: "\(document.location(at: path + ["pollInterval"])): must be above 0s")
                }
                repo.pollInterval = interval
            }
            if let timeout = try reader.duration(path + ["timeout"], in: members) {
                guard timeout >= .seconds(1), timeout <= .seconds(3600) else {
                    throw ConfigError(
                        message: "\(document.location(at: path + ["timeout"])): must be between 1s and 1h (the "
                            + "deadline of one Git fetch)")
                }
                repo.timeout = timeout
            }
            if members["limits"] != nil {
                let limitsPath = path + ["limits"]
                let limits = try reader.object(limitsPath, allowed: ["maxFiles", "maxBytes", "maxObjects"])
                if let files = try reader.wholeNumber(limitsPath + ["maxFiles"], in: limits, range: 1...1_000_000) {
                    repo.limits.maxFiles = files
                }
                if let bytes = try reader.wholeNumber(limitsPath + ["maxBytes"], in: limits, range: 1024...(4 << 30)) {
                    repo.limits.maxBytes = bytes
                }
                if let objects = try reader.wholeNumber(
                    limitsPath + ["maxObjects"], in: limits, range: 1...1_000_000)
                {
                    repo.limits.maxObjects = objects
                }
            }
            repo.tokenFile = try reader.string(path + ["tokenFile"], in: members).map(Self.expandHome)
            if members["sshKey"] != nil {
                let keyPath = path + ["sshKey"]
                let key = try reader.object(keyPath, allowed: ["username", "privateKey", "publicKey", "knownHosts"])
                repo.sshKey = Repo.SSHKey(
                    username: try reader.string(keyPath + ["username"], in: key) ?? "git",
                    privateKey: try reader.string(keyPath + ["privateKey"], in: key, required: true).map(
                        Self.expandHome) ?? "",
                    publicKey: try reader.string(keyPath + ["publicKey"], in: key).map(Self.expandHome),
                    knownHosts: try reader.string(keyPath + ["knownHosts"], in: key, required: true).map(
                        Self.expandHome) ?? "")
            }
            if members["verify"] != nil {
                let verifyPath = path + ["verify"]
                let verify = try reader.object(verifyPath, allowed: ["openpgp", "ssh"])
                var policy = SignaturePolicy()
                if verify["openpgp"] != nil {
                    let keys = try reader.object(verifyPath + ["openpgp"], allowed: ["keyring"])
                    policy.openPGPKeyring = try reader.string(
                        verifyPath + ["openpgp", "keyring"], in: keys, required: true
                    ).map(Self.expandHome)
                }
                if verify["ssh"] != nil {
                    let keys = try reader.object(verifyPath + ["ssh"], allowed: ["allowedSigners"])
                    policy.sshAllowedSigners = try reader.string(
                        verifyPath + ["ssh", "allowedSigners"], in: keys, required: true
                    ).map(Self.expandHome)
                }
                guard policy.openPGPKeyring != nil || policy.sshAllowedSigners != nil else {
                    throw ConfigError(
                        message: "\(document.location(at: verifyPath)): give openpgp.keyring and/or "
                            + "ssh.allowedSigners (the keys allowed to sign the commits syncagent applies)")
                }
                for (file, key) in [(policy.openPGPKeyring, "openpgp"), (policy.sshAllowedSigners, "ssh")] {
                    guard let file else { continue }
                    guard FileManager.default.isReadableFile(atPath: file) else {
                        throw ConfigError(
                            message: "\(document.location(at: verifyPath + [.key(key)])): cannot read \(file)")
                    }
                }
                repo.verify = policy
            }
            self.repo = repo
        }
        let defaultGates = try root["gates"] == nil ? Gates() : reader.gates(["gates"], region: nil)
        var regions: [Region] = []
        for index in (root["regions"]?.arrayValue ?? []).indices {
            let path: [PathElement] = ["regions", .index(index)]
            let members = try reader.object(path, allowed: ["name", "kubeconfig", "context", "gates"])
            let name = try reader.string(path + ["name"], in: members, required: true) ?? ""
            if regions.contains(where: { $0.name == name }) {
                throw ConfigError(
                    message: "\(document.location(at: path + ["name"])): region \"\(name)\" is listed twice")
            }
            var gates = try members["gates"] == nil ? defaultGates : reader.gates(path + ["gates"], region: name)
            if members["gates"] == nil, var metrics = gates.metrics {
                metrics = Reader.substitute(region: name, in: metrics)
                gates.metrics = metrics
            }
            regions.append(
                Region(
                    name: name,
                    kubeconfig: try reader.string(path + ["kubeconfig"], in: members).map(Self.expandHome),
                    context: try reader.string(path + ["context"], in: members), gates: gates))
        }
        guard !regions.isEmpty else {
            throw ConfigError(message: "\(document.location): \"regions\" must list at least one region")
        }
        self.regions = regions
        if root["sync"] != nil {
            let path: [PathElement] = ["sync"]
            let members = try reader.object(
                path,
                allowed: [
                    "prune", "selfHeal", "allowedKinds", "allowedNamespaces", "allowEmpty", "maxPrune", "adopt",
                ])
            sync.allowEmpty = try reader.bool(path + ["allowEmpty"], in: members) ?? false
            sync.adopt = try reader.bool(path + ["adopt"], in: members) ?? false
            sync.maxPrune = try reader.wholeNumber(path + ["maxPrune"], in: members, range: 0...1_000_000)
            sync.prune = try reader.bool(path + ["prune"], in: members) ?? true
            sync.selfHeal = try reader.bool(path + ["selfHeal"], in: members) ?? false
            sync.allowedKinds = try reader.strings(path + ["allowedKinds"], in: members)
            sync.allowedNamespaces = try reader.strings(path + ["allowedNamespaces"], in: members)
        }
        if root["agent"] != nil {
            let path: [PathElement] = ["agent"]
            let members = try reader.object(
                path,
                allowed: [
                    "listen", "webhookSecretFile", "driftInterval", "cache", "webhookBodyLimit", "idleTimeout",
                    "requestTimeout", "maxConnections", "leaderElection",
                ])
            agent.listen = try reader.string(path + ["listen"], in: members) ?? agent.listen
            guard Self.hostAndPort(agent.listen) != nil else {
                throw ConfigError(
                    message: "\(document.location(at: path + ["listen"])): expected HOST:PORT, e.g. 127.0.0.1:9464")
            }
            agent.webhookSecretFile = try reader.string(path + ["webhookSecretFile"], in: members).map(Self.expandHome)
            agent.driftInterval = try reader.duration(path + ["driftInterval"], in: members) ?? agent.driftInterval
            agent.cache = try reader.string(path + ["cache"], in: members).map(Self.expandHome)
            agent.webhookBodyLimit =
                try reader.wholeNumber(path + ["webhookBodyLimit"], in: members, range: 1024...(25 << 20))
                ?? agent.webhookBodyLimit
            agent.maxConnections =
                try reader.wholeNumber(path + ["maxConnections"], in: members, range: 1...10_000)
                ?? agent.maxConnections
            agent.idleTimeout = try reader.positiveDuration(path + ["idleTimeout"], in: members) ?? agent.idleTimeout
            agent.requestTimeout =
                try reader.positiveDuration(path + ["requestTimeout"], in: members) ?? agent.requestTimeout
            if members["leaderElection"] != nil {
                let path = path + ["leaderElection"]
                let members = try reader.object(
                    path, allowed: ["enabled", "leaseDuration", "renewDeadline", "retryPeriod"])
                var timing = LeaseTiming()
                timing.leaseDuration =
                    try reader.positiveDuration(path + ["leaseDuration"], in: members) ?? timing.leaseDuration
                timing.renewDeadline =
                    try reader.positiveDuration(path + ["renewDeadline"], in: members) ?? timing.renewDeadline
                timing.retryPeriod =
                    try reader.positiveDuration(path + ["retryPeriod"], in: members) ?? timing.retryPeriod
                if let problem = timing.problem {
                    throw ConfigError(message: "\(document.location(at: path)): \(problem)")
                }
                if try reader.bool(path + ["enabled"], in: members) ?? true { agent.leaderElection = timing }
            }
        }
        var rules: [IgnoreRule] = []
        for index in (root["ignore"]?.arrayValue ?? []).indices {
            let path: [PathElement] = ["ignore", .index(index)]
            let members = try reader.object(
                path,
                allowed: ["group", "kind", "namespace", "name", "jsonPointers", "paths", "managedFieldsManagers"])
            func strings(_ key: String) -> [String] { members[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            do {
                rules.append(
                    try IgnoreRule(
                        group: members["group"]?.stringValue, kind: members["kind"]?.stringValue,
                        namespace: members["namespace"]?.stringValue, name: members["name"]?.stringValue,
                        jsonPointers: strings("jsonPointers"), paths: strings("paths"),
                        managedFieldsManagers: strings("managedFieldsManagers")))
            } catch {
                throw ConfigError(message: "\(document.location(at: path)): \(error)")
            }
        }
        ignore = rules
        if root["notifications"] != nil {
            notifications = try reader.notifications(["notifications"])
        }
    }

    /// The region named `name`.
    func region(_ name: String) -> Region? { regions.first { $0.name == name } }

    /// What the rollout engine needs of the configuration: the regions in order and the sync policy.
    var rollout: RolloutConfig { RolloutConfig(regions: regions, sync: sync) }

    static func expandHome(_ path: String) -> String {
        path.hasPrefix("~/") ? NSHomeDirectory() + path.dropFirst(1) : path
    }

    /// `127.0.0.1:9464` → ("127.0.0.1", 9464).
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon])
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// Checks mappings for unknown keys and reads typed values, with positions from the source map.
    struct Reader {
        let document: YAMLDocument

        func node(_ path: [PathElement]) -> Value? {
            var node: Value? = document.value
            for element in path {
                switch element {
                case .key(let key): node = node?[key]
                case .index(let index): node = node?.arrayValue.flatMap { index < $0.count ? $0[index] : nil }
                }
            }
            return node
        }

        func object(_ path: [PathElement], allowed: Set<String>) throws -> [String: Value] {
            guard let members = node(path)?.objectValue else {
                throw ConfigError(message: "\(document.location(at: path)): expected a mapping")
            }
            for key in members.keys where !allowed.contains(key) {
                let place = document.sourceMap.keyLocation(of: path + [.key(key)]) ?? document.location(at: path)
                throw ConfigError(
                    message:
                        "\(place): unknown key \"\(key)\" (allowed here: \(allowed.sorted().joined(separator: ", ")))")
            }
            var result: [String: Value] = [:]
            for (key, value) in members { result[key] = value }
            return result
        }

        /// The member the last path element names, or nil when absent or null; throws when required and absent.
        private func member(_ path: [PathElement], in members: [String: Value], required: Bool) throws -> Value? {
            guard case .key(let key)? = path.last else { return nil }
            guard let value = members[key], !value.isNull else {
                if required {
                    throw ConfigError(
                        message: "\(document.location(at: Array(path.dropLast()))): missing required key \"\(key)\"")
                }
                return nil
            }
            return value
        }

        private func mistyped(_ path: [PathElement], _ expected: String) -> ConfigError {
            let key: String
            if case .key(let name)? = path.last { key = name } else { key = "value" }
            return ConfigError(message: "\(document.location(at: path)): \"\(key)\" must be \(expected)")
        }

        func string(_ path: [PathElement], in members: [String: Value], required: Bool = false) throws -> String? {
            guard let value = try member(path, in: members, required: required) else { return nil }
            guard let text = value.stringValue else { throw mistyped(path, "a string") }
            return text
        }

        func bool(_ path: [PathElement], in members: [String: Value]) throws -> Bool? {
            guard let value = try member(path, in: members, required: false) else { return nil }
            guard let flag = value.boolValue else { throw mistyped(path, "true or false") }
            return flag
        }

        /// A finite number (`.inf` and `.nan` are refused: no comparison with them means anything).
        func number(_ path: [PathElement], in members: [String: Value], required: Bool = false) throws -> Double? {
            guard let value = try member(path, in: members, required: required) else { return nil }
            switch value {
            case .int(let i): return Double(i)
            case .uint(let u): return Double(u)
            case .double(let d) where d.isFinite: return d
            default: throw mistyped(path, "a finite number")
            }
        }

        /// A whole number in `range`, checked before it becomes an `Int` (a huge value must be an error, not a
        /// trap).
        func wholeNumber(_ path: [PathElement], in members: [String: Value], range: ClosedRange<Int>) throws -> Int? {
            guard let value = try number(path, in: members) else { return nil }
            guard value == value.rounded(), value >= Double(range.lowerBound), value <= Double(range.upperBound)
            else { throw mistyped(path, "a whole number from \(range.lowerBound) to \(range.upperBound)") }
            return Int(value)
        }

        func strings(_ path: [PathElement], in members: [String: Value]) throws -> [String] {
            guard let value = try member(path, in: members, required: false) else { return [] }
            guard let items = value.arrayValue else { throw mistyped(path, "a list of strings") }
            return try items.enumerated().map { index, item in
                guard let text = item.stringValue else { throw mistyped(path + [.index(index)], "a string") }
                return text
            }
        }

        func duration(_ path: [PathElement], in members: [String: Value]) throws -> Duration? {
            guard let value = try member(path, in: members, required: false) else { return nil }
            guard let text = value.stringValue ?? value.intValue.map({ "\($0)s" }),
                let duration = parseDuration(text)
            else { throw mistyped(path, "a duration such as 500ms, 30s, 5m or 1h, at most 8760h (a year)") }
            return duration
        }

        /// A duration above zero.
        func positiveDuration(_ path: [PathElement], in members: [String: Value]) throws -> Duration? {
            guard let duration = try duration(path, in: members) else { return nil }
            guard duration > .zero else {
                throw ConfigError(message: "\(document.location(at: path)): must be above 0s")
            }
            return duration
        }

        /// A `gates` mapping; `region` names the region it belongs to (nil for the top-level default, whose
        /// `{region}` placeholders each region fills in).
        func gates(_ path: [PathElement], region: String?) throws -> Gates {
            let members = try object(path, allowed: ["readinessTimeout", "prometheus", "probes"])
            var gates = Gates()
            gates.readinessTimeout = try duration(path + ["readinessTimeout"], in: members) ?? gates.readinessTimeout
            var checks: [MetricCheck] = []
            var prometheusURL = ""
            var bakeTime: Duration = .zero
            var interval: Duration = .seconds(10)
            var timeout: Duration = .seconds(5)
            var failOpen = false
            if members["prometheus"] != nil {
                let promPath = path + ["prometheus"]
                let prom = try object(
                    promPath, allowed: ["url", "bakeTime", "interval", "requestTimeout", "onUnreachable", "checks"])
                prometheusURL = try string(promPath + ["url"], in: prom, required: true) ?? ""
                bakeTime = try duration(promPath + ["bakeTime"], in: prom) ?? bakeTime
                interval = try duration(promPath + ["interval"], in: prom) ?? interval
                timeout = try duration(promPath + ["requestTimeout"], in: prom) ?? timeout
                guard interval > .zero else {
                    throw ConfigError(message: "\(document.location(at: promPath + ["interval"])): must be above 0s")
                }
                switch try string(promPath + ["onUnreachable"], in: prom) ?? "fail" {
                case "fail": failOpen = false
                case "pass": failOpen = true
                default:
                    throw ConfigError(
                        message: "\(document.location(at: promPath + ["onUnreachable"])): must be fail or pass")
                }
                for index in (prom["checks"]?.arrayValue ?? []).indices {
                    let checkPath = promPath + ["checks", .index(index)]
                    let check = try object(
                        checkPath, allowed: ["name", "query", "operator", "threshold", "valueWhenEmpty"])
                    let op = try string(checkPath + ["operator"], in: check) ?? "<"
                    guard let comparison = MetricCheck.Comparison(rawValue: op) else {
                        throw ConfigError(
                            message: "\(document.location(at: checkPath + ["operator"])): must be <, <=, > or >=")
                    }
                    checks.append(
                        MetricCheck(
                            name: try string(checkPath + ["name"], in: check, required: true) ?? "",
                            query: try string(checkPath + ["query"], in: check, required: true) ?? "",
                            comparison: comparison,
                            threshold: try number(checkPath + ["threshold"], in: check, required: true) ?? 0,
                            valueWhenEmpty: try number(checkPath + ["valueWhenEmpty"], in: check)))
                }
                if checks.isEmpty {
                    throw ConfigError(
                        message: "\(document.location(at: promPath)): \"checks\" must list at least one check")
                }
            }
            var probes: [HTTPProbe] = []
            for index in (members["probes"]?.arrayValue ?? []).indices {
                let probePath = path + ["probes", .index(index)]
                let probe = try object(probePath, allowed: ["url", "expectedStatus"])
                probes.append(
                    HTTPProbe(
                        url: try string(probePath + ["url"], in: probe, required: true) ?? "",
                        expectedStatus: try wholeNumber(probePath + ["expectedStatus"], in: probe, range: 100...599)
                            ?? 200))
            }
            if !checks.isEmpty || !probes.isEmpty {
                var config = GateConfig(
                    prometheusURL: prometheusURL, checks: checks, probes: probes, bakeTime: bakeTime,
                    interval: interval, requestTimeout: timeout, failOpen: failOpen)
                if let region { config = Self.substitute(region: region, in: config) }
                gates.metrics = config
            }
            return gates
        }

        /// Replaces `{region}` in the URL, queries and probe URLs.
        static func substitute(region: String, in config: GateConfig) -> GateConfig {
            var config = config
            config.prometheusURL = config.prometheusURL.replacing("{region}", with: region)
            config.checks = config.checks.map { check in
                var check = check
                check.query = check.query.replacingOccurrences(of: "{region}", with: region)
                return check
            }
            config.probes = config.probes.map { probe in
                var probe = probe
                probe.url = probe.url.replacing("{region}", with: region)
                return probe
            }
            return config
        }
    }
}

/// `500ms`, `30s`, `5m`, `1h`, `1m30s`, `0s`, or a bare number of seconds; nil when unreadable.
func parseDuration(_ text: String) -> Duration? {
    let text = text.trimmingCharacters(in: .whitespaces)
    // Milliseconds as a Double first, range-checked before the conversion to an integer (`1e30` or `inf` must be
    // "not a duration", never a trap).
    let year = 365.0 * 24 * 3_600_000
    func milliseconds(_ value: Double) -> Duration? {
        guard value.isFinite, value >= 0, value <= year else { return nil }
        return .milliseconds(Int64(value))
    }
    if let seconds = Double(text) { return milliseconds(seconds * 1000) }
    var total: Duration = .zero
    var number = ""
    var index = text.startIndex
    guard !text.isEmpty else { return nil }
    while index < text.endIndex {
        let character = text[index]
        if character.isNumber || character == "." {
            number.append(character)
            index = text.index(after: index)
            continue
        }
        var unit = String(character)
        index = text.index(after: index)
        if unit == "m", index < text.endIndex, text[index] == "s" {
            unit = "ms"
            index = text.index(after: index)
        }
        guard let value = Double(number) else { return nil }
        number = ""
        let scale: Double
        switch unit {
        case "ms": scale = 1
        case "s": scale = 1000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        default: return nil
        }
        guard let part = milliseconds(value * scale) else { return nil }
        total += part
    }
    guard number.isEmpty, total <= .milliseconds(Int64(year)) else { return nil }
    return total
}

/// A problem in the configuration file, with its position.
struct ConfigError: Error, CustomStringConvertible, Sendable {
    var message: String
    var description: String { message }
}

extension AgentConfig.Reader {
    /// `notifications: {alertmanager: {url, resendInterval?, timeout?}, webhooks: [{url, secretFile?}],
    /// regionUnavailableAfter?}`.
    func notifications(_ path: [PathElement]) throws -> NotificationConfig {
        let members = try object(path, allowed: ["alertmanager", "webhooks", "regionUnavailableAfter"])
        var config = NotificationConfig()
        func httpURL(_ at: [PathElement], in map: [String: Value]) throws -> RedactedURL {
            let text = try string(at + ["url"], in: map, required: true) ?? ""
            guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
                throw ConfigError(
                    message: "\(document.location(at: at + ["url"])): expected an http:// or https:// URL, got "
                        + "\(Redaction.scrub(text))")
            }
            return RedactedURL(text)
        }
        if members["alertmanager"] != nil {
            let at = path + ["alertmanager"]
            let map = try object(at, allowed: ["url", "resendInterval", "timeout"])
            var alertmanager = NotificationConfig.Alertmanager(url: try httpURL(at, in: map))
            alertmanager.resendInterval =
                try positiveDuration(at + ["resendInterval"], in: map) ?? alertmanager.resendInterval
            alertmanager.timeout = try positiveDuration(at + ["timeout"], in: map) ?? alertmanager.timeout
            config.alertmanager = alertmanager
        }
        for index in (members["webhooks"]?.arrayValue ?? []).indices {
            let at = path + ["webhooks", .index(index)]
            let map = try object(at, allowed: ["url", "secretFile"])
            config.webhooks.append(
                NotificationConfig.Webhook(
                    url: try httpURL(at, in: map),
                    secretFile: try string(at + ["secretFile"], in: map).map(AgentConfig.expandHome)))
        }
        config.regionUnavailableAfter =
            try positiveDuration(path + ["regionUnavailableAfter"], in: members) ?? config.regionUnavailableAfter
        return config
    }
}
