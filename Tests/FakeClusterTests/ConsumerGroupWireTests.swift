@testable import FakeCluster
import Testing

/// KIP-848 through the wire: what 4.0 advertises, ConsumerGroupHeartbeat v0/v1 and
/// ConsumerGroupDescribe on the coordinator, NOT_COORDINATOR elsewhere, ListGroups v5
/// types, OffsetCommit v9 with the member epoch, a coordinator move.
@Suite("KIP-848 on the wire")
struct ConsumerGroupWireTests {
    static func cluster(_ release: KafkaRelease = .v4_0) -> FakeCluster {
        threeBrokers {
            $0.release = release
            $0.topics = [.init(name: "t", partitions: 4)]
        }
    }

    static func join(_ member: String, topics: [String] = ["t"]) -> ConsumerGroupHeartbeatRequest {
        var r = ConsumerGroupHeartbeatRequest()
        r.groupId = "g"
        r.memberId = member
        r.memberEpoch = 0
        r.rebalanceTimeoutMs = 30_000
        r.subscribedTopicNames = topics
        r.topicPartitions = []
        return r
    }

    @Test func onlyFourZeroAdvertisesTheApis() throws {
        for (release, expected) in [(KafkaRelease.v4_0, true), (.latest, false), (KafkaRelease(3, 7), false), (KafkaRelease(3, 8), false)] {
            var cluster = Self.cluster(release)
            var c = WireClient(&cluster, broker: 1)
            let r = try c.call(ApiVersionsRequest(), version: 3, on: &cluster)
            let byKey = Dictionary(uniqueKeysWithValues: r.apiKeys.map { ($0.apiKey, $0.minVersion ... $0.maxVersion) })
            if expected {
                #expect(byKey[68] == 0 ... 1)
                #expect(byKey[69] == 0 ... 0) // the codec has v0 only (Kafka 4.0's JSON snapshot)
            } else {
                #expect(byKey[68] == nil && byKey[69] == nil, "\(release)")
            }
        }
        // Sent anyway to a 3.9 broker: UNSUPPORTED_VERSION in the answer.
        var old = Self.cluster(.latest)
        let coordinator = old.coordinator("g", .group)!
        var c = WireClient(&old, broker: coordinator)
        let refused = try c.call(Self.join("m1"), version: 1, on: &old)
        #expect(refused.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
    }

    @Test func heartbeatAndDescribeOnTheCoordinator() throws {
        var cluster = Self.cluster()
        let coordinator = cluster.coordinator("g", .group)!
        let other = [1, 2, 3].first { $0 != coordinator }!
        var elsewhere = WireClient(&cluster, broker: other)
        #expect(try elsewhere.call(Self.join("m1"), version: 1, on: &cluster).errorCode == KafkaErrorCode.notCoordinator.rawValue)

        var c = WireClient(&cluster, broker: coordinator)
        let topicId = cluster.state.metadata.topic("t")!.id
        let r = try c.call(Self.join("m1"), version: 1, on: &cluster)
        #expect(r.errorCode == 0 && r.errorMessage == nil && r.memberId == "m1" && r.memberEpoch == 1 && r.heartbeatIntervalMs == 5_000)
        #expect(r.assignment?.topicPartitions.map(\.topicId) == [topicId])
        #expect(r.assignment?.topicPartitions.first?.partitions == [0, 1, 2, 3])

        // v0: the coordinator makes the member id up.
        let v0 = try c.call(Self.join(""), version: 0, on: &cluster, now: .milliseconds(10))
        #expect(v0.errorCode == 0 && (v0.memberId ?? "").utf8.count == 22 && v0.memberEpoch == 2)
        #expect(v0.assignment?.topicPartitions.isEmpty == true) // m1 must revoke first

        // m1 heartbeats with what it owns: told to keep two.
        var hb = ConsumerGroupHeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = "m1"
        hb.memberEpoch = 1
        var owned = ConsumerGroupHeartbeatRequest.TopicPartitions()
        owned.topicId = topicId
        owned.partitions = [0, 1, 2, 3]
        hb.topicPartitions = [owned]
        let keep = try c.call(hb, version: 1, on: &cluster, now: .milliseconds(20))
        #expect(keep.memberEpoch == 1 && keep.assignment?.topicPartitions.first?.partitions == [0, 1])
        // An error carries a message.
        hb.memberEpoch = 7
        let fenced = try c.call(hb, version: 1, on: &cluster, now: .milliseconds(30))
        #expect(fenced.errorCode == KafkaErrorCode.fencedMemberEpoch.rawValue && fenced.errorMessage != nil)

        var d = ConsumerGroupDescribeRequest()
        d.groupIds = ["g", "nope"]
        let desc = try c.call(d, version: 0, on: &cluster, now: .milliseconds(40))
        let g = desc.groups[0]
        #expect(g.errorCode == 0 && g.groupState == "Reconciling" && g.groupEpoch == 2 && g.assignmentEpoch == 2 && g.assignorName == "uniform")
        #expect(g.members.map(\.memberId) == ["m1", v0.memberId!] && g.members.map(\.memberEpoch) == [1, 2])
        #expect(g.members[0].subscribedTopicNames == ["t"] && g.members[0].clientId == "wire-test")
        #expect(g.members[0].assignment.topicPartitions.first?.topicName == "t")
        #expect(g.members[0].assignment.topicPartitions.first?.partitions == [0, 1])
        #expect(g.members[1].targetAssignment.topicPartitions.first?.partitions == [2, 3])
        let nope: KafkaErrorCode = cluster.coordinator("nope", .group) == coordinator ? .groupIdNotFound : .notCoordinator
        #expect(desc.groups[1].errorCode == nope.rawValue)

        // ListGroups v5 names the type and filters by it; DescribeGroups shows the group too.
        var lg = ListGroupsRequest()
        lg.typesFilter = ["consumer"]
        let listed = try c.call(lg, version: 5, on: &cluster, now: .milliseconds(50))
        #expect(listed.groups.map(\.groupId) == ["g"] && listed.groups.first?.groupType == "consumer")
        lg.typesFilter = ["classic"]
        #expect(try c.call(lg, version: 5, on: &cluster, now: .milliseconds(50)).groups.isEmpty)
        var dg = DescribeGroupsRequest()
        dg.groups = ["g"]
        let described = try c.call(dg, version: 5, on: &cluster, now: .milliseconds(50))
        #expect(described.groups.first?.protocolType == "consumer" && described.groups.first?.members.count == 2)
    }

    @Test func offsetCommitV9WithTheMemberEpoch() throws {
        var cluster = Self.cluster()
        let coordinator = cluster.coordinator("g", .group)!
        var c = WireClient(&cluster, broker: coordinator)
        _ = try c.call(Self.join("m1"), version: 1, on: &cluster)
        func commit(epoch: Int32, version: Int16) throws -> Int16 {
            var r = OffsetCommitRequest()
            r.groupId = "g"
            r.memberId = "m1"
            r.generationIdOrMemberEpoch = epoch
            var t = OffsetCommitRequest.OffsetCommitRequestTopic()
            t.name = "t"
            var p = OffsetCommitRequest.OffsetCommitRequestPartition()
            p.partitionIndex = 0
            p.committedOffset = 17
            t.partitions = [p]
            r.topics = [t]
            return try c.call(r, version: version, on: &cluster).topics[0].partitions[0].errorCode
        }
        #expect(try commit(epoch: 1, version: 9) == 0)
        #expect(try commit(epoch: 2, version: 9) == KafkaErrorCode.staleMemberEpoch.rawValue)
        #expect(try commit(epoch: 1, version: 8) == KafkaErrorCode.unsupportedVersion.rawValue)
        // v9 to a group that does not exist, with an epoch: GROUP_ID_NOT_FOUND (v8: ILLEGAL_GENERATION).
        var other = OffsetCommitRequest()
        other.groupId = "none"
        other.memberId = "x"
        other.generationIdOrMemberEpoch = 3
        var ot = OffsetCommitRequest.OffsetCommitRequestTopic()
        ot.name = "t"
        var op = OffsetCommitRequest.OffsetCommitRequestPartition()
        op.partitionIndex = 0
        ot.partitions = [op]
        other.topics = [ot]
        var o = WireClient(&cluster, broker: cluster.coordinator("none", .group)!)
        #expect(try o.call(other, version: 9, on: &cluster).topics[0].partitions[0].errorCode == KafkaErrorCode.groupIdNotFound.rawValue)
        #expect(try o.call(other, version: 8, on: &cluster).topics[0].partitions[0].errorCode == KafkaErrorCode.illegalGeneration.rawValue)
        var f = OffsetFetchRequest()
        var fg = OffsetFetchRequest.OffsetFetchRequestGroup()
        fg.groupId = "g"
        fg.memberId = "m1"
        fg.memberEpoch = 1
        fg.topics = nil
        f.groups = [fg]
        let fetched = try c.call(f, version: 9, on: &cluster)
        #expect(fetched.groups.first?.topics.first?.partitions.first?.committedOffset == 17)
        f.groups[0].memberEpoch = 5
        #expect(try c.call(f, version: 9, on: &cluster).groups.first?.errorCode == KafkaErrorCode.staleMemberEpoch.rawValue)
    }

    @Test func coordinatorMoveKeepsTheConsumerGroup() throws {
        var cluster = Self.cluster()
        let first = cluster.coordinator("g", .group)!
        var c = WireClient(&cluster, broker: first)
        let r = try c.call(Self.join("m1"), version: 1, on: &cluster)
        let next = first == 3 ? 1 : first + 1
        _ = cluster.moveCoordinator("g", .group, to: next, now: .milliseconds(100))
        var hb = ConsumerGroupHeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = "m1"
        hb.memberEpoch = r.memberEpoch
        #expect(try c.call(hb, version: 1, on: &cluster, now: .milliseconds(200)).errorCode == KafkaErrorCode.notCoordinator.rawValue)
        var n = WireClient(&cluster, broker: next)
        let again = try n.call(hb, version: 1, on: &cluster, now: .milliseconds(300))
        #expect(again.errorCode == 0 && again.memberEpoch == 1)
        #expect(cluster.describeConsumerGroup("g")?.members.first?.assigned.count == 4)
        // The session timeout runs on virtual time through tick.
        _ = cluster.tick(now: .milliseconds(300 + 45_000))
        #expect(cluster.describeConsumerGroup("g")?.members.isEmpty == true)
        #expect(cluster.describeConsumerGroup("g")?.state == "Empty")
    }

    @Test func pushedErrorsAndAStoppedCoordinator() throws {
        var cluster = Self.cluster()
        let first = cluster.coordinator("g", .group)!
        var c = WireClient(&cluster, broker: first)
        _ = try c.call(Self.join("m1"), version: 1, on: &cluster)
        cluster.pushGroupError("g", ConsumerGroupHeartbeatRequest.apiKey, .coordinatorLoadInProgress)
        var hb = ConsumerGroupHeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = "m1"
        hb.memberEpoch = 1
        #expect(try c.call(hb, version: 1, on: &cluster).errorCode == KafkaErrorCode.coordinatorLoadInProgress.rawValue)
        #expect(try c.call(hb, version: 1, on: &cluster).errorCode == 0)
        // The coordinator's broker stops: another takes the group over with its state.
        _ = cluster.stopBroker(first, now: .milliseconds(1_000))
        let heir = cluster.coordinator("g", .group)!
        #expect(heir != first)
        var n = WireClient(&cluster, broker: heir)
        let r = try n.call(hb, version: 1, on: &cluster, now: .milliseconds(2_000))
        #expect(r.errorCode == 0 && r.memberEpoch == 1)
        #expect(cluster.describeConsumerGroup("g")?.members.first?.assigned.count == 4)
    }

    @Test func stalledHeartbeatsLetTheSessionExpire() throws {
        var cluster = Self.cluster()
        var c = WireClient(&cluster, broker: cluster.coordinator("g", .group)!)
        _ = try c.call(Self.join("m1"), version: 1, on: &cluster)
        cluster.stallHeartbeats("g", .memberId("m1"), until: .milliseconds(50_000))
        var hb = ConsumerGroupHeartbeatRequest()
        hb.groupId = "g"
        hb.memberId = "m1"
        hb.memberEpoch = 1
        #expect(c.sent(c.send(hb, version: 1, to: &cluster, now: .milliseconds(10_000))).isEmpty)
        #expect(c.sent(cluster.tick(now: .milliseconds(45_000))).isEmpty) // the session ends meanwhile
        #expect(cluster.describeConsumerGroup("g")?.members.isEmpty == true)
        let late = c.sent(cluster.tick(now: .milliseconds(50_000)))
        try #require(late.count == 1)
        let r = try c.decode(ConsumerGroupHeartbeatResponse.self, version: 1, late[0])
        #expect(r.errorCode == KafkaErrorCode.unknownMemberId.rawValue)
    }

    @Test func sessionTimeoutAndIntervalAreConfigurable() throws {
        var cluster = threeBrokers {
            $0.release = .v4_0
            $0.topics = [.init(name: "t", partitions: 1)]
            $0.consumerGroupSessionTimeoutMs = 3_000
            $0.consumerGroupHeartbeatIntervalMs = 700
        }
        var c = WireClient(&cluster, broker: cluster.coordinator("g", .group)!)
        #expect(try c.call(Self.join("m1"), version: 1, on: &cluster).heartbeatIntervalMs == 700)
        #expect(cluster.nextDeadline == .milliseconds(3_000))
        _ = cluster.tick(now: .milliseconds(3_000))
        #expect(cluster.describeConsumerGroup("g")?.members.isEmpty == true)
    }
}
