@testable import FakeCluster
import Testing

/// The control API seen through the wire: what a client observes after leader moves,
/// broker stops, coordinator moves; held JoinGroups keep per-connection order; fetch
/// sessions send only what changed.
@Suite struct ControlWireTests {
    @Test func movedLeaderRedirectsProducersWithTheNewEpoch() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let before = cluster.partitionInfo(.init("t", 0))!
        var c = WireClient(&cluster, broker: before.leader)
        _ = try c.call(produceRequest("t", 0, makeBatch()), version: 10, on: &cluster)
        _ = cluster.moveLeader(.init("t", 0), now: .milliseconds(1))
        let after = cluster.partitionInfo(.init("t", 0))!
        #expect(after.leader != before.leader && after.epoch == before.epoch + 1)
        let r = try c.call(produceRequest("t", 0, makeBatch()), version: 10, on: &cluster)
        let p = r.responses[0].partitionResponses[0]
        #expect(p.errorCode == KafkaErrorCode.notLeaderOrFollower.rawValue)
        #expect(p.currentLeader.leaderId == after.leader && p.currentLeader.leaderEpoch == after.epoch)
        // Fetching with the old epoch is fenced (KIP-320).
        var f = fetchRequest("t", 0, offset: 0, maxWaitMs: 0)
        f.topics[0].partitions[0].currentLeaderEpoch = before.epoch
        var n = WireClient(&cluster, broker: after.leader)
        let fr = try n.call(f, version: 12, on: &cluster)
        #expect(fr.responses[0].partitions[0].errorCode == KafkaErrorCode.fencedLeaderEpoch.rawValue)
    }

    @Test func stoppedBrokerResetsItsConnectionsAndLeavesMetadata() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 3)] }
        var on2 = WireClient(&cluster, broker: 2)
        var on1 = WireClient(&cluster, broker: 1)
        let out = cluster.stopBroker(2, now: .milliseconds(5))
        #expect(on2.closed(out) && !on1.closed(out))
        #expect(!cluster.isReachable(broker: 2))
        var all = MetadataRequest()
        all.topics = nil
        let md = try on1.call(all, version: 12, on: &cluster, now: .milliseconds(6))
        #expect(md.brokers.map(\.nodeId) == [1, 3])
        try #require(md.topics.count == 1)
        #expect(md.topics[0].partitions.count == 3 && md.topics[0].partitions.allSatisfy { $0.leaderId != 2 })
        _ = cluster.restartBroker(2, now: .milliseconds(7))
        #expect(try on1.call(MetadataRequest(), version: 12, on: &cluster, now: .milliseconds(8)).brokers.count == 3)
        _ = on2.nextCorrelation
    }

    @Test func heldJoinGroupHoldsTheNextResponseOnItsConnection() throws {
        var cluster = threeBrokers()
        let coord = cluster.coordinator("g", .group)!
        var a = WireClient(&cluster, broker: coord)
        var b = WireClient(&cluster, broker: coord)
        func join(_ member: String) -> JoinGroupRequest {
            var j = JoinGroupRequest()
            j.groupId = "g"
            j.memberId = member
            j.sessionTimeoutMs = 10_000
            j.rebalanceTimeoutMs = 5_000
            j.protocolType = "consumer"
            var p = JoinGroupRequest.JoinGroupRequestProtocol()
            p.name = "range"
            j.protocols = [p]
            return j
        }
        // A joins alone (KIP-394: first a member id, then the real join) and becomes stable-ish.
        let idA = try a.call(join(""), version: 4, on: &cluster).memberId
        let ja = try a.call(join(idA), version: 4, on: &cluster)
        #expect(ja.errorCode == 0 && ja.leader == idA)
        // B joins: a rebalance starts, B's join is held until A rejoins (or the rebalance times out).
        let idB = try b.call(join(""), version: 4, on: &cluster, now: .milliseconds(10)).memberId
        #expect(b.send(join(idB), version: 4, to: &cluster, now: .milliseconds(11)).isEmpty)
        // A heartbeat on B's connection waits behind the held JoinGroup.
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = idB
        hb.generationId = ja.generationId
        #expect(b.send(hb, version: 2, to: &cluster, now: .milliseconds(12)).isEmpty)
        // A rejoins: both joins complete; B's join then its heartbeat answer leave in order.
        let out = a.send(join(idA), version: 4, to: &cluster, now: .milliseconds(13))
        let toB = b.sent(out)
        try #require(toB.count == 2)
        let jb = try b.decode(JoinGroupResponse.self, version: 4, toB[0])
        #expect(jb.errorCode == 0 && jb.generationId == ja.generationId + 1)
        #expect(try b.decode(HeartbeatResponse.self, version: 2, toB[1]).errorCode != 0) // old generation
        #expect(a.sent(out).count == 1)
    }

    @Test func incrementalFetchSessionSendsOnlyChangedPartitions() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 2, replicationFactor: 1)] }
        try #require(cluster.createTopic("s", partitions: 2, assignments: [[1], [1]]) == .noError)
        var c = WireClient(&cluster, broker: 1)
        var f = fetchRequest("s", 0, offset: 0, maxWaitMs: 0)
        var p1 = f.topics[0].partitions[0]
        p1.partition = 1
        f.topics[0].partitions.append(p1)
        f.sessionId = 0
        f.sessionEpoch = 0
        let full = try c.call(f, version: 11, on: &cluster)
        #expect(full.sessionId != 0 && full.responses[0].partitions.count == 2)
        _ = try c.call(produceRequest("s", 1, makeBatch()), version: 9, on: &cluster)
        var inc = FetchRequest()
        inc.replicaId = -1
        inc.maxBytes = 1 << 20
        inc.sessionId = full.sessionId
        inc.sessionEpoch = 1
        let r = try c.call(inc, version: 11, on: &cluster)
        #expect(r.sessionId == full.sessionId)
        #expect(r.responses.flatMap { $0.partitions.map(\.partitionIndex) } == [1])
        #expect(r.responses[0].partitions[0].highWatermark == 1)
    }
}
