import ArgumentParser
import KafkaProtocol

/// The `kgo` command. Verbs arrive with the issues that build them (metadata, produce,
/// consume, fake-cluster, sim, play).
struct Kgo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kgo",
        abstract: "A Kafka client toolbox built on kgo-swift.",
        subcommands: [FakeClusterCommand.self, BenchCodec.self, SimCommand.self]
    )
}

Kgo.main()
