// Swift 6.3.1 -O miscompile: prints indices 0 0 0 instead of 1 2 3 (see ../compiler-crash.md). Reproduce:
//   swiftc -O -parse-as-library task-group-tuple-await.swift -o /tmp/t && /tmp/t     (and -Onone for the right answer)

enum Action: Sendable { case created, configured, unchanged }
struct Failure: Error {}

@inline(never)
func apply(_ item: Int) async throws -> Action {
    await Task.yield()
    if item < 0 { throw Failure() }
    return item == 3 ? .configured : .created
}

@main
struct Main {
    static func main() async {
        let results = await withTaskGroup(of: (Int, Result<Action, Failure>).self) { group in
            for index in [1, 2, 3, -1] {
                group.addTask {
                    do {
                        return (index, .success(try await apply(index)))
                    } catch {
                        return (index, .failure(Failure()))
                    }
                }
            }
            var all: [(Int, Result<Action, Failure>)] = []
            for await pair in group { all.append(pair) }
            return all
        }
        for (index, result) in results.sorted(by: { $0.0 < $1.0 }) {
            print(index, (try? result.get()).map { "\($0)" } ?? "failure")
        }
    }
}
