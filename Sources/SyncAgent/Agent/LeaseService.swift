import Logging
import RolloutEngine
import ServiceLifecycle

/// Leader election as a service of the agent: the Leases' rounds, `syncagent_lease_held`, and a pass at once when
/// this replica takes the lead. Stopped last (it is first in the group), so that the Leases are released only
/// after the reconciler has stopped writing.
struct LeaseService: Service {
    let coordinator: LeaseCoordinator
    let metrics: AgentMetrics
    let wakeup: Wakeup
    let logger: Logger

    func run() async throws {
        let coordinator = coordinator
        let metrics = metrics
        let wakeup = wakeup
        await cancelWhenGracefulShutdown {
            await coordinator.run(
                afterRound: {
                    for lease in coordinator.leases { metrics.setLeaseHeld(region: lease.region, held: lease.held) }
                },
                changed: { leading in
                    if leading { await wakeup.wake(.timer) }
                })
        }
        logger.info("leader election stopped; Leases released")
    }
}
