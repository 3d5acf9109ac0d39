import Foundation
import Logging
import SyncCore

/// Carries out one region's ``RegionPlan`` against its cluster: server-side applies, waits, prunes, then records
/// the inventory.
///
/// The rules:
/// - Applies are server-side, under the client's field manager (`syncagent`). An object whose live state already
///   matches what the apply would store (a server-side dry-run equal to live) is not sent: it is `unchanged`.
/// - A wait polls each object with ``assessHealth(_:now:)`` until it is done, or the readiness timeout passes.
/// - A prune deletes only an object listed in the region's current inventory, never one annotated
///   `syncagent.io/prune: disabled` (those are `skipped` and dropped from the inventory).
/// - The first failure stops the plan; nothing after it runs and the inventory is not written.
/// - After every step succeeded the inventory ConfigMap is written (namespace `syncagent-system` created if
///   missing) with the revision, the time and the applied objects.
///
/// One applier per region; its steps run one after another.
public struct RegionApplier: Sendable {
    /// The annotation that protects an object from prune when its value is `disabled`.
    public static let pruneAnnotation = "syncagent.io/prune"

    /// The region's cluster.
    public let client: KubeClient
    let logger: Logger
    /// How often a wait reads its objects again.
    public var pollInterval: Duration

    /// An applier for the cluster `client` talks to; logs with `logger`.
    public init(client: KubeClient, logger: Logger, pollInterval: Duration = .milliseconds(200)) {
        self.client = client
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Takes every step of `plan` in order, stopping at the first failure; writes the inventory (revision
    /// `revision`) after success. Each wait step gives up after `readinessTimeout`.
    public func execute(_ plan: RegionPlan, revision: String, readinessTimeout: Duration) async -> ApplyReport {
        var logger = logger
        logger[metadataKey: "region"] = "\(plan.region)"
        logger[metadataKey: "git.revision"] = "\(revision)"
        var report = ApplyReport(region: plan.region, revision: revision)
        func fail(_ index: Int, _ step: String, _ object: ObjectRef?, _ message: String) -> ApplyReport {
            let failure = SyncFailure(
                region: plan.region, revision: revision, stepIndex: index, step: step, object: object,
                message: message)
            logger.error("sync failed", metadata: ["error": "\(failure)"])
            report.failure = failure
            return report
        }
        let hasPrunes = !plan.pruned.isEmpty
        let current: Inventory?
        do {
            current = hasPrunes ? try await readInventory() : nil
        } catch {
            return fail(0, "inventory", Inventory.configMapRef, "cannot read the inventory: \(error)")
        }
        for (index, step) in plan.steps.enumerated() {
            switch step {
            case .apply(let resource, _):
                do {
                    let action = try await apply(resource)
                    logger.info("applied", metadata: ["object": "\(resource.ref)", "action": "\(action)"])
                    report.changes.append(ObjectChange(resource.ref, action))
                } catch {
                    return fail(index, "apply", resource.ref, "\(error)")
                }
            case .wait(let wait):
                if let (ref, message) = await self.wait(for: wait, timeout: readinessTimeout, logger: logger) {
                    return fail(index, "wait", ref, message)
                }
            case .prune(let ref, _):
                do {
                    let change = try await prune(ref, inventory: current)
                    logger.info("pruned", metadata: ["object": "\(ref)", "action": "\(change.action)"])
                    report.changes.append(change)
                } catch {
                    return fail(index, "prune", ref, "\(error)")
                }
            }
        }
        do {
            report.inventory = try await writeInventory(revision: revision, objects: plan.applied.map(\.ref))
        } catch {
            return fail(plan.steps.count, "inventory", Inventory.configMapRef, "\(error)")
        }
        return report
    }
}
