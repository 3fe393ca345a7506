import KafkaIO
import KafkaProtocol
import Testing

/// The group consumer against Tansu (KGO_TEST_BROKER): members split a topic, commits carry
/// over to the next member, configuration errors are typed. Tansu completes a JoinGroup
/// only after half the session timeout, so these use a 6 s session.
@Suite struct GroupConsumerTests {
    static func group(_ id: String, _ topic: String, _ configure: (inout GroupConfiguration) -> Void = { _ in }) throws -> KafkaGroupConsumer {
        var c = TestEnvironment.configuration([try TestEnvironment.broker()])
        c.consumer.maxWait = .milliseconds(100)
        var g = GroupConfiguration(groupId: id, topics: [topic])
        g.sessionTimeout = .seconds(6)
        g.heartbeatInterval = .milliseconds(500)
        g.rebalanceTimeout = .seconds(10)
        configure(&g)
        return try KafkaGroupConsumer(configuration: c, group: g, logger: TestEnvironment.logger)
    }

    /// Polls into `sink` until `stop()` says so or 30 s pass.
    static func consume(_ m: KafkaGroupConsumer, into sink: Collected, until stop: @escaping @Sendable () async -> Bool) async {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(30) {
            if await stop() { return }
            let poll = await m.poll(timeout: .milliseconds(200))
            if poll.closed { return }
            await sink.add(poll.records.map { "\($0.topic)/\($0.partition)/\($0.offset)" })
        }
    }

    actor Collected {
        var seen: [String: Int] = [:]
        var total = 0
        func add(_ keys: [String]) {
            for k in keys { seen[k, default: 0] += 1 }
            total += keys.count
        }
    }

    actor Events {
        var list: [String] = []
        func add(_ e: GroupConsumerEvent) { list.append("\(e)") }
        func assigned() -> Bool { list.contains { $0.hasPrefix("assigned") } }
    }

    static func watch(_ m: KafkaGroupConsumer, into events: Events) -> Task<Void, Never> {
        Task { for await e in m.events { await events.add(e) } }
    }

    static func produce(_ client: KafkaClient, _ topic: String, partitions: Int32, from: Int, count: Int) async throws {
        for p in 0 ..< partitions {
            let recs = (from ..< from + count).map { EncodableRecord(value: Array("v\($0)".utf8), timestamp: 0) }
            var pd = ProduceRequest.PartitionProduceData()
            pd.index = p
            pd.records = try RecordBatchEncoder.encode(recs, options: RecordBatchOptions(), contexts: CompressionContexts())
            var td = ProduceRequest.TopicProduceData()
            td.name = topic
            td.partitionData = [pd]
            var r = ProduceRequest()
            r.acks = -1
            r.timeoutMs = 5000
            r.topicData = [td]
            _ = try await client.request(r)
        }
    }

    /// A consumes alone, B joins: the partitions split (cooperative-sticky moves only B's
    /// share, committed on revoke), records produced after the split reach both, and no
    /// record is read twice.
    @Test func twoMembersSplitATopicAndEachRecordIsReadOnce() async throws {
        let admin = try ConsumerTests.client()
        let topic = try await ConsumerTests.topic(admin, partitions: 4, count: 50)
        let id = "g-\(UInt32.random(in: 0 ... .max))"
        let a = try Self.group(id, topic)
        let b = try Self.group(id, topic)
        let ea = Events(), eb = Events()
        let wa = Self.watch(a, into: ea), wb = Self.watch(b, into: eb)
        let sinkA = Collected(), sinkB = Collected()
        let runA = Task { try await a.run() }
        let done = Done()
        let consumeA = Task { await Self.consume(a, into: sinkA) { await done.value } }
        // A takes everything and reads it; then B joins and takes a share.
        let clock = ContinuousClock()
        var start = clock.now
        while await sinkA.total < 200 && clock.now - start < .seconds(20) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(await sinkA.total == 200)
        let runB = Task { try await b.run() }
        let consumeB = Task { await Self.consume(b, into: sinkB) { await done.value } }
        start = clock.now
        while !(await eb.assigned()) && clock.now - start < .seconds(20) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(await eb.assigned())
        try await Self.produce(admin, topic, partitions: 4, from: 50, count: 25)
        start = clock.now
        while await sinkA.total + sinkB.total < 300 && clock.now - start < .seconds(20) { try await Task.sleep(for: .milliseconds(100)) }
        await done.set()
        _ = await (consumeA.value, consumeB.value)
        var seen = await sinkA.seen
        for (k, n) in await sinkB.seen { seen[k, default: 0] += n }
        #expect(seen.count == 300)
        #expect(seen.values.allSatisfy { $0 == 1 }, "read twice: \(seen.filter { $0.value > 1 }.keys.sorted().prefix(5))")
        let (totalA, totalB) = (await sinkA.total, await sinkB.total)
        #expect(totalB > 0 && totalA > 200, "B read \(totalB), A \(totalA)")
        await a.leave()
        await b.leave()
        try await runA.value
        try await runB.value
        _ = await (wa.value, wb.value)
        let eventsA = await ea.list
        #expect(eventsA.contains { $0.hasPrefix("revoked") }, "\(eventsA)")
        await admin.close()
    }

    actor Done {
        var value = false
        func set() { value = true }
    }

    @Test func aCommittedOffsetIsWhereTheNextMemberStarts() async throws {
        let admin = try ConsumerTests.client()
        let topic = try await ConsumerTests.topic(admin, partitions: 1, count: 30)
        let id = "g-\(UInt32.random(in: 0 ... .max))"
        let first = try Self.group(id, topic) { $0.autocommitInterval = nil; $0.commitOnRevoke = false }
        let run1 = Task { try await first.run() }
        let got = Collected()
        await Self.consume(first, into: got) { await got.total >= 30 }
        #expect(await got.total == 30)
        let committed = try await first.commit([TopicPartition(topic, 0): CommitPosition(offset: 20)])
        _ = committed
        await first.leave()
        try await run1.value

        let second = try Self.group(id, topic)
        let run2 = Task { try await second.run() }
        let again = Collected()
        await Self.consume(second, into: again) { await again.total >= 10 }
        let keys = await again.seen.keys.sorted()
        #expect(keys == (20 ..< 30).map { "\(topic)/0/\($0)" }.sorted())
        await second.leave()
        try await run2.value
        await admin.close()
    }

    @Test func badGroupSettingsAreTypedErrors() throws {
        var c = TestEnvironment.configuration([try TestEnvironment.broker()])
        c.consumer.maxWait = .milliseconds(100)
        var g = GroupConfiguration(groupId: "", topics: ["t"])
        #expect(throws: KafkaConfigurationError.self) { try KafkaGroupConsumer(configuration: c, group: g) }
        g = GroupConfiguration(groupId: "g", topics: [])
        #expect(throws: KafkaConfigurationError.self) { try KafkaGroupConsumer(configuration: c, group: g) }
        g = GroupConfiguration(groupId: "g", topics: ["t"])
        g.heartbeatInterval = .seconds(60)
        #expect(throws: KafkaConfigurationError.self) { try KafkaGroupConsumer(configuration: c, group: g) }
        g = GroupConfiguration(groupId: "g", topics: [], )
        g.patterns = ["("]
        #expect(throws: KafkaConfigurationError.self) { try KafkaGroupConsumer(configuration: c, group: g) }
    }
}
