import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's log dir calls against a three-broker FakeClusterTCP with two log dirs per
/// broker: every broker asked for its own dirs (replica sizes and lag), replicas moved
/// between a broker's dirs, bad moves refused per item beside the one made.
@Suite struct AdminLogDirsTests {
    static let topic = "dirs"

    static func server() throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: (1 ... 3).map { .init(nodeId: $0, port: 0) },
                                       topics: [.init(name: topic, partitions: 2, replicationFactor: 2)])
        config.logDirs = ["/data/a", "/data/b"]
        return try FakeClusterServer.start(config)
    }

    @Test func logDirsDescribedAndReplicasMoved() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let p0 = TopicPartition(Self.topic, 0), p1 = TopicPartition(Self.topic, 1)
        _ = try await admin.client.produce(KafkaRecord(topic: Self.topic, partition: 0, value: Array("hello".utf8)))
        let d = try #require(try await admin.describeTopics([Self.topic])[0].value)
        let q0 = d.partitions[0], q1 = d.partitions[1]
        let leader = try #require(q0.leader)

        let described = try await admin.describeLogDirs([p0, p1])
        #expect(described.map(\.name) == ["broker 1", "broker 2", "broker 3"] && described.allSatisfy { $0.error == nil })
        // Every replica in the first dir, on the brokers that hold it; p0's carry the record.
        for (i, r) in described.enumerated() {
            let dirs = try #require(r.value)
            #expect(dirs.map(\.path) == ["/data/a", "/data/b"] && dirs[1].replicas.isEmpty)
            let held = [q0, q1].filter { $0.replicas.contains(Int32(i + 1)) }.map { TopicPartition(Self.topic, $0.partition) }
            #expect(dirs[0].replicas.map(\.topicPartition) == held)
            for rep in dirs[0].replicas { #expect((rep.sizeBytes > 0) == (rep.topicPartition == p0) && rep.offsetLag == 0) }
        }

        let outsider = try #require([Int32(1), 2, 3].first { !q1.replicas.contains($0) })
        let moved = try await admin.alterReplicaLogDirs([
            TopicPartitionReplica(p0, broker: leader): "/data/b",
            TopicPartitionReplica(p1, broker: outsider): "/data/b",
            TopicPartitionReplica(p1, broker: q1.replicas[0]): "/nope",
            TopicPartitionReplica(TopicPartition("nope", 0), broker: 1): "/data/a",
            TopicPartitionReplica(p0, broker: -1): "/data/a",
            TopicPartitionReplica(p0, broker: q0.replicas.first { $0 != leader }!): "",
        ])
        let byName = Dictionary(uniqueKeysWithValues: moved.map { ($0.name, $0.error.map { "\($0)" } ?? "ok") })
        #expect(moved.count == 6)
        #expect(byName["\(p0) on broker \(leader)"] == "ok")
        #expect(byName["\(p1) on broker \(outsider)"] == "REPLICA_NOT_AVAILABLE")
        #expect(byName["\(p1) on broker \(q1.replicas[0])"] == "LOG_DIR_NOT_FOUND")
        #expect(byName["nope[0] on broker 1"] == "UNKNOWN_TOPIC_OR_PARTITION")
        #expect(byName["\(p0) on broker -1"] == "\(p0) on broker -1: a broker id is not negative")
        #expect(byName.values.filter { $0.hasSuffix("empty log dir path") }.count == 1)

        let after = try await admin.describeLogDirs([p0])
        let leaderDirs = try #require(after[Int(leader) - 1].value)
        #expect(leaderDirs[0].replicas.isEmpty && leaderDirs[1].replicas.map(\.topicPartition) == [p0] && leaderDirs[1].replicas[0].sizeBytes > 0)
    }
}
