import Foundation
import SyncCore
import TestSupport
import Testing

/// Every command ends by exiting, never by a signal: the transport and git threads are stopped and joined before
/// `exit` runs the C libraries' destructors (a curl thread still closing a TLS connection while OpenSSL's
/// destructor ran was a SIGSEGV after a successful sync). Run many times while both cores are busy, since the race
/// needs a thread to be late.
@Suite(.serialized)
struct ProcessExitTests {
    /// How many runs of each command; 200 in all.
    static let runsPerCommand = 40

    @Test func twoHundredRunsOfFiveCommandsUnderLoadNoneEndsByASignal() async throws {
        let mesh = try await SyncMesh()
        let first = try await mesh.syncagent(["sync"])
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")

        // Both cores busy for the whole run: two spinning shells, stopped when the test ends.
        let burners = try (0..<2).map { _ in try ChildProcess(["/bin/sh", "-c", "while :; do :; done"]) }
        defer { for burner in burners { burner.stop(grace: 1) } }

        // Two lanes at a time, each with its own Git cache folder (one cache is one writer's).
        let configText = try String(contentsOfFile: mesh.configPath, encoding: .utf8)
        let laneConfigs = try (0..<2).map { lane in
            try mesh.work.write(
                "lane\(lane).yaml",
                configText.replacingOccurrences(of: mesh.cachePath, with: mesh.cachePath + "-\(lane)")
            ).path
        }
        // Each command with the exit code it must end with: the mesh is synced, so nothing differs or drifted.
        func commands(config: String) -> [(name: String, arguments: [String], expected: Int32)] {
            [
                ("render", [mesh.syncagent, "render", "--dir", mesh.clone + "/mesh", "--region", "us-chicago-1"], 0),
                ("diff", [mesh.syncagent, "diff", "--config", config], 0),
                ("drift", [mesh.syncagent, "drift", "--config", config], 0),
                ("status", [mesh.syncagent, "status", "--config", config], 0),
                ("sync", [mesh.syncagent, "sync", "--config", config], 0),
            ]
        }
        let lanes = laneConfigs.map { config in
            (0..<Self.runsPerCommand / 2).flatMap { _ in commands(config: config) }
        }
        #expect(lanes.map(\.count).reduce(0, +) == 200)

        // Off the cooperative pool, the two lanes side by side.
        let outcomes = try await withThrowingTaskGroup(of: [(String, ProcessOutput)].self) { group in
            for mine in lanes {
                group.addTask {
                    try await blocking { try mine.map { ($0.name, try run($0.arguments)) } }
                }
            }
            var all: [(String, ProcessOutput)] = []
            for try await part in group { all += part }
            return all
        }

        #expect(outcomes.count == 200)
        let signalled = outcomes.filter { $0.1.signal != nil }
        let signalledReport =
            "\(signalled.count) of 200 runs ended by a signal: "
            + signalled.prefix(3).map { "\($0.0) by signal \($0.1.signal ?? 0): \($0.1.stderr.suffix(2000))" }
            .joined(separator: "\n")
        #expect(signalled.isEmpty, "\(signalledReport)")
        let expected = Dictionary(uniqueKeysWithValues: commands(config: "").map { ($0.name, $0.expected) })
        let wrong = outcomes.filter { $0.1.signal == nil && $0.1.status != expected[$0.0] }
        let wrongReport =
            "\(wrong.count) runs exited with an unexpected code: "
            + wrong.prefix(3).map {
                "\($0.0) exited \($0.1.status): \($0.1.stdout.suffix(500))\($0.1.stderr.suffix(1500))"
            }
            .joined(separator: "\n")
        #expect(wrong.isEmpty, "\(wrongReport)")
    }
}
