import Foundation
import Logging
import SyncCore

extension RegionApplier {
    /// Reads the objects of `wait` with ``assessHealth(_:now:)`` until every one is done, all within `timeout`:
    /// each round reads the objects still pending from the live-state cache when it is current (and the next
    /// round comes when the watch brought a change), else in few requests (``readLive(_:)``) each poll interval. Returns nil when every object
    /// ended well, or the first object (in plan order) that did not, why, and whether that is the revision's fault
    /// (not ready in time, failed) or the cluster's (its objects could not be read).
    ///
    /// `ready` is given each object as it is first seen ready, as read.
    func wait(
        for wait: WaitStep, timeout: Duration, logger: Logger, ready: ((ObjectRef, Resource) -> Void)? = nil
    ) async -> (ObjectRef, String, SyncFailure.Cause)? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var pending = wait.objects
        var last: [ObjectKey: Health] = [:]
        var lastError: ApplierError?
        while true {
            let round = clock.now
            let generation = live?.generation ?? 0
            do throws(ApplierError) {
                let live = try await readLive(pending)
                lastError = nil
                var still: [ObjectRef] = []
                for ref in pending {
                    // An object not there yet (just created, a list that lags), or older than this applier's write
                    // of it (a cache the write's event has not reached), is read again next round.
                    guard let object = live[ref.key], !written.isOlderThanWritten(object) else {
                        still.append(ref)
                        continue
                    }
                    let health = assessHealth(object, now: Date())
                    last[ref.key] = health
                    if health.isDone && !health.isSuccessful {
                        return (ref, "not \(wait.condition): \(health)", .revision)
                    }
                    if health.isDone {
                        ready?(ref, object)
                    } else {
                        still.append(ref)
                    }
                }
                pending = still
                if pending.isEmpty { return nil }
            } catch {
                // A read that fails (a blip) is retried until the deadline.
                logger.debug("health read failed", metadata: ["error": "\(error)"])
                lastError = error
            }
            let ref = pending[0]
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                if let lastError { return (ref, "cannot read it: \(lastError)", SyncFailure.Cause(lastError)) }
                return (
                    ref, "not \(wait.condition) after \(timeout): \(last[ref.key].map(\.description) ?? "no status")",
                    .revision
                )
            }
            do {
                if let live, live.isCurrent(Set(pending.map(\.gvk))) {
                    // Read from the watch cache: nothing to ask the cluster; look again as soon as anything changed.
                    try await live.waitForChange(after: generation, timeout: min(.seconds(5), remaining))
                    // Rounds at most every 5 ms: a first sync's thousands of events are read in batches, not
                    // each one with every pending object again.
                    try await Task.sleep(until: min(round + .milliseconds(5), deadline), clock: clock)
                } else {
                    try await Task.sleep(for: min(pollInterval, remaining))
                }
            } catch {
                return (ref, "cancelled while waiting: \(last[ref.key].map(\.description) ?? "no status")", .cancelled)
            }
        }
    }
}
