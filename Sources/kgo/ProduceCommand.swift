import ArgumentParser
import KafkaIO
import KafkaProtocol
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Options shared by `kgo produce` and `kgo bench produce`.
struct ProducerOptions: ParsableArguments {
    @Option(name: .customShort("z"), help: "Compression: none, gzip, snappy, lz4 or zstd.")
    var compression: String = "none"
    @Option(help: "Acknowledgement: all, leader or none (leader/none turn idempotence off).")
    var acks: String = "all"
    @Option(help: "Linger in milliseconds (default: the library's).")
    var linger: Int?
    @Option(help: "Maximum batch bytes.")
    var batchBytes: Int?
    @Option(help: "Most records buffered before produce waits (default: the library's).")
    var bufferedRecords: Int?
    @Option(help: "Most bytes buffered before produce waits (default: the library's).")
    var bufferedBytes: Int?

    func configuration() throws -> ProducerConfiguration {
        var p = ProducerConfiguration()
        switch compression.lowercased() {
        case "none": p.compression = [.none]
        case "gzip": p.compression = [.gzip, .none]
        case "snappy": p.compression = [.snappy, .none]
        case "lz4": p.compression = [.lz4, .none]
        case "zstd": p.compression = [.zstd, .lz4, .none]
        default: throw ValidationError("unknown codec \(compression) (none, gzip, snappy, lz4, zstd)")
        }
        switch acks.lowercased() {
        case "all", "-1": p.acks = .all
        case "leader", "1": p.acks = .leader; p.idempotent = false
        case "none", "0": p.acks = .none; p.idempotent = false
        default: throw ValidationError("unknown acks \(acks) (all, leader, none)")
        }
        if let linger {
            guard linger >= 0 else { throw ValidationError("linger must not be negative") }
            p.linger = .milliseconds(linger)
        }
        if let batchBytes { p.maxBatchBytes = batchBytes }
        if let bufferedRecords { p.maxBufferedRecords = bufferedRecords }
        if let bufferedBytes { p.maxBufferedBytes = bufferedBytes }
        return p
    }
}

/// Asks for a topic with `partitions` partitions; one that exists already is fine.
func createTopic(_ client: KafkaClient, _ topic: String, partitions: Int32) async throws {
    var t = CreateTopicsRequest.CreatableTopic()
    t.name = topic
    t.numPartitions = partitions
    t.replicationFactor = 1
    var r = CreateTopicsRequest()
    r.topics = [t]
    r.timeoutMs = 10_000
    let resp = try await client.request(r, to: .controller)
    for res in resp.topics where res.errorCode != 0 && KafkaErrorCode(res.errorCode) != .topicAlreadyExists {
        throw ValidationError("cannot create \(topic): \(KafkaErrorCode(res.errorCode).name) \(res.errorMessage ?? "")")
    }
}

final class ProduceTally: Sendable {
    struct Failures {
        var count = 0
        var first: ProduceError?
    }
    /// A counter, not a lock, on the path every delivered record takes.
    let delivered = Atomic<Int>(0)
    let failures = Mutex(Failures())

    func record(_ r: Result<ProducedRecord, ProduceError>) {
        switch r {
        case .success:
            delivered.wrappingAdd(1, ordering: .relaxed)
        case .failure(let e):
            failures.withLock { f in
                f.count += 1
                if f.first == nil { f.first = e }
            }
        }
    }

    /// Read after the flush: the loop's writes are visible through the flush's own handoff.
    var snapshot: (Int, Int, ProduceError?) {
        let f = failures.withLock { $0 }
        return (delivered.load(ordering: .acquiring), f.count, f.first)
    }
}

struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce records read from standard input, one per line.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var producer: ProducerOptions
    @Option(name: .shortAndLong, help: "Topic to produce to.")
    var topic: String
    @Option(name: .shortAndLong, help: "Partition (default: the partitioner's choice).")
    var partition: Int32?
    @Option(name: .customShort("K"), help: "Key delimiter: text before it is the key.")
    var keyDelimiter: String?
    @Option(help: "Create the topic with this many partitions first.")
    var createPartitions: Int32?

    func run() async throws {
        if let partition, partition < 0 { throw ValidationError("negative partition \(partition)") }
        let client = try connection.makeClient(producer: try producer.configuration())
        if let createPartitions { try await createTopic(client, topic, partitions: createPartitions) }
        let tally = ProduceTally()
        var lines = 0
        while let line = readLine(strippingNewline: true) {
            var key: [UInt8]? = nil
            var value = Array(line.utf8)
            if let d = keyDelimiter, let range = line.range(of: d) {
                key = Array(line[..<range.lowerBound].utf8)
                value = Array(line[range.upperBound...].utf8)
            }
            lines += 1
            client.produce(KafkaRecord(topic: topic, partition: partition, key: key, value: value)) { tally.record($0) }
        }
        await client.flush()
        await client.close()
        let (delivered, failed, first) = tally.snapshot
        var err = StandardError()
        print("produced \(delivered) of \(lines) records to \(topic)\(failed > 0 ? ", \(failed) failed (first: \(first!))" : "")", to: &err)
        if failed > 0 || delivered != lines { throw ExitCode(1) }
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ s: String) { var b = Array(s.utf8); _ = Glibc.write(2, &b, b.count) }
}

struct BenchProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce N records of S bytes as fast as possible; print one RESULT line (as rdprod does).")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var producer: ProducerOptions
    @Option(name: .shortAndLong, help: "Topic.")
    var topic: String
    @Option(help: "Records to produce.")
    var records: Int = 1_000_000
    @Option(help: "Value size in bytes.")
    var size: Int = 100
    @Option(help: "Partitions: 1 sends everything to partition 0; more creates the topic and keys records over them.")
    var partitions: Int32 = 1

    func run() async throws {
        guard records > 0, size > 0 else { throw ValidationError("--records and --size must be positive") }
        let client = try connection.makeClient(producer: try producer.configuration())
        try await createTopic(client, topic, partitions: max(partitions, 1))
        let tally = ProduceTally()
        // One callback for every record: a closure literal in the loop would allocate its context each time.
        let done: ProduceCompletion = { tally.record($0) }
        let start = ContinuousClock.now
        Self.produceAll(client, topic: topic, records: records, size: size, keyed: partitions > 1, completion: done)
        let submitted = ContinuousClock.now - start
        var err = StandardError()
        print("produce calls returned after \(submitted)", to: &err)
        await client.flush()
        let elapsed = ContinuousClock.now - start
        await client.close()
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (delivered, failed, first) = tally.snapshot
        if let first { var err = StandardError(); print("delivery error: \(first)", to: &err) }
        print("RESULT producer=kgo count=\(records) size=\(size) delivered=\(delivered) failed=\(failed) secs=\(String(format3(secs))) "
              + "rec_per_s=\(Int((Double(delivered) / secs).rounded())) MB_per_s=\(format2(Double(delivered) * Double(size) / secs / 1e6))")
        if failed > 0 { throw ExitCode(1) }
    }
}

extension BenchProduceCommand {
    /// The produce loop, on plain parameters: reading an @Option in the loop costs a generic
    /// metadata lookup each time.
    static func produceAll(_ client: KafkaClient, topic: String, records: Int, size: Int, keyed: Bool,
                           completion done: @escaping ProduceCompletion) {
        var payload = (0 ..< size).map { UInt8(ascii: "a") + UInt8((($0 * 7) + $0 / 13) % 26) }
        for i in 0 ..< records {
            // Vary the first bytes as rdprod does (its snprintf); the record keeps its own copy.
            var n = i
            var d = 0
            repeat { d += 1; n /= 10 } while n > 0
            n = i
            for _ in 0 ..< (d - min(d, size)) { n /= 10 }
            for at in stride(from: min(d, size) - 1, through: 0, by: -1) {
                payload[at] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
            let record = keyed
                ? KafkaRecord(topic: topic, key: Array("key-\(i % 1000)".utf8), value: payload)
                : KafkaRecord(topic: topic, partition: 0, value: payload)
            client.produce(consume record, completion: done)
        }
    }
}

func format3(_ x: Double) -> String { let v = (x * 1000).rounded() / 1000; return "\(v)" }
func format2(_ x: Double) -> String { let v = (x * 100).rounded() / 100; return "\(v)" }
