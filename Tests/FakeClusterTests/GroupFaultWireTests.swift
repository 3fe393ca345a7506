@testable import FakeCluster
import Testing

/// Group faults and coordinator failover through the wire, as a client sees them.
@Suite struct GroupFaultWireTests {
    func joinRequest(_ member: String, instance: String? = nil, session: Int32 = 10_000) -> JoinGroupRequest {
        var j = JoinGroupRequest()
        j.groupId = "g"
        j.memberId = member
        j.groupInstanceId = instance
        j.sessionTimeoutMs = session
        j.rebalanceTimeoutMs = 5_000
        j.protocolType = "consumer"
        var p = JoinGroupRequest.JoinGroupRequestProtocol()
        p.name = "range"
        p.metadata = GroupHarness.subscription(["t"])
        j.protocols = [p]
        return j
    }

    func heartbeat(_ member: String, gen: Int32) -> HeartbeatRequest {
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = member
        hb.generationId = gen
        return hb
    }

    /// One dynamic member, stable at generation 1 with assignment [1, 2].
    func stableAlone(_ cluster: inout FakeCluster, _ c: inout WireClient, at t: Int64 = 0) throws -> String {
        let id = try c.call(joinRequest(""), version: 9, on: &cluster, now: ms(t)).memberId
        let j = try c.call(joinRequest(id), version: 9, on: &cluster, now: ms(t))
        try #require(j.errorCode == 0 && j.leader == id)
        var s = SyncGroupRequest()
        s.groupId = "g"
        s.generationId = j.generationId
        s.memberId = id
        var a = SyncGroupRequest.SyncGroupRequestAssignment()
        a.memberId = id
        a.assignment = [1, 2]
        s.assignments = [a]
        try #require(try c.call(s, version: 5, on: &cluster, now: ms(t)).errorCode == 0)
        return id
    }

    @Test func describeGroupShowsStateMembersAndOffsets() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 2)] }
        var c = WireClient(&cluster, broker: cluster.coordinator("g", .group)!)
        let id = try stableAlone(&cluster, &c)
        var commit = OffsetCommitRequest()
        commit.groupId = "g"
        commit.generationIdOrMemberEpoch = 1
        commit.memberId = id
        var t = OffsetCommitRequest.OffsetCommitRequestTopic()
        t.name = "t"
        var p = OffsetCommitRequest.OffsetCommitRequestPartition()
        p.partitionIndex = 1
        p.committedOffset = 42
        t.partitions = [p]
        commit.topics = [t]
        #expect(try c.call(commit, version: 8, on: &cluster, now: ms(1)).topics[0].partitions[0].errorCode == 0)
        let d = try #require(cluster.describeGroup("g"))
        #expect(d.state == "Stable" && d.generationId == 1 && d.protocolName == "range" && d.leaderId == id)
        #expect(d.members.map(\.memberId) == [id] && d.members[0].assignment == [1, 2])
        #expect(d.members[0].metadata == GroupHarness.subscription(["t"]))
        #expect(d.offsets == [.init(topicPartition: .init("t", 1), offset: 42, leaderEpoch: -1, metadata: "")])
        #expect(cluster.describeGroup("nope") == nil)
    }

    @Test func coordinatorMoveKeepsMembersWithFreshSessions() throws {
        var cluster = threeBrokers()
        let home = cluster.coordinator("g", .group)!
        var c = WireClient(&cluster, broker: home)
        let id = try stableAlone(&cluster, &c)
        let other: Int32 = home == 1 ? 2 : 1
        _ = cluster.moveCoordinator("g", .group, to: other, now: ms(8_000))
        #expect(try c.call(heartbeat(id, gen: 1), version: 4, on: &cluster, now: ms(8_001)).errorCode
            == KafkaErrorCode.notCoordinator.rawValue)
        // The original session would end at 10 s; the new coordinator restarted it at 8 s.
        _ = cluster.tick(now: ms(12_000))
        #expect(cluster.describeGroup("g")?.members.map(\.memberId) == [id])
        var n = WireClient(&cluster, broker: other)
        #expect(try n.call(heartbeat(id, gen: 1), version: 4, on: &cluster, now: ms(17_000)).errorCode == 0)
        #expect(cluster.describeGroup("g")?.state == "Stable")
        #expect(cluster.describeGroup("g")?.members.first?.assignment == [1, 2])
        _ = cluster.tick(now: ms(27_000))   // silent for a session: gone
        #expect(cluster.describeGroup("g")?.state == "Empty")
    }

    @Test func stalledHeartbeatsArriveLateAfterTheSessionEnded() throws {
        var cluster = threeBrokers()
        var c = WireClient(&cluster, broker: cluster.coordinator("g", .group)!)
        let id = try stableAlone(&cluster, &c)
        cluster.stallHeartbeats("g", until: ms(20_000))
        #expect(c.send(heartbeat(id, gen: 1), version: 4, to: &cluster, now: ms(5_000)).isEmpty)
        #expect(cluster.nextDeadline == ms(10_000))
        _ = cluster.tick(now: ms(10_000))
        #expect(cluster.describeGroup("g")?.state == "Empty")
        let out = cluster.tick(now: ms(20_000))
        let sent = c.sent(out)
        try #require(sent.count == 1)
        #expect(try c.decode(HeartbeatResponse.self, version: 4, sent[0]).errorCode == KafkaErrorCode.unknownMemberId.rawValue)
        // The window is over: heartbeats are answered at once again.
        #expect(try c.call(heartbeat(id, gen: 1), version: 4, on: &cluster, now: ms(20_001)).errorCode
            == KafkaErrorCode.unknownMemberId.rawValue)
    }

    @Test func droppedHeartbeatsCloseTheirConnectionAndStallsPickTheirMember() throws {
        var cluster = threeBrokers()
        let coord = cluster.coordinator("g", .group)!
        var a = WireClient(&cluster, broker: coord)
        var b = WireClient(&cluster, broker: coord)
        let idA = try a.call(joinRequest("", instance: "ia"), version: 9, on: &cluster).memberId
        let jb = b.send(joinRequest("", instance: "ib"), version: 9, to: &cluster, now: ms(1))
        #expect(jb.isEmpty)  // a rebalance: waits for A
        let ja = try a.call(joinRequest(idA, instance: "ia"), version: 9, on: &cluster, now: ms(2))
        #expect(ja.generationId == 2)
        cluster.stallHeartbeats("g", .instanceId("ib"), until: ms(3_000), drop: true)
        var hbB = heartbeat("", gen: 2)
        hbB.groupInstanceId = "ib"
        let idB = try #require(cluster.describeGroup("g")?.members.first { $0.groupInstanceId == "ib" }?.memberId)
        hbB.memberId = idB
        #expect(b.send(hbB, version: 4, to: &cluster, now: ms(100)).isEmpty)  // held
        var hbA = heartbeat(idA, gen: 2)
        hbA.groupInstanceId = "ia"
        #expect(try a.call(hbA, version: 4, on: &cluster, now: ms(100)).errorCode == 0)
        let out = cluster.tick(now: ms(3_000))
        #expect(b.closed(out) && !a.closed(out))
    }

    @Test func disconnectingAMemberClosesOnlyItsConnection() throws {
        var cluster = threeBrokers()
        let coord = cluster.coordinator("g", .group)!
        var a = WireClient(&cluster, broker: coord)
        var other = WireClient(&cluster, broker: coord)
        let id = try stableAlone(&cluster, &a)
        _ = try other.call(MetadataRequest(), version: 12, on: &cluster)
        let out = cluster.disconnectGroupMembers("g", .leader, now: ms(1))
        #expect(a.closed(out) && !other.closed(out))
        // The coordinator keeps the member until its session ends.
        #expect(cluster.describeGroup("g")?.members.map(\.memberId) == [id])
        #expect(cluster.disconnectGroupMembers("g", .memberId("nobody"), now: ms(2)).isEmpty)
    }

    @Test func pushedGroupErrorsReachEveryGroupApi() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let coord = cluster.coordinator("g", .group)!
        var c = WireClient(&cluster, broker: coord)
        let id = try stableAlone(&cluster, &c)
        cluster.pushGroupError("g", .heartbeat, .rebalanceInProgress)
        cluster.pushGroupError("other", .heartbeat, .notCoordinator)
        #expect(try c.call(heartbeat(id, gen: 1), version: 4, on: &cluster).errorCode == KafkaErrorCode.rebalanceInProgress.rawValue)
        #expect(try c.call(heartbeat(id, gen: 1), version: 4, on: &cluster).errorCode == 0)

        cluster.pushGroupError("g", .offsetCommit, .coordinatorLoadInProgress)
        var commit = OffsetCommitRequest()
        commit.groupId = "g"
        commit.generationIdOrMemberEpoch = 1
        commit.memberId = id
        var t = OffsetCommitRequest.OffsetCommitRequestTopic()
        t.name = "t"
        var p = OffsetCommitRequest.OffsetCommitRequestPartition()
        p.committedOffset = 5
        t.partitions = [p]
        commit.topics = [t]
        #expect(try c.call(commit, version: 8, on: &cluster).topics[0].partitions[0].errorCode
            == KafkaErrorCode.coordinatorLoadInProgress.rawValue)

        var fetch = OffsetFetchRequest()
        fetch.groupId = "g"
        var ft = OffsetFetchRequest.OffsetFetchRequestTopic()
        ft.name = "t"
        ft.partitionIndexes = [0]
        fetch.topics = [ft]
        cluster.pushGroupError("g", .offsetFetch, .groupAuthorizationFailed, count: 2)
        #expect(try c.call(fetch, version: 5, on: &cluster).errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)
        let v1 = try c.call(fetch, version: 1, on: &cluster)   // v0-v1: on each partition
        #expect(v1.topics.first?.partitions.first?.errorCode == KafkaErrorCode.groupAuthorizationFailed.rawValue)
        #expect(try c.call(fetch, version: 5, on: &cluster).errorCode == 0)

        cluster.pushGroupError("g", .joinGroup, .notCoordinator)
        #expect(try c.call(joinRequest(id), version: 9, on: &cluster).errorCode == KafkaErrorCode.notCoordinator.rawValue)
        cluster.pushGroupError("g", .syncGroup, .rebalanceInProgress)
        var s = SyncGroupRequest()
        s.groupId = "g"
        s.generationId = 1
        s.memberId = id
        #expect(try c.call(s, version: 5, on: &cluster).errorCode == KafkaErrorCode.rebalanceInProgress.rawValue)
        // The generic per-API push now covers OffsetCommit and OffsetFetch too.
        cluster.pushError(.offsetFetch, .coordinatorLoadInProgress)
        #expect(try c.call(fetch, version: 7, on: &cluster).errorCode == KafkaErrorCode.coordinatorLoadInProgress.rawValue)
    }

    @Test func offsetFetchV1CarriesCoordinatorErrorsOnEachPartition() throws {
        var cluster = threeBrokers()
        let coord = cluster.coordinator("g", .group)!
        var wrong = WireClient(&cluster, broker: coord == 1 ? 2 : 1)
        var fetch = OffsetFetchRequest()
        fetch.groupId = "g"
        var ft = OffsetFetchRequest.OffsetFetchRequestTopic()
        ft.name = "t"
        ft.partitionIndexes = [0, 1]
        fetch.topics = [ft]
        let r = try wrong.call(fetch, version: 1, on: &cluster)
        #expect(r.topics.first?.partitions.map(\.errorCode) == [KafkaErrorCode.notCoordinator.rawValue, KafkaErrorCode.notCoordinator.rawValue])
    }

    @Test func offsetsRetentionThroughTheClusterConfig() throws {
        var cluster = threeBrokers {
            $0.topics = [.init(name: "t", partitions: 1)]
            $0.offsetsRetentionMs = 10_000
            $0.offsetsRetentionCheckIntervalMs = 1_000
        }
        var c = WireClient(&cluster, broker: cluster.coordinator("g", .group)!)
        var commit = OffsetCommitRequest()
        commit.groupId = "g"
        var t = OffsetCommitRequest.OffsetCommitRequestTopic()
        t.name = "t"
        var p = OffsetCommitRequest.OffsetCommitRequestPartition()
        p.committedOffset = 5
        t.partitions = [p]
        commit.topics = [t]
        _ = try c.call(commit, version: 8, on: &cluster)
        #expect(cluster.describeGroup("g")?.offsets.count == 1)
        _ = cluster.tick(now: ms(10_000))
        #expect(cluster.describeGroup("g") == nil)
    }
}
