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
    @Option(help: "Produce transactionally with this transactional id (needs --acks all).")
    var transactionalId: String?
    @Option(help: "Transaction timeout in seconds, the coordinator's limit on an open transaction (default: the library's, 60).")
    var transactionTimeout: Int?

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
        if let transactionalId {
            guard p.acks == .all else { throw ValidationError("--transactional-id needs --acks all") }
            p.transactionalId = transactionalId
        }
        if let transactionTimeout {
            guard transactionalId != nil else { throw ValidationError("--transaction-timeout needs --transactional-id") }
            guard transactionTimeout > 0 else { throw ValidationError("--transaction-timeout must be positive") }
            p.transactionTimeout = .seconds(transactionTimeout)
        }
        return p
    }
}

/// Asks for a topic with `partitions` partitions; one that exists already is fine.
func createTopic(_ client: KafkaClient, _ topic: String, partitions: Int32) async throws {
    let created = try await KafkaAdmin(client: client).createTopics([NewTopic(topic, partitions: partitions, replicationFactor: 1)],
                                                                    timeout: .seconds(10))
    if let error = created[0].error {
        if case .broker(.topicAlreadyExists, _) = error { return }
        throw KgoFailure("cannot create \(topic): \(error)")
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
        abstract: "Produce records read from standard input, one per line (or per -D delimiter), or one per FILE, kcat style.",
        discussion: "The topic is created by the broker if it does not exist and the broker allows it (as librdkafka's producer does); --no-auto-create turns that off.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var producer: ProducerOptions
    @Option(name: .shortAndLong, help: "Topic to produce to.")
    var topic: String
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Partition (default, or -1: the partitioner's choice).")
    var partition: Int32?
    @Option(name: .short, help: "Key of every record (not with -K).")
    var key: String?
    @Option(name: .short, help: "Stop after this many messages.")
    var count: Int?
    @Flag(name: .short, help: "With FILEs: split each file at -D as standard input is, instead of one message per file.")
    var lines = false
    @Flag(name: .customLong("no-auto-create"), help: "Do not let the broker create a topic that does not exist (allow.auto.create.topics=false).")
    var noAutoCreate = false
    @Argument(help: "Files to send, each one whole message (binary as it is; -l splits them); none: standard input.")
    var files: [String] = []
    @Option(name: .customShort("D"), help: "Message delimiter, escapes \\n \\r \\t \\xNN allowed (default: newline). Input is bytes, not text.")
    var delimiter: String = "\\n"
    @Option(name: .customShort("K"), help: "Key delimiter: the bytes before its first occurrence are the key (escapes as -D).")
    var keyDelimiter: String?
    @Option(name: .customShort("H"), help: "Header NAME=VALUE on every record (repeatable; NAME alone: a null value).")
    var header: [String] = []
    @Flag(name: .customShort("Z"), help: "Send an empty value or key as null.")
    var emptyAsNull = false
    @Option(help: "Create the topic with this many partitions first.")
    var createPartitions: Int32?

    func validate() throws {
        if let partition, partition < -1 { throw ValidationError("negative partition \(partition) (-1 is the partitioner's choice)") }
        if key != nil && keyDelimiter != nil { throw ValidationError("-k and -K do not go together") }
        if let count, count < 0 { throw ValidationError("-c must not be negative") }
        if lines && files.isEmpty { throw ValidationError("-l needs FILEs") }
        guard try !Escapes.bytes(delimiter).isEmpty else { throw ValidationError("-D must not be empty") }
        if let keyDelimiter { guard try !Escapes.bytes(keyDelimiter).isEmpty else { throw ValidationError("-K must not be empty") } }
        _ = try producer.configuration()
    }

    var headers: [RecordHeader] {
        header.map { h in
            guard let eq = h.firstIndex(of: "=") else { return RecordHeader(key: h, value: nil) }
            return RecordHeader(key: String(h[..<eq]), value: Array(h[h.index(after: eq)...].utf8))
        }
    }

    func run() async throws {
        // Files first: a missing one fails before anything connects.
        var input = try ProduceInput(files: files, delimiter: try Escapes.bytes(delimiter), splitFiles: lines)
        let (config, logger) = try connection.makeConfiguration(producer: try producer.configuration()) { $0.allowAutoTopicCreation = !noAutoCreate }
        let client = try KafkaClient(configuration: config, logger: logger)
        if let createPartitions {
            try await createTopic(client, topic, partitions: createPartitions)
        } else if !config.allowAutoTopicCreation {
            try await requireTopic(client)
        }
        if producer.transactionalId != nil {
            try await runTransaction(client, &input)
            return
        }
        let tally = ProduceTally()
        let lines = try await produceLines(client, tally, &input)
        await client.flush()
        await client.close()
        let (delivered, failed, first) = tally.snapshot
        var err = StandardError()
        print("produced \(delivered) of \(lines) records to \(topic)\(failed > 0 ? ", \(failed) failed (first: \(first!))" : "")", to: &err)
        if failed > 0 || delivered != lines { throw ExitCode(1) }
    }

    /// Without auto creation a missing topic fails now, in one line, rather than every
    /// record failing after the producer's unknown-topic retries.
    private func requireTopic(_ client: KafkaClient) async throws {
        var m = MetadataRequest()
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = topic
        m.topics = [t]
        m.allowAutoTopicCreation = false
        let r = try await client.request(m)
        if r.topics.contains(where: { $0.name == topic && $0.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue }) {
            await client.close()
            throw KgoFailure("unknown topic \(topic) (auto creation is off)")
        }
    }

    /// Produces every message of the input (up to -c); returns how many there were.
    private func produceLines(_ client: KafkaClient, _ tally: ProduceTally, _ input: inout ProduceInput) async throws -> Int {
        let keyDelimiter = try self.keyDelimiter.map(Escapes.bytes)
        let fixedKey = self.key.map { Array($0.utf8) }
        let partition = self.partition == -1 ? nil : self.partition
        let headers = self.headers
        var count = 0
        while self.count.map({ count < $0 }) ?? true, let message = try input.next() {
            var key: [UInt8]? = fixedKey
            var value: [UInt8]? = message
            if let d = keyDelimiter, let i = Escapes.index(of: d, in: message, from: 0) {
                key = Array(message[..<i])
                value = Array(message[(i + d.count)...])
            }
            if emptyAsNull {
                if key?.isEmpty == true { key = nil }
                if value?.isEmpty == true { value = nil }
            }
            count += 1
            await client.produce(KafkaRecord(topic: topic, partition: partition, key: key, value: value, headers: headers)) { tally.record($0) }
        }
        return count
    }

    /// `--transactional-id`: all of standard input as one transaction. Begin, produce every
    /// line, commit; if any record failed, or the commit did, abort instead, so either every
    /// line is committed or none is visible to read_committed consumers.
    private func runTransaction(_ client: KafkaClient, _ input: inout ProduceInput) async throws {
        var err = StandardError()
        do {
            try await client.beginTransaction()
        } catch {
            await client.close()
            print("cannot begin the transaction: \(error)", to: &err)
            throw ExitCode(1)
        }
        let tally = ProduceTally()
        let lines = try await produceLines(client, tally, &input)
        // A record refused at the call (too large, a partition that does not exist) makes the
        // transaction "must abort" as a failed delivery does, so the commit below refuses; a
        // failure already seen skips it.
        var commitError: TransactionError? = nil
        if tally.snapshot.1 == 0 {
            do {
                try await client.commitTransaction()
                let (delivered, failed, first) = tally.snapshot
                await client.close()
                print("committed one transaction of \(lines) records to \(topic)", to: &err)
                // Not expected: a failed record makes the commit refuse. Said loudly if it happens.
                if failed > 0 || delivered != lines {
                    print("but only \(delivered) were reported delivered, \(failed) failed (first: \(first.map { "\($0)" } ?? "-"))", to: &err)
                    throw ExitCode(1)
                }
                return
            } catch let error as TransactionError {
                commitError = error
            }
        }
        let (_, failed, first) = tally.snapshot
        var failure = failed > 0 ? "\(failed) of \(lines) records failed (first: \(first!))" : "not every record was delivered"
        switch commitError {
        case nil: break
        case .mustAbort? where failed > 0: break   // the failure above, said again
        case let e?: failure = failed > 0 ? "\(failure); the commit failed: \(e)" : "the commit failed: \(e)"
        }
        // After a fatal error (fenced by another producer with this id) abort fails too: the
        // coordinator aborts the transaction itself.
        var aborted = "transaction aborted"
        var written = "and are aborted"
        do {
            try await client.abortTransaction()
        } catch {
            aborted = "transaction not aborted by us (\(error)); the coordinator aborts it when it times out or the id is taken over"
            written = "in it"
        }
        let (delivered, _, _) = tally.snapshot
        await client.close()
        print("\(failure): \(aborted); \(delivered) of \(lines) records were written to \(topic) \(written), none is committed", to: &err)
        throw ExitCode(1)
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
    @Option(help: "With --transactional-id: records per transaction (begin, produce them, commit; default: all in one).")
    var transactionRecords: Int?
    @Option(help: "Records per second, paced, to partition 0: prints produce-to-ack latency percentiles (p50, p99, max) after the first second.")
    var rate: Double?
    @OptionGroup var hookRounds: BenchHookOptions

    func run() async throws {
        guard records > 0, size > 0 else { throw ValidationError("--records and --size must be positive") }
        if let modes = try hookRounds.modes {
            guard rate == nil, producer.transactionalId == nil else {
                throw ValidationError("--hooks goes without --rate and --transactional-id")
            }
            try await runHookRounds(modes)
            return
        }
        if let transactionRecords {
            guard producer.transactionalId != nil else { throw ValidationError("--transaction-records needs --transactional-id") }
            guard transactionRecords > 0 else { throw ValidationError("--transaction-records must be positive") }
        }
        let client = try connection.makeClient(producer: try producer.configuration())
        try await createTopic(client, topic, partitions: max(partitions, 1))
        if let rate {
            guard rate > 0, partitions == 1, producer.transactionalId == nil else {
                await client.close()
                throw ValidationError("--rate must be positive, with one partition and no transactions")
            }
            // Metadata known before the clock starts, as the librdkafka peer does.
            _ = try? await KafkaAdmin(client: client).listTopics()
            let latency = ProduceLatency(count: records, warmUp: min(records / 2, Int(rate)))
            let start = ContinuousClock.now
            await latency.run(client, topic: topic, count: records, size: size, rate: rate)
            await client.flush()
            let elapsed = ContinuousClock.now - start
            await client.close()
            let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let (acked, failed) = latency.counts
            let p = latency.percentiles()
            print("RESULT producer=kgo count=\(records) size=\(size) delivered=\(acked) failed=\(failed) secs=\(format3(secs)) "
                  + "rec_per_s=\(Int((Double(acked) / secs).rounded())) p50_ms=\(format2(p.p50)) p99_ms=\(format2(p.p99)) max_ms=\(format2(p.max))")
            if failed > 0 || acked < records { throw ExitCode(1) }
            return
        }
        let tally = ProduceTally()
        // One callback for every record: a closure literal in the loop would allocate its context each time.
        let done: ProduceCompletion = { tally.record($0) }
        let start = ContinuousClock.now
        var err = StandardError()
        if producer.transactionalId != nil {
            // Each transaction: begin, its records, commit (which sends them without lingering
            // and returns once the coordinator committed), as rdtxnprod does with librdkafka.
            let per = transactionRecords ?? records
            var from = 0
            do {
                while from < records {
                    let to = min(from + per, records)
                    try await client.beginTransaction()
                    await Self.produceAll(client, topic: topic, range: from ..< to, size: size, keyed: partitions > 1, completion: done)
                    try await client.commitTransaction()
                    from = to
                }
            } catch {
                await client.close()
                print("transaction of records \(from)..<\(min(from + per, records)) failed: \(error)", to: &err)
                throw ExitCode(1)
            }
            print("committed \((records + per - 1) / per) transactions of up to \(per) records", to: &err)
        } else {
            await Self.produceAll(client, topic: topic, range: 0 ..< records, size: size, keyed: partitions > 1, completion: done)
            print("produce calls returned after \(ContinuousClock.now - start)", to: &err)
            await client.flush()
        }
        let elapsed = ContinuousClock.now - start
        await client.close()
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (delivered, failed, first) = tally.snapshot
        if let first { var err = StandardError(); print("delivery error: \(first)", to: &err) }
        print("RESULT producer=\(producer.transactionalId == nil ? "kgo" : "kgo-txn") count=\(records) size=\(size) delivered=\(delivered) failed=\(failed) secs=\(String(format3(secs))) "
              + "rec_per_s=\(Int((Double(delivered) / secs).rounded())) MB_per_s=\(format2(Double(delivered) * Double(size) / secs / 1e6))")
        if failed > 0 { throw ExitCode(1) }
    }
}

extension BenchProduceCommand {
    /// The produce loop, on plain parameters: reading an @Option in the loop costs a generic
    /// metadata lookup each time.
    static func produceAll(_ client: KafkaClient, topic: String, range: Range<Int>, size: Int, keyed: Bool,
                           completion done: @escaping ProduceCompletion) async {
        var payload = (0 ..< size).map { UInt8(ascii: "a") + UInt8((($0 * 7) + $0 / 13) % 26) }
        // "key-<i % 1000>", as rdprod-keyed's snprintf into a stack buffer: built once, each
        // record gets its own copy (as librdkafka copies the key). Interpolating a String per
        // record cost 3-4% of the keyed run, harness work the C driver does not do.
        let keys: [[UInt8]] = keyed ? (0 ..< 1000).map { Array("key-\($0)".utf8) } : []
        for i in range {
            // Vary the first bytes as rdprod does (its snprintf); the record keeps its own copy.
            // Plain loops: `stride(from:through:by:)` here ran unspecialized, through the
            // runtime's generic witnesses (callgrind: about 300 instructions a record).
            var n = i
            var d = 1
            while n >= 10 { d += 1; n /= 10 }
            let shown = min(d, size)
            n = i
            for _ in 0 ..< (d - shown) { n /= 10 }
            payload.withUnsafeMutableBufferPointer { p in
                var at = shown - 1
                while at >= 0 {
                    p[at] = UInt8(ascii: "0") + UInt8(n % 10)
                    n /= 10
                    at -= 1
                }
            }
            // The record's own copy of the payload (rdprod's RD_KAFKA_MSG_F_COPY), made
            // from its bytes: sharing `payload` and writing the next digits into it made the
            // copy through Array's copy-on-write path, 350 instructions a record (and
            // `init(unsafeUninitializedCapacity:)` ran unspecialized, 200).
            let value = payload.withUnsafeBufferPointer { Array($0) }
            let record = keyed
                ? KafkaRecord(topic: topic, key: keys[i % 1000].withUnsafeBufferPointer { Array($0) }, value: value)
                : KafkaRecord(topic: topic, partition: 0, value: value)
            await client.produce(consume record, completion: done)
        }
    }
}

func format3(_ x: Double) -> String { let v = (x * 1000).rounded() / 1000; return "\(v)" }
func format2(_ x: Double) -> String { let v = (x * 100).rounded() / 100; return "\(v)" }
