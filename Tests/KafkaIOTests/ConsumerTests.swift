import KafkaIO
import KafkaProtocol
import Testing

/// The direct consumer against Tansu (KGO_TEST_BROKER): poll, offsets, pause, the
/// AsyncSequence, and configuration errors. Fast: a few hundred records each.
@Suite struct ConsumerTests {
    static func client(_ configure: (inout KafkaClientConfiguration) -> Void = { _ in }) throws -> KafkaClient {
        var c = TestEnvironment.configuration([try TestEnvironment.broker()])
        c.consumer.maxWait = .milliseconds(100)
        configure(&c)
        return try KafkaClient(configuration: c, logger: TestEnvironment.logger)
    }

    /// A fresh topic with `partitions` partitions holding `count` records per partition
    /// ("p<partition>-<i>", with a header and timestamp 1_700_000_000_000 + i), `codec`-compressed.
    static func topic(_ client: KafkaClient, partitions: Int32 = 1, count: Int, codec: CompressionCodec = .none) async throws -> String {
        let topic = "consumer-\(UInt32.random(in: 0 ... .max))"
        var create = CreateTopicsRequest()
        var t = CreateTopicsRequest.CreatableTopic()
        t.name = topic
        t.numPartitions = partitions
        t.replicationFactor = 1
        create.topics = [t]
        let created = try await client.request(create)
        #expect(created.topics.map(\.errorCode) == [0])
        for p in 0 ..< partitions {
            var offset = 0
            while offset < count {
                let n = min(100, count - offset)
                let recs = (offset ..< offset + n).map { i in
                    EncodableRecord(key: Array("k\(i)".utf8), value: Array("p\(p)-\(i)".utf8),
                                    headers: [RecordHeader(key: "i", value: Array("\(i)".utf8))], timestamp: 1_700_000_000_000 + Int64(i))
                }
                let batch = try RecordBatchEncoder.encode(recs, options: RecordBatchOptions(codec: codec), contexts: CompressionContexts())
                var pd = ProduceRequest.PartitionProduceData()
                pd.index = p
                pd.records = batch
                var td = ProduceRequest.TopicProduceData()
                td.name = topic
                td.partitionData = [pd]
                var produce = ProduceRequest()
                produce.acks = -1
                produce.timeoutMs = 5000
                produce.topicData = [td]
                let r = try await client.request(produce)
                #expect(r.responses.first?.partitionResponses.first?.errorCode == 0)
                offset += n
            }
        }
        return topic
    }

    /// Polls until `want` records arrived (or 10 s passed).
    static func pollRecords(_ client: KafkaClient, _ want: Int) async -> [ConsumerRecord] {
        var got: [ConsumerRecord] = []
        let clock = ContinuousClock()
        let start = clock.now
        while got.count < want && clock.now - start < .seconds(10) {
            got += await client.poll(timeout: .milliseconds(200)).records
        }
        return got
    }

    @Test func pollReturnsEveryRecordOfEachPartitionInOrderWithHeadersAndTimestamps() async throws {
        let client = try Self.client()
        let topic = try await Self.topic(client, partitions: 2, count: 250, codec: .zstd)
        try client.consume(topics: [topic])
        let got = await Self.pollRecords(client, 500)
        await client.close()
        #expect(got.count == 500)
        for p: Int32 in 0 ... 1 {
            let mine = got.filter { $0.partition == p }
            #expect(mine.map(\.offset) == Array(0 ..< 250))
            #expect(mine.map { String(decoding: $0.value!, as: UTF8.self) } == (0 ..< 250).map { "p\(p)-\($0)" })
            #expect(mine.map(\.timestamp) == (0 ..< 250).map { 1_700_000_000_000 + Int64($0) })
            #expect(mine.last?.headers == [RecordHeader(key: "i", value: Array("249".utf8))])
        }
    }

    @Test func assignAtOffsetsRelativeAndEnd() async throws {
        let client = try Self.client()
        let topic = try await Self.topic(client, count: 50)
        client.assign([TopicPartition(topic, 0): .exact(40)])
        let exact = await Self.pollRecords(client, 10)
        #expect(exact.map(\.offset) == Array(40 ..< 50))
        client.seek(TopicPartition(topic, 0), to: .relativeToStart(45))
        let relative = await Self.pollRecords(client, 5)
        #expect(relative.map(\.offset) == Array(45 ..< 50))
        client.seek(TopicPartition(topic, 0), to: .afterTimestamp(1_700_000_000_000 + 48))
        // Tansu answers a timestamp lookup with the base offset of the batch holding it
        // (the 50 records are one batch), so only "from at most 48, through 49" is ours.
        let after = await Self.pollRecords(client, 2)
        #expect(after.suffix(2).map(\.offset) == [48, 49])
        #expect((after.first?.offset ?? 99) <= 48)
        await client.close()
    }

    @Test func pausedPartitionsHoldTheirRecordsUntilResumed() async throws {
        let client = try Self.client()
        let topic = try await Self.topic(client, partitions: 2, count: 20)
        let p1 = TopicPartition(topic, 1)
        client.pause([p1])
        try client.consume(topics: [topic])
        let first = await Self.pollRecords(client, 20)
        #expect(first.allSatisfy { $0.partition == 0 } && first.count == 20)
        #expect(await client.poll(timeout: .milliseconds(500)).records.isEmpty)
        client.resume([p1])
        let second = await Self.pollRecords(client, 20)
        #expect(second.map(\.partition) == Array(repeating: 1, count: 20))
        await client.close()
    }

    @Test func recordsSequenceEndsWhenTheClientCloses() async throws {
        let client = try Self.client { $0.consumer.maxBufferedBytes = 4096 }
        let topic = try await Self.topic(client, count: 300)
        client.assign([TopicPartition(topic, 0): .start])
        var n = 0
        for await r in client.records() {
            #expect(r.offset == Int64(n))
            n += 1
            if n == 300 { break }
        }
        #expect(n == 300)
        await client.close()
        #expect(await client.poll().closed)
    }

    @Test func badConsumerSettingsAndPatternsAreTypedErrors() throws {
        var c = KafkaClientConfiguration(seedBrokers: [BrokerAddress(host: "127.0.0.1", port: 1)])
        c.consumer.maxBytes = 0
        #expect(throws: KafkaConfigurationError.self) { try KafkaClient(configuration: c) }
        let ok = try KafkaClient(configuration: KafkaClientConfiguration(seedBrokers: [BrokerAddress(host: "127.0.0.1", port: 1)]))
        #expect(throws: KafkaConfigurationError.self) { try ok.consume(topics: [], patterns: ["(unclosed"]) }
    }
}
