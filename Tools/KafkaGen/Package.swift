// swift-tools-version:6.1
import PackageDescription

// The message code generator. A package of its own so that the library's build never
// compiles or runs it: the generated Swift is committed, and Tools/generate.sh reruns this.
let package = Package(
    name: "KafkaGen",
    platforms: [.macOS(.v13)],
    targets: [
        .executableTarget(name: "kafka-gen", path: "Sources/kafka-gen"),
    ],
    swiftLanguageModes: [.v6]
)
