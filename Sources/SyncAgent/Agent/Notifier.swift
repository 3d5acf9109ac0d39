import AgentWebhook
import Applier
import Foundation
import Logging
import RolloutEngine
import ServiceLifecycle
import SyncCore

/// Where the agent sends its alerts (`notifications:`): Alertmanager's v2 API and signed JSON webhooks.
struct NotificationConfig: Sendable {
    struct Alertmanager: Sendable {
        /// The Alertmanager base URL (`http://alertmanager:9093`); credentials in it are never shown.
        var url: RedactedURL
        /// How often a firing alert is sent again (Alertmanager forgets an alert not re-sent by its `endsAt`).
        var resendInterval: Duration = .seconds(60)
        /// The deadline of one POST.
        var timeout: Duration = .seconds(10)
    }

    struct Webhook: Sendable {
        var url: RedactedURL
        /// The HMAC key: each POST carries `X-Syncagent-Signature-256: sha256=<HMAC-SHA256 of the body>`.
        var secretFile: String?
    }

    var alertmanager: Alertmanager?
    var webhooks: [Webhook] = []
    /// A region unreachable for this long raises `SyncagentRegionUnavailable`.
    var regionUnavailableAfter: Duration = .seconds(300)
}

/// One alert as Alertmanager's v2 API takes it.
struct AgentAlert: Sendable, Hashable {
    var labels: [String: String]
    var annotations: [String: String]
    var startsAt: Date

    /// Identity: the alert name and its labels (as Alertmanager fingerprints alerts).
    var key: String { Self.key(labels) }

    static func key(_ labels: [String: String]) -> String {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The v2 API's alert object; without `endsAt`, nil.
    func json(endsAt: Date?) -> Value {
        func object(_ map: [String: String]) -> Value {
            .object(
                .init(uniqueKeysWithValues: map.sorted { $0.key < $1.key }.map { ($0.key, Value.string($0.value)) }))
        }
        var alert: Value = [
            "labels": object(labels), "annotations": object(annotations),
            "startsAt": .string(AgentAlert.timestamp(startsAt)),
        ]
        if let endsAt { alert["endsAt"] = .string(AgentAlert.timestamp(endsAt)) }
        return alert
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Turns what the agent sees into alerts that fire while a condition holds and resolve when it clears:
///
/// | alert | fires when | clears when |
/// | --- | --- | --- |
/// | `SyncagentRolloutFailed` (critical) | a region rejected a revision (a failed gate, apply or readiness) | the region syncs |
/// | `SyncagentRolledBack` (warning) | a region was rolled back to its last good revision | the region syncs |
/// | `SyncagentRegionUnavailable` (critical) | a region was unreachable for `regionUnavailableAfter` | it answers |
/// | `SyncagentDriftDetected` (warning) | a drift check found drift | a check finds none |
/// | `SyncagentGitUnreachable` (warning) | a poll of the config repository failed | a poll succeeds |
///
/// A firing alert is posted at once and again every `resendInterval` (with `endsAt` three intervals ahead, so
/// Alertmanager resolves it by itself if the agent dies); a cleared one is posted with `endsAt` now. Webhooks get
/// `{"status": "firing"|"resolved", "alert": …}` once per change. Annotations are scrubbed of credentials.
actor Notifier: Service {
    let config: NotificationConfig?
    let logger: Logger
    private let transport: HTTPTransport?
    private let secrets: [String?]
    private var firing: [String: AgentAlert] = [:]
    private var unavailableSince: [String: Date] = [:]

    init(config: NotificationConfig?, logger: Logger) throws {
        self.config = config
        self.logger = logger
        transport = config == nil ? nil : try HTTPTransport(options: .init(maxConcurrentTransfers: 4))
        var secrets: [String?] = []
        for hook in config?.webhooks ?? [] {
            guard let file = hook.secretFile else {
                secrets.append(nil)
                continue
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw NotifierError(message: "notifications.webhooks: cannot read secretFile \(file)")
            }
            secrets.append(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        self.secrets = secrets
    }

    /// Re-sends firing alerts to Alertmanager until the agent stops.
    func run() async throws {
        guard let alertmanager = config?.alertmanager else {
            // Nothing to re-send; a service that ends early would stop the agent, so it waits for the shutdown.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: alertmanager.resendInterval) } catch { return }
                await self.resend()
            }
        }
    }

    // MARK: - What the agent saw

    /// A rollout's outcomes, region by region.
    func record(_ report: RolloutReport) async {
        for outcome in report.regions {
            let region = outcome.region
            let revision = report.revision.sha
            switch outcome.result {
            case .synced, .unchanged:
                await clear(alertname: "SyncagentRolloutFailed", region: region)
                await clear(alertname: "SyncagentRolledBack", region: region)
                await reachable(region)
            case .failed:
                await reachable(region)
                await fire(
                    "SyncagentRolloutFailed", region: region, revision: revision, severity: "critical",
                    summary: "revision \(revision.prefix(12)) failed in \(region) and was not rolled back",
                    description:
                        "\(outcome.message). The region runs what the failed pass left; run `syncagent status`, then "
                        + "fix the commit or revert it (`git revert`).")
            case .rolledBack:
                await reachable(region)
                await fire(
                    "SyncagentRolloutFailed", region: region, revision: revision, severity: "critical",
                    summary: "revision \(revision.prefix(12)) failed in \(region)",
                    description:
                        "\(outcome.message). It did not ship; fix the commit or revert it (`git revert`).")
                await fire(
                    "SyncagentRolledBack", region: region, revision: revision, severity: "warning",
                    summary: "\(region) was rolled back from revision \(revision.prefix(12))",
                    description:
                        "\(outcome.message). The region is back at its last good revision; the rejected revision is "
                        + "not retried until the branch moves. Fix or revert the commit.")
            case .unavailable:
                let since = unavailableSince[region] ?? Date()
                unavailableSince[region] = since
                let after = config?.regionUnavailableAfter ?? .seconds(300)
                if Date().timeIntervalSince(since) >= Double(after.components.seconds) {
                    await fire(
                        "SyncagentRegionUnavailable", region: region, revision: nil, severity: "critical",
                        summary: "\(region) has been unreachable since \(AgentAlert.timestamp(since))",
                        description:
                            "\(outcome.message). Nothing is synced there and drift is not checked. Check the "
                            + "cluster's API server, the network and the kubeconfig credentials.")
                }
            case .notReached, .abandoned, .conflict, .dryRun:
                break
            }
        }
    }

    /// A drift check's count for a region.
    func drift(region: String, count: Int) async {
        if count > 0 {
            await fire(
                "SyncagentDriftDetected", region: region, revision: nil, severity: "warning",
                summary: "\(count) resource\(count == 1 ? "" : "s") drifted in \(region)",
                description:
                    "Live objects differ from the synced revision. Run `syncagent drift` to see each field and who "
                    + "changed it; commit the change to Git or let self-heal (`sync.selfHeal`) put it back.")
        } else {
            await clear(alertname: "SyncagentDriftDetected", region: region)
        }
    }

    /// A poll of the config repository: its error, or nil when it reached the remote.
    func poll(error: String?) async {
        if let error {
            await fire(
                "SyncagentGitUnreachable", region: nil, revision: nil, severity: "warning",
                summary: "syncagent cannot read its config repository",
                description:
                    "\(error). New commits are not seen; the clusters keep the last synced revision. Check the "
                    + "remote's URL, network and credentials (`repo.auth`), and `repo.timeout`.")
        } else {
            await clear(alertname: "SyncagentGitUnreachable", region: nil)
        }
    }

    private func reachable(_ region: String) async {
        unavailableSince[region] = nil
        await clear(alertname: "SyncagentRegionUnavailable", region: region)
    }

    // MARK: - Firing and clearing

    private func fire(
        _ alertname: String, region: String?, revision: String?, severity: String, summary: String,
        description: String
    ) async {
        guard config != nil else { return }
        var labels = ["alertname": alertname, "severity": severity, "service": "syncagent"]
        if let region { labels["region"] = region }
        if let revision { labels["revision"] = revision }
        let annotations = [
            "summary": Redaction.scrubCredentials(summary), "description": Redaction.scrubCredentials(description),
        ]
        let key = AgentAlert.key(labels)
        // One alert of a name per region: a newer revision's failure replaces the older one's.
        for (other, alert) in firing
        where other != key && alert.labels["alertname"] == alertname && alert.labels["region"] == region {
            firing[other] = nil
            await send(alert, resolved: true)
        }
        if var alert = firing[key] {
            if alert.annotations == annotations { return }
            alert.annotations = annotations
            firing[key] = alert
            await send(alert, resolved: false)
            return
        }
        let alert = AgentAlert(labels: labels, annotations: annotations, startsAt: Date())
        firing[key] = alert
        logger.warning("alert firing", metadata: ["alert": "\(alertname)", "region": "\(region ?? "")"])
        await send(alert, resolved: false)
    }

    private func clear(alertname: String, region: String?) async {
        for (key, alert) in firing where alert.labels["alertname"] == alertname && alert.labels["region"] == region {
            firing[key] = nil
            logger.info("alert resolved", metadata: ["alert": "\(alertname)", "region": "\(region ?? "")"])
            await send(alert, resolved: true)
        }
    }

    private func resend() async {
        guard let alertmanager = config?.alertmanager, !firing.isEmpty else { return }
        await post(firing.values.sorted { $0.key < $1.key }, resolved: false, to: alertmanager)
    }

    // MARK: - Sending

    private func send(_ alert: AgentAlert, resolved: Bool) async {
        guard let config else { return }
        if let alertmanager = config.alertmanager { await post([alert], resolved: resolved, to: alertmanager) }
        for (index, hook) in config.webhooks.enumerated() {
            let payload: Value = [
                "status": .string(resolved ? "resolved" : "firing"),
                "alert": alert.json(endsAt: resolved ? Date() : nil),
            ]
            let body = payload.jsonBytes
            var headers = [("Content-Type", "application/json")]
            if let secret = secrets[index] {
                headers.append(("X-Syncagent-Signature-256", Webhook.signature(of: body, secret: Array(secret.utf8))))
            }
            await deliver(
                HTTPRequest(method: "POST", url: hook.url.unredacted, headers: headers, body: body, timeout: 10),
                target: "\(hook.url)")
        }
    }

    private func post(_ alerts: [AgentAlert], resolved: Bool, to alertmanager: NotificationConfig.Alertmanager)
        async
    {
        let now = Date()
        let ahead = now.addingTimeInterval(3 * Double(alertmanager.resendInterval.components.seconds))
        let body = Value.array(alerts.map { $0.json(endsAt: resolved ? now : ahead) }).jsonBytes
        var base = alertmanager.url.unredacted
        while base.hasSuffix("/") { base.removeLast() }
        await deliver(
            HTTPRequest(
                method: "POST", url: base + "/api/v2/alerts", headers: [("Content-Type", "application/json")],
                body: body, timeout: Double(alertmanager.timeout.components.seconds)),
            target: "\(alertmanager.url)")
    }

    /// One POST; a failure is logged (with the URL redacted) and the alert goes again at the next resend.
    private func deliver(_ request: HTTPRequest, target: String) async {
        guard let transport else { return }
        do {
            let response = try await transport.send(request)
            if !(200..<300).contains(response.status) {
                logger.warning(
                    "notification refused",
                    metadata: ["target": "\(target)", "status": "\(response.status)"])
            }
        } catch {
            logger.warning(
                "notification not delivered",
                metadata: ["target": "\(target)", "error": "\(Redaction.scrubCredentials("\(error)"))"])
        }
    }
}

/// A notification setting that cannot be used.
struct NotifierError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
