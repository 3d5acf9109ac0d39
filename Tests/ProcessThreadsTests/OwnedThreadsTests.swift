import Foundation
import ProcessThreads
import Synchronization
import Testing

/// The registry the executable empties before it exits: threads are asked to stop and joined; none starts after.
struct OwnedThreadsTests {
    /// A thread body that runs until asked to stop, then frees what it holds (here: marks it freed).
    final class Worker: Sendable {
        let stopping = Mutex(false)
        let freed = Mutex(false)
        func run() {
            while !stopping.withLock({ $0 }) { usleep(1_000) }
            usleep(50_000)  // a slow clean-up (closing connections): stopAll must wait for it
            freed.withLock { $0 = true }
        }
        func stop() { stopping.withLock { $0 = true } }
    }

    @Test func stopAllAsksEveryThreadToStopAndWaitsUntilEachHasFreedItsHandles() {
        let threads = OwnedThreads()
        let workers = (0..<3).map { _ in Worker() }
        for (index, worker) in workers.enumerated() {
            let started = threads.start(name: "worker-\(index)", stop: { worker.stop() }, body: { worker.run() })
            #expect(started)
        }
        #expect(threads.running == ["worker-0", "worker-1", "worker-2"])
        let left = threads.stopAll(timeout: 120)
        #expect(left.isEmpty)
        #expect(threads.running.isEmpty)
        for worker in workers { #expect(worker.freed.withLock { $0 }, "joined before its clean-up ended") }
    }

    @Test func noThreadStartsOnceShutdownBegan() {
        let threads = OwnedThreads()
        threads.stopAll()
        let ran = Mutex(false)
        let started = threads.start(name: "late", stop: {}, body: { ran.withLock { $0 = true } })
        #expect(!started)
        #expect(threads.running.isEmpty)
        #expect(!ran.withLock { $0 })
    }

    @Test func aThreadThatIgnoresStopIsNamedAfterTheTimeout() {
        let threads = OwnedThreads()
        let release = Mutex(false)
        let started = threads.start(name: "stuck", stop: {}) { while !release.withLock({ $0 }) { usleep(1_000) } }
        #expect(started)
        #expect(threads.stopAll(timeout: 0.2) == ["stuck"])
        release.withLock { $0 = true }
        #expect(threads.stopAll(timeout: 120).isEmpty)
    }
}
