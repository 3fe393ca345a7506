import Testing
@testable import FakeCluster

/// Drives a GroupCoordinator the way the request layer will.
struct GroupHarness {
    var c = GroupCoordinator()
    var rng = SeededGenerator(seed: 7)
    var completions: [GroupCoordinator.Completion] = []

    static func subscription(_ topics: [String]) -> [UInt8] {
        var w = ByteWriter()
        w.writeInt16(0)
        w.writeInt32(Int32(topics.count))
        for t in topics { try! w.writeString(t, compact: false) }
        w.writeInt32(-1) // user data: null
        return w.bytes
    }

    func request(_ memberId: String = "", instance: String? = nil, protocols: [String] = ["range"],
                 metadata: [UInt8]? = nil, session: Int32 = 10_000, rebalance: Int32 = 30_000,
                 version: Int16 = 9, type: String = "consumer") -> GroupCoordinator.JoinRequest {
        GroupCoordinator.JoinRequest(groupId: "g", memberId: memberId, groupInstanceId: instance,
                                     sessionTimeoutMs: session, rebalanceTimeoutMs: rebalance, protocolType: type,
                                     protocols: protocols.map { .init(name: $0, metadata: metadata ?? Self.subscription(["t"])) },
                                     version: version)
    }

    mutating func join(_ r: GroupCoordinator.JoinRequest, at now: Instant = .zero) -> GroupCoordinator.Outcome<GroupCoordinator.JoinResponse> {
        let o = c.joinGroup(r, now: now, using: &rng)
        completions += c.takeCompletions()
        return o
    }

    /// A brand-new dynamic member: MEMBER_ID_REQUIRED round trip, then the real join.
    mutating func newMember(at now: Instant = .zero, protocols: [String] = ["range"], metadata: [UInt8]? = nil)
        -> (id: String, outcome: GroupCoordinator.Outcome<GroupCoordinator.JoinResponse>) {
        guard case .immediate(let first) = join(request(protocols: protocols, metadata: metadata), at: now),
              first.error == .memberIdRequired else { Issue.record("expected MEMBER_ID_REQUIRED"); return ("", .parked(.init(value: 0))) }
        return (first.memberId, join(request(first.memberId, protocols: protocols, metadata: metadata), at: now))
    }

    mutating func sync(_ id: String, gen: Int32, assignments: [(String, [UInt8])] = [], at now: Instant = .zero)
        -> GroupCoordinator.Outcome<GroupCoordinator.SyncResponse> {
        let o = c.syncGroup(.init(groupId: "g", generationId: gen, memberId: id, groupInstanceId: nil,
                                  assignments: assignments.map { (memberId: $0.0, assignment: $0.1) }), now: now)
        completions += c.takeCompletions()
        return o
    }

    mutating func tick(_ now: Instant) {
        completions += c.tick(now: now).completions
    }

    mutating func joinCompletion(_ o: GroupCoordinator.Outcome<GroupCoordinator.JoinResponse>) -> GroupCoordinator.JoinResponse? {
        switch o {
        case .immediate(let r): return r
        case .parked(let t):
            guard let i = completions.firstIndex(where: { $0.token == t }), case .join(_, let r) = completions.remove(at: i) else { return nil }
            return r
        }
    }

    mutating func syncCompletion(_ o: GroupCoordinator.Outcome<GroupCoordinator.SyncResponse>) -> GroupCoordinator.SyncResponse? {
        switch o {
        case .immediate(let r): return r
        case .parked(let t):
            guard let i = completions.firstIndex(where: { $0.token == t }), case .sync(_, let r) = completions.remove(at: i) else { return nil }
            return r
        }
    }

    var group: ClassicGroup { c.groups["g"]! }

    /// Two dynamic members, stable at generation 2 with assignments "a"/"b".
    mutating func stablePair() -> (String, String) {
        let (a, oa) = newMember()
        _ = joinCompletion(oa)
        let (b, ob) = newMember()
        let ra = join(request(a))
        let rb = joinCompletion(ob)!, rA = joinCompletion(ra)!
        #expect(rA.generationId == 2 && rb.generationId == 2)
        let sb = sync(b, gen: 2)
        _ = sync(a, gen: 2, assignments: [(a, [1]), (b, [2])])
        #expect(syncCompletion(sb)?.assignment == [2])
        return (a, b)
    }
}

@Suite struct GroupCoordinatorTests {
    @Test func memberIdRequiredThenJoin() {
        var h = GroupHarness()
        guard case .immediate(let first) = h.join(h.request()) else { Issue.record("parked"); return }
        #expect(first.error == .memberIdRequired)
        #expect(first.memberId.hasPrefix("client-"))
        #expect(h.group.pendingMembers.keys.contains(first.memberId))
        guard case .immediate(let r) = h.join(h.request(first.memberId)) else { Issue.record("parked"); return }
        #expect(r.error == .noError)
        #expect(r.generationId == 1)
        #expect(r.leader == first.memberId)
        #expect(r.protocolName == "range")
        #expect(r.members.map(\.memberId) == [first.memberId])
        #expect(h.group.state == .completingRebalance)
    }

    @Test func oldJoinVersionsSkipMemberIdRequired() {
        var h = GroupHarness()
        guard case .immediate(let r) = h.join(h.request(version: 3)) else { Issue.record("parked"); return }
        #expect(r.error == .noError && r.generationId == 1 && !r.memberId.isEmpty)
    }

    @Test func memberIdsAreDeterministicPerSeed() {
        var a = GroupHarness(), b = GroupHarness()
        let ra = a.join(a.request()), rb = b.join(b.request())
        #expect(ra == rb)
        var c = GroupHarness(rng: SeededGenerator(seed: 8))
        #expect(c.join(c.request()) != ra)
    }

    @Test func pendingMemberBlocksJoinUntilItJoinsOrExpires() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        _ = h.sync(a, gen: 1, assignments: [])
        // B is handed an id but never comes back; that alone starts no rebalance.
        guard case .immediate(let pendingB) = h.join(h.request(), at: ms(1_000)) else { return }
        #expect(h.group.state == .stable)
        // C joins for real: rebalance. A rejoins; the join still waits for pending B.
        let (c, oc) = h.newMember(at: ms(2_000))
        let ra = h.join(h.request(a), at: ms(2_000))
        guard case .parked = ra else { Issue.record("A should wait for pending B"); return }
        h.tick(ms(10_999))
        #expect(h.joinCompletion(ra) == nil)
        h.tick(ms(11_000)) // B's id expires one session timeout after it was issued
        #expect(h.joinCompletion(ra)?.members.map(\.memberId) == [a, c])
        #expect(h.joinCompletion(oc)?.generationId == 2)
        #expect(h.group.pendingMembers[pendingB.memberId] == nil)
    }

    @Test func secondMemberTriggersRebalanceAndLeaderGetsMembers() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        #expect(h.joinCompletion(oa)?.generationId == 1)
        let (b, ob) = h.newMember()
        guard case .parked = ob else { Issue.record("B should wait for A"); return }
        #expect(h.group.state == .preparingRebalance)
        #expect(h.c.heartbeat(groupId: "g", memberId: a, groupInstanceId: nil, generationId: 1, now: .zero) == .rebalanceInProgress)
        let ra = h.join(h.request(a))
        let rA = h.joinCompletion(ra)!, rB = h.joinCompletion(ob)!
        #expect(rA.generationId == 2 && rB.generationId == 2)
        #expect(rA.leader == a && rB.leader == a)
        #expect(rA.members.map(\.memberId) == [a, b])
        #expect(rB.members.isEmpty)
    }

    @Test func syncDistributesLeaderAssignments() {
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        #expect(h.group.state == .stable)
        #expect(h.group.member(a)?.assignment == [1])
        // Stable: a sync answers at once with the member's assignment.
        #expect(h.sync(b, gen: 2) == .immediate(.init(error: .noError, protocolType: "consumer", protocolName: "range", assignment: [2])))
        #expect(h.sync(b, gen: 1) == .immediate(.init(error: .illegalGeneration)))
        #expect(h.sync("nobody", gen: 2) == .immediate(.init(error: .unknownMemberId)))
        #expect(h.c.heartbeat(groupId: "g", memberId: b, groupInstanceId: nil, generationId: 2, now: .zero) == .noError)
        #expect(h.c.heartbeat(groupId: "g", memberId: b, groupInstanceId: nil, generationId: 1, now: .zero) == .illegalGeneration)
        #expect(h.c.heartbeat(groupId: "g", memberId: "x", groupInstanceId: nil, generationId: 2, now: .zero) == .unknownMemberId)
        #expect(h.c.heartbeat(groupId: "nope", memberId: b, groupInstanceId: nil, generationId: 2, now: .zero) == .unknownMemberId)
    }

    @Test func syncDuringRebalanceIsRejectedAndParkedSyncsAreCancelled() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        let (b, ob) = h.newMember()
        _ = h.join(h.request(a))
        _ = h.joinCompletion(ob)
        let parked = h.sync(b, gen: 2)
        guard case .parked = parked else { Issue.record("follower sync should wait"); return }
        // A new member arrives before the leader syncs: the follower's sync is cancelled.
        _ = h.newMember()
        #expect(h.syncCompletion(parked)?.error == .rebalanceInProgress)
        #expect(h.sync(a, gen: 2) == .immediate(.init(error: .rebalanceInProgress)))
    }

    @Test func followerRejoinWithSameMetadataInStableDoesNotRebalance() {
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        #expect(h.join(h.request(b)) == .immediate(.init(error: .noError, generationId: 2, protocolType: "consumer",
                                                         protocolName: "range", leader: a, memberId: b)))
        #expect(h.group.state == .stable)
        // The leader rejoining does rebalance.
        guard case .parked = h.join(h.request(a)) else { Issue.record("leader rejoin should rebalance"); return }
        #expect(h.group.state == .preparingRebalance)
    }

    @Test func rebalanceTimeoutDropsMembersThatDidNotRejoin() {
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        let (_, oc) = h.newMember(at: ms(100))
        let ra = h.join(h.request(a), at: ms(200))
        // B keeps heartbeating (told to rejoin) but never does.
        for t: Int64 in [9_000, 18_000, 27_000] {
            #expect(h.c.heartbeat(groupId: "g", memberId: b, groupInstanceId: nil, generationId: 2, now: ms(t)) == .rebalanceInProgress)
        }
        #expect(h.c.nextDeadline == ms(30_100))
        h.tick(ms(30_099))
        #expect(h.joinCompletion(ra) == nil)
        h.tick(ms(30_100))
        let rA = h.joinCompletion(ra)!, rC = h.joinCompletion(oc)!
        #expect(rA.generationId == 3 && rC.generationId == 3)
        #expect(h.group.member(b) == nil)
        #expect(rA.members.count == 2)
        #expect(h.c.heartbeat(groupId: "g", memberId: b, groupInstanceId: nil, generationId: 3, now: ms(30_100)) == .unknownMemberId)
    }

    @Test func sessionExpiryRemovesMemberAndRebalances() {
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        #expect(h.c.heartbeat(groupId: "g", memberId: a, groupInstanceId: nil, generationId: 2, now: ms(5_000)) == .noError)
        #expect(h.c.nextDeadline == ms(10_000)) // b's session
        h.tick(ms(9_999))
        #expect(h.group.member(b) != nil)
        h.tick(ms(10_000))
        #expect(h.group.member(b) == nil)
        #expect(h.group.state == .preparingRebalance)
        let r = h.joinCompletion(h.join(h.request(a), at: ms(10_001)))
        #expect(r?.generationId == 3 && r?.members.map(\.memberId) == [a])
    }

    @Test func lastMemberExpiringEmptiesGroup() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        _ = h.sync(a, gen: 1, assignments: [(a, [9])])
        h.tick(ms(10_000))
        #expect(h.group.state == .empty)
        #expect(h.group.generationId == 2)
        #expect(h.c.nextDeadline == ms(600_000)) // only the offsets cleanup (which then removes the group)
    }

    @Test func syncTimeoutRemovesMembersThatNeverSynced() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)
        let (b, ob) = h.newMember()
        _ = h.joinCompletion(h.join(h.request(a)))
        _ = h.joinCompletion(ob)
        let sb = h.sync(b, gen: 2)
        #expect(h.c.nextDeadline == ms(10_000)) // sessions do not run while b waits? a's does
        h.tick(ms(10_000)) // a never synced nor heartbeat: its session expires first
        #expect(h.group.member(a) == nil)
        #expect(h.syncCompletion(sb)?.error == .rebalanceInProgress)
    }

    @Test func staticMemberReplacedWithoutRebalance() {
        var h = GroupHarness()
        guard case .immediate(let r1) = h.join(h.request(instance: "i1")) else { Issue.record("static join should complete"); return }
        #expect(r1.error == .noError && r1.memberId.hasPrefix("i1-"))
        _ = h.sync(r1.memberId, gen: 1, assignments: [(r1.memberId, [7])])
        guard case .immediate(let r2) = h.join(h.request(instance: "i1")) else { Issue.record("no rebalance expected"); return }
        #expect(r2.error == .noError)
        #expect(r2.memberId != r1.memberId)
        #expect(r2.generationId == 1)
        #expect(r2.skipAssignment)            // it is the leader
        #expect(h.group.state == .stable)
        #expect(h.group.member(r2.memberId)?.assignment == [7])
        #expect(h.c.heartbeat(groupId: "g", memberId: r1.memberId, groupInstanceId: "i1", generationId: 1, now: .zero) == .fencedInstanceId)
        #expect(h.c.heartbeat(groupId: "g", memberId: r2.memberId, groupInstanceId: "i1", generationId: 1, now: .zero) == .noError)
        // A coordinator taking over knows the replacement, not the fenced id.
        h.c.moveGroup("g", now: ms(1))
        #expect(h.group.memberId(forInstance: "i1") == r2.memberId)
        #expect(h.group.member(r2.memberId)?.assignment == [7])
    }

    @Test func staticMemberWithChangedProtocolsRebalances() {
        var h = GroupHarness()
        guard case .immediate(let r1) = h.join(h.request(instance: "i1")) else { return }
        _ = h.sync(r1.memberId, gen: 1, assignments: [])
        // New subscription metadata alone does not (GroupRebalanceRulesTests); a new selected protocol does.
        let o = h.join(h.request(instance: "i1", protocols: ["sticky"]))
        #expect(h.joinCompletion(o)?.generationId == 2)
    }

    @Test func staticMemberSurvivesRebalanceTimeoutButNotSession() {
        var h = GroupHarness()
        guard case .immediate(let s) = h.join(h.request(instance: "i1")) else { return }
        _ = h.sync(s.memberId, gen: 1, assignments: [])
        let (_, ob) = h.newMember(at: ms(1_000))
        for t: Int64 in [9_000, 18_000, 27_000] {
            _ = h.c.heartbeat(groupId: "g", memberId: s.memberId, groupInstanceId: "i1", generationId: 1, now: ms(t))
        }
        h.tick(ms(31_000))   // rebalance deadline: the static member did not rejoin but stays
        #expect(h.joinCompletion(ob)?.generationId == 2)
        #expect(h.group.member(s.memberId) != nil)
        h.tick(ms(40_999))
        #expect(h.group.member(s.memberId) != nil)
        h.tick(ms(41_000))   // ...until its session (restarted when the join ended) runs out
        #expect(h.group.member(s.memberId) == nil)
    }

    @Test func leaveGroupBatch() {
        var h = GroupHarness()
        guard case .immediate(let s) = h.join(h.request(instance: "i1")) else { return }
        _ = h.sync(s.memberId, gen: 1, assignments: [])
        let errors = h.c.leaveGroup(groupId: "g", members: [.init(memberId: "", groupInstanceId: "i1"),
                                                           .init(memberId: "ghost", groupInstanceId: nil),
                                                           .init(memberId: "x", groupInstanceId: "i2")], now: .zero)
        #expect(errors == [.noError, .unknownMemberId, .unknownMemberId])
        #expect(h.group.state == .empty)
        #expect(h.c.leaveGroup(groupId: "nope", members: [.init(memberId: "a")], now: .zero) == [.unknownMemberId])
    }

    @Test func leaveWithWrongInstanceIsFenced() {
        var h = GroupHarness()
        guard case .immediate(let s) = h.join(h.request(instance: "i1")) else { return }
        #expect(h.c.leaveGroup(groupId: "g", members: [.init(memberId: "other", groupInstanceId: "i1")], now: .zero) == [.fencedInstanceId])
        #expect(h.group.member(s.memberId) != nil)
    }

    @Test func leaveTriggersRebalanceForTheRest() {
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        #expect(h.c.leaveGroup(groupId: "g", members: [.init(memberId: b)], now: .zero) == [.noError])
        #expect(h.group.state == .preparingRebalance)
        #expect(h.joinCompletion(h.join(h.request(a)))?.generationId == 3)
    }

    @Test func protocolSelectionAndConsistency() {
        var h = GroupHarness()
        let (a, oa) = h.newMember(protocols: ["sticky", "range"])
        _ = h.joinCompletion(oa)
        let (_, ob) = h.newMember(protocols: ["range", "sticky"])
        let (_, oc) = h.newMember(protocols: ["range"])
        let ra = h.join(h.request(a, protocols: ["sticky", "range"]))
        _ = h.joinCompletion(ob); _ = h.joinCompletion(oc)
        // "range" is the only common protocol.
        #expect(h.joinCompletion(ra)?.protocolName == "range")
        guard case .immediate(let bad) = h.join(h.request(protocols: ["roundrobin"])) else { return }
        #expect(bad.error == .inconsistentGroupProtocol)
        guard case .immediate(let badType) = h.join(h.request(protocols: ["range"], type: "connect")) else { return }
        #expect(badType.error == .inconsistentGroupProtocol)
    }

    @Test func votesPickMostPreferred() {
        var g = ClassicGroup(groupId: "g")
        func m(_ id: String, _ p: [String]) -> ClassicGroup.Member {
            .init(memberId: id, clientId: "c", clientHost: "h", sessionTimeoutMs: 1, rebalanceTimeoutMs: 1,
                  protocolType: "consumer", protocols: p.map { .init(name: $0, metadata: []) }, lastHeartbeat: .zero)
        }
        g.add(m("1", ["a", "b"]))
        g.add(m("2", ["b", "a"]))
        g.add(m("3", ["b", "a"]))
        #expect(g.selectProtocol() == "b")
        var tie = ClassicGroup(groupId: "g")
        tie.add(m("1", ["a", "b"]))
        tie.add(m("2", ["b", "a"]))
        #expect(tie.selectProtocol() == "a")
    }

    @Test func invalidJoins() {
        var h = GroupHarness()
        var r = h.request()
        r.groupId = ""
        #expect(h.join(r) == .immediate(.init(error: .invalidGroupId)))
        #expect(h.join(h.request(session: 100)) == .immediate(.init(error: .invalidSessionTimeout)))
        #expect(h.join(h.request("someone")) == .immediate(.init(error: .unknownMemberId, memberId: "someone")))
    }

    @Test func movedGroupWithoutPersistedStateStartsEmpty() {
        var h = GroupHarness()
        let (a, oa) = h.newMember()
        _ = h.joinCompletion(oa)                  // CompletingRebalance: nothing persisted yet
        h.c.moveGroup("g", now: ms(5))
        #expect(h.group.state == .empty && h.group.isEmpty && h.group.generationId == 0)
        #expect(h.c.heartbeat(groupId: "g", memberId: a, groupInstanceId: nil, generationId: 1, now: ms(5)) == .unknownMemberId)
    }

    @Test func initialRebalanceDelay() {
        var h = GroupHarness()
        h.c.config.initialRebalanceDelayMs = 3_000
        let (_, oa) = h.newMember()
        guard case .parked = oa else { Issue.record("should wait for the initial delay"); return }
        #expect(h.c.nextDeadline == ms(3_000))
        h.tick(ms(3_000))
        #expect(h.joinCompletion(oa)?.generationId == 1)
    }
}
