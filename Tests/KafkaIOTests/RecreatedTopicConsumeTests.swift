import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// The consumer on a topic deleted and created again under its name, against FakeCluster's
/// TCP listener (Metadata v10+ gives topic IDs): once metadata shows the new topic ID, the
/// partition is read as a new topic's, from its start (the reset policy), not from the
/// position reached on the old one.
@Suite struct RecreatedTopicConsumeTests {
    static func values(_ names: [String]) -> [KafkaRecord] {
        names.map { KafkaRecord(topic: "rc", partition: 0, value: Array($0.utf8)) }
    }

    @Test func aRecreatedTopicIsReadFromItsStart() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "rc", partitions: 1)]))
        defer { try? server.shutdown() }
        let tp = TopicPartition("rc", 0)
        var c = ConsumerCancellationTests.configuration(server)
        c.metadataMinAge = .milliseconds(50)
        let producer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        let old = (0 ..< 6).map { "old-\($0)" }
        let wroteOld = await producer.produceAndWait(Self.values(old))
        #expect(wroteOld.allSatisfy { if case .success = $0 { true } else { false } })
        let consumer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        consumer.assign([tp: .start])
        let first = await ConsumerTests.pollRecords(consumer, old.count)
        #expect(first.map { String(decoding: $0.value ?? [], as: UTF8.self) } == old)

        let admin = KafkaAdmin(client: producer)
        #expect(try await admin.deleteTopics(["rc"]).allSatisfy { $0.error == nil })
        // The consumer's fetches now fail and its metadata shows no leader, so it cannot
        // fetch (by name) from the new topic before its metadata names the new topic ID.
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(1) { _ = await consumer.poll(timeout: .milliseconds(100)) }
        #expect(try await admin.createTopics([NewTopic("rc", partitions: 1)]).allSatisfy { $0.error == nil })
        // More records than the old position: read from there, the first six would be missed.
        let new = (0 ..< 10).map { "new-\($0)" }
        let wroteNew = await producer.produceAndWait(Self.values(new))
        #expect(wroteNew.allSatisfy { if case .success = $0 { true } else { false } }, "\(wroteNew.first ?? .failure(.clientClosed))")

        let second = await ConsumerTests.pollRecords(consumer, new.count)
        #expect(second.map { String(decoding: $0.value ?? [], as: UTF8.self) } == new)
        #expect(second.map(\.offset) == (0 ..< Int64(new.count)).map { $0 })
        await consumer.close()
        await producer.close()
    }
}
