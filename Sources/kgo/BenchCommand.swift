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

/// Reads partition 0 of a topic from the beginning, as rdcons does (or, with --all or
/// --group, every partition of it).
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
    @Flag(help: "Read every partition of the topic (consume the topic) instead of one: the direct counterpart of --group.")
    var all = false
    @Option(help: "Per-partition fetch size in bytes (default: the library's).")
    var partitionMaxBytes: Int32?
    @Option(help: "Fetched bytes buffered before fetching pauses (default: the library's).")
    var maxBufferedBytes: Int?
    @Option(help: "Give up after this many seconds.")
    var deadline: Double = 300
    @Option(help: "Read as a member of this consumer group (every partition of the topic; 6 s session for Tansu's join delay) instead of assigning the partition.")
    var group: String?
    @OptionGroup var hookRounds: BenchHookOptions

    /// What one run read, and when.
    struct Run {
        var records: Int
        var bytes: Int
        var seconds: Double
        var firstAfter: Double
        var afterFirst: Double
        /// The process's CPU time over the same span as `seconds`.
        var cpuSeconds: Double
    }

    func run() async throws {
        if let modes = try hookRounds.modes {
            try await runHookRounds(modes)
            return
        }
        let r = try await consumeOnce()
        print("RESULT consumer=\(group == nil ? "kgo" : "kgo-group") " + String(format: "count=%ld bytes=%ld secs=%.3f first_msg_after=%.3f rec_per_s=%.0f MB_per_s=%.2f rec_per_s_after_first=%.0f",
                     r.records, r.bytes, r.seconds, r.firstAfter, Double(r.records) / r.seconds, Double(r.bytes) / r.seconds / 1e6,
                     Double(r.records) / max(r.afterFirst, 1e-9)))
        if r.records < records { throw ExitCode(1) }
    }

    /// Reads `records` records (or until the deadline) with a client of its own; `hooks`
    /// replace the configuration's when given.
    func consumeOnce(hooks: [any KafkaHook]? = nil) async throws -> Run {
        let configure: (inout KafkaClientConfiguration) -> Void = { c in
            if let partitionMaxBytes { c.consumer.partitionMaxBytes = partitionMaxBytes }
            if let maxBufferedBytes { c.consumer.maxBufferedBytes = maxBufferedBytes }
            if let hooks { c.hooks = hooks }
        }
        let clock = ContinuousClock()
        let cpu0 = processCPUSeconds()
        let t0 = clock.now
        let poll: (Duration) async -> ConsumerPoll
        let close: () async -> Void
        if let group {
            let (config, logger) = try connection.makeConfiguration(configure: configure)
            var g = GroupConfiguration(groupId: group, topics: [topic])
            g.sessionTimeout = .seconds(6)
            g.heartbeatInterval = .seconds(1)
            let consumer = try KafkaGroupConsumer(configuration: config, group: g, logger: logger)
            consumer.join()
            poll = { await consumer.poll(timeout: $0) }
            close = { await consumer.leave() }
        } else {
            let client = try connection.makeClient(configure: configure)
            if all {
                try client.consume(topics: [topic], from: .start)
            } else {
                client.assign([TopicPartition(topic, partition): .start])
            }
            poll = { await client.poll(timeout: $0) }
            close = { await client.close() }
        }
        var n = 0
        var bytes = 0
        var first: ContinuousClock.Instant?
        while n < records && clock.now - t0 < .seconds(deadline) {
            let p = await poll(.milliseconds(100))
            for p in p.partitions {
                if let e = p.error { FileHandle.standardError.write(Data("err \(p.topic)[\(p.partition)]: \(e)\n".utf8)) }
                if !p.records.isEmpty && first == nil { first = clock.now }
                n += p.records.count
                for r in p.records { bytes += r.value?.count ?? 0 }
            }
            if p.closed { break }
        }
        let end = clock.now
        let cpu = processCPUSeconds() - cpu0
        let secs = Self.seconds(end - t0)
        let firstAfter = first.map { Self.seconds($0 - t0) } ?? 0
        let afterFirst = first.map { Self.seconds(end - $0) } ?? secs
        await close()
        return Run(records: n, bytes: bytes, seconds: secs, firstAfter: firstAfter, afterFirst: afterFirst, cpuSeconds: cpu)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
