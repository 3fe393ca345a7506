import KafkaProtocol
import Testing
@testable import FakeCluster

/// Drives classic members (JoinGroup / SyncGroup / Heartbeat / LeaveGroup) and KIP-848
/// members (ConsumerGroupHeartbeat) of one group "g" against one coordinator and topic image.
struct MigrationHarness {
    var h: ConsumerHarness
    var completions: [GroupCoordinator.Completion] = []

    init(partitions: Int32 = 6, policy: ConsumerGroupMigrationPolicy = .bidirectional) {
        var config = GroupCoordinator.Config()
        config.migrationPolicy = policy
        h = ConsumerHarness([("t", partitions)], config: config)
    }

    var c: GroupCoordinator { h.c }
    var consumer: ConsumerGroup? { h.c.consumerGroups["g"] }
    var classic: ClassicGroup? { h.c.groups["g"] }

    /// ConsumerProtocolSubscription of topic "t": v1 listing `owned` (a cooperative member),
    /// or v0 without owned partitions when nil (an eager member).
    static func subscription(owned: [Int32]?) -> [UInt8] {
        var s = ConsumerProtocolSubscription()
        s.topics = ["t"]
        let version: Int16 = owned == nil ? 0 : 1
        if let owned, !owned.isEmpty {
            var t = ConsumerProtocolSubscription.TopicPartition()
            t.topic = "t"
            t.partitions = owned
            s.ownedPartitions = [t]
        }
        var w = ByteWriter()
        w.writeInt16(version)
        try! s.encode(into: &w, version: version)
        return w.bytes
    }

    static func assignment(_ ps: [Int32]) -> [UInt8] { ConsumerProtocolBytes.encodeAssignment(ps.map { TopicPartition("t", $0) }) }

    static func partitions(_ bytes: [UInt8]) -> [Int32]? { ConsumerProtocolBytes.assignment(bytes)?.map(\.partition).sorted() }

    func tps(_ ps: [Int32]) -> [TopicIdPartition] { ps.map { h.tp("t", $0) } }

    mutating func joinOutcome(_ id: String, owned: [Int32]?, protocolName: String = "cooperative-sticky",
                              type: String = "consumer", session: Int32 = 10_000, instance: String? = nil,
                              at now: Instant = .zero) -> GroupCoordinator.Outcome<GroupCoordinator.JoinResponse> {
        let req = GroupCoordinator.JoinRequest(groupId: "g", memberId: id, groupInstanceId: instance, clientId: "classic",
                                               sessionTimeoutMs: session,
                                               rebalanceTimeoutMs: 30_000, protocolType: type,
                                               protocols: [.init(name: protocolName, metadata: Self.subscription(owned: owned))])
        let o = h.c.joinGroup(req, image: h.image, now: now, using: &h.rng)
        completions += h.c.takeCompletions()
        return o
    }

    /// A classic JoinGroup answered at once (a consumer group's classic member, or MEMBER_ID_REQUIRED).
    mutating func join(_ id: String, owned: [Int32]?, protocolName: String = "cooperative-sticky", type: String = "consumer",
                       session: Int32 = 10_000, instance: String? = nil, at now: Instant = .zero) -> GroupCoordinator.JoinResponse? {
        guard case .immediate(let r) = joinOutcome(id, owned: owned, protocolName: protocolName, type: type, session: session,
                                                   instance: instance, at: now)
        else { return nil }
        return r
    }

    mutating func completedJoin(_ o: GroupCoordinator.Outcome<GroupCoordinator.JoinResponse>) -> GroupCoordinator.JoinResponse? {
        switch o {
        case .immediate(let r): return r
        case .parked(let t):
            guard let i = completions.firstIndex(where: { $0.token == t }), case .join(_, let r) = completions.remove(at: i) else { return nil }
            return r
        }
    }

    mutating func sync(_ id: String, gen: Int32, assignments: [(String, [UInt8])] = [], at now: Instant = .zero)
        -> GroupCoordinator.SyncResponse? {
        let o = h.c.syncGroup(.init(groupId: "g", generationId: gen, memberId: id, groupInstanceId: nil,
                                    assignments: assignments.map { (memberId: $0.0, assignment: $0.1) }),
                              image: h.image, now: now)
        completions += h.c.takeCompletions()
        guard case .immediate(let r) = o else { return nil }
        return r
    }

    mutating func heartbeat(_ id: String, gen: Int32, at now: Instant = .zero) -> KafkaErrorCode {
        h.c.heartbeat(groupId: "g", memberId: id, groupInstanceId: nil, generationId: gen, now: now)
    }

    mutating func leave(_ id: String, at now: Instant = .zero) -> [KafkaErrorCode] {
        h.c.leaveGroup(groupId: "g", members: [.init(memberId: id, groupInstanceId: nil)], image: h.image, now: now)
    }

    /// Two classic members "a" and "b" in a Stable classic group at generation 2: a owns
    /// t-0..2, b t-3..5 (a leads and assigns).
    mutating func classicPair(protocolName: String = "cooperative-sticky") -> (a: String, b: String) {
        let cooperative = protocolName == "cooperative-sticky"
        let a = join("", owned: cooperative ? [] : nil, protocolName: protocolName)!.memberId
        let first = completedJoin(joinOutcome(a, owned: cooperative ? [] : nil, protocolName: protocolName))!
        #expect(first.generationId == 1 && first.leader == a)
        #expect(sync(a, gen: 1, assignments: [(a, Self.assignment([0, 1, 2, 3, 4, 5]))])?.error == KafkaErrorCode.noError)
        let b = join("", owned: cooperative ? [] : nil, protocolName: protocolName)!.memberId
        let bJoin = joinOutcome(b, owned: cooperative ? [] : nil, protocolName: protocolName)
        #expect(heartbeat(a, gen: 1) == .rebalanceInProgress)
        let aJoin = completedJoin(joinOutcome(a, owned: cooperative ? [0, 1, 2, 3, 4, 5] : nil, protocolName: protocolName))!
        let bDone = completedJoin(bJoin)!
        #expect(aJoin.generationId == 2 && bDone.generationId == 2 && aJoin.leader == a)
        _ = sync(b, gen: 2)
        #expect(sync(a, gen: 2, assignments: [(a, Self.assignment([0, 1, 2])), (b, Self.assignment([3, 4, 5]))])?.error == KafkaErrorCode.noError)
        completions = []
        #expect(classic?.state == .stable && classic?.generationId == 2)
        return (a, b)
    }

    /// No partition held by two members, and every partition held by someone once the group settles.
    func exclusive() -> Bool { h.exclusive() }
}

@Suite("KIP-848 online migration: classic members in consumer groups, upgrade and downgrade")
struct GroupMigrationTests {
    @Test func cooperativeClassicMembersUpgradeOnlineWithoutTwoOwners() throws {
        var m = MigrationHarness()
        let (a, b) = m.classicPair()
        // A KIP-848 member joins the classic group: it becomes a consumer group at epoch 2
        // (the generation), the classic members kept with their partitions.
        let joined = m.h.join("c", rebalance: 30_000, at: .milliseconds(10))
        #expect(joined.error == .noError && joined.memberEpoch == 3)
        #expect(m.c.groupType("g") == "consumer" && m.classic == nil)
        let g = try #require(m.consumer)
        #expect(g.orderedMembers.map(\.memberId) == [a, b, "c"])
        #expect(g.member(a)?.classic != nil && g.member(a)?.memberEpoch == 2 && m.h.names(g.member(a)?.assigned) == ["t-0", "t-1", "t-2"])
        #expect(m.h.names(joined.assignment) == []) // everything is still held
        #expect(m.exclusive())

        // The classic members hear of the new epoch through Heartbeat and rejoin, listing what
        // they own: each is asked to give up one partition (generation unchanged until it has).
        #expect(m.heartbeat(a, gen: 2, at: .milliseconds(20)) == .rebalanceInProgress)
        let ajResult = m.join(a, owned: [0, 1, 2], at: .milliseconds(20))
        let aj = try #require(ajResult)
        #expect(aj.error == .noError && aj.generationId == 2 && aj.leader == "" && aj.protocolType == "consumer")
        #expect(aj.protocolName == "cooperative-sticky")
        let aSyncResult = m.sync(a, gen: 2, at: .milliseconds(21))
        let aSync = try #require(aSyncResult)
        #expect(MigrationHarness.partitions(aSync.assignment) == [0, 1])
        #expect(m.consumer?.member(a).map { m.h.names($0.pendingRevocation) } == ["t-2"])
        // The leader's assignments are ignored: SyncGroup answers the coordinator's.
        #expect(m.heartbeat(a, gen: 2, at: .milliseconds(22)) == .rebalanceInProgress)
        // Revoked: the rejoin's owned list leaves t-2 out, the member takes the new epoch.
        let aj2Result = m.join(a, owned: [0, 1], at: .milliseconds(30))
        let aj2 = try #require(aj2Result)
        #expect(aj2.generationId == 3)
        #expect(MigrationHarness.partitions(m.sync(a, gen: 3, at: .milliseconds(31))!.assignment) == [0, 1])
        #expect(m.heartbeat(a, gen: 3, at: .milliseconds(32)) == .noError)
        #expect(m.exclusive())

        #expect(m.heartbeat(b, gen: 2, at: .milliseconds(40)) == .rebalanceInProgress)
        #expect(m.join(b, owned: [3, 4, 5], at: .milliseconds(40))?.generationId == 2)
        #expect(MigrationHarness.partitions(m.sync(b, gen: 2, at: .milliseconds(41))!.assignment) == [3, 4])
        #expect(m.join(b, owned: [3, 4], at: .milliseconds(50))?.generationId == 3)
        #expect(m.heartbeat(b, gen: 3, at: .milliseconds(51)) == .noError)
        #expect(m.exclusive())

        // The KIP-848 member collects the released partitions.
        let got = m.h.heartbeat("c", epoch: 3, owned: [], at: .milliseconds(60))
        #expect(m.h.names(got.assignment) == ["t-2", "t-5"])
        #expect(m.consumer?.state == .stable && m.exclusive())
        // A generation the member does not hold is refused, as in a classic group.
        #expect(m.heartbeat(a, gen: 2, at: .milliseconds(70)) == .illegalGeneration)
        #expect(m.sync(a, gen: 4, at: .milliseconds(70))?.error == .illegalGeneration)
    }

    @Test func eagerClassicMembersReleaseEverythingAtTheRejoin() throws {
        var m = MigrationHarness()
        let (a, b) = m.classicPair(protocolName: "range")
        #expect(m.h.join("c", at: .milliseconds(10)).memberEpoch == 3)
        // An eager member revokes everything before it rejoins (its subscription owns
        // nothing): no revocation round, it takes the new epoch at once.
        for (id, expected) in [(a, [Int32(0), 1]), (b, [3, 4])] {
            #expect(m.heartbeat(id, gen: 2, at: .milliseconds(20)) == .rebalanceInProgress)
            let jResult = m.join(id, owned: nil, protocolName: "range", at: .milliseconds(20))
            let j = try #require(jResult)
            #expect(j.generationId == 3 && j.protocolName == "range")
            #expect(MigrationHarness.partitions(m.sync(id, gen: 3, at: .milliseconds(21))!.assignment) == expected)
        }
        #expect(m.h.names(m.h.heartbeat("c", epoch: 3, owned: [], at: .milliseconds(30)).assignment) == ["t-2", "t-5"])
        #expect(m.consumer?.state == .stable && m.exclusive())
    }

    @Test func upgradeDuringARebalanceAnswersParkedRequestsAndKeepsOwnedPartitions() throws {
        var m = MigrationHarness()
        let (a, b) = m.classicPair()
        // b leaves: the classic group waits for a to rejoin; a newcomer's JoinGroup parks.
        #expect(m.leave(b) == [.noError] && m.classic?.state == .preparingRebalance)
        let n = m.join("", owned: [])!.memberId
        guard case .parked(let token) = m.joinOutcome(n, owned: [], at: .milliseconds(5)) else {
            Issue.record("the newcomer's JoinGroup parks until a rejoins"); return
        }
        // A KIP-848 member arrives meanwhile: the group converts, the parked JoinGroup is
        // answered REBALANCE_IN_PROGRESS (its member rejoins into the consumer group).
        #expect(m.h.join("c", at: .milliseconds(7)).error == .noError)
        #expect(m.h.c.takeCompletions() == [.join(token, .init(error: .rebalanceInProgress, memberId: n))])
        // Outside Stable the coordinator keeps what a's subscription said it owns too (a
        // cooperative member keeps its partitions through a rebalance), so nothing goes to c.
        let held = try #require(m.consumer?.member(a)?.assigned)
        #expect(Set(m.h.names(held)).isSuperset(of: ["t-0", "t-1", "t-2"]))
        #expect(m.consumer?.member("c")?.assigned.isEmpty == true && m.exclusive())
        #expect(m.join(n, owned: [], at: .milliseconds(8))?.error == .noError)
        // a rejoins owning t-0..2 and is asked to revoke what its target leaves out; it syncs,
        // drops them, rejoins with what it kept and reaches the group epoch; c then takes its share.
        #expect(m.heartbeat(a, gen: 2, at: .milliseconds(9)) == .rebalanceInProgress)
        _ = m.join(a, owned: [0, 1, 2], at: .milliseconds(10))
        let kept = MigrationHarness.partitions(m.sync(a, gen: 2, at: .milliseconds(11))?.assignment ?? []) ?? []
        #expect(m.exclusive())
        let rejoined = m.join(a, owned: kept, at: .milliseconds(12))
        let epoch = try #require(m.consumer?.groupEpoch)
        #expect(rejoined?.generationId == epoch && m.consumer?.member(a)?.pendingRevocation.isEmpty == true)
        let cGot = m.h.heartbeat("c", epoch: epoch, owned: [], at: .milliseconds(13))
        #expect(cGot.error == .noError && cGot.assignment?.isEmpty == false && m.exclusive())
    }

    @Test func downgradeWhenTheLastConsumerMemberLeaves() throws {
        var m = MigrationHarness()
        let (a, b) = m.classicPair(protocolName: "range")
        m.h.join("c", at: .milliseconds(10))
        for id in [a, b] {
            _ = m.join(id, owned: nil, protocolName: "range", at: .milliseconds(20))
            _ = m.sync(id, gen: 3, at: .milliseconds(21))
        }
        m.h.heartbeat("c", epoch: 3, owned: [], at: .milliseconds(30))
        let offsets = [GroupCoordinator.OffsetToCommit(topicPartition: TopicPartition("t", 0), offset: 42)]
        #expect(m.h.c.commitOffsets(groupId: "g", generationId: 3, memberId: a, groupInstanceId: nil, offsets, apiVersion: 8,
                                    now: .milliseconds(31)) == [.noError])

        // c leaves: only classic members remain, so the group becomes a classic group at
        // generation 3 (the group epoch) and rebalances; its offsets stay.
        #expect(m.h.heartbeat("c", epoch: -1, at: .milliseconds(40)).error == .noError)
        let g = try #require(m.classic)
        #expect(m.consumer == nil && g.state == .preparingRebalance && g.generationId == 3)
        #expect(g.protocolType == "consumer" && g.protocolName == "range" && g.orderedMembers.map(\.memberId) == [a, b])
        #expect(MigrationHarness.partitions(g.member(a)!.assignment) == [0, 1])
        #expect(g.offsets[TopicPartition("t", 0)]?.offset == 42)
        #expect(m.heartbeat(a, gen: 3, at: .milliseconds(41)) == .rebalanceInProgress)
        // Both rejoin; the leader assigns the leaver's partitions with its own assignor.
        let aJoin = m.joinOutcome(a, owned: nil, protocolName: "range", at: .milliseconds(42))
        let bJoin = m.joinOutcome(b, owned: nil, protocolName: "range", at: .milliseconds(43))
        let arResult = m.completedJoin(aJoin), brResult = m.completedJoin(bJoin)
        let ar = try #require(arResult), br = try #require(brResult)
        #expect(ar.generationId == 4 && br.generationId == 4 && ar.leader == a && ar.members.count == 2)
        _ = m.sync(b, gen: 4, at: .milliseconds(44))
        #expect(m.sync(a, gen: 4, assignments: [(a, MigrationHarness.assignment([0, 1, 2])), (b, MigrationHarness.assignment([3, 4, 5]))],
                       at: .milliseconds(45))?.error == .noError)
        #expect(m.classic?.state == .stable && m.c.groupType("g") == "classic")
    }

    @Test func aFencedConsumerMemberDowngradesTooAndClassicSessionsAreTheirOwn() throws {
        var m = MigrationHarness()
        let (a, b) = m.classicPair(protocolName: "range")
        m.h.join("c", at: .zero)
        // Classic members keep their JoinGroup session (10 s here), not the group's 45 s.
        _ = m.heartbeat(a, gen: 2, at: .milliseconds(9_000))
        m.h.heartbeat("c", epoch: 3, at: .milliseconds(9_000))
        m.h.tick(.milliseconds(10_000))
        #expect(m.consumer?.member(b) == nil && m.consumer?.member(a) != nil)
        // c stops heartbeating: its session (45 s) ends after a's keeps going; a alone is left, classic.
        for t in stride(from: 15_000, through: 54_000, by: 3_000) { _ = m.heartbeat(a, gen: 2, at: .milliseconds(UInt64(t))) }
        m.h.tick(.milliseconds(54_000))
        #expect(m.consumer == nil && m.classic?.orderedMembers.map(\.memberId) == [a] && m.classic?.state == .preparingRebalance)
    }

    @Test func theMigrationPolicyGatesConversions() throws {
        // disabled: a KIP-848 join to a classic group with members is refused (as before 4.0's
        // migration), and so with downgrade only.
        for policy in [ConsumerGroupMigrationPolicy.disabled, .downgrade] {
            var m = MigrationHarness(policy: policy)
            _ = m.classicPair()
            let refused = m.h.join("c")
            #expect(refused.error == .groupIdNotFound && refused.errorMessage == "Group g is not a consumer group.")
            #expect(m.c.groupType("g") == "classic")
        }
        // upgrade only: the group upgrades, but when the KIP-848 member leaves it stays a
        // consumer group of classic members, which keep working in it.
        var m = MigrationHarness(policy: .upgrade)
        let (a, _) = m.classicPair(protocolName: "range")
        #expect(m.h.join("c").error == .noError)
        #expect(m.h.heartbeat("c", epoch: -1).error == .noError)
        #expect(m.c.groupType("g") == "consumer" && m.consumer?.orderedMembers.count == 2)
        #expect(m.heartbeat(a, gen: 2) == .rebalanceInProgress)
        #expect(m.join(a, owned: nil, protocolName: "range")?.generationId == 4)
    }

    @Test func whatCannotUpgradeOrJoin() throws {
        // A classic group of another protocol type is not upgraded.
        var m = MigrationHarness()
        let first = m.join("", owned: nil, protocolName: "rr", type: "connect")!.memberId
        _ = m.joinOutcome(first, owned: nil, protocolName: "rr", type: "connect")
        #expect(m.h.join("c").error == .groupIdNotFound && m.c.groupType("g") == "classic")

        // A consumer group takes classic members only with the consumer protocol type, a
        // subscription that parses and a protocol the other classic members support.
        var n = MigrationHarness()
        n.h.join("c")
        #expect(n.join("x", owned: nil, type: "connect")?.error == .inconsistentGroupProtocol)
        let a = n.join("", owned: nil, protocolName: "range")!
        #expect(a.error == .memberIdRequired)
        #expect(n.join(a.memberId, owned: nil, protocolName: "range")?.error == .noError)
        #expect(n.join("y", owned: nil, protocolName: "roundrobin")?.error == .inconsistentGroupProtocol)
        let bad = n.h.c.joinGroup(.init(groupId: "g", memberId: "z", protocols: [.init(name: "range", metadata: [1])]),
                                  image: n.h.image, now: .zero, using: &n.h.rng)
        #expect(bad == .immediate(.init(error: .inconsistentGroupProtocol, memberId: "z")))
        // A KIP-848 member's id is unknown to the classic APIs, and a classic member's to
        // ConsumerGroupHeartbeat (unless it rejoins with epoch 0: then it upgrades in place).
        #expect(n.heartbeat("c", gen: 1) == .unknownMemberId)
        #expect(n.leave("c") == [.unknownMemberId])
        #expect(n.h.heartbeat(a.memberId, epoch: 2).error == .unknownMemberId)
        #expect(n.h.join(a.memberId).error == .noError && n.consumer?.member(a.memberId)?.classic == nil)
    }

    @Test func classicMembersCommitWithTheirMemberEpochAsGeneration() throws {
        var m = MigrationHarness()
        let (a, _) = m.classicPair(protocolName: "range")
        m.h.join("c")
        let o = [GroupCoordinator.OffsetToCommit(topicPartition: TopicPartition("t", 0), offset: 5)]
        // Any OffsetCommit version, the member epoch as generation; a wrong one is ILLEGAL_GENERATION.
        #expect(m.h.c.commitOffsets(groupId: "g", generationId: 2, memberId: a, groupInstanceId: nil, o, apiVersion: 2, now: .zero) == [.noError])
        #expect(m.h.c.commitOffsets(groupId: "g", generationId: 3, memberId: a, groupInstanceId: nil, o, apiVersion: 8, now: .zero) == [.illegalGeneration])
        // The KIP-848 member still needs v9 and gets STALE_MEMBER_EPOCH.
        #expect(m.h.c.commitOffsets(groupId: "g", generationId: 3, memberId: "c", groupInstanceId: nil, o, apiVersion: 8, now: .zero) == [.unsupportedVersion])
        #expect(m.h.c.commitOffsets(groupId: "g", generationId: 2, memberId: "c", groupInstanceId: nil, o, apiVersion: 9, now: .zero) == [.staleMemberEpoch])
        // LeaveGroup: the classic member leaves the consumer group (its epoch bumps).
        #expect(m.leave(a) == [.noError] && m.consumer?.member(a) == nil && m.consumer?.groupEpoch == 4)
    }

    @Test func aStaticClassicMemberRejoinsUnderANewIdAndLeavesByInstance() throws {
        var m = MigrationHarness()
        m.h.join("c")
        // A static classic member joins without MEMBER_ID_REQUIRED (KIP-345).
        let firstResult = m.join("", owned: [], instance: "s1", at: .milliseconds(1))
        let first = try #require(firstResult)
        #expect(first.error == .noError && first.memberId.hasPrefix("s1-"))
        let epoch = first.generationId
        _ = m.sync(first.memberId, gen: epoch, at: .milliseconds(2))
        let held = m.consumer?.member(first.memberId)?.assigned
        // It restarts: a join with no id takes its record over under a new id; the old id is fenced.
        let againResult = m.join("", owned: [], instance: "s1", at: .milliseconds(3))
        let again = try #require(againResult)
        #expect(again.error == .noError && again.memberId != first.memberId && again.memberId.hasPrefix("s1-"))
        #expect(m.consumer?.member(first.memberId) == nil && m.consumer?.member(again.memberId)?.assigned == held)
        #expect(m.consumer?.orderedMembers.map(\.memberId) == ["c", again.memberId])
        #expect(m.h.c.heartbeat(groupId: "g", memberId: first.memberId, groupInstanceId: "s1", generationId: epoch,
                                now: .milliseconds(4)) == .fencedInstanceId)
        // A join naming the old id with the instance is fenced too; a live KIP-848 member's
        // instance id cannot be taken by a classic join.
        #expect(m.join(first.memberId, owned: [], instance: "s1", at: .milliseconds(5))?.error == .fencedInstanceId)
        m.h.join("d", instance: "s2", at: .milliseconds(6))
        #expect(m.join("", owned: [], instance: "s2", at: .milliseconds(7))?.error == .unreleasedInstanceId)
        // LeaveGroup by instance id alone.
        #expect(m.h.c.leaveGroup(groupId: "g", members: [.init(memberId: "", groupInstanceId: "s1")], image: m.h.image,
                                 now: .milliseconds(8)) == [.noError])
        #expect(m.consumer?.orderedMembers.map(\.memberId) == ["c", "d"] && m.exclusive())
    }
}
