import Synchronization
import SyncCore
import Testing

/// The bounded concurrent map behind the per-object checks: results in order, never more than its width at once,
/// and the first error stops what is not started yet.
@Suite struct ConcurrentMapTests {
    /// Counts the tasks running at once and the most seen.
    final class Gauge: Sendable {
        private let state = Mutex((running: 0, most: 0, started: 0))
        func enter() {
            state.withLock {
                $0.running += 1; $0.started += 1; $0.most = max($0.most, $0.running)
            }
        }
        func leave() { state.withLock { $0.running -= 1 } }
        var most: Int { state.withLock { $0.most } }
        var started: Int { state.withLock { $0.started } }
    }

    struct Failure: Error, Equatable { let index: Int }

    @Test func resultsComeInOrderWithAtMostWidthRunning() async {
        let gauge = Gauge()
        let outputs = await concurrentMap(Array(0..<200), width: 8) { index -> Int in
            gauge.enter()
            defer { gauge.leave() }
            // Later elements finish first: the order of the results is the elements', not the finishing order.
            try? await Task.sleep(for: .microseconds(200 - index))
            return index * 2
        }
        #expect(outputs == (0..<200).map { $0 * 2 })
        #expect(gauge.most <= 8)
        #expect(gauge.most >= 2)  // it does run them concurrently
        #expect(await concurrentMap([Int](), width: 8) { $0 }.isEmpty)
    }

    @Test func theFirstErrorStopsWhatIsNotStarted() async {
        let gauge = Gauge()
        await #expect(throws: Failure(index: 0)) {
            _ = try await concurrentMap(Array(0..<1000), width: 4) { index -> Int in
                gauge.enter()
                defer { gauge.leave() }
                if index == 0 { throw Failure(index: 0) }
                // The others would run far longer than the test: cancelled once the first fails.
                try await Task.sleep(for: .seconds(600))
                return index
            }
        }
        // The failure is the first result: the window it was in is all that ever started.
        #expect(gauge.started == 4)
    }
}
