import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's leader elections and partition reassignments against a three-broker
/// FakeClusterTCP: replicas moved (at once, and on the fake's clock with the old and new
/// sets listed meanwhile), preferred and unclean elections, and bad or conflicting items
/// refused alone.
@Suite struct AdminReassignmentTests {
    static let topic = "moves"

    static func server(reassignmentMs: Int64 = 0) throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: (1 ... 3).map { .init(nodeId: $0, port: 0) },
                                       topics: [.init(name: topic, partitions: 2, replicationFactor: 2)])
        config.reassignmentMs = reassignmentMs
        return try FakeClusterServer.start(config)
    }

    static func partition(_ admin: KafkaAdmin, _ index: Int32) async throws -> PartitionDescription {
        let d = try #require(try await admin.describeTopics([topic])[0].value)
        return try #require(d.partitions.first { $0.partition == index })
    }

    @Test func replicasMovedAndLeadersElected() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let p0 = TopicPartition(Self.topic, 0), p1 = TopicPartition(Self.topic, 1)
        let before = try await Self.partition(admin, 0)
        #expect(before.replicas.count == 2 && before.leader == before.replicas[0])
        let (a, b) = (before.replicas[0], before.replicas[1])
        let c = try #require([Int32(1), 2, 3].first { !before.replicas.contains($0) })

        let moved = try await admin.alterPartitionReassignments([
            p0: [c, a], p1: [9], TopicPartition(Self.topic, 5): [1],
            TopicPartition("x", 0): [], TopicPartition("y", 0): [1, 1],
        ])
        #expect(AdminTests.outcomes(moved) == [
            "\(p0): ok", "\(p1): INVALID_REPLICA_ASSIGNMENT: broker 9 is not in the cluster",
            "\(Self.topic)[5]: UNKNOWN_TOPIC_OR_PARTITION",
            "x[0]: x[0]: no replicas (nil cancels a reassignment)", "y[0]: y[0]: a broker named twice in [1, 1]",
        ])
        // Completed within the request (reassignmentMs 0): b is gone, the leader kept.
        let after = try await Self.partition(admin, 0)
        #expect(after.replicas == [c, a] && after.leader == a && !after.isr.contains(b))
        #expect(try await admin.listPartitionReassignments().isEmpty)
        #expect(AdminTests.outcomes(try await admin.alterPartitionReassignments([p0: nil])) == ["\(p0): NO_REASSIGNMENT_IN_PROGRESS"])

        // The preferred replica (c) takes over; p1 already has it; an unknown partition fails alone.
        let elected = try await admin.electLeaders(.preferred, [p0, p1, TopicPartition("nope", 0)])
        #expect(elected.map { $0.value.map { "\($0)" } ?? "\($0.error!)" } == ["elected", "notNeeded", "UNKNOWN_TOPIC_OR_PARTITION"])
        #expect(try await Self.partition(admin, 0).leader == c)
        #expect(try await admin.electLeaders(.unclean, [p0])[0].value == .notNeeded)

        // p1 loses its follower, then its leader: offline, the leader the last in-sync
        // replica. The follower back: only an unclean election makes it leader.
        let q = try await Self.partition(admin, 1)
        let leader = try #require(q.leader)
        let follower = try #require(q.replicas.first { $0 != leader })
        try await server.withCluster { cluster, now in
            ((), cluster.stopBroker(follower, now: now) + cluster.stopBroker(leader, now: now) + cluster.restartBroker(follower, now: now))
        }.get()
        #expect(try await Self.partition(admin, 1).leader == nil)
        let preferred = try await admin.electLeaders(.preferred, [p1])
        #expect(preferred[0].error.map { if case .broker(.preferredLeaderNotAvailable, _) = $0 { true } else { false } } == true)
        #expect(try await admin.electLeaders(.unclean, [p1])[0].value == .elected)
        let unclean = try await Self.partition(admin, 1)
        #expect(unclean.leader == follower && unclean.isr == [follower])
    }

    /// With a reassignment time the old and new sets stay together, listed as under way,
    /// until the fake's clock completes the move; a cancel puts the old set back.
    /// The move takes 15 s of the listener's wall clock: long enough that a loaded CI run
    /// still lists it before it completes (400 ms did not).
    @Test func aReassignmentUnderWayIsListedThenCompletes() async throws {
        let server = try Self.server(reassignmentMs: 15_000)
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let p0 = TopicPartition(Self.topic, 0), p1 = TopicPartition(Self.topic, 1)
        let before0 = try await Self.partition(admin, 0), before1 = try await Self.partition(admin, 1)
        let (a, b) = (before0.replicas[0], before0.replicas[1])
        let c = try #require([Int32(1), 2, 3].first { !before0.replicas.contains($0) })
        let c1 = try #require([Int32(1), 2, 3].first { !before1.replicas.contains($0) })

        #expect(AdminTests.outcomes(try await admin.alterPartitionReassignments([p0: [c, a], p1: [c1]])) == ["\(p0): ok", "\(p1): ok"])
        let listed = try await admin.listPartitionReassignments()
        #expect(listed == [
            PartitionReassignment(topicPartition: p0, replicas: [a, b, c], addingReplicas: [c], removingReplicas: [b]),
            PartitionReassignment(topicPartition: p1, replicas: before1.replicas + [c1], addingReplicas: [c1], removingReplicas: before1.replicas),
        ])
        #expect(try await admin.listPartitionReassignments([p1]).map(\.topicPartition) == [p1])
        #expect(AdminTests.outcomes(try await admin.alterPartitionReassignments([p1: nil])) == ["\(p1): ok"])
        #expect(try await Self.partition(admin, 1).replicas == before1.replicas)

        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while try await Self.partition(admin, 0).replicas != [c, a], clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await Self.partition(admin, 0).replicas == [c, a])
        #expect(try await admin.listPartitionReassignments().isEmpty)
    }
}
