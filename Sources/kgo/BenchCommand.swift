import ArgumentParser
import Foundation
import KafkaIO
import KafkaProtocol

/// `kgo bench …`: throughput against a real cluster, printing the same RESULT lines as
/// the librdkafka peers (../shared/peers) so the two can be compared side by side.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks against a cluster (RESULT lines as the librdkafka peers print).",
        subcommands: [BenchProduceCommand.self, BenchConsumeCommand.self])
}

/// Reads partition 0 of a topic from the beginning, as rdcons does.
struct BenchConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Consume N records of partition 0 from the start and print a RESULT line.")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .short, help: "Topic to read.")
    var topic: String
    @Option(help: "Records to read.")
    var records: Int
    @Option(help: "Partition to read.")
    var partition: Int32 = 0
    @Option(help: "Per-partition fetch size in bytes.")
    var partitionMaxBytes: Int32 = 4 * 1024 * 1024
    @Option(help: "Give up after this many seconds.")
    var deadline: Double = 300

    func run() async throws {
        let client = try connection.makeClient { c in
            c.consumer.partitionMaxBytes = partitionMaxBytes
            c.consumer.maxBufferedBytes = 4 * Int(partitionMaxBytes)
        }
        let clock = ContinuousClock()
        let t0 = clock.now
        client.assign([TopicPartition(topic, partition): .start])
        var n = 0
        var bytes = 0
        var first: ContinuousClock.Instant?
        while n < records && clock.now - t0 < .seconds(deadline) {
            let poll = await client.poll(timeout: .milliseconds(100))
            for p in poll.partitions {
                if let e = p.error { FileHandle.standardError.write(Data("err \(p.topic)[\(p.partition)]: \(e)\n".utf8)) }
                if !p.records.isEmpty && first == nil { first = clock.now }
                n += p.records.count
                for r in p.records { bytes += r.value?.count ?? 0 }
            }
            if poll.closed { break }
        }
        let secs = Self.seconds(clock.now - t0)
        let firstAfter = first.map { Self.seconds($0 - t0) } ?? 0
        await client.close()
        print(String(format: "RESULT consumer=kgo count=%ld bytes=%ld secs=%.3f first_msg_after=%.3f rec_per_s=%.0f MB_per_s=%.2f",
                     n, bytes, secs, firstAfter, Double(n) / secs, Double(bytes) / secs / 1e6))
        if n < records { throw ExitCode(1) }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
