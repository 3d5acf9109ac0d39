import Foundation
import Logging
import SyncCore

extension RegionApplier {
    /// Polls each object of `wait` with ``assessHealth(_:now:)`` until it is done, all within `timeout`. Returns
    /// nil when every object ended well, or the object and why it did not.
    func wait(for wait: WaitStep, timeout: Duration, logger: Logger) async -> (ObjectRef, String)? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        for ref in wait.objects {
            var last: Health?
            while true {
                do {
                    let live = try await client.get(ref)
                    let health = assessHealth(live, now: Date())
                    last = health
                    if health.isDone {
                        if health.isSuccessful { break }
                        return (ref, "not \(wait.condition): \(health)")
                    }
                } catch {
                    // A read that fails (the object is being created, a blip) is retried until the deadline.
                    logger.debug("health read failed", metadata: ["object": "\(ref)", "error": "\(error)"])
                    if clock.now >= deadline { return (ref, "cannot read it: \(error)") }
                }
                let remaining = clock.now.duration(to: deadline)
                guard remaining > .zero else {
                    return (ref, "not \(wait.condition) after \(timeout): \(last.map(\.description) ?? "no status")")
                }
                do {
                    try await Task.sleep(for: min(pollInterval, remaining))
                } catch {
                    return (ref, "cancelled while waiting: \(last.map(\.description) ?? "no status")")
                }
            }
        }
        return nil
    }
}
