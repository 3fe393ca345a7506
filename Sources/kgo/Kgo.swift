import ArgumentParser
import Dispatch

/// The `kgo` command. Verbs arrive with the issues that build them (metadata, produce,
/// consume, fake-cluster, sim, play).
@main
struct Kgo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kgo",
        abstract: "A Kafka client toolbox built on kgo-swift.",
        subcommands: [MetadataCommand.self, ApiVersionsCommand.self, FakeClusterCommand.self, SimCommand.self, BenchCodec.self,
                      ConsumeCommand.self, ProduceCommand.self, GroupCommand.self, TopicCommand.self, ConfigCommand.self,
                      OffsetsCommand.self, ClusterCommand.self, BenchCommand.self, PlayCommand.self]
    )

    /// Synchronous verbs run on the main thread before any other thread exists (fake-cluster
    /// blocks its stop signals there so every later thread inherits the mask); only async
    /// verbs start Swift concurrency's threads, and the main thread waits for them.
    static func main() {
        do {
            var command = try parseAsRoot()
            if let asyncCommand = command as? any AsyncParsableCommand {
                let outcome = AsyncOutcome()
                let done = DispatchSemaphore(value: 0)
                let box = CommandBox(asyncCommand)
                Task.detached {
                    do { try await box.run() } catch { outcome.error = error }
                    done.signal()
                }
                done.wait()
                if let error = outcome.error { exit(withError: error) }
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Carries the parsed verb into its task; the main thread only waits meanwhile.
private final class CommandBox: @unchecked Sendable {
    var command: any AsyncParsableCommand
    init(_ command: any AsyncParsableCommand) { self.command = command }
    func run() async throws { try await command.run() }
}

private final class AsyncOutcome: @unchecked Sendable {
    var error: (any Error)?
}
