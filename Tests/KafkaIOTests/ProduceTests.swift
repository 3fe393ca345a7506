@testable import KafkaIO
import KafkaProtocol
import NIOConcurrencyHelpers
import Testing

/// The producer API against Tansu (KGO_TEST_BROKER): records go in, come back in order.
@Suite struct ProduceTests {
    static func client(_ configure: (inout ProducerConfiguration) -> Void = { _ in }) throws -> KafkaClient {
        var config = TestEnvironment.configuration([try TestEnvironment.broker()])
        configure(&config.producer)
        return try KafkaClient(configuration: config, logger: TestEnvironment.logger)
    }

    static func createTopic(_ client: KafkaClient, _ name: String, partitions: Int32) async throws {
        var t = CreateTopicsRequest.CreatableTopic()
        t.name = name
        t.numPartitions = partitions
        t.replicationFactor = 1
        var r = CreateTopicsRequest()
        r.topics = [t]
        r.timeoutMs = 10_000
        let resp = try await client.request(r, to: .controller)
        #expect(resp.topics.first?.errorCode == 0)
    }

    /// The values of every record of partition 0 from offset 0, in offset order.
    static func readBack(_ client: KafkaClient, _ topic: String, partition: Int32 = 0) async throws -> [String] {
        try await readRecords(client, topic, partition: partition).map { String(decoding: $0.valueBytes ?? [], as: UTF8.self) }
    }

    /// Every record of partition 0 from offset 0, in offset order.
    static func readRecords(_ client: KafkaClient, _ topic: String, partition: Int32 = 0) async throws -> [Record] {
        var values: [Record] = []
        let contexts = CompressionContexts()
        while true {
            var fp = FetchRequest.FetchPartition()
            fp.partition = partition
            fp.fetchOffset = Int64(values.count)
            fp.partitionMaxBytes = 1 << 20
            var ft = FetchRequest.FetchTopic()
            ft.topic = topic
            ft.partitions = [fp]
            var f = FetchRequest()
            f.replicaId = -1
            f.maxWaitMs = 100
            f.maxBytes = 1 << 22
            f.topics = [ft]
            // Below v13, which names topics by id.
            let resp = try await client.request(f, pin: 4 ... 12)
            guard let pd = resp.responses.first?.partitions.first, let bytes = pd.records, !bytes.isEmpty else { break }
            let batches = try RecordsReader.decodeAll(bytes, contexts: contexts).batches
            let before = values.count
            for b in batches { for r in b.records where r.offset == Int64(values.count) { values.append(r) } }
            if values.count == before || Int64(values.count) >= pd.highWatermark { break }
        }
        return values
    }

    @Test func asyncProduceReturnsConsecutiveOffsetsAndReadsBack() async throws {
        let client = try Self.client()
        let topic = "kgo-produce-async-\(UInt32.random(in: 0 ... .max))"
        try await Self.createTopic(client, topic, partitions: 1)
        var offsets: [Int64] = []
        for i in 0 ..< 5 {
            let r = try await client.produce(KafkaRecord(topic: topic, partition: 0, key: Array("k\(i)".utf8), value: Array("v\(i)".utf8),
                                                         headers: [RecordHeader(key: "h", value: [UInt8(i)])]))
            offsets.append(r.offset)
            #expect(r.partition == 0)
        }
        #expect(offsets == [0, 1, 2, 3, 4])
        #expect(try await Self.readBack(client, topic) == ["v0", "v1", "v2", "v3", "v4"])
        await client.close()
    }

    /// The callback path moves each record's fields into the engine rather than copying
    /// them: every field still arrives. The topic name is too long for an inline string, so
    /// its storage moves too.
    @Test func callbackProduceDeliversEveryField() async throws {
        let client = try Self.client()
        let topic = "kgo-produce-callback-fields-\(UInt32.random(in: 0 ... .max))"
        try await Self.createTopic(client, topic, partitions: 1)
        let offsets = NIOLockedValueBox<[Int64]>([])
        for i in 0 ..< 20 {
            let record = KafkaRecord(topic: topic, partition: 0, key: Array("key-\(i)".utf8), value: Array("value-\(i)".utf8),
                                     headers: [RecordHeader(key: "n", value: Array("\(i)".utf8)), RecordHeader(key: "null", value: nil)],
                                     timestamp: 1_700_000_000_000 + Int64(i))
            await client.produce(record) { r in
                if case .success(let p) = r { offsets.withLockedValue { $0.append(p.offset) } }
            }
        }
        await client.flush()
        #expect(offsets.withLockedValue { $0 }.sorted() == Array(0 ..< 20))
        let back = try await Self.readRecords(client, topic)
        #expect(back.count == 20)
        for (i, r) in back.enumerated() {
            #expect(r.keyBytes == Array("key-\(i)".utf8))
            #expect(r.valueBytes == Array("value-\(i)".utf8))
            #expect(r.headers == [RecordHeader(key: "n", value: Array("\(i)".utf8)), RecordHeader(key: "null", value: nil)])
            #expect(r.timestamp == 1_700_000_000_000 + Int64(i))
        }
        await client.close()
    }

    @Test(arguments: [CompressionCodec.none, .gzip, .snappy, .lz4, .zstd])
    func batchProduceKeepsOrder(_ codec: CompressionCodec) async throws {
        let client = try Self.client { $0.compression = [codec] }
        let topic = "kgo-produce-\(codec)-\(UInt32.random(in: 0 ... .max))"
        try await Self.createTopic(client, topic, partitions: 1)
        let records = (0 ..< 2000).map { KafkaRecord(topic: topic, partition: 0, value: Array("r\($0)".utf8)) }
        let results = await client.produceAndWait(records)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        let offsets = results.compactMap { try? $0.get().offset }
        #expect(offsets == Array(0 ..< 2000))
        #expect(try await Self.readBack(client, topic) == (0 ..< 2000).map { "r\($0)" })
        await client.close()
    }

    @Test func manualFlushingHoldsRecordsUntilFlush() async throws {
        let client = try Self.client { $0.manualFlushing = true }
        let topic = "kgo-produce-manual-\(UInt32.random(in: 0 ... .max))"
        try await Self.createTopic(client, topic, partitions: 1)
        let done = NIOLockedValueBox(0)
        for i in 0 ..< 10 {
            await client.produce(KafkaRecord(topic: topic, partition: 0, value: Array("m\(i)".utf8))) { r in
                if case .success = r { done.withLockedValue { $0 += 1 } }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(done.withLockedValue { $0 } == 0)
        await client.flush()
        #expect(done.withLockedValue { $0 } == 10)
        #expect(client.bufferedRecords == 0)
        await client.close()
    }

    @Test func badInputIsATypedError() async throws {
        var config = TestEnvironment.configuration([try TestEnvironment.broker()])
        config.producer.acks = .leader
        #expect(throws: KafkaConfigurationError.producer(.idempotenceNeedsAcksAll(.leader))) { try KafkaClient(configuration: config) }
        config.producer = ProducerConfiguration()
        config.producer.linger = .milliseconds(-1)
        #expect(throws: KafkaConfigurationError.self) { try KafkaClient(configuration: config) }
        let client = try Self.client()
        await #expect(throws: ProduceError.emptyTopic) { try await client.produce(KafkaRecord(topic: "", value: [1])) }
        await #expect(throws: ProduceError.negativePartition(-2)) { try await client.produce(KafkaRecord(topic: "t", partition: -2, value: [1])) }
        await client.close()
    }
}
