import ArgumentParser

/// The `kgo` command. Verbs arrive with the issues that build them (metadata, produce,
/// consume, fake-cluster, sim, play).
@main
struct Kgo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kgo",
        abstract: "A Kafka client toolbox built on kgo-swift.",
        subcommands: [MetadataCommand.self, ApiVersionsCommand.self, FakeClusterCommand.self, BenchCodec.self]
    )
}
