import Testing
@testable import FakeCluster

/// Commit validation corners and offsets retention (offsets.retention.minutes, KIP-211).
@Suite struct GroupOffsetRetentionTests {
    typealias O = GroupCoordinator.OffsetToCommit

    func coordinator() -> GroupHarness {
        var h = GroupHarness()
        h.c.config.offsetsRetentionMs = 60_000
        h.c.config.offsetsRetentionCheckIntervalMs = 1_000
        return h
    }

    @Test func generationMinusOneCommitsAreAcceptedByAnEmptyGroupWhateverTheMemberId() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        _ = h.sync(a, gen: 1, assignments: [])
        _ = h.c.leaveGroup(groupId: "g", members: [.init(memberId: a)], now: ms(1))
        #expect(h.group.state == .empty)
        #expect(h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "admin", groupInstanceId: nil,
                                  [O(topicPartition: tp("t", 0), offset: 3)], now: ms(2)) == [.noError])
        // ... but a generation names a member, which an empty group does not have.
        #expect(h.c.commitOffsets(groupId: "g", generationId: 2, memberId: a, groupInstanceId: nil,
                                  [O(topicPartition: tp("t", 0), offset: 3)], now: ms(2)) == [.unknownMemberId])
    }

    @Test func offsetsOfAnEmptyGroupExpireRetentionAfterItEmptied() {
        var h = coordinator()
        let (a, _) = h.stablePair()
        _ = h.c.commitOffsets(groupId: "g", generationId: 2, memberId: a, groupInstanceId: nil,
                              [O(topicPartition: tp("t", 0), offset: 9)], now: .zero)
        let members = h.group.orderedMembers.map { GroupCoordinator.LeavingMember(memberId: $0.memberId) }
        _ = h.c.leaveGroup(groupId: "g", members: members, now: ms(5_000))
        #expect(h.group.state == .empty)
        h.tick(ms(64_000))
        #expect(h.c.fetchOffsets(groupId: "g", partitions: [tp("t", 0)], requireStable: false).first?.offset == 9)
        h.tick(ms(65_000))
        #expect(h.c.groups["g"] == nil)   // no offsets, no members: the group is gone (Kafka: Dead)
        #expect(h.c.fetchOffsets(groupId: "g", partitions: [tp("t", 0)], requireStable: false).first?.offset == -1)
    }

    @Test func simpleGroupOffsetsExpireEachRetentionAfterItsCommit() {
        var h = coordinator()
        _ = h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                              [O(topicPartition: tp("t", 0), offset: 1)], now: .zero)
        _ = h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                              [O(topicPartition: tp("t", 1), offset: 2)], now: ms(30_000))
        h.tick(ms(60_000))
        #expect(h.group.offsets.keys.sorted() == [tp("t", 1)])
        h.tick(ms(90_000))
        #expect(h.c.groups["g"] == nil)
    }

    @Test func stableConsumerGroupExpiresOnlyTopicsNobodySubscribes() {
        var h = coordinator()
        let (a, b) = h.stablePair()   // both subscribe to "t"
        _ = h.c.commitOffsets(groupId: "g", generationId: 2, memberId: a, groupInstanceId: nil,
                              [O(topicPartition: tp("t", 0), offset: 1), O(topicPartition: tp("u", 0), offset: 2)], now: .zero)
        for t: Int64 in stride(from: 5_000, through: 60_000, by: 5_000) {
            _ = h.c.heartbeat(groupId: "g", memberId: a, groupInstanceId: nil, generationId: 2, now: ms(t))
            _ = h.c.heartbeat(groupId: "g", memberId: b, groupInstanceId: nil, generationId: 2, now: ms(t))
            h.tick(ms(t))
        }
        #expect(h.group.state == .stable)
        #expect(h.group.offsets.keys.sorted() == [tp("t", 0)])
    }

    @Test func pendingTransactionalOffsetsKeepTheirPartitionAndV2RetentionIsExplicit() {
        var h = coordinator()
        _ = h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                              [O(topicPartition: tp("t", 0), offset: 1), O(topicPartition: tp("t", 1), offset: 1)], now: .zero)
        _ = h.c.commitTransactionalOffsets(groupId: "g", producerId: 5, [O(topicPartition: tp("t", 0), offset: 2)], now: ms(1))
        _ = h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                              [O(topicPartition: tp("u", 0), offset: 1)], retentionMs: 5_000, now: .zero)
        h.tick(ms(5_000))
        #expect(h.group.offsets[tp("u", 0)] == nil)      // its own retention_time_ms
        h.tick(ms(60_000))
        #expect(h.group.offsets.keys.sorted() == [tp("t", 0)])
        #expect(h.c.fetchOffsets(groupId: "g", partitions: [tp("t", 0)], requireStable: true).first?.error == .unstableOffsetCommit)
    }

    @Test func cleanupRunsOnlyAtTheCheckInterval() {
        var h = GroupHarness()
        h.c.config.offsetsRetentionMs = 1_000
        _ = h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                              [O(topicPartition: tp("t", 0), offset: 1)], now: .zero)
        #expect(h.c.nextDeadline == ms(600_000))   // Kafka's default offsets.retention.check.interval.ms
        h.tick(ms(599_999))
        #expect(h.c.groups["g"] != nil)
        h.tick(ms(600_000))
        #expect(h.c.groups["g"] == nil && h.c.nextDeadline == nil)
    }
}
