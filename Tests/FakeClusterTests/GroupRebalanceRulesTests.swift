import Testing
@testable import FakeCluster

/// The classic coordinator's timing and membership rules, checked against Kafka's
/// GroupCoordinator: sync timeouts (DelayedSync), KIP-394 pending ids, KIP-345 static
/// members (KIP-814 skipAssignment), KIP-559 checks, the initial rebalance delay.
@Suite struct GroupRebalanceRulesTests {
    typealias C = GroupCoordinator

    func hb(_ h: inout GroupHarness, _ id: String, gen: Int32, instance: String? = nil, at t: Int64) -> KafkaErrorCode {
        h.c.heartbeat(groupId: "g", memberId: id, groupInstanceId: instance, generationId: gen, now: ms(t))
    }

    @Test func heartbeatAnswersByState() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        #expect(h.group.state == .completingRebalance)
        #expect(hb(&h, a, gen: 1, at: 1) == .noError)         // CompletingRebalance: a normal heartbeat
        #expect(hb(&h, a, gen: 0, at: 1) == .illegalGeneration)
        guard case .immediate(let pending) = h.join(h.request(), at: ms(2)) else { Issue.record("parked"); return }
        #expect(hb(&h, pending.memberId, gen: 1, at: 2) == .unknownMemberId) // a KIP-394 pending id is no member
        _ = h.join(h.request(pending.memberId), at: ms(3))
        #expect(h.group.state == .preparingRebalance)
        #expect(hb(&h, a, gen: 1, at: 4) == .rebalanceInProgress)
        #expect(hb(&h, "nobody", gen: 1, at: 4) == .unknownMemberId)
    }

    @Test func leaderThatNeverSyncsSendsFollowersBackToRebalancing() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        let (b, ob) = h.newMember()
        _ = h.joinCompletion(h.join(h.request(a)))
        #expect(h.joinCompletion(ob)?.generationId == 2)
        let sb = h.sync(b, gen: 2)
        guard case .parked = sb else { Issue.record("the follower waits for the leader"); return }
        // The leader heartbeats (so its session lives) but never sends SyncGroup.
        for t: Int64 in [9_000, 18_000, 27_000] { #expect(hb(&h, a, gen: 2, at: t) == .noError) }
        #expect(h.c.nextDeadline == ms(30_000)) // the rebalance timeout after the join phase ended
        h.tick(ms(29_999))
        #expect(h.syncCompletion(sb) == nil)
        h.tick(ms(30_000))
        #expect(h.syncCompletion(sb)?.error == .rebalanceInProgress)
        #expect(h.group.member(a) == nil)
        #expect(h.group.state == .preparingRebalance)
        let rb = h.joinCompletion(h.join(h.request(b), at: ms(30_001)))
        #expect(rb?.generationId == 3 && rb?.leader == b)
    }

    @Test func followerThatNeverSyncsIsRemovedFromTheStableGroup() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        let (b, ob) = h.newMember()
        _ = h.joinCompletion(h.join(h.request(a)))
        _ = h.joinCompletion(ob)
        #expect(h.sync(a, gen: 2, assignments: [(a, [1]), (b, [2])]) == .immediate(
            .init(error: .noError, protocolType: "consumer", protocolName: "range", assignment: [1])))
        #expect(h.group.state == .stable && h.group.pendingSync == [b])
        for t: Int64 in [9_000, 18_000, 27_000] {
            #expect(hb(&h, a, gen: 2, at: t) == .noError)
            #expect(hb(&h, b, gen: 2, at: t) == .noError)
        }
        h.tick(ms(30_000))
        #expect(h.group.member(b) == nil)
        #expect(h.group.state == .preparingRebalance)
        // Once everyone synced, there is no sync deadline.
        var k = GroupHarness()
        _ = k.stablePair()
        #expect(k.group.syncDeadline == nil && k.group.pendingSync.isEmpty)
    }

    @Test func pendingMemberIdExpiresAfterItsSessionTimeout() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        _ = h.sync(a, gen: 1, assignments: [])
        guard case .immediate(let p) = h.join(h.request(session: 6_000), at: ms(1_000)) else { return }
        #expect(p.error == .memberIdRequired && h.group.pendingMembers[p.memberId] == ms(7_000))
        #expect(hb(&h, a, gen: 1, at: 5_000) == .noError)
        h.tick(ms(7_000))
        #expect(h.group.pendingMembers.isEmpty && h.group.state == .stable)
        // Coming back with the expired id: unknown.
        #expect(h.join(h.request(p.memberId), at: ms(7_001)) == .immediate(.init(error: .unknownMemberId, memberId: p.memberId)))
    }

    // MARK: KIP-345 / KIP-814

    /// A static member alone, stable at generation 1 with assignment [7].
    func staticAlone(_ h: inout GroupHarness, instance: String = "i1") -> String {
        guard case .immediate(let r) = h.join(h.request(instance: instance)) else { Issue.record("static join parked"); return "" }
        _ = h.sync(r.memberId, gen: 1, assignments: [(r.memberId, [7])])
        return r.memberId
    }

    @Test func staticRejoinWithNewSubscriptionButSameProtocolKeepsTheGeneration() {
        var h = GroupHarness()
        let old = staticAlone(&h)
        let meta = GroupHarness.subscription(["t", "u"])
        guard case .immediate(let r) = h.join(h.request(instance: "i1", metadata: meta), at: ms(10)) else {
            Issue.record("Kafka rebalances only when the selected protocol changes"); return
        }
        #expect(r.generationId == 1 && r.memberId != old && r.leader == r.memberId)
        #expect(r.skipAssignment)                                   // KIP-814: the leader must not reassign
        #expect(r.members.map(\.metadata) == [meta])                // but sees the subscriptions
        #expect(h.group.state == .stable && h.group.member(r.memberId)?.assignment == [7])
    }

    @Test func staticRejoinChangingTheSelectedProtocolRebalances() {
        var h = GroupHarness()
        _ = staticAlone(&h)
        let o = h.join(h.request(instance: "i1", protocols: ["roundrobin"]), at: ms(10))
        let r = h.joinCompletion(o)
        #expect(r?.generationId == 2 && r?.protocolName == "roundrobin" && r?.skipAssignment == false)
    }

    @Test func staticLeaderRejoiningBeforeV9IsToldTheOldLeaderId() {
        var h = GroupHarness()
        let old = staticAlone(&h)
        guard case .immediate(let r) = h.join(h.request(instance: "i1", version: 8), at: ms(10)) else { return }
        #expect(r.error == .noError && r.generationId == 1)
        #expect(r.leader == old && r.members.isEmpty && !r.skipAssignment)
        #expect(h.group.leaderId == r.memberId)
    }

    @Test func staticFollowerRejoinGetsNeitherMembersNorSkipAssignment() {
        var h = GroupHarness()
        let a = staticAlone(&h, instance: "i1")
        let ob = h.join(h.request(instance: "i2"), at: ms(1))
        _ = h.joinCompletion(h.join(h.request(a, instance: "i1"), at: ms(2)))
        let b = h.joinCompletion(ob)!.memberId
        _ = h.sync(b, gen: 2)
        _ = h.sync(a, gen: 2, assignments: [(a, [1]), (b, [2])])
        #expect(h.group.state == .stable)
        guard case .immediate(let r) = h.join(h.request(instance: "i2"), at: ms(3)) else { return }
        #expect(r.generationId == 2 && r.leader == a && r.members.isEmpty && !r.skipAssignment)
        #expect(h.group.member(r.memberId)?.assignment == [2])
    }

    @Test func replacedStaticMemberIdIsFencedEverywhere() {
        var h = GroupHarness()
        let old = staticAlone(&h)
        guard case .immediate(let r) = h.join(h.request(instance: "i1"), at: ms(10)) else { return }
        #expect(hb(&h, old, gen: 1, instance: "i1", at: 11) == .fencedInstanceId)
        #expect(h.c.syncGroup(.init(groupId: "g", generationId: 1, memberId: old, groupInstanceId: "i1"), now: ms(11))
            == .immediate(.init(error: .fencedInstanceId)))
        #expect(h.c.commitOffsets(groupId: "g", generationId: 1, memberId: old, groupInstanceId: "i1",
                                  [.init(topicPartition: tp("t", 0), offset: 1)], now: ms(11)) == [.fencedInstanceId])
        #expect(h.join(h.request(old, instance: "i1"), at: ms(11)) == .immediate(.init(error: .fencedInstanceId, memberId: old)))
        #expect(h.c.leaveGroup(groupId: "g", members: [.init(memberId: old, groupInstanceId: "i1")], now: ms(11)) == [.fencedInstanceId])
        #expect(h.group.member(r.memberId) != nil)
        // Without the instance id, the old id is simply unknown.
        #expect(hb(&h, old, gen: 1, at: 11) == .unknownMemberId)
    }

    @Test func staticRejoinWhileAwaitingSyncRebalances() {
        var h = GroupHarness()
        let a = staticAlone(&h, instance: "i1")
        let ob = h.join(h.request(instance: "i2"), at: ms(1))
        _ = h.joinCompletion(h.join(h.request(a, instance: "i1"), at: ms(2)))
        _ = h.joinCompletion(ob)
        #expect(h.group.state == .completingRebalance)
        let o = h.join(h.request(instance: "i2"), at: ms(3))
        guard case .parked = o else { Issue.record("CompletingRebalance: a static rejoin rebalances"); return }
        #expect(h.group.state == .preparingRebalance)
    }

    @Test func staticMembersLeaveByInstanceIdOrBySessionTimeoutOnly() {
        var h = GroupHarness()
        let a = staticAlone(&h, instance: "i1")
        // No LeaveGroup (a static member's close sends none): it stays for its session.
        h.tick(ms(9_999))
        #expect(h.group.member(a) != nil)
        h.tick(ms(10_000))
        #expect(h.group.member(a) == nil && h.group.state == .empty)
        var k = GroupHarness()
        _ = staticAlone(&k, instance: "i1")
        #expect(k.c.leaveGroup(groupId: "g", members: [.init(memberId: "", groupInstanceId: "i1")], now: ms(5)) == [.noError])
        #expect(k.group.state == .empty)
    }

    @Test func joinPhaseWaitsWhenOnlyAbsentStaticMembersRemain() {
        var h = GroupHarness()
        let a = staticAlone(&h, instance: "i1")
        let ob = h.join(h.request(instance: "i2"), at: ms(1))
        _ = h.joinCompletion(h.join(h.request(a, instance: "i1"), at: ms(2)))
        let b = h.joinCompletion(ob)!.memberId
        _ = h.sync(b, gen: 2, at: ms(3))
        _ = h.sync(a, gen: 2, assignments: [], at: ms(3))
        #expect(h.c.leaveGroup(groupId: "g", members: [.init(memberId: "", groupInstanceId: "i1")], now: ms(4)) == [.noError])
        #expect(h.group.state == .preparingRebalance)
        // b heartbeats but never rejoins: at the deadline nobody joined, so the phase waits again.
        for t: Int64 in [9_000, 18_000, 27_000] { #expect(hb(&h, b, gen: 2, instance: "i2", at: t) == .rebalanceInProgress) }
        h.tick(ms(30_004))
        #expect(h.group.state == .preparingRebalance && h.group.generationId == 2 && h.group.member(b) != nil)
        #expect(h.group.rebalanceDeadline == ms(60_004))
        h.tick(ms(37_000))  // b's session ends: the group empties
        #expect(h.group.state == .empty && h.group.generationId == 3)
    }

    // MARK: KIP-559

    @Test func syncChecksProtocolTypeAndName() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        func sync(_ type: String?, _ name: String?) -> C.Outcome<C.SyncResponse> {
            h.c.syncGroup(.init(groupId: "g", generationId: 1, memberId: a, groupInstanceId: nil, protocolType: type,
                                protocolName: name, assignments: [(memberId: a, assignment: [5])]), now: ms(1))
        }
        #expect(sync("connect", "range") == .immediate(.init(error: .inconsistentGroupProtocol)))
        #expect(sync("consumer", "roundrobin") == .immediate(.init(error: .inconsistentGroupProtocol)))
        #expect(sync("consumer", "range") == .immediate(.init(error: .noError, protocolType: "consumer",
                                                              protocolName: "range", assignment: [5])))
        #expect(sync(nil, nil) == .immediate(.init(error: .noError, protocolType: "consumer", protocolName: "range", assignment: [5])))
    }

    // MARK: group.initial.rebalance.delay.ms

    @Test func initialDelayGrowsWithEachNewMemberUpToTheRebalanceTimeout() {
        var h = GroupHarness()
        h.c.config.initialRebalanceDelayMs = 3_000
        func newMember(at t: Int64) -> C.Outcome<C.JoinResponse> {
            guard case .immediate(let f) = h.join(h.request(rebalance: 10_000), at: ms(t)) else { return .parked(.init(value: 0)) }
            return h.join(h.request(f.memberId, rebalance: 10_000), at: ms(t))
        }
        var outcomes = [newMember(at: 0)]
        #expect(h.c.nextDeadline == ms(3_000))
        outcomes.append(newMember(at: 2_000))
        h.tick(ms(3_000))     // a member came: 3 s more (7 s of the rebalance timeout left)
        #expect(h.group.state == .preparingRebalance && h.c.nextDeadline == ms(6_000))
        outcomes.append(newMember(at: 5_000))
        h.tick(ms(6_000))
        #expect(h.c.nextDeadline == ms(9_000))
        outcomes.append(newMember(at: 8_000))
        h.tick(ms(9_000))     // only 1 s of the rebalance timeout left
        #expect(h.c.nextDeadline == ms(10_000))
        outcomes.append(newMember(at: 9_500))
        #expect(outcomes.allSatisfy { h.joinCompletion($0) == nil })
        h.tick(ms(10_000))    // nothing left: the join phase ends with everyone
        let results = outcomes.compactMap { h.joinCompletion($0) }
        #expect(results.count == 5 && results.allSatisfy { $0.generationId == 1 })
        #expect(h.group.orderedMembers.count == 5)
    }

    @Test func initialDelayWithoutNewMembersEndsAfterOneDelayIgnoringPendingIds() {
        var h = GroupHarness()
        h.c.config.initialRebalanceDelayMs = 3_000
        let (_, oa) = h.newMember()
        guard case .immediate(let pending) = h.join(h.request(), at: ms(1_000)) else { return }
        #expect(pending.error == .memberIdRequired)
        h.tick(ms(3_000))
        #expect(h.joinCompletion(oa)?.members.count == 1)
        #expect(h.group.state == .completingRebalance)
    }

    @Test func initialDelayDoesNotGrowForAGroupThatHadGenerations() {
        var h = GroupHarness()
        h.c.config.initialRebalanceDelayMs = 3_000
        let (a, oa) = h.newMember()
        h.tick(ms(3_000))
        _ = h.joinCompletion(oa)
        _ = h.c.leaveGroup(groupId: "g", members: [.init(memberId: a)], now: ms(4_000))
        #expect(h.group.state == .empty && h.group.generationId == 2)
        let (_, ob) = h.newMember(at: ms(10_000))
        let (_, oc) = h.newMember(at: ms(12_000))
        #expect(h.c.nextDeadline == ms(13_000))
        h.tick(ms(13_000))
        #expect(h.joinCompletion(ob)?.generationId == 3 && h.joinCompletion(oc)?.generationId == 3)
    }
}
