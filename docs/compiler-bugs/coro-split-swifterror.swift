// Swift 6.3.1 -O crashes (signal 11) splitting `run`: see ../compiler-crash.md. Reproduce:
//   swiftc -O -parse-as-library -module-name M -c coro-split-swifterror.swift -o /dev/null

struct E: Error { var object: AnyObject }

@inline(never) func typed(_ x: [Int]) throws(E) -> [Int] { x }
@inline(never) func fetch() async throws -> Big { fatalError() }

struct Big {
    var a, b, c, d, e, f: Int
    var array: [Int]
}

enum Source {
    case local
    case fetched(Big)

    func render() async throws -> [Int] {   // async, but never suspends
        switch self {
        case .local:
            try Self.check()
            return try typed([])
        case .fetched(let big):
            return try typed(big.array)
        }
    }

    @inline(never) static func check() throws {}
}

public func run(local: Bool) async throws {
    let source: Source
    if local {
        source = .local
    } else {
        source = .fetched(try await fetch())
    }
    _ = try await source.render()
}
