/// Wakes the reconciler early: a webhook delivery or a self-heal request ends its wait for the next poll.
actor Wakeup {
    /// Why the reconciler woke.
    enum Reason: Sendable, Equatable {
        /// The poll interval passed.
        case timer
        /// A verified push webhook.
        case webhook
        /// The drift checker found drift and self-heal is on.
        case heal
        /// The service is stopping.
        case shutdown
    }

    private var pending: [Reason] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<Reason, Never>)?
    private var nextID = 0

    /// Ends the current wait with `reason`, or makes the next wait end at once.
    func wake(_ reason: Reason) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: reason)
        } else if !pending.contains(reason) {
            pending.append(reason)
        }
    }

    /// Waits for a wake-up or `timeout` (`.timer`); `.shutdown` when the task is cancelled.
    func wait(timeout: Duration) async -> Reason {
        if !pending.isEmpty { return pending.removeFirst() }
        nextID += 1
        let id = nextID
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.fire(id, .timer)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Reason, Never>) in
                if Task.isCancelled {
                    continuation.resume(returning: .shutdown)
                } else {
                    waiter = (id, continuation)
                }
            }
        } onCancel: {
            Task { await self.fire(id, .shutdown) }
        }
    }

    private func fire(_ id: Int, _ reason: Reason) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: reason)
    }
}
