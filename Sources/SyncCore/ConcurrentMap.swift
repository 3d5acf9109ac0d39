/// `transform` applied to each of `elements` concurrently, at most `width` at a time, the results in the order of
/// `elements`.
///
/// Thousands of child tasks at once (one per object of a revision) cost memory that outlives them: each task and
/// each enqueue of one is an allocation, and libdispatch keeps the enqueues' records in per-thread caches it never
/// trims on Linux, scattered through the heap where they hold pages resident. A window of `width` tasks keeps every
/// core busy (and enough requests in flight) without that.
public func concurrentMap<Element: Sendable, Output: Sendable>(
    _ elements: [Element], width: Int = concurrencyWidth,
    _ transform: @escaping @Sendable (Element) async -> Output
) async -> [Output] {
    await boundedMap(elements, width: width, stopAfter: { _ in false }, transform).map { $0! }
}

/// ``concurrentMap(_:width:_:)`` for a `transform` that throws: the first error is thrown once the tasks running
/// are done (the rest are cancelled, and none is started after it).
public func concurrentMap<Element: Sendable, Output: Sendable>(
    _ elements: [Element], width: Int = concurrencyWidth,
    _ transform: @escaping @Sendable (Element) async throws -> Output
) async throws -> [Output] {
    let results: [Result<Output, any Error>?] = await boundedMap(
        elements, width: width,
        stopAfter: { (result: Result<Output, any Error>) -> Bool in
            if case .failure = result { return true }
            return false
        }
    ) { element -> Result<Output, any Error> in
        do {
            return Result<Output, any Error>.success(try await transform(element))
        } catch {
            return .failure(error)
        }
    }
    var outputs: [Output] = []
    outputs.reserveCapacity(results.count)
    for result in results {
        switch result {
        case .success(let output)?: outputs.append(output)
        case .failure(let error)?: throw error
        case nil: continue  // not started: only after a failure, which comes first in order and was thrown
        }
    }
    return outputs
}

/// How many child tasks ``concurrentMap(_:width:_:)`` runs at once by default: enough requests in flight to fill
/// a connection to the API server, and every core busy with the checks.
public let concurrencyWidth = 64

/// The window behind ``concurrentMap(_:width:_:)``: once an output makes `stopAfter` true, the tasks running are
/// cancelled and no other is started (their outputs are nil).
private func boundedMap<Element: Sendable, Output: Sendable>(
    _ elements: [Element], width: Int, stopAfter: (Output) -> Bool,
    _ transform: @escaping @Sendable (Element) async -> Output
) async -> [Output?] {
    await withTaskGroup(of: (Int, Output).self) { group in
        var results: [Output?] = Array(repeating: nil, count: elements.count)
        var next = 0
        var stopped = false
        func startNext() {
            guard !stopped && next < elements.count else { return }
            let index = next
            let element = elements[index]
            group.addTask {
                // Bound before the tuple is built (a Swift 6.3.1 -O miscompile, docs/compiler-crash.md).
                let output = await transform(element)
                return (index, output)
            }
            next += 1
        }
        while next < min(max(width, 1), elements.count) { startNext() }
        while let (index, output) = await group.next() {
            results[index] = output
            if !stopped && stopAfter(output) {
                stopped = true
                group.cancelAll()
            }
            startNext()
        }
        return results
    }
}
