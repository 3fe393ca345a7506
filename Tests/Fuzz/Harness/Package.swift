// swift-tools-version:6.1
import PackageDescription

// libFuzzer harnesses for the decoders. Kept out of the root package because an executable
// whose entry point is LLVMFuzzerTestOneInput only links with --sanitize=fuzzer.
// Build and run through ../fuzz.sh; the root package's FuzzReplayTests replays the corpus.
let package = Package(
    name: "KafkaFuzzHarness",
    dependencies: [.package(name: "kgo-swift", path: "../../..")],
    targets: [
        .executableTarget(name: "FuzzRequests", dependencies: [.product(name: "KafkaProtocol", package: "kgo-swift")]),
        .executableTarget(name: "FuzzResponses", dependencies: [.product(name: "KafkaProtocol", package: "kgo-swift")]),
        .executableTarget(name: "FuzzRecords", dependencies: [.product(name: "KafkaProtocol", package: "kgo-swift")]),
        // The parsers outside the codec; their checks live in the root package (KafkaFuzzChecks).
        .executableTarget(name: "FuzzCluster", dependencies: [.product(name: "KafkaFuzzChecks", package: "kgo-swift")]),
        .executableTarget(name: "FuzzEngine", dependencies: [.product(name: "KafkaFuzzChecks", package: "kgo-swift")]),
        .executableTarget(name: "FuzzRecording", dependencies: [.product(name: "KafkaFuzzChecks", package: "kgo-swift")]),
        .executableTarget(name: "FuzzScenario", dependencies: [.product(name: "KafkaFuzzChecks", package: "kgo-swift")]),
    ],
    swiftLanguageModes: [.v6]
)
