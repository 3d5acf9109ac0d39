import Foundation
import GitSource

/// `syncbench git URL BRANCH N`: times GitSource's "has the branch moved?" check against a remote.
///
/// Two figures, each over N runs after one warm-up run, in a fresh bare cache in a temporary folder:
/// - `remoteHead`: connect, list refs, disconnect (what `git ls-remote URL refs/heads/BRANCH` does);
/// - `fetchIfMoved`: the same listing plus the local remote-tracking ref check, with the branch already fetched
///   and not moved (the poller's steady state: nothing is downloaded).
/// Prints one `key=value` line per figure, for scripts/bench-git.sh to compare with `git ls-remote`.
func runGitBenchmark(_ arguments: [String]) {
    guard arguments.count == 3, let count = Int(arguments[2]), count > 0 else {
        FileHandle.standardError.write(Data("usage: syncbench git URL BRANCH N\n".utf8))
        exit(2)
    }
    let remote = GitRemote(url: arguments[0])
    let branch = arguments[1]
    let cache = FileManager.default.temporaryDirectory.appendingPathComponent("syncbench-git-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: cache) }
    do {
        let repository = try GitRepository(cacheAt: cache.path, remote: remote)
        let head = try repository.fetch(branch: branch)
        let listing = try measure(count) { _ = try repository.remoteHead(branch: branch) }
        report("remoteHead", remote: remote, count: count, samples: listing)
        let check = try measure(count) {
            let result = try repository.fetchIfMoved(branch: branch, knownSHA: head)
            if result.fetched { throw GitSourceError.invalidArgument("the branch moved during the benchmark") }
        }
        report("fetchIfMoved", remote: remote, count: count, samples: check)
    } catch {
        FileHandle.standardError.write(Data("syncbench git: \(error)\n".utf8))
        exit(1)
    }
}

/// Runs `body` once to warm up, then `count` times; returns each run's milliseconds.
private func measure(_ count: Int, _ body: () throws -> Void) throws -> [Double] {
    try body()
    let clock = ContinuousClock()
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        let elapsed = try clock.measure(body)
        samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
    }
    return samples
}

/// Prints `git check=NAME url=URL n=N mean_ms=... median_ms=... min_ms=... p90_ms=...`.
private func report(_ name: String, remote: GitRemote, count: Int, samples: [Double]) {
    let sorted = samples.sorted()
    let mean = samples.reduce(0, +) / Double(samples.count)
    let median =
        sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    let p90 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)]
    func ms(_ value: Double) -> String { String(format: "%.3f", value) }
    print(
        "git check=\(name) url=\(remote.redactedURL) n=\(count) mean_ms=\(ms(mean)) median_ms=\(ms(median))"
            + " min_ms=\(ms(sorted[0])) p90_ms=\(ms(p90))")
}
