import KafkaIO
import KafkaProtocol
import Testing

/// Hostile data end to end: batches a broker should never hand out, written to Tansu by a raw
/// Produce (Tansu stores what it is given), read back through the real client. The bad
/// partition stops with a typed `corruptBatch` naming its offset after the good records
/// before it, the other partition keeps flowing, and `skip` moves past the bad batch.
@Suite(.serialized) struct HostileDataTests {
    static let good = 5
    let contexts = CompressionContexts()

    /// A v2 batch of `count` records of `size` bytes.
    func batch(_ count: Int, size: Int = 16, codec: CompressionCodec = .none, control: Bool = false) throws -> [UInt8] {
        let records = (0 ..< count).map { i in EncodableRecord(value: [UInt8](repeating: UInt8(0x61 + i % 26), count: size), timestamp: 1_700_000_000_000) }
        return try RecordBatchEncoder.encode(records, options: RecordBatchOptions(codec: codec, isControl: control), contexts: contexts)
    }

    /// The batch's CRC-32C made right again after a field was changed on purpose (so the
    /// lie is in the content, not a checksum any broker or client would catch first).
    static func resealed(_ b: [UInt8]) -> [UInt8] {
        var out = b
        let crc = CRC32C.checksum(b[21...])
        out[17] = UInt8(crc >> 24); out[18] = UInt8(crc >> 16 & 0xFF); out[19] = UInt8(crc >> 8 & 0xFF); out[20] = UInt8(crc & 0xFF)
        return out
    }

    struct Outcome {
        var badOffsets: [Int64] = []
        var error: ConsumerPartitionError?
        var otherOffsets: [Int64] = []
        var afterSkip: [Int64] = []
    }

    /// Writes the topic `run` reads (partition 0: five good records, the hostile batch, five
    /// good records; partition 1: twenty good ones) and returns its name.
    func write(_ name: String, hostile: [UInt8]) async throws -> String {
        let broker = try TestEnvironment.broker()
        let topic = "hostile-\(name)-\(UInt32.random(in: 0 ... .max))"
        let writer = try KafkaClient(configuration: TestEnvironment.configuration([broker]), logger: TestEnvironment.logger)
        try await ProduceTests.createTopic(writer, topic, partitions: 2)
        for i in 0 ..< Self.good { _ = try await writer.produce(KafkaRecord(topic: topic, partition: 0, value: Array("before-\(i)".utf8))) }
        var produce = ProduceRequest()
        produce.acks = -1
        produce.timeoutMs = 10_000
        var data = ProduceRequest.TopicProduceData()
        data.name = topic
        var partition = ProduceRequest.PartitionProduceData()
        partition.index = 0
        partition.records = hostile
        data.partitionData = [partition]
        produce.topicData = [data]
        let answer = try await writer.request(produce)
        let code = answer.responses.first?.partitionResponses.first?.errorCode
        try #require(code == 0, "Tansu refused the hostile batch (\(String(describing: code))): this test needs a broker that stores it")
        for i in 0 ..< Self.good { _ = try await writer.produce(KafkaRecord(topic: topic, partition: 0, value: Array("after-\(i)".utf8))) }
        for i in 0 ..< 20 { _ = try await writer.produce(KafkaRecord(topic: topic, partition: 1, value: Array("other-\(i)".utf8))) }
        await writer.close()
        return topic
    }

    /// Five good records, the hostile batch, five good records in partition 0; twenty good
    /// ones in partition 1. Reads both back from the start with `configure`d limits.
    func run(_ name: String, hostile: [UInt8], configure: (inout KafkaClientConfiguration) -> Void = { _ in }) async throws -> Outcome {
        let broker = try TestEnvironment.broker()
        let topic = try await write(name, hostile: hostile)
        var config = TestEnvironment.configuration([broker])
        config.consumer.maxWait = .milliseconds(100)
        configure(&config)
        let reader = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        let bad = TopicPartition(topic, 0), other = TopicPartition(topic, 1)
        reader.assign([bad: .start, other: .start])
        var out = Outcome()
        let clock = ContinuousClock()
        let start = clock.now
        // A hang guard only: each poll returns within its timeout.
        while out.error == nil || out.otherOffsets.count < 20, clock.now - start < .seconds(60) {
            let poll = await reader.poll(timeout: .milliseconds(500))
            for p in poll.partitions {
                if p.partition == 0 {
                    out.badOffsets += p.records.map(\.offset)
                    if let e = p.error { out.error = e }
                } else {
                    out.otherOffsets += p.records.map(\.offset)
                }
            }
        }
        if out.error != nil {
            reader.skip(bad)
            while out.afterSkip.count < Self.good, clock.now - start < .seconds(90) {
                let poll = await reader.poll(timeout: .milliseconds(500))
                for p in poll.partitions where p.partition == 0 {
                    out.afterSkip += p.records.map(\.offset)
                    if let e = p.error { Issue.record("after skip: \(e)"); break }
                }
            }
        }
        await reader.close()
        return out
    }

    /// The common checks: the good records before, a corruptBatch at the hostile batch's
    /// offset whose reason names the lie, partition 1 untouched, and the records after it.
    func check(_ out: Outcome, hostileCount: Int64, reason: String) {
        #expect(out.badOffsets == Array(0 ..< Int64(Self.good)), "records before the bad batch: \(out.badOffsets)")
        guard case .corruptBatch(let offset, let why)? = out.error else {
            Issue.record("expected corruptBatch, got \(String(describing: out.error))")
            return
        }
        #expect(offset == Int64(Self.good))
        #expect(why.lowercased().contains(reason), "\(why)")
        #expect(out.otherOffsets == Array(0 ..< 20), "the other partition: \(out.otherOffsets)")
        let next = Int64(Self.good) + hostileCount
        #expect(out.afterSkip == Array(next ..< next + Int64(Self.good)), "after skip: \(out.afterSkip)")
    }

    @Test func aBadChecksumStopsOnlyItsPartition() async throws {
        var b = try batch(3)
        b[b.count - 1] ^= 0xFF
        check(try await run("crc", hostile: b), hostileCount: 3, reason: "badcrc")
    }

    @Test func aRecordCountThatLiesIsCaught() async throws {
        var b = try batch(3)
        b[57] = 0; b[58] = 0; b[59] = 0x03; b[60] = 0xE8   // 1,000 records claimed, 3 present
        check(try await run("count", hostile: Self.resealed(b)), hostileCount: 3, reason: "record.length")
    }

    @Test func aNegativeOffsetDeltaIsCaught() async throws {
        var b = try batch(3)
        // The first record: length varint, attributes, timestamp delta 0, offset delta 0
        // (zig-zag 0x00) -> -1 (0x01), the size unchanged.
        let recordStart = 61
        let lengthBytes = 1
        #expect(b[recordStart + lengthBytes] == 0 && b[recordStart + lengthBytes + 1] == 0 && b[recordStart + lengthBytes + 2] == 0)
        b[recordStart + lengthBytes + 2] = 0x01
        check(try await run("delta", hostile: Self.resealed(b)), hostileCount: 3, reason: "offset delta -1")
    }

    @Test func aControlBatchOfDataRecordsIsCaught() async throws {
        check(try await run("control", hostile: try batch(3, control: true)), hostileCount: 3, reason: "non-control record")
    }

    @Test func aDecompressionBombStopsAtTheLimit() async throws {
        // Four 100 KB records compress to a few hundred bytes; the reader allows 100 KB.
        let bomb = try batch(4, size: 100_000, codec: .gzip)
        #expect(bomb.count < 4_000)
        let out = try await run("bomb", hostile: bomb) { $0.consumer.decompressionLimit = 100_000 }
        check(out, hostileCount: 4, reason: "decompressionlimitexceeded")
    }

    /// `kgo consume -e` with `-X decompression.limit.bytes` stops at the bomb: status 1 and
    /// one line naming the partition and offset, after the five good records before it.
    @Test func kgoStopsAtABombPastItsDecompressionLimit() async throws {
        let broker = try TestEnvironment.variable("KGO_TEST_BROKER")
        let topic = try await write("kgo-bomb", hostile: try batch(4, size: 100_000, codec: .gzip))
        let run = try await KgoCommandTests.kgo(["consume", "-b", broker, "-t", topic, "-p", "0", "-o", "beginning", "-e",
                                                 "-X", "decompression.limit.bytes=100000"])
        #expect(run.status == 1, "\(run.output)")
        #expect(run.output.contains("[0] at offset \(Self.good)") && run.output.contains("decompressionLimitExceeded(limit: 100000)"), "\(run.output)")
        #expect(run.output.split(separator: "\n").filter { $0.hasPrefix("before-") }.count == Self.good, "\(run.output)")
        let allowed = try await KgoCommandTests.kgo(["consume", "-b", broker, "-t", topic, "-p", "0", "-o", "beginning", "-e"])
        #expect(allowed.status == 0, "the default limit lets 400 KB through: \(allowed.output)")
    }
}
