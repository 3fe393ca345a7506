@testable import FakeCluster
import Testing

/// KIP-848 online migration through the wire on an emulated 4.0: a classic member's group
/// upgraded by a ConsumerGroupHeartbeat, the member rejoining into the consumer group and
/// syncing the coordinator's assignment, and the downgrade when the KIP-848 member leaves.
@Suite struct GroupMigrationWireTests {
    func join(_ member: String, owned: [Int32]?) -> JoinGroupRequest {
        var j = JoinGroupRequest()
        j.groupId = "g"
        j.memberId = member
        j.sessionTimeoutMs = 10_000
        j.rebalanceTimeoutMs = 5_000
        j.protocolType = "consumer"
        var p = JoinGroupRequest.JoinGroupRequestProtocol()
        p.name = "range"
        p.metadata = MigrationHarness.subscription(owned: owned)
        j.protocols = [p]
        return j
    }

    func sync(_ member: String, gen: Int32, assign: [(String, [Int32])] = []) -> SyncGroupRequest {
        var s = SyncGroupRequest()
        s.groupId = "g"
        s.generationId = gen
        s.memberId = member
        s.protocolType = "consumer"
        s.protocolName = "range"
        s.assignments = assign.map {
            var a = SyncGroupRequest.SyncGroupRequestAssignment()
            a.memberId = $0.0
            a.assignment = MigrationHarness.assignment($0.1)
            return a
        }
        return s
    }

    func heartbeat(_ member: String, gen: Int32) -> HeartbeatRequest {
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = member
        hb.generationId = gen
        return hb
    }

    func groupType(_ c: inout WireClient, _ cluster: inout FakeCluster, at t: Int64) throws -> String? {
        try c.call(ListGroupsRequest(), version: 5, on: &cluster, now: ms(t)).groups.first { $0.groupId == "g" }?.groupType
    }

    @Test func upgradeRejoinSyncAndDowngrade() throws {
        var cluster = ConsumerGroupWireTests.cluster()
        let coordinator = cluster.coordinator("g", .group)!
        var c = WireClient(&cluster, broker: coordinator)
        // A classic member alone, owning t-0..3 at generation 1.
        let id = try c.call(join("", owned: nil), version: 9, on: &cluster).memberId
        let j = try c.call(join(id, owned: nil), version: 9, on: &cluster)
        try #require(j.errorCode == 0 && j.generationId == 1 && j.leader == id)
        #expect(try c.call(sync(id, gen: 1, assign: [(id, [0, 1, 2, 3])]), version: 5, on: &cluster).errorCode == 0)
        #expect(try groupType(&c, &cluster, at: 0) == "classic")

        // A KIP-848 member joins: the group is upgraded; the new member waits for t-2, t-3.
        let m1 = try c.call(ConsumerGroupWireTests.join("m1"), version: 1, on: &cluster, now: ms(10))
        #expect(m1.errorCode == 0 && m1.memberEpoch == 2 && m1.assignment?.topicPartitions.flatMap(\.partitions) == [])
        #expect(try groupType(&c, &cluster, at: 10) == "consumer")

        // The classic member is told to rejoin; its eager rejoin gives up t-2, t-3 at once.
        #expect(try c.call(heartbeat(id, gen: 1), version: 4, on: &cluster, now: ms(20)).errorCode == KafkaErrorCode.rebalanceInProgress.rawValue)
        let rejoin = try c.call(join(id, owned: nil), version: 9, on: &cluster, now: ms(20))
        #expect(rejoin.errorCode == 0 && rejoin.generationId == 2 && rejoin.leader == "" && rejoin.members.isEmpty)
        #expect(rejoin.protocolType == "consumer" && rejoin.protocolName == "range")
        // Its SyncGroup (leader's assignments or not) gets the coordinator's assignment.
        let s = try c.call(sync(id, gen: 2, assign: [(id, [0, 1, 2, 3])]), version: 5, on: &cluster, now: ms(21))
        #expect(s.errorCode == 0 && s.protocolName == "range")
        #expect(ConsumerProtocolBytes.assignment(s.assignment) == [TopicPartition("t", 0), TopicPartition("t", 1)])
        #expect(try c.call(heartbeat(id, gen: 2), version: 4, on: &cluster, now: ms(22)).errorCode == 0)

        var hb = ConsumerGroupWireTests.join("m1")
        hb.memberEpoch = 2
        hb.rebalanceTimeoutMs = -1
        hb.subscribedTopicNames = nil
        let got = try c.call(hb, version: 1, on: &cluster, now: ms(30))
        #expect(got.errorCode == 0 && got.assignment?.topicPartitions.flatMap(\.partitions) == [2, 3])

        // The KIP-848 member leaves: only the classic member is left, the group is classic
        // again (generation 2) and rebalances.
        hb.memberEpoch = -1
        hb.topicPartitions = nil
        #expect(try c.call(hb, version: 1, on: &cluster, now: ms(40)).errorCode == 0)
        #expect(try groupType(&c, &cluster, at: 40) == "classic")
        #expect(try c.call(heartbeat(id, gen: 2), version: 4, on: &cluster, now: ms(41)).errorCode == KafkaErrorCode.rebalanceInProgress.rawValue)
        let back = try c.call(join(id, owned: nil), version: 9, on: &cluster, now: ms(42))
        #expect(back.errorCode == 0 && back.generationId == 3 && back.leader == id)
    }
}
