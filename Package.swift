// swift-tools-version: 6.0
import PackageDescription

// syncagent: a GitOps sync agent and drift detector for one service mesh across several Kubernetes regions.
// Targets depend downward only: SyncAgent (executable) -> RolloutEngine -> GitSource, Differ, Applier -> SyncCore ->
// C module maps. (RolloutEngine uses Differ and Applier; GitSource, Differ and Applier never import each other.)
// AgentWebhook is the agent's pure webhook check, a library so that a fuzz target can use it too.
// KubeSim is the local Kubernetes API server used by tests, benchmarks and the demo; the product never imports it.
let package = Package(
    name: "syncagent",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "syncagent", targets: ["SyncAgent"]),
        .executable(name: "kubesim", targets: ["KubeSim"]),
        .executable(name: "syncbench", targets: ["SyncBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
    ],
    targets: [
        // C libraries from Debian, one module map each.
        .systemLibrary(
            name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // zlib: the agent's live-state cache keeps each object deflated (a third of its JSON bytes).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's malloc_trim (the agent returns freed pages after a pass).
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),

        // Shared value types: Value, ObjectRef, Resource, Revision.
        .target(
            name: "SyncCore",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]),

        // libyaml -> Value with Kubernetes' YAML rules (sigs.k8s.io/yaml), positions kept; Value -> YAML.
        // Shared by Differ (manifests), Applier (kubeconfig), SyncAgent (its config) and KubeSim (apply bodies).
        .target(
            name: "KubeYAML",
            dependencies: ["SyncCore", "CYAML", .product(name: "OrderedCollections", package: "swift-collections")]),

        // Kubernetes structural schemas: list-map keys, merge keys, fieldsV1 field sets and managedFields.
        // Shared by Differ (normalisation, drift attribution) and KubeSim (server-side apply).
        .target(
            name: "KubeSchema",
            dependencies: ["SyncCore", .product(name: "OrderedCollections", package: "swift-collections")]),

        // The threads that call C libraries (curl transports, the git thread), stopped and joined before exit.
        .target(name: "ProcessThreads"),

        .target(name: "GitSource", dependencies: ["SyncCore", "CGit2", "ProcessThreads"]),
        .target(name: "Differ", dependencies: ["SyncCore", "KubeYAML", "KubeSchema"]),
        .target(
            name: "Applier",
            dependencies: [
                "SyncCore", "KubeYAML", "CCurl", "CZlib", "ProcessThreads",
                .product(name: "Logging", package: "swift-log"),
                // SHA-256 of the manifests the settled ledger keeps proofs of.
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // The rollout engine: region order, the preflight, the region record's state machine, gates, rollback,
        // syncagent's own records. A library, so it is tested without spawning the binary.
        .target(
            name: "RolloutEngine",
            dependencies: ["SyncCore", "Differ", "Applier", .product(name: "Logging", package: "swift-log")]),

        // Git push webhooks judged (HMAC or token, then the payload's ref); pure, so it is tested and fuzzed alone.
        .target(
            name: "AgentWebhook",
            dependencies: ["SyncCore", .product(name: "Crypto", package: "swift-crypto")]),

        .executableTarget(
            name: "SyncAgent",
            dependencies: [
                "SyncCore", "KubeYAML", "GitSource", "Differ", "Applier", "RolloutEngine", "ProcessThreads",
                "AgentWebhook", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        .executableTarget(
            name: "KubeSim",
            dependencies: [
                "SyncCore", "KubeYAML", "KubeSchema",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // Benchmark programs (scripts/bench-*.sh run them and print figures and ratios); never used by tests.
        .executableTarget(
            name: "SyncBench", dependencies: ["SyncCore", "KubeYAML", "GitSource", "Differ", "Applier", "CYAML"],
            path: "Benchmarks/SyncBench"),

        // Fuzz targets (scripts/fuzz.sh; not part of `make test`): one executable per parser, built with libFuzzer
        // and AddressSanitizer by the script (-D FUZZING), or as a plain replay tool for crash files by `swift build`.
        // CLibFuzzer declares libFuzzer's driver, which the toolchain's compiler-rt provides.
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzYAML", dependencies: ["KubeYAML", "FuzzSupport"], path: "Fuzz/FuzzYAML"),
        .executableTarget(name: "FuzzJSON", dependencies: ["SyncCore", "FuzzSupport"], path: "Fuzz/FuzzJSON"),
        .executableTarget(name: "FuzzRender", dependencies: ["Differ", "FuzzSupport"], path: "Fuzz/FuzzRender"),
        .executableTarget(
            name: "FuzzKubeconfig", dependencies: ["Applier", "FuzzSupport"], path: "Fuzz/FuzzKubeconfig"),
        .executableTarget(
            name: "FuzzWebhook", dependencies: ["AgentWebhook", "FuzzSupport"], path: "Fuzz/FuzzWebhook"),

        // Test helpers: temporary folders, child processes (git daemon, kubesim, prometheus), waiting on conditions.
        .target(name: "TestSupport", dependencies: ["SyncCore"], path: "Tests/TestSupport"),
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore", "TestSupport"], exclude: ["FuzzCrashes"]),
        .testTarget(name: "ProcessThreadsTests", dependencies: ["ProcessThreads"]),
        .testTarget(name: "KubeYAMLTests", dependencies: ["KubeYAML", "TestSupport"]),
        .testTarget(name: "KubeSchemaTests", dependencies: ["KubeSchema", "KubeYAML", "TestSupport"]),
        .testTarget(name: "GitSourceTests", dependencies: ["GitSource", "TestSupport"]),
        .testTarget(name: "DifferTests", dependencies: ["Differ", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ApplierTests",
            dependencies: [
                "Applier", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "RolloutEngineTests",
            dependencies: [
                "RolloutEngine", "Differ", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "SyncAgentTests", dependencies: ["SyncAgent", "AgentWebhook", "RolloutEngine", "TestSupport"]),
        .testTarget(name: "KubeSimTests", dependencies: ["KubeSim", "KubeYAML", "TestSupport"]),
    ]
)

// Swift 6 language mode everywhere (strict concurrency); one setting list for every target.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.swiftLanguageMode(.v6)]
}
