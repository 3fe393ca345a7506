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
    ],
    swiftLanguageModes: [.v6]
)
