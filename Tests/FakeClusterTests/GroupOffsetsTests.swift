import Testing
@testable import FakeCluster

@Suite struct GroupOffsetsTests {
    typealias O = GroupCoordinator.OffsetToCommit

    @Test func simpleCommitCreatesGroupAndFetchReturnsIt() {
        var c = GroupCoordinator()
        let errs = c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                                   [O(topicPartition: tp("t", 0), offset: 42, leaderEpoch: 3, metadata: "m")], now: ms(5))
        #expect(errs == [.noError])
        #expect(c.groups["g"]?.state == .empty)
        #expect(c.fetchOffsets(groupId: "g", partitions: [tp("t", 0), tp("t", 1)], requireStable: false) == [
            .init(topicPartition: tp("t", 0), offset: 42, leaderEpoch: 3, metadata: "m", error: .noError),
            .init(topicPartition: tp("t", 1), offset: -1, leaderEpoch: -1, metadata: "", error: .noError),
        ])
        #expect(c.fetchOffsets(groupId: "g", partitions: nil, requireStable: false).map(\.offset) == [42])
        #expect(c.groups["g"]?.offsets[tp("t", 0)]?.commitTimestamp == 5)
    }

    @Test func commitToUnknownGroupWithGenerationIsIllegal() {
        var c = GroupCoordinator()
        #expect(c.commitOffsets(groupId: "g", generationId: 1, memberId: "m", groupInstanceId: nil,
                                [O(topicPartition: tp("t", 0), offset: 1)], now: .zero) == [.illegalGeneration])
        #expect(c.groups["g"] == nil)
    }

    @Test func memberCommitChecks() {
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        let o = [O(topicPartition: tp("t", 0), offset: 7)]
        #expect(h.c.commitOffsets(groupId: "g", generationId: 2, memberId: a, groupInstanceId: nil, o, now: .zero) == [.noError])
        #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: a, groupInstanceId: nil, o, now: .zero) == [.illegalGeneration])
        #expect(h.c.commitOffsets(groupId: "g", generationId: 2, memberId: "zz", groupInstanceId: nil, o, now: .zero) == [.unknownMemberId])
        // A simple commit while the group has members is rejected.
        #expect(h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil, o, now: .zero) == [.unknownMemberId])
        // During PreparingRebalance a current member may still commit.
        _ = h.newMember()
        #expect(h.group.state == .preparingRebalance)
        #expect(h.c.commitOffsets(groupId: "g", generationId: 2, memberId: a, groupInstanceId: nil, o, now: .zero) == [.noError])
        let big = String(repeating: "x", count: 5000)
        #expect(h.c.commitOffsets(groupId: "g", generationId: 2, memberId: b, groupInstanceId: nil,
                                  [O(topicPartition: tp("t", 1), offset: 1, metadata: big)], now: .zero) == [.offsetMetadataTooLarge])
    }

    @Test func commitDuringCompletingRebalanceIsRebalanceInProgress() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: a, groupInstanceId: nil,
                                  [O(topicPartition: tp("t", 0), offset: 1)], now: .zero) == [.rebalanceInProgress])
    }

    @Test func transactionalOffsetsAreUnstableUntilCommitted() {
        var c = GroupCoordinator()
        _ = c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                            [O(topicPartition: tp("t", 0), offset: 10)], now: .zero)
        #expect(c.commitTransactionalOffsets(groupId: "g", producerId: 9, [O(topicPartition: tp("t", 0), offset: 20)], now: .zero) == [.noError])
        #expect(c.fetchOffsets(groupId: "g", partitions: [tp("t", 0)], requireStable: true).first?.error == .unstableOffsetCommit)
        #expect(c.fetchOffsets(groupId: "g", partitions: [tp("t", 0)], requireStable: false).first?.offset == 10)
        c.completeTransaction(groupId: "g", producerId: 9, commit: true)
        #expect(c.fetchOffsets(groupId: "g", partitions: [tp("t", 0)], requireStable: true).first?.offset == 20)
    }

    @Test func abortedTransactionalOffsetsAreDropped() {
        var c = GroupCoordinator()
        _ = c.commitTransactionalOffsets(groupId: "g", producerId: 9, [O(topicPartition: tp("t", 0), offset: 20)], now: .zero)
        c.completeTransaction(groupId: "g", producerId: 9, commit: false)
        #expect(c.fetchOffsets(groupId: "g", partitions: [tp("t", 0)], requireStable: true).first
            == .init(topicPartition: tp("t", 0), offset: -1, leaderEpoch: -1, metadata: "", error: .noError))
    }

    @Test func transactionalCommitWithMemberIsValidated() {
        var h = GroupHarness()
        let (a, _) = h.stablePair()
        let o = [O(topicPartition: tp("t", 0), offset: 1)]
        #expect(h.c.commitTransactionalOffsets(groupId: "g", producerId: 1, generationId: 1, memberId: a, o, now: .zero) == [.illegalGeneration])
        #expect(h.c.commitTransactionalOffsets(groupId: "g", producerId: 1, generationId: 2, memberId: a, o, now: .zero) == [.noError])
    }

    @Test func offsetDeleteRespectsSubscriptions() {
        var h = GroupHarness()
        _ = h.stablePair() // subscribed to "t"
        _ = h.c.commitTransactionalOffsets(groupId: "g", producerId: 1, [], now: .zero)
        h.c.groups["g"]!.offsets[tp("t", 0)] = .init(offset: 1)
        h.c.groups["g"]!.offsets[tp("u", 0)] = .init(offset: 1)
        #expect(h.c.deleteOffsets(groupId: "g", [tp("t", 0), tp("u", 0)]) == .partitions([.groupSubscribedToTopic, .noError]))
        #expect(h.c.groups["g"]!.offsets.keys.sorted() == [tp("t", 0)])
        #expect(h.c.deleteOffsets(groupId: "nope", [tp("t", 0)]) == .failure(.groupIdNotFound))
    }

    @Test func offsetDeleteOnEmptyGroupAndOtherProtocols() {
        var c = GroupCoordinator()
        _ = c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                            [O(topicPartition: tp("t", 0), offset: 1)], now: .zero)
        #expect(c.deleteOffsets(groupId: "g", [tp("t", 0)]) == .partitions([.noError]))
        var h = GroupHarness()
        _ = h.join(h.request(version: 3, type: "connect"))
        #expect(h.c.deleteOffsets(groupId: "g", [tp("t", 0)]) == .failure(.nonEmptyGroup))
    }

    @Test func subscriptionParsing() {
        #expect(ClassicGroup.subscribedTopics(GroupHarness.subscription(["a", "bb"])) == ["a", "bb"])
        #expect(ClassicGroup.subscribedTopics([0, 1, 0]) == nil)
    }

    @Test func describeListDelete() {
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        _ = h.c.commitOffsets(groupId: "empty", generationId: -1, memberId: "", groupInstanceId: nil,
                              [O(topicPartition: tp("t", 0), offset: 1)], now: .zero)
        let d = h.c.describeGroup("g")
        #expect(d.state == "Stable" && d.protocolType == "consumer" && d.protocolName == "range")
        #expect(d.members.map(\.memberId) == [a, b])
        #expect(d.members.map(\.assignment) == [[1], [2]])
        #expect(h.c.describeGroup("none").state == "Dead")
        #expect(h.c.listGroups() == [.init(groupId: "empty", protocolType: "", state: "Empty"),
                                     .init(groupId: "g", protocolType: "consumer", state: "Stable")])
        #expect(h.c.listGroups(states: ["stable"]).map(\.groupId) == ["g"])
        #expect(h.c.deleteGroups(["g", "empty", "none"]) == [.nonEmptyGroup, .noError, .groupIdNotFound])
        #expect(h.c.groups["empty"] == nil)
    }

    @Test func describeHidesMetadataUntilStable() {
        var h = GroupHarness()
        let (_, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        let d = h.c.describeGroup("g")
        #expect(d.state == "CompletingRebalance")
        #expect(d.members.first?.metadata == [])
    }

    @Test func deletingTopicDropsOffsets() {
        var c = GroupCoordinator()
        _ = c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                            [O(topicPartition: tp("t", 0), offset: 1), O(topicPartition: tp("u", 0), offset: 1)], now: .zero)
        c.removeOffsets(forTopic: "t")
        #expect(c.fetchOffsets(groupId: "g", partitions: nil, requireStable: false).map(\.topicPartition) == [tp("u", 0)])
    }
}
