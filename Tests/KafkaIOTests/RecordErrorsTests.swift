import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KIP-467 end to end against FakeCluster's TCP listener, whose `rejectRecords` makes the
/// broker refuse chosen records by index: the user sees exactly those records fail, with the
/// broker's message, and every other record of their batch is written, in order.
@Suite struct RecordErrorsTests {
    @Test func onlyTheRecordsTheBrokerNamesFail() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "r", partitions: 1)]))
        defer { try? server.shutdown() }
        let tp = TopicPartition("r", 0)
        try await server.withCluster { cluster, _ in
            cluster.rejectRecords(tp, values: [Array("bad".utf8)], message: "bad values are refused")
            return ((), [])
        }.get()
        var c = ConsumerCancellationTests.configuration(server)
        // One batch for all ten records.
        c.producer.linger = .milliseconds(50)
        let client = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        let values = (0 ..< 10).map { $0 % 3 == 1 ? "bad" : "good-\($0)" }
        let sent = await client.produceAndWait(values.map { KafkaRecord(topic: "r", partition: 0, value: Array($0.utf8)) })
        for (v, r) in zip(values, sent) {
            switch r {
            case .success:
                #expect(v != "bad", "a refused record was acknowledged")
            case .failure(let e):
                #expect(v == "bad", "\(v) failed: \(e)")
                #expect(e == .broker(.invalidRecord, message: "bad values are refused"), "\(e)")
            }
        }
        client.assign([tp: .start])
        let good = values.filter { $0 != "bad" }
        let got = await ConsumerTests.pollRecords(client, good.count)
        await client.close()
        #expect(got.map { String(decoding: $0.value ?? [], as: UTF8.self) } == good)
        #expect(got.map(\.offset) == (0 ..< Int64(good.count)).map { $0 })
    }
}
