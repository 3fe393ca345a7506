import ArgumentParser
import Dispatch
import Foundation
import KafkaIO

/// The `kgo` command. Verbs arrive with the issues that build them (metadata, produce,
/// consume, fake-cluster, sim, play).
@main
struct Kgo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kgo",
        abstract: "A Kafka client toolbox built on kgo-swift.",
        version: "kgo " + KafkaClientConfiguration(seedBrokers: [BrokerAddress]()).softwareVersion,
        subcommands: [MetadataCommand.self, ApiVersionsCommand.self, FakeClusterCommand.self, SimCommand.self, BenchCodec.self, BenchScram.self,
                      ConsumeCommand.self, ProduceCommand.self, GroupCommand.self, TopicCommand.self, ConfigCommand.self,
                      OffsetsCommand.self, ClusterCommand.self, BenchCommand.self, PlayCommand.self,
                      AclCommand.self, QuotaCommand.self, UserCommand.self, TxnCommand.self,
                      ElectLeadersCommand.self, ReassignCommand.self, LogDirsCommand.self, TokenCommand.self, SoakCommand.self]
    )

    /// Synchronous verbs run on the main thread before any other thread exists (fake-cluster
    /// blocks its stop signals there so every later thread inherits the mask); only async
    /// verbs start Swift concurrency's threads, and the main thread waits for them.
    /// Exit statuses: 64 with usage text for argument errors (parsing and `validate()`);
    /// 1 with one line on standard error for anything that fails once running.
    static func main() {
        var command: any ParsableCommand
        let verbs = Set(configuration.subcommands.compactMap { $0.configuration.commandName })
        var arguments = Array(CommandLine.arguments.dropFirst())
        switch KcatModes.rewrite(arguments, verbs: verbs) {
        case .arguments(let a): arguments = a
        case .listSettings:
            print(ClientSettings.listing, terminator: "")
            Foundation.exit(0)
        case .usageError(let why):
            FileHandle.standardError.write(Data("kgo: error: \(why)\n".utf8))
            exit(withError: ExitCode.validationFailure)
        }
        do { command = try parseAsRoot(arguments) } catch { exit(withError: error) }
        if let asyncCommand = command as? any AsyncParsableCommand {
            let outcome = AsyncOutcome()
            let done = DispatchSemaphore(value: 0)
            let box = CommandBox(asyncCommand)
            Task.detached {
                do { try await box.run() } catch { outcome.error = error }
                done.signal()
            }
            done.wait()
            if let error = outcome.error { fail(error) }
        } else {
            do { try command.run() } catch { fail(error) }
        }
    }

    /// A runtime failure: one line naming it, status 1. `ExitCode` (the verb has already
    /// said what failed), clean exits (help, `CleanExit`) and a `ValidationError` (bad
    /// arguments a verb finds only while running: usage text, 64) keep their own meaning.
    static func fail(_ error: any Error) -> Never {
        // `-h`/`help` parse to ArgumentParser's own help verb, whose run() throws its internal
        // help request: what ArgumentParser counts as a clean exit (help, version, CleanExit)
        // it renders itself, with status 0.
        if error is ExitCode || error is ValidationError || exitCode(for: error) == .success { exit(withError: error) }
        let text = String(describing: error)
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("kgo: error: \(line)\n".utf8))
        exit(withError: ExitCode.failure)
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

/// A failure once running (a broker's refusal, a file that cannot be read, no broker to
/// ask): status 1 and this one line, never the usage text.
struct KgoFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
