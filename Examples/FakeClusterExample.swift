import FakeCluster
import FakeClusterTCP
import KafkaIO

/// Testing code that talks to Kafka without a broker: a three-broker FakeCluster on
/// loopback, a fault injected through its control API, and the client riding it out. The
/// same shape works in an XCTest or Swift Testing test.
enum FakeClusterExample {
    static func run() async throws {
        // Port 0: every broker binds a free port; Metadata advertises the bound ones.
        let server = try FakeClusterServer.start(FakeClusterConfig(
            brokers: FakeClusterConfig.brokers(3, firstPort: 0),
            topics: [.init(name: "orders", partitions: 3, replicationFactor: 3)]))
        defer { try? server.shutdown() }
        let seeds = server.brokers.map { BrokerAddress(host: $0.host, port: Int($0.port)) }
        let client = try KafkaClient(configuration: KafkaClientConfiguration(seedBrokers: seeds))

        // The next two Produce requests fail with NOT_LEADER_OR_FOLLOWER, and partition 0's
        // leadership moves: the client refreshes metadata and retries.
        try await server.withCluster { cluster, now in
            cluster.pushError(.produce, .notLeaderOrFollower, count: 2)
            return ((), cluster.moveLeader(TopicPartition("orders", 0), now: now))
        }.get()

        let produced = try await client.produce(KafkaRecord(topic: "orders", partition: 0, value: Array("paid".utf8)))
        let end = try await server.withCluster { cluster, _ in (cluster.offsets(TopicPartition("orders", 0))?.highWatermark, []) }.get()
        print("delivered to orders/\(produced.partition) at offset \(produced.offset) despite the faults; high watermark \(end ?? -1)")
        await client.close()
    }
}
