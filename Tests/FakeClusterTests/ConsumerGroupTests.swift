import Testing
@testable import FakeCluster

/// Drives the KIP-848 side of a GroupCoordinator with a fixed topic image.
struct ConsumerHarness {
    var c: GroupCoordinator
    var rng = SeededGenerator(seed: 3)
    var image: TopicImage

    init(_ topics: [(String, Int32)], config: GroupCoordinator.Config = .init()) {
        c = GroupCoordinator(config: config)
        image = TopicImage(topics.enumerated().map { i, t in
            .init(name: t.0, id: KafkaUUID(high: 0xAB, low: UInt64(i + 1)), partitions: t.1)
        })
    }

    func id(_ topic: String) -> KafkaUUID { image.byName[topic]!.id }

    func tp(_ topic: String, _ p: Int32) -> TopicIdPartition { TopicIdPartition(topicId: id(topic), partition: p) }

    /// "t-0" style names, sorted, for readable expectations.
    func names<S: Sequence>(_ tps: S?) -> [String] where S.Element == TopicIdPartition {
        guard let tps else { return ["<nil>"] }
        return tps.map { "\(image.topic(id: $0.topicId)!.name)-\($0.partition)" }.sorted()
    }

    mutating func addTopic(_ name: String, partitions: Int32) {
        var all = image.names.map { image.byName[$0]! }
        all.append(.init(name: name, id: KafkaUUID(high: 0xAB, low: UInt64(all.count + 1)), partitions: partitions))
        image = TopicImage(all)
        c.consumerTopicsChanged(image: image)
    }

    @discardableResult
    mutating func heartbeat(_ member: String, epoch: Int32, topics: [String]? = nil, regex: String? = nil,
                            assignor: String? = nil, owned: [TopicIdPartition]? = nil, instance: String? = nil,
                            rebalance: Int32 = -1, at now: Instant = .zero, version: Int16 = 1,
                            group: String = "g") -> GroupCoordinator.ConsumerHeartbeatResponse {
        c.consumerGroupHeartbeat(.init(groupId: group, memberId: member, memberEpoch: epoch, instanceId: instance,
                                       rebalanceTimeoutMs: rebalance, subscribedTopicNames: topics, subscribedTopicRegex: regex,
                                       serverAssignor: assignor, ownedPartitions: owned, version: version),
                                 image: image, now: now, using: &rng)
    }

    @discardableResult
    mutating func join(_ member: String, _ topics: [String]? = ["t"], regex: String? = nil, assignor: String? = nil,
                       instance: String? = nil, rebalance: Int32 = 30_000, at now: Instant = .zero,
                       group: String = "g") -> GroupCoordinator.ConsumerHeartbeatResponse {
        heartbeat(member, epoch: 0, topics: topics, regex: regex, assignor: assignor, owned: [], instance: instance,
                  rebalance: rebalance, at: now, group: group)
    }

    mutating func tick(_ now: Instant) { c.tickConsumerGroups(image: image, now: now) }

    var group: ConsumerGroup { c.consumerGroups["g"]! }

    /// No partition held (assigned or revoking) by two members.
    func exclusive(_ groupId: String = "g") -> Bool {
        guard let g = c.consumerGroups[groupId] else { return true }
        var seen: Set<TopicIdPartition> = []
        for m in g.orderedMembers {
            for tp in m.assigned.union(m.pendingRevocation) {
                if !seen.insert(tp).inserted { return false }
            }
        }
        return true
    }
}

@Suite("KIP-848 consumer group coordinator")
struct ConsumerGroupTests {
    @Test func oneMemberGetsEveryPartition() {
        var h = ConsumerHarness([("t", 4)])
        let r = h.join("a")
        #expect(r.error == .noError && r.memberId == "a" && r.memberEpoch == 1)
        #expect(r.heartbeatIntervalMs == 5_000)
        #expect(h.names(r.assignment) == ["t-0", "t-1", "t-2", "t-3"])
        #expect(h.group.state == .stable && h.group.groupEpoch == 1)
        // A steady heartbeat without owned partitions: same epoch, no assignment sent.
        let again = h.heartbeat("a", epoch: 1, at: .milliseconds(5_000))
        #expect(again.error == .noError && again.memberEpoch == 1 && again.assignment == nil)
    }

    @Test func secondMemberWaitsForRevocation() {
        var h = ConsumerHarness([("t", 4)])
        let a0 = h.join("a")
        let all = a0.assignment!
        let b1 = h.join("b", at: .milliseconds(100))
        // b is at the new epoch but gets nothing yet: a still holds everything.
        #expect(b1.memberEpoch == 2 && h.names(b1.assignment) == [])
        #expect(h.group.state == .reconciling && h.exclusive())
        // a is asked to revoke t-2, t-3 and stays at epoch 1.
        let a1 = h.heartbeat("a", epoch: 1, owned: all, at: .milliseconds(200))
        #expect(a1.memberEpoch == 1 && h.names(a1.assignment) == ["t-0", "t-1"])
        #expect(h.names(h.group.member("a")!.pendingRevocation) == ["t-2", "t-3"])
        // b still waits: nothing released yet.
        let b2 = h.heartbeat("b", epoch: 2, owned: [], at: .milliseconds(300))
        #expect(h.names(b2.assignment) == [] && h.exclusive())
        // a heartbeats again still owning them: no progress.
        let a2 = h.heartbeat("a", epoch: 1, owned: all, at: .milliseconds(400))
        #expect(a2.memberEpoch == 1 && h.group.member("a")!.pendingRevocation.count == 2)
        // a acknowledges: epoch 2.
        let a3 = h.heartbeat("a", epoch: 1, owned: [h.tp("t", 0), h.tp("t", 1)], at: .milliseconds(500))
        #expect(a3.memberEpoch == 2 && h.names(a3.assignment) == ["t-0", "t-1"])
        let b3 = h.heartbeat("b", epoch: 2, owned: [], at: .milliseconds(600))
        #expect(b3.memberEpoch == 2 && h.names(b3.assignment) == ["t-2", "t-3"])
        #expect(h.group.state == .stable && h.exclusive())
    }

    /// a{t-0,t-1}, b{t-2,t-3}, both stable at epoch 2.
    static func stableTwo(_ h: inout ConsumerHarness, bInstance: String? = nil) {
        let all = h.join("a").assignment!
        h.join("b", instance: bInstance)
        h.heartbeat("a", epoch: 1, owned: all)
        h.heartbeat("a", epoch: 1, owned: [h.tp("t", 0), h.tp("t", 1)])
        h.heartbeat("b", epoch: 2, owned: [])
    }

    @Test func leavingMovesPartitions() {
        var h = ConsumerHarness([("t", 4)])
        Self.stableTwo(&h)
        #expect(h.group.state == .stable)
        let left = h.heartbeat("b", epoch: -1, at: .milliseconds(10))
        #expect(left.error == .noError && left.memberEpoch == -1)
        #expect(h.group.member("b") == nil && h.group.groupEpoch == 3)
        let a = h.heartbeat("a", epoch: 2, owned: [h.tp("t", 0), h.tp("t", 1)], at: .milliseconds(20))
        #expect(a.memberEpoch == 3 && h.names(a.assignment) == ["t-0", "t-1", "t-2", "t-3"])
        // A leave of an unknown member.
        #expect(h.heartbeat("zz", epoch: -1).error == .unknownMemberId)
    }

    @Test func staticMemberLeavesAndRejoinsKeepingItsAssignment() {
        var h = ConsumerHarness([("t", 4)])
        Self.stableTwo(&h, bInstance: "i1")
        let epoch = h.group.groupEpoch
        // A new process with the same instance id while b is active: refused.
        #expect(h.join("b2", instance: "i1").error == .unreleasedInstanceId)
        let left = h.heartbeat("b", epoch: -2, instance: "i1", at: .milliseconds(1_000))
        #expect(left.error == .noError && left.memberEpoch == -2)
        // b keeps t-2, t-3: no rebalance, a gets nothing more.
        #expect(h.group.groupEpoch == epoch && h.names(h.group.member("b")!.assigned) == ["t-2", "t-3"])
        let a = h.heartbeat("a", epoch: epoch, owned: [h.tp("t", 0), h.tp("t", 1)], at: .milliseconds(2_000))
        #expect(a.memberEpoch == epoch && h.names(h.group.member("a")!.assigned) == ["t-0", "t-1"])
        // The instance comes back under a new member id and takes the assignment over.
        let back = h.join("b2", instance: "i1", at: .milliseconds(3_000))
        #expect(back.error == .noError && back.memberEpoch == epoch && h.names(back.assignment) == ["t-2", "t-3"])
        #expect(h.group.member("b") == nil && h.group.groupEpoch == epoch && h.group.state == .stable)
        // The old id is fenced by the instance.
        #expect(h.heartbeat("b", epoch: epoch, instance: "i1").error == .fencedInstanceId)
    }

    /// The group moved on while the static member was away: its new process owns nothing,
    /// so what left its target is released at once and it starts at the group epoch.
    @Test func staticRejoinAfterTheTargetShrankNeedsNoRevocation() {
        var h = ConsumerHarness([("t", 4)])
        Self.stableTwo(&h, bInstance: "i1") // b: t-2, t-3
        h.heartbeat("b", epoch: -2, instance: "i1", at: .milliseconds(1_000))
        h.join("c", assignor: "range", at: .milliseconds(2_000)) // epoch 3, range: a{0,1} b{2} c{3}
        #expect(h.group.groupEpoch == 3 && h.names(h.group.targetAssignment["b"]!) == ["t-2"])
        let back = h.join("b2", instance: "i1", at: .milliseconds(3_000))
        #expect(back.error == .noError && back.memberEpoch == 3 && h.names(back.assignment) == ["t-2"])
        #expect(h.group.member("b2")!.pendingRevocation.isEmpty && h.exclusive())
        // What b2 gave up is now free for c.
        let c = h.heartbeat("c", epoch: 3, owned: [], at: .milliseconds(3_100))
        #expect(h.names(c.assignment) == ["t-3"] && h.exclusive())
    }

    @Test func staticMemberThatLeftIsFencedAtItsSessionTimeout() {
        var h = ConsumerHarness([("t", 4)])
        Self.stableTwo(&h, bInstance: "i1")
        h.heartbeat("b", epoch: -2, instance: "i1", at: .milliseconds(1_000))
        h.heartbeat("a", epoch: 2, at: .milliseconds(40_000))
        h.tick(.milliseconds(46_000))
        #expect(h.group.member("b") == nil && h.group.groupEpoch == 3)
        let a = h.heartbeat("a", epoch: 2, owned: [h.tp("t", 0), h.tp("t", 1)], at: .milliseconds(46_001))
        #expect(h.names(a.assignment) == ["t-0", "t-1", "t-2", "t-3"])
    }

    @Test func sessionTimeoutFences() {
        var h = ConsumerHarness([("t", 4)])
        Self.stableTwo(&h)
        #expect(h.c.nextConsumerDeadline == .milliseconds(45_000))
        h.heartbeat("b", epoch: 2, at: .milliseconds(30_000))
        h.tick(.milliseconds(44_999))
        #expect(h.group.members.count == 2)
        h.tick(.milliseconds(45_000))
        #expect(h.group.member("a") == nil && h.group.groupEpoch == 3)
        #expect(h.heartbeat("a", epoch: 2).error == .unknownMemberId)
        let b = h.heartbeat("b", epoch: 2, owned: [h.tp("t", 2), h.tp("t", 3)], at: .milliseconds(45_001))
        #expect(b.memberEpoch == 3 && h.names(b.assignment) == ["t-0", "t-1", "t-2", "t-3"])
    }

    @Test func rebalanceTimeoutFencesAMemberThatDoesNotRevoke() {
        var h = ConsumerHarness([("t", 4)])
        let all = h.join("a", rebalance: 10_000).assignment!
        h.join("b", at: .milliseconds(500))
        h.heartbeat("a", epoch: 1, owned: all, at: .milliseconds(1_000)) // asked to revoke, deadline 11 s
        #expect(h.group.member("a")!.revocationDeadline == .milliseconds(11_000))
        for t in [5_000, 10_000] as [UInt64] {
            h.heartbeat("a", epoch: 1, owned: all, at: .milliseconds(t)) // keeps heartbeating, never revokes
            h.heartbeat("b", epoch: 2, owned: [], at: .milliseconds(t))
        }
        h.tick(.milliseconds(10_999))
        #expect(h.group.member("a") != nil)
        h.tick(.milliseconds(11_000))
        #expect(h.group.member("a") == nil)
        #expect(h.heartbeat("a", epoch: 1, owned: all).error == .unknownMemberId)
        let b = h.heartbeat("b", epoch: 2, owned: [], at: .milliseconds(11_001))
        #expect(h.names(b.assignment) == ["t-0", "t-1", "t-2", "t-3"] && h.exclusive())
    }

    @Test func epochErrors() {
        var h = ConsumerHarness([("t", 4)])
        Self.stableTwo(&h) // a: epoch 2 (previous 1), owns t-0, t-1
        #expect(h.heartbeat("a", epoch: 3).error == .fencedMemberEpoch)
        #expect(h.heartbeat("a", epoch: 1, owned: nil).error == .fencedMemberEpoch) // previous epoch, owned not sent
        // The previous epoch with owned partitions within the assignment: the answer with the
        // new epoch may have been lost, so it is accepted.
        let retry = h.heartbeat("a", epoch: 1, owned: [h.tp("t", 0)])
        #expect(retry.error == .noError && retry.memberEpoch == 2)
        #expect(h.heartbeat("a", epoch: 1, owned: [h.tp("t", 3)]).error == .fencedMemberEpoch)
        #expect(h.heartbeat("nobody", epoch: 4).error == .unknownMemberId)
        // A fenced member rejoins with epoch 0 and its member id (KIP-848): its state comes back.
        let rejoin = h.join("a")
        #expect(rejoin.error == .noError && rejoin.memberEpoch == 2 && h.names(rejoin.assignment) == ["t-0", "t-1"])
        #expect(h.heartbeat("g-none", epoch: 3, group: "other").error == .groupIdNotFound)
    }

    @Test func requestValidation() {
        var h = ConsumerHarness([("t", 4)])
        #expect(h.heartbeat("a", epoch: 0, topics: ["t"], owned: []).error == .invalidRequest) // no rebalance timeout
        #expect(h.heartbeat("a", epoch: 0, owned: [], rebalance: 1_000).error == .invalidRequest) // no subscription
        #expect(h.heartbeat("a", epoch: 0, topics: ["t"], owned: nil, rebalance: 1_000).error == .invalidRequest)
        #expect(h.heartbeat("", epoch: 0, topics: ["t"], owned: [], rebalance: 1_000).error == .invalidRequest) // v1 needs an id
        #expect(h.heartbeat("a", epoch: -3).error == .invalidRequest)
        #expect(h.heartbeat("a", epoch: -2).error == .invalidRequest) // -2 without an instance id
        #expect(h.join("a", assignor: "sticky").error == .unsupportedAssignor)
        #expect(h.join("a", nil, regex: "(").error == .invalidRegularExpression)
        // v0: the coordinator makes the member id up.
        let v0 = h.heartbeat("", epoch: 0, topics: ["t"], owned: [], rebalance: 1_000, version: 0)
        #expect(v0.error == .noError && v0.memberId?.utf8.count == 22 && v0.memberEpoch == 1)
    }

    @Test func groupMaxSize() {
        var config = GroupCoordinator.Config()
        config.maxGroupSize = 1
        var h = ConsumerHarness([("t", 4)], config: config)
        #expect(h.join("a").error == .noError)
        #expect(h.join("b").error == .groupMaxSizeReached)
        #expect(h.join("a").error == .noError) // a known member may rejoin
    }

    /// The worked example: topics x and y with 3 partitions each, members m1 and m2 subscribed
    /// to both. Range hands each member contiguous ranges per topic (m1 gets the extra one of
    /// each); uniform balances the six partitions three and three.
    @Test func rangeAndUniformOnAWorkedExample() {
        let h = ConsumerHarness([("x", 3), ("y", 3)])
        let subs = [ServerAssignor.Subscriber(memberId: "m2", topics: ["x", "y"]),
                    ServerAssignor.Subscriber(memberId: "m1", topics: ["x", "y"])]
        let range = ServerAssignor.range.assign(subs, image: h.image, previous: [:])
        #expect(h.names(range["m1"]!) == ["x-0", "x-1", "y-0", "y-1"] && h.names(range["m2"]!) == ["x-2", "y-2"])
        let uniform = ServerAssignor.uniform.assign(subs, image: h.image, previous: [:])
        #expect(h.names(uniform["m1"]!) == ["x-0", "x-2", "y-1"] && h.names(uniform["m2"]!) == ["x-1", "y-0", "y-2"])
        // Uniform is sticky: m1 held everything, so it keeps three of its partitions.
        let all: Set<TopicIdPartition> = Set(["x", "y"].flatMap { t in (0 ..< 3).map { h.tp(t, Int32($0)) } })
        let sticky = ServerAssignor.uniform.assign(subs, image: h.image, previous: ["m1": all])
        #expect(h.names(sticky["m1"]!) == ["x-0", "x-1", "x-2"] && h.names(sticky["m2"]!) == ["y-0", "y-1", "y-2"])
        // Uneven subscriptions: uniform never gives a partition to a member not subscribed.
        let mixed = ServerAssignor.uniform.assign([.init(memberId: "m1", topics: ["x"]), .init(memberId: "m2", topics: ["x", "y"])],
                                                  image: h.image, previous: [:])
        #expect(h.names(mixed["m1"]!) == ["x-0", "x-1", "x-2"] && h.names(mixed["m2"]!) == ["y-0", "y-1", "y-2"])

        // Through the coordinator: the members' ServerAssignor picks the assignor.
        var g = ConsumerHarness([("x", 3), ("y", 3)])
        g.join("m1", ["x", "y"], assignor: "range")
        g.join("m2", ["x", "y"], assignor: "range")
        #expect(g.group.assignorName == "range")
        #expect(g.names(g.group.targetAssignment["m1"]!) == ["x-0", "x-1", "y-0", "y-1"])
        #expect(g.names(g.group.targetAssignment["m2"]!) == ["x-2", "y-2"])
        // Without a choice the group uses uniform.
        var u = ConsumerHarness([("x", 3), ("y", 3)])
        u.join("m1", ["x", "y"])
        #expect(u.group.assignorName == "uniform")
    }

    @Test func regexSubscription() {
        var h = ConsumerHarness([("orders-eu", 2), ("orders-us", 1), ("payments", 2)])
        let r = h.join("a", nil, regex: "orders-.*")
        #expect(r.error == .noError && h.names(r.assignment) == ["orders-eu-0", "orders-eu-1", "orders-us-0"])
        // A new topic matching the regex bumps the group epoch and is assigned.
        h.addTopic("orders-asia", partitions: 2)
        #expect(h.group.groupEpoch == 2)
        let owned = r.assignment!
        let next = h.heartbeat("a", epoch: 1, owned: owned)
        #expect(next.memberEpoch == 2)
        #expect(h.names(next.assignment) == ["orders-asia-0", "orders-asia-1", "orders-eu-0", "orders-eu-1", "orders-us-0"])
        // A topic that does not match changes nothing.
        h.addTopic("audit", partitions: 1)
        #expect(h.group.groupEpoch == 2)
        // Names and regex together.
        let b = h.join("b", ["payments"], regex: "orders-us")
        #expect(b.error == .noError)
        #expect(ConsumerGroup.subscribedTopics(h.group.member("b")!, image: h.image) == ["orders-us", "payments"])
    }

    @Test func partitionsAddedBumpTheEpoch() {
        var h = ConsumerHarness([("t", 2)])
        let r = h.join("a")
        var topics = h.image.names.map { h.image.byName[$0]! }
        topics[0].partitions = 3
        h.image = TopicImage(topics)
        // Seen on the next heartbeat even without a notification.
        let next = h.heartbeat("a", epoch: 1, owned: r.assignment)
        #expect(next.memberEpoch == 2 && h.names(next.assignment) == ["t-0", "t-1", "t-2"])
    }

    @Test func aDeletedTopicIsRevoked() {
        var h = ConsumerHarness([("t", 2), ("u", 1)])
        let r = h.join("a", ["t", "u"])
        #expect(h.names(r.assignment) == ["t-0", "t-1", "u-0"])
        h.image = TopicImage([h.image.byName["t"]!])
        h.c.consumerTopicsChanged(image: h.image)
        #expect(h.group.groupEpoch == 2)
        let next = h.heartbeat("a", epoch: 1, owned: r.assignment)
        #expect(next.memberEpoch == 1 && next.assignment?.count == 2) // u-0 to revoke first
        let done = h.heartbeat("a", epoch: 1, owned: next.assignment)
        #expect(done.memberEpoch == 2 && h.group.state == .stable)
    }

    @Test func offsetCommitUsesTheMemberEpoch() {
        var h = ConsumerHarness([("t", 4)])
        h.join("a")
        let o = [GroupCoordinator.OffsetToCommit(topicPartition: TopicPartition("t", 0), offset: 42)]
        #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: "a", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.noError])
        #expect(h.c.commitOffsets(groupId: "g", generationId: 0, memberId: "a", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.staleMemberEpoch])
        #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: "x", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.unknownMemberId])
        #expect(h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.unknownMemberId])
        #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: "a", groupInstanceId: nil, o, apiVersion: 8,
                                  now: .zero) == [.unsupportedVersion])
        #expect(h.c.fetchOffsets(groupId: "g", partitions: nil, requireStable: false).map(\.offset) == [42])
        #expect(h.c.consumerFetchError(groupId: "g", memberId: "a", memberEpoch: 1) == nil)
        #expect(h.c.consumerFetchError(groupId: "g", memberId: "a", memberEpoch: 0) == .staleMemberEpoch)
        #expect(h.c.consumerFetchError(groupId: "g", memberId: nil, memberEpoch: -1) == nil)
        // TxnOffsetCommit: the member epoch as generation id.
        #expect(h.c.commitTransactionalOffsets(groupId: "g", producerId: 7, generationId: 1, memberId: "a", o, now: .zero) == [.noError])
        #expect(h.c.commitTransactionalOffsets(groupId: "g", producerId: 7, generationId: 3, memberId: "a", o, now: .zero)
            == [.illegalGeneration])
        h.c.completeTransaction(groupId: "g", producerId: 7, commit: true)
        #expect(h.c.fetchOffsets(groupId: "g", partitions: nil, requireStable: true).map(\.offset) == [42])
        // Once empty, a simple commit (epoch -1) is allowed.
        h.heartbeat("a", epoch: -1)
        #expect(h.c.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.noError])
    }

    @Test func offsetsRetention() {
        var config = GroupCoordinator.Config()
        config.offsetsRetentionMs = 1_000
        var h = ConsumerHarness([("t", 1), ("old", 1)], config: config)
        h.join("a")
        for topic in ["t", "old"] {
            let o = [GroupCoordinator.OffsetToCommit(topicPartition: TopicPartition(topic, 0), offset: 5)]
            #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: "a", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.noError])
        }
        // With members: offsets of topics nobody subscribes to expire after their commit.
        h.c.expireConsumerOffsets(now: .milliseconds(1_000))
        #expect(h.group.offsets.keys.sorted() == [TopicPartition("t", 0)])
        #expect(h.c.deleteOffsets(groupId: "g", [TopicPartition("t", 0)]) == .partitions([.groupSubscribedToTopic]))
        // Empty: everything expires the retention after the group became empty, then the group goes.
        h.heartbeat("a", epoch: -1, at: .milliseconds(2_000))
        h.c.expireConsumerOffsets(now: .milliseconds(2_999))
        #expect(h.group.offsets.count == 1)
        h.c.expireConsumerOffsets(now: .milliseconds(3_000))
        #expect(h.c.consumerGroups["g"] == nil)
    }

    @Test func aMemberCannotChangeItsInstanceId() {
        var h = ConsumerHarness([("t", 2)])
        h.join("a")
        #expect(h.join("a", instance: "i9").error == .invalidRequest)
        h.join("s", instance: "i1")
        h.heartbeat("s", epoch: -2, instance: "i1")
        // The instance comes back under the id of another member: refused, nothing replaced.
        #expect(h.join("a", instance: "i1").error == .invalidRequest)
        #expect(h.group.member("s")?.isLeavingStatic == true)
    }

    @Test func classicAndConsumerGroupsDoNotMixWhenMigrationIsDisabled() {
        var config = GroupCoordinator.Config()
        config.migrationPolicy = .disabled
        var h = ConsumerHarness([("t", 4)], config: config)
        var rng = SeededGenerator(seed: 9)
        // A classic group with a member: the consumer protocol is refused (GroupMigrationTests
        // has the online upgrade the default policy makes instead).
        _ = h.c.joinGroup(GroupCoordinator.JoinRequest(groupId: "cl", memberId: "", groupInstanceId: "s1",
                                                       protocols: [.init(name: "range", metadata: GroupHarness.subscription(["t"]))]),
                          now: .zero, using: &rng)
        #expect(h.c.groups["cl"]?.isEmpty == false)
        #expect(h.join("a", group: "cl").error == .groupIdNotFound)
        #expect(h.heartbeat("a", epoch: 3, group: "cl").error == .groupIdNotFound)
        // A consumer group with members: a classic JoinGroup whose subscription does not
        // parse is refused (one that parses joins as a classic member: GroupMigrationTests).
        h.join("a")
        let refused = h.c.joinGroup(GroupCoordinator.JoinRequest(groupId: "g", memberId: "", groupInstanceId: "s2",
                                                                 protocols: [.init(name: "range", metadata: [])]),
                                    now: .zero, using: &rng)
        #expect(refused == .immediate(.init(error: .inconsistentGroupProtocol)))
        #expect(h.c.heartbeat(groupId: "g", memberId: "a", groupInstanceId: nil, generationId: 1, now: .zero) == .unknownMemberId)
        #expect(h.c.groupType("g") == "consumer" && h.c.groupType("cl") == "classic")
        // Empty groups convert either way, keeping their offsets.
        let o = [GroupCoordinator.OffsetToCommit(topicPartition: TopicPartition("t", 1), offset: 9)]
        #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: "a", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.noError])
        h.heartbeat("a", epoch: -1)
        let converted = h.c.joinGroup(GroupCoordinator.JoinRequest(groupId: "g", memberId: "", groupInstanceId: "s3",
                                                                   protocols: [.init(name: "range", metadata: [])]),
                                      now: .zero, using: &rng)
        if case .immediate(let r) = converted { #expect(r.error == .noError || r.error == .memberIdRequired) }
        #expect(h.c.groupType("g") == "classic" && h.c.groups["g"]?.offsets[TopicPartition("t", 1)]?.offset == 9)
        // And back: the classic member leaves, the empty classic group becomes a consumer group.
        let leaving = h.c.groups["g"]!.orderedMembers.map { GroupCoordinator.LeavingMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId) }
        _ = h.c.leaveGroup(groupId: "g", members: leaving, now: .zero)
        #expect(h.join("b").error == .noError)
        #expect(h.c.groupType("g") == "consumer" && h.group.offsets[TopicPartition("t", 1)]?.offset == 9)
        // ListGroups reports the types; the v5 filter selects them.
        #expect(h.c.listGroups().map(\.groupType) == ["classic", "consumer"])
        #expect(h.c.listGroups(types: ["Consumer"]).map(\.groupId) == ["g"])
        #expect(h.c.describeGroup("g").protocolType == "consumer" && h.c.describeGroup("g").state == "Stable")
        #expect(h.c.deleteGroups(["g"]) == [.nonEmptyGroup])
    }

    @Test func coordinatorMoveKeepsTheGroup() {
        var h = ConsumerHarness([("t", 4)])
        Self.stableTwo(&h)
        let before = h.group
        h.c.moveGroup("g", now: .milliseconds(40_000))
        #expect(h.group.groupEpoch == before.groupEpoch && h.group.targetAssignment == before.targetAssignment)
        #expect(h.group.member("a")!.assigned == before.member("a")!.assigned)
        // Sessions restarted at the move.
        h.tick(.milliseconds(50_000))
        #expect(h.group.members.count == 2)
    }

    @Test func describeShowsEpochsAndAssignments() {
        var h = ConsumerHarness([("t", 4)])
        let all = h.join("a").assignment!
        h.join("b")
        h.heartbeat("a", epoch: 1, owned: all)
        let d = h.c.describeConsumerGroup("g")
        #expect(d.error == .noError && d.state == "Reconciling" && d.groupEpoch == 2 && d.assignmentEpoch == 2 && d.assignorName == "uniform")
        #expect(d.members.map(\.memberId) == ["a", "b"] && d.members.map(\.memberEpoch) == [1, 2])
        #expect(h.names(d.members[0].assignment) == ["t-0", "t-1"] && h.names(d.members[1].targetAssignment) == ["t-2", "t-3"])
        #expect(h.c.describeConsumerGroup("nope").error == .groupIdNotFound)
        #expect(h.c.describeConsumerGroup("").error == .invalidGroupId)
    }
}
