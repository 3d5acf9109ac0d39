import Foundation
import Logging
import SyncCore

extension RegionApplier {
    /// Polls each object of `wait` with ``assessHealth(_:now:)`` until it is done, all within `timeout`. Returns
    /// nil when every object ended well, or the object, why it did not, and whether that is the revision's fault
    /// (not ready in time, failed) or the cluster's (its objects could not be read).
    func wait(for wait: WaitStep, timeout: Duration, logger: Logger) async -> (ObjectRef, String, SyncFailure.Cause)? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        for ref in wait.objects {
            var last: Health?
            var lastError: ApplierError?
            while true {
                do throws(ApplierError) {
                    let live = try await client.get(ref)
                    let health = assessHealth(live, now: Date())
                    last = health
                    lastError = nil
                    if health.isDone {
                        if health.isSuccessful { break }
                        return (ref, "not \(wait.condition): \(health)", .revision)
                    }
                } catch {
                    // A read that fails (the object is being created, a blip) is retried until the deadline.
                    logger.debug("health read failed", metadata: ["object": "\(ref)", "error": "\(error)"])
                    lastError = error
                    if clock.now >= deadline { return (ref, "cannot read it: \(error)", SyncFailure.Cause(error)) }
                }
                let remaining = clock.now.duration(to: deadline)
                guard remaining > .zero else {
                    if let lastError, lastError.pointsAtCluster {
                        return (ref, "cannot read it: \(lastError)", .unavailable)
                    }
                    return (
                        ref, "not \(wait.condition) after \(timeout): \(last.map(\.description) ?? "no status")",
                        .revision
                    )
                }
                do {
                    try await Task.sleep(for: min(pollInterval, remaining))
                } catch {
                    return (ref, "cancelled while waiting: \(last.map(\.description) ?? "no status")", .cancelled)
                }
            }
        }
        return nil
    }
}
