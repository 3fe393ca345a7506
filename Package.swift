// swift-tools-version:6.1
import PackageDescription

// Module map and import rules: ARCHITECTURE.md. KafkaProtocol and KafkaStateMachines are
// pure (no I/O, no clocks, no system randomness); FakeCluster never imports the engine.
let package = Package(
    name: "kgo-swift",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "KafkaProtocol", targets: ["KafkaProtocol"]),
        .library(name: "KafkaStateMachines", targets: ["KafkaStateMachines"]),
        .library(name: "KafkaIO", targets: ["KafkaIO"]),
        .library(name: "FakeCluster", targets: ["FakeCluster"]),
        // FakeCluster served over TCP on loopback (plaintext or TLS): users' tests run their
        // own client code against it.
        .library(name: "FakeClusterTCP", targets: ["FakeClusterTCP"]),
        // The client's hooks as swift-metrics (counters, gauges, timers).
        .library(name: "KafkaMetrics", targets: ["KafkaMetrics"]),
        // Producer and consumer spans on swift-distributed-tracing, context in record headers.
        .library(name: "KafkaTracing", targets: ["KafkaTracing"]),
        // Test support: the fuzz checks of the parsers outside the codec, for the libFuzzer
        // harness package (Tests/Fuzz/Harness); not part of the client's API.
        .library(name: "KafkaFuzzChecks", targets: ["KafkaFuzzChecks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        // The group consumer is a ServiceLifecycle Service.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
        // `swift package generate-documentation --target KafkaIO` (Sources/KafkaIO/KafkaIO.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        // SCRAM's SHA-2, HMAC and PBKDF2 (KafkaCrypto). 3.x and 4.x both have
        // _CryptoExtras' PBKDF2, so applications already on either resolve with us.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0" ..< "5.0.0"),
    ],
    targets: [
        // C libraries through the system's packages (see README's apt line).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // Our own C: the CPU's CRC-32C instruction (Swift has no intrinsic for it).
        .target(name: "CKafkaCRC32C"),
        .target(name: "KafkaProtocol", dependencies: ["CZlib", "CLZ4", "CZstd", "CKafkaCRC32C"]),
        // SCRAM's primitives (SHA-2, HMAC, PBKDF2, base64) for the engine and FakeCluster: a
        // thin layer over swift-crypto and Foundation's base64, pure functions.
        .target(name: "KafkaCrypto", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .target(name: "KafkaStateMachines", dependencies: [
            "KafkaProtocol", "KafkaCrypto", .product(name: "OrderedCollections", package: "swift-collections"),
        ]),
        .target(name: "FakeCluster", dependencies: ["KafkaProtocol", "KafkaCrypto"]),
        // FakeCluster's TCP listener: SwiftNIO drives the pure cluster with the wall clock.
        .target(name: "FakeClusterTCP", dependencies: [
            "FakeCluster",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Test support: a TCP proxy that injects seeded network faults (latency, bandwidth,
        // 1-byte writes, resets, stalls, black holes, refusals) between a client and a broker.
        .target(name: "ChaosProxy", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // The driver: sockets, TLS, threads and clocks live here and nowhere below.
        .target(name: "KafkaIO", dependencies: [
            "KafkaStateMachines",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The hooks' swift-metrics adapter: a separate product, so the client does not pull
        // swift-metrics in for users who do not want it.
        .target(name: "KafkaMetrics", dependencies: [
            "KafkaIO",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // Tracing for produced and consumed records: a separate product, like KafkaMetrics.
        .target(name: "KafkaTracing", dependencies: [
            "KafkaIO",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ]),
        // Deterministic simulation: the engine against FakeCluster over a simulated network.
        .target(name: "KafkaSimulation", dependencies: ["KafkaStateMachines", "FakeCluster"]),

        .executableTarget(name: "kgo", dependencies: [
            "KafkaProtocol",
            "KafkaIO", "KafkaMetrics", "FakeCluster", "FakeClusterTCP", "KafkaSimulation", "ChaosProxy",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),

        // Runnable examples of the library (producer, consumer, group consumer, exactly-once
        // copy, testing against FakeCluster), built with everything else so they keep up with
        // the API; with no broker given they run against an in-process FakeClusterTCP
        // (ExamplesTests runs them).
        .executableTarget(name: "kgo-examples", dependencies: [
            "KafkaIO", "FakeCluster", "FakeClusterTCP",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Examples"),

        // Child processes for the tests (posix_spawn; Foundation's Process crashes: see there).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KafkaProtocolTests", dependencies: ["KafkaProtocol"],
                    resources: [.copy("Fixtures")]),
        // The parsers outside the codec, checked as Tests/Fuzz/Checks says (package access).
        .target(name: "KafkaFuzzChecks", dependencies: ["KafkaStateMachines", "FakeCluster", "KafkaSimulation"],
                path: "Tests/Fuzz/Checks"),
        .testTarget(name: "FuzzReplayTests", dependencies: ["KafkaProtocol", "KafkaFuzzChecks"],
                    path: "Tests/Fuzz/Replay"),
        .testTarget(name: "FakeClusterTests", dependencies: ["FakeCluster", "KafkaCrypto"]),
        // Real clients (kcat, librdkafka via confluent-kafka) against FakeClusterTCP, and mixed
        // consumer groups of KafkaIO and librdkafka members (FakeClusterTCP and Tansu); needs .peers.
        .testTarget(name: "FakeClusterInteropTests", dependencies: ["FakeClusterTCP", "kgo", "KafkaIO", "TestSupport"], exclude: ["Scripts"]),
        .testTarget(name: "KafkaStateMachinesTests", dependencies: ["KafkaStateMachines", "KafkaCrypto"]),
        .testTarget(name: "KafkaCryptoTests", dependencies: ["KafkaCrypto"]),
        .testTarget(name: "KafkaIOTests", dependencies: [
            "KafkaIO", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            "FakeCluster", "FakeClusterTCP", "ChaosProxy",
        ]),
        .testTarget(name: "KafkaMetricsTests", dependencies: [
            "KafkaMetrics", "KafkaIO", "FakeCluster", "FakeClusterTCP",
            .product(name: "MetricsTestKit", package: "swift-metrics"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .testTarget(name: "KafkaTracingTests", dependencies: [
            "KafkaTracing", "KafkaIO", "FakeCluster", "FakeClusterTCP",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "DeterministicTests", dependencies: ["KafkaSimulation", "KafkaStateMachines", "FakeCluster", "TestSupport"],
                    path: "Tests/Deterministic"),
    ],
    swiftLanguageModes: [.v6]
)

// Test code compiles without optimization in a release build too. CI builds once, in
// release with -enable-testing (Tools/test.sh), and optimizing the test modules cost about
// three minutes of that build (184 s against 123 s to rebuild them, measured) while the
// tests run as fast either way: the code they test is optimized.
for target in package.targets where target.type == .test {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Onone"], .when(configuration: .release))]
}
