import Testing
@testable import KafkaStateMachines

/// Transcripts of the group member sub-machine: inputs (answers from the coordinator, the
/// driver's answers, time) -> outputs (requests, fetcher inputs, events). One rule per test.
@Suite struct GroupMemberTests {
    struct Run {
        var m: GroupMember
        var now = Instant.zero
        var context: ComponentContext

        init(_ config: GroupConfig = GroupMemberTests.config()) {
            m = GroupMember(config, seed: 1)
            context = ComponentContext(metadata: FetcherTests.metadata(leaders: [1, 2, 1, 2], epochs: [5, 5, 5, 5]),
                                       brokerVersions: [:], isClosed: false, lastTick: nil)
        }

        mutating func step() -> [ComponentOutput] {
            var out: [ComponentOutput] = []
            m.run(context: context, now: now, into: &out)
            return out
        }

        mutating func answer(_ tag: UInt64, _ r: any KafkaResponse) -> [ComponentOutput] {
            m.answered(tag, .success(r), context: context, now: now)
            return step()
        }

        mutating func at(_ ms: UInt64) -> [ComponentOutput] {
            now = .milliseconds(ms)
            _ = m.tick(context: context, now: now)
            return step()
        }
    }

    static func config(instance: String? = nil, balancer: any GroupBalancer = RangeBalancer()) -> GroupConfig {
        var c = GroupConfig(groupId: "g", instanceId: instance, subscription: TopicSubscription(topics: ["t"]), balancers: [balancer])
        c.sessionTimeout = .seconds(10)
        c.heartbeatInterval = .seconds(1)
        c.autocommitInterval = .seconds(5)
        return c
    }

    static func sent<R: KafkaRequest>(_ o: [ComponentOutput], _: R.Type) -> [(tag: UInt64, request: R)] {
        o.compactMap {
            guard case .send(let r) = $0, let req = r.request as? R else { return nil }
            #expect(r.target == .groupCoordinator("g"))
            return (r.tag, req)
        }
    }

    static func events(_ o: [ComponentOutput]) -> [GroupEvent] {
        o.compactMap { if case .action(.group(let e)) = $0 { return e } else { return nil } }
    }

    static func inputs(_ o: [ComponentOutput]) -> [EngineInput] {
        o.compactMap { if case .input(let i) = $0 { return i } else { return nil } }
    }

    static func join(_ code: KafkaErrorCode = .noError, member: String = "m1", leader: String = "m1", generation: Int32 = 1,
                     members: [(String, [String])] = [("m1", ["t"])]) -> JoinGroupResponse {
        var r = JoinGroupResponse()
        r.errorCode = code.rawValue
        r.memberId = member
        r.leader = leader
        r.generationId = generation
        r.protocolType = "consumer"
        r.protocolName = "range"
        r.members = members.map { id, topics in
            var m = JoinGroupResponse.JoinGroupResponseMember()
            m.memberId = id
            m.metadata = try! ConsumerProtocol.encodeSubscription(topics: topics, userData: nil, owned: [], generation: -1, rack: nil)
            return m
        }
        return r
    }

    static func sync(_ parts: [TopicPartition], code: KafkaErrorCode = .noError) -> SyncGroupResponse {
        var r = SyncGroupResponse()
        r.errorCode = code.rawValue
        r.protocolType = "consumer"
        r.protocolName = "range"
        r.assignment = try! ConsumerProtocol.encodeAssignment(partitions: parts, userData: nil)
        return r
    }

    static func offsets(_ committed: [Int32: Int64]) -> OffsetFetchResponse {
        var r = OffsetFetchResponse()
        var t = OffsetFetchResponse.OffsetFetchResponseTopic()
        t.name = "t"
        t.partitions = committed.keys.sorted().map { p in
            var x = OffsetFetchResponse.OffsetFetchResponsePartition()
            x.partitionIndex = p
            x.committedOffset = committed[p]!
            return x
        }
        r.topics = [t]
        return r
    }

    static func heartbeat(_ code: KafkaErrorCode) -> HeartbeatResponse {
        var r = HeartbeatResponse()
        r.errorCode = code.rawValue
        return r
    }

    static let tp = (0 ..< 4).map { TopicPartition("t", Int32($0)) }

    /// Joins as the only member (leader) and takes all four partitions; returns the run.
    static func stable() -> Run {
        var run = Run()
        let j = sent(run.step(), JoinGroupRequest.self)
        let s = sent(run.answer(j[0].tag, join()), SyncGroupRequest.self)
        let o = run.answer(s[0].tag, sync(tp))
        let f = sent(o, OffsetFetchRequest.self)
        _ = run.answer(f[0].tag, offsets([0: 7, 1: -1, 2: 3, 3: -1]))
        return run
    }

    @Test func memberIdRequiredJoinsAgainAtOnceWithTheGivenId() {
        var run = Run()
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        #expect(j.count == 1 && j[0].request.memberId == "" && j[0].request.protocolType == "consumer")
        #expect(j[0].request.protocols.map(\.name) == ["range"])
        let again = Self.sent(run.answer(j[0].tag, Self.join(.memberIdRequired, member: "m-given")), JoinGroupRequest.self)
        #expect(again.count == 1 && again[0].request.memberId == "m-given")
    }

    @Test func theLeaderBalancesSyncsAndFetchesCommittedOffsets() {
        var run = Run()
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        let out = run.answer(j[0].tag, Self.join(members: [("m1", ["t"]), ("m2", ["t"])]))
        let s = Self.sent(out, SyncGroupRequest.self)
        #expect(s.count == 1 && s[0].request.generationId == 1 && s[0].request.assignments.count == 2)
        let plans = s[0].request.assignments.map { (try? ConsumerProtocol.decodeAssignment($0.assignment).partitions) ?? [] }
        #expect(Set(plans.flatMap { $0 }) == Set(Self.tp) && plans.allSatisfy { $0.count == 2 })
        let mine = plans[0]
        let o = run.answer(s[0].tag, Self.sync(mine))
        #expect(Self.events(o).contains { if case .joined("m1", 1, true, "range") = $0 { return true } else { return false } })
        let f = Self.sent(o, OffsetFetchRequest.self)
        #expect(f.count == 1 && f[0].request.requireStable)
        let a = run.answer(f[0].tag, Self.offsets([mine[0].partition: 7, mine[1].partition: -1]))
        #expect(Self.inputs(a) == [.assign([mine[0]: .exact(7), mine[1]: .start])])
    }

    @Test func heartbeatsRunOnTheClockAndARebalanceMakesAnEagerMemberRevokeFirst() {
        var run = Self.stable()
        let h = Self.sent(run.at(1_000), HeartbeatRequest.self)
        #expect(h.count == 1 && h[0].request.generationId == 1 && h[0].request.memberId == "m1")
        let out = run.answer(h[0].tag, Self.heartbeat(.rebalanceInProgress))
        // Eager: everything is given up before joining again; the join waits for the driver.
        #expect(Self.inputs(out) == [.unassign(Self.tp)])
        guard case .revoking(let id, let parts)? = Self.events(out).first else { Issue.record("no revocation"); return }
        #expect(parts == Self.tp)
        #expect(Self.sent(out, JoinGroupRequest.self).isEmpty)
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 9)])
        run.m.revocationHandled(id)
        let c = Self.sent(run.step(), OffsetCommitRequest.self)
        #expect(c.count == 1 && c[0].request.generationIdOrMemberEpoch == 1)
        #expect(c[0].request.topics.first?.partitions.map(\.committedOffset) == [9])
        var ok = OffsetCommitResponse()
        var t = OffsetCommitResponse.OffsetCommitResponseTopic()
        t.name = "t"
        var p = OffsetCommitResponse.OffsetCommitResponsePartition()
        p.partitionIndex = 0
        t.partitions = [p]
        ok.topics = [t]
        let after = run.answer(c[0].tag, ok)
        let rejoin = Self.sent(after, JoinGroupRequest.self)
        #expect(rejoin.count == 1 && rejoin[0].request.memberId == "m1")
    }

    @Test func illegalGenerationLosesThePartitionsWithoutCommitting() {
        var run = Self.stable()
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 9)])
        let h = Self.sent(run.at(1_000), HeartbeatRequest.self)
        let out = run.answer(h[0].tag, Self.heartbeat(.illegalGeneration))
        #expect(Self.inputs(out) == [.unassign(Self.tp)])
        #expect(Self.events(out).contains { if case .lost(Self.tp) = $0 { return true } else { return false } })
        #expect(Self.sent(out, OffsetCommitRequest.self).isEmpty)
        #expect(Self.sent(out, JoinGroupRequest.self).count == 1)
    }

    @Test func fencedInstanceIdEndsTheMembership() {
        var run = Self.stable()
        let h = Self.sent(run.at(1_000), HeartbeatRequest.self)
        let out = run.answer(h[0].tag, Self.heartbeat(.fencedInstanceId))
        #expect(Self.events(out).contains { if case .failed(.broker(.fencedInstanceId, _)) = $0 { return true } else { return false } })
        #expect(!run.m.isActive)
        #expect(Self.sent(run.at(20_000), JoinGroupRequest.self).isEmpty)
    }

    @Test func aCommitRefusedForAnEndedGenerationIsReportedNotRetried() {
        var run = Self.stable()
        run.m.commit([Self.tp[2]: CommitPosition(offset: 5)], promise: PromiseID(4), now: run.now)
        let c = Self.sent(run.step(), OffsetCommitRequest.self)
        #expect(c.count == 1)
        var r = OffsetCommitResponse()
        var t = OffsetCommitResponse.OffsetCommitResponseTopic()
        t.name = "t"
        var p = OffsetCommitResponse.OffsetCommitResponsePartition()
        p.partitionIndex = 2
        p.errorCode = KafkaErrorCode.illegalGeneration.rawValue
        t.partitions = [p]
        r.topics = [t]
        let out = run.answer(c[0].tag, r)
        let reports = Self.events(out).compactMap { e -> CommitReport? in if case .committed(let c) = e { return c } else { return nil } }
        #expect(reports.count == 1 && reports[0].promise == PromiseID(4) && reports[0].failed[Self.tp[2]] != nil)
        #expect(Self.sent(out, OffsetCommitRequest.self).isEmpty)
        #expect(Self.sent(out, JoinGroupRequest.self).count == 1)
    }

    /// A transactional member whose user reports positions of records polled in the last
    /// generation while the new one's committed offsets are still being fetched (records
    /// held through an eager rebalance, their transaction then aborted): those positions
    /// are not this ownership's, so the next transaction must not carry them. Found as
    /// group-eos-think-random seed 2208859191085 (one transaction's records lost while a
    /// later transaction on another partition committed the stale position past them).
    @Test func positionsReportedBeforeTheCommittedOffsetsArriveAreNotCommitted() {
        var c = Self.config()
        c.transactional = true
        c.autocommitInterval = nil
        var run = Run(c)
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        let s = Self.sent(run.answer(j[0].tag, Self.join()), SyncGroupRequest.self)
        let f = Self.sent(run.answer(s[0].tag, Self.sync(Self.tp)), OffsetFetchRequest.self)
        _ = run.answer(f[0].tag, Self.offsets([0: 7, 1: 0, 2: 3, 3: 0]))
        // An eager rebalance: everything revoked, then rejoined and assigned again.
        let h = Self.sent(run.at(1_000), HeartbeatRequest.self)
        let out = run.answer(h[0].tag, Self.heartbeat(.rebalanceInProgress))
        guard case .revoking(let id, _)? = Self.events(out).first else { Issue.record("no revocation"); return }
        run.m.revocationHandled(id)
        let j2 = Self.sent(run.step(), JoinGroupRequest.self)
        let s2 = Self.sent(run.answer(j2[0].tag, Self.join(generation: 2)), SyncGroupRequest.self)
        let f2 = Self.sent(run.answer(s2[0].tag, Self.sync(Self.tp)), OffsetFetchRequest.self)
        #expect(f2.count == 1)
        // The user's hand from generation 1 (records 7..10 of partition 0) goes into a
        // transaction, which aborts (rebalanced), while the offsets are still being fetched.
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 11)])
        run.m.transactionEnded(committed: false, offsets: [:])
        _ = run.answer(f2[0].tag, Self.offsets([0: 7, 1: 0, 2: 3, 3: 0]))
        // The next transaction copies partition 2 only: partition 0's stale 11 must not ride along.
        run.m.noteConsumed([Self.tp[2]: CommitPosition(offset: 5)])
        #expect(run.m.transactionOffsets?.offsets == [Self.tp[2]: CommitPosition(offset: 5)])
    }

    /// A JoinGroup that failed before reaching the coordinator because the lookup was refused
    /// for the group (not authorized) ends the membership: no retry can change that.
    @Test func aGroupRefusedAtTheCoordinatorLookupFailsTheMember() {
        var run = Run()
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        run.m.answered(j[0].tag, .failure(.brokerError(.groupAuthorizationFailed, message: nil)), context: run.context, now: run.now)
        let out = run.step()
        #expect(Self.events(out).contains { if case .failed(.broker(.groupAuthorizationFailed, _)) = $0 { return true } else { return false } })
        #expect(Self.sent(run.at(10_000), JoinGroupRequest.self).isEmpty)
    }

    @Test func autocommitSendsOnlyWhatMovedEveryInterval() {
        var run = Self.stable()
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 7), Self.tp[2]: CommitPosition(offset: 10)])
        #expect(Self.sent(run.at(4_900), OffsetCommitRequest.self).isEmpty)
        let c = Self.sent(run.at(5_000), OffsetCommitRequest.self)
        // Partition 0 was found committed at 7: unchanged, not sent again.
        #expect(c.count == 1 && c[0].request.topics.first?.partitions.map(\.partitionIndex) == [2])
    }

    @Test func aStaticMemberLeavesWithoutLeaveGroup() {
        var c = Self.config(instance: "i-1")
        c.commitOnRevoke = false
        c.autocommitInterval = nil
        var run = Run(c)
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        #expect(j[0].request.groupInstanceId == "i-1")
        let s = Self.sent(run.answer(j[0].tag, Self.join()), SyncGroupRequest.self)
        _ = run.answer(s[0].tag, Self.sync([]))
        run.m.leave(PromiseID(9), now: run.now)
        let out = run.step()
        #expect(Self.sent(out, LeaveGroupRequest.self).isEmpty)
        #expect(Self.events(out).contains { if case .left(PromiseID(9)) = $0 { return true } else { return false } })
    }

    @Test func aDynamicMemberCommitsThenLeaves() {
        var run = Self.stable()
        run.m.noteConsumed([Self.tp[1]: CommitPosition(offset: 4)])
        run.m.leave(PromiseID(9), now: run.now)
        let out = run.step()
        guard case .revoking(let id, _)? = Self.events(out).first else { Issue.record("no revocation"); return }
        run.m.revocationHandled(id)
        let c = Self.sent(run.step(), OffsetCommitRequest.self)
        #expect(c.count == 1)
        var r = OffsetCommitResponse()
        r.topics = []
        let l = Self.sent(run.answer(c[0].tag, r), LeaveGroupRequest.self)
        #expect(l.count == 1 && l[0].request.members.map(\.memberId) == ["m1"])
        let done = run.answer(l[0].tag, LeaveGroupResponse())
        #expect(Self.events(done).contains { if case .left(PromiseID(9)) = $0 { return true } else { return false } })
    }

    /// KIP-814: a static leader rejoining a stable group is told to skip the assignment. It
    /// reads the plan in force with DescribeGroups and starts a new generation when that
    /// plan leaves a partition its metadata knows owned by nobody (added while it was away),
    /// and not when the plan covers every partition.
    @Test(arguments: [false, true]) func aStaticLeaderSkippingTheAssignmentChecksThePlanInForce(planMissesOne: Bool) {
        var run = Run(Self.config(instance: "i-1"))
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        var r = Self.join(members: [("m1", ["t"]), ("m2", ["t"])])
        r.skipAssignment = true
        let out = run.answer(j[0].tag, r)
        let s = Self.sent(out, SyncGroupRequest.self)
        #expect(s.count == 1 && s[0].request.assignments.isEmpty)
        let d = Self.sent(out, DescribeGroupsRequest.self)
        #expect(d.count == 1 && d[0].request.groups == ["g"])
        guard d.count == 1 else { return }
        _ = run.answer(s[0].tag, Self.sync([Self.tp[0], Self.tp[1]]))
        #expect(run.m.step == .stable)

        var g = DescribeGroupsResponse.DescribedGroup()
        g.groupId = "g"
        g.groupState = "Stable"
        let plan: [(String, [TopicPartition])] = [("m1", [Self.tp[0], Self.tp[1]]),
                                                  ("m2", planMissesOne ? [Self.tp[2]] : [Self.tp[2], Self.tp[3]])]
        g.members = plan.map { id, parts in
            var m = DescribeGroupsResponse.DescribedGroupMember()
            m.memberId = id
            m.memberAssignment = try! ConsumerProtocol.encodeAssignment(partitions: parts, userData: nil)
            return m
        }
        var described = DescribeGroupsResponse()
        described.groups = [g]
        let after = run.answer(d[0].tag, described)
        let rejoining = run.m.step == .needJoin
            || Self.events(after).contains { if case .revoking = $0 { return true } else { return false } }
        #expect(rejoining == planMissesOne)
    }

    /// A topic not subscribed to is dropped (with a warning); a partition past the count this
    /// member's metadata knows is kept (it was most likely just added, and the leader saw it
    /// first) and the metadata is refreshed at once.
    @Test func anAssignmentNamingUnknownPartitionsKeepsOnlyTheValidOnes() {
        var run = Run()
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        let s = Self.sent(run.answer(j[0].tag, Self.join(leader: "other")), SyncGroupRequest.self)
        #expect(s[0].request.assignments.isEmpty)
        let out = run.answer(s[0].tag, Self.sync([TopicPartition("t", 1), TopicPartition("t", 99), TopicPartition("nope", 0)]))
        #expect(Self.events(out).contains { if case .warning = $0 { return true } else { return false } })
        #expect(run.m.owned == [TopicPartition("t", 1), TopicPartition("t", 99)])
        #expect(out.contains { if case .metadata(_, .urgent) = $0 { return true } else { return false } })
        var garbage = Self.sync([])
        garbage.assignment = [0, 3, 0xff, 0xff, 0xff]
        var run2 = Run()
        let j2 = Self.sent(run2.step(), JoinGroupRequest.self)
        let s2 = Self.sent(run2.answer(j2[0].tag, Self.join(leader: "other")), SyncGroupRequest.self)
        let out2 = run2.answer(s2[0].tag, garbage)
        #expect(Self.events(out2).contains { if case .warning = $0 { return true } else { return false } })
        #expect(run2.m.owned.isEmpty && run2.m.isActive)
    }

    @Test func noHeartbeatForASessionMeansThePartitionsAreLost() {
        var run = Self.stable()
        let h = Self.sent(run.at(1_000), HeartbeatRequest.self)
        run.m.answered(h[0].tag, .failure(.requestTimeout(apiKey: .heartbeat, broker: .node(1))), context: run.context, now: run.now)
        var lost = false
        var t: UInt64 = 1_000
        while t < 12_000 && !lost {
            t += 1_000
            let out = run.at(t)
            for x in Self.sent(out, HeartbeatRequest.self) { run.m.answered(x.tag, .failure(.requestTimeout(apiKey: .heartbeat, broker: .node(1))), context: run.context, now: run.now) }
            lost = Self.events(out).contains { if case .lost = $0 { return true } else { return false } }
        }
        #expect(lost && t == 10_000)
    }

    /// Cooperative (KIP-429): a new assignment that takes partitions away revokes only
    /// those, keeps fetching the rest, then joins again with what it still owns.
    @Test func cooperativeRevokesOnlyWhatMovesThenRejoins() {
        var run = Run(Self.config(balancer: CooperativeStickyBalancer()))
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        var jr = Self.join(leader: "other")
        jr.protocolName = "cooperative-sticky"
        let s = Self.sent(run.answer(j[0].tag, jr), SyncGroupRequest.self)
        var sr = Self.sync(Self.tp)
        sr.protocolName = nil
        let f = Self.sent(run.answer(s[0].tag, sr), OffsetFetchRequest.self)
        _ = run.answer(f[0].tag, Self.offsets([0: 1, 1: 1, 2: 1, 3: 1]))
        // A rebalance: the next generation gives this member only partitions 0 and 1.
        let h = Self.sent(run.at(1_000), HeartbeatRequest.self)
        let out = run.answer(h[0].tag, Self.heartbeat(.rebalanceInProgress))
        #expect(Self.inputs(out).isEmpty, "cooperative members keep fetching while they rejoin")
        let j2 = Self.sent(out, JoinGroupRequest.self)
        #expect(j2.count == 1)
        let sub = try? ConsumerProtocol.decodeSubscription(memberId: "m1", instanceId: nil, bytes: j2[0].request.protocols[0].metadata)
        #expect(sub?.ownedPartitions == Self.tp && sub?.generation == 1)
        var jr2 = Self.join(leader: "other", generation: 2)
        jr2.protocolName = "cooperative-sticky"
        let s2 = Self.sent(run.answer(j2[0].tag, jr2), SyncGroupRequest.self)
        let o2 = run.answer(s2[0].tag, sr.with(Array(Self.tp.prefix(2))))
        #expect(Self.inputs(o2) == [.unassign(Array(Self.tp.suffix(2)))])
        guard case .revoking(let id, let parts)? = Self.events(o2).first(where: { if case .revoking = $0 { return true } else { return false } }) else {
            Issue.record("no revocation"); return
        }
        #expect(parts == Array(Self.tp.suffix(2)))
        #expect(run.m.owned == Array(Self.tp.prefix(2)))
        run.m.revocationHandled(id)
        // Nothing consumed of them since the committed offsets: no commit; the rejoin follows.
        let after = run.step()
        #expect(Self.sent(after, OffsetCommitRequest.self).isEmpty)
        let j3 = Self.sent(after, JoinGroupRequest.self)
        #expect(j3.count == 1)
    }

    /// LeaveGroup takes the coordinator's form: v0-2 name the member at the top.
    @Test func leaveGroupUsesTheOldFormForOldCoordinators() {
        var c = Self.config()
        c.commitOnRevoke = false
        c.autocommitInterval = nil
        var run = Run(c)
        run.context.coordinators.set(CoordinatorKey(.group, "g"), .init(nodeId: 1, address: BrokerAddress(host: "b1", port: 9092)))
        run.context.brokerVersions[.node(1)] = BrokerVersions([(key: .leaveGroup, range: 0 ... 2), (key: .joinGroup, range: 0 ... 4),
                                                               (key: .syncGroup, range: 0 ... 2), (key: .heartbeat, range: 0 ... 2)])
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        let s = Self.sent(run.answer(j[0].tag, Self.join(leader: "other")), SyncGroupRequest.self)
        #expect(s[0].request.protocolType == nil && s[0].request.protocolName == nil)
        _ = run.answer(s[0].tag, Self.sync([]))
        run.m.leave(PromiseID(3), now: run.now)
        let out = run.step()
        guard case .send(let r)? = out.first(where: { if case .send = $0 { return true } else { return false } }),
              let l = r.request as? LeaveGroupRequest else { Issue.record("no LeaveGroup"); return }
        #expect(l.memberId == "m1" && l.members.isEmpty && r.pin == 0 ... 2)
    }

    /// Static membership needs JoinGroup v5: an older coordinator ends the membership by name.
    @Test func staticMembershipOnAnOldCoordinatorFailsClearly() {
        var run = Run(Self.config(instance: "i-1"))
        run.context.coordinators.set(CoordinatorKey(.group, "g"), .init(nodeId: 1, address: BrokerAddress(host: "b1", port: 9092)))
        run.context.brokerVersions[.node(1)] = BrokerVersions([(key: .joinGroup, range: 0 ... 4)])
        let out = run.step()
        #expect(Self.sent(out, JoinGroupRequest.self).isEmpty)
        #expect(Self.events(out).contains { if case .failed(.invalidConfiguration(let why)) = $0 { return why.contains("v5") } else { return false } })
    }
}

extension GroupMemberTests {
    /// KIP-881: the leader hands the balancer each partition's replica racks from metadata,
    /// so rack-aware range gives each member the partitions with a replica in its rack.
    @Test func theLeaderPassesReplicaRacksToTheBalancer() throws {
        var c = Self.config()
        c.rack = "b"
        var run = Run(c)
        var md = MetadataResponse()
        md.brokers = [(Int32(1), "a"), (Int32(2), "b")].map { id, rack in
            var b = MetadataResponse.MetadataResponseBroker()
            b.nodeId = id
            b.host = "b\(id)"
            b.port = 9092
            b.rack = rack
            return b
        }
        var t = MetadataResponse.MetadataResponseTopic()
        t.name = "t"
        t.partitions = (0 ..< 4).map { i in
            var p = MetadataResponse.MetadataResponsePartition()
            p.partitionIndex = Int32(i)
            p.leaderId = i < 2 ? 1 : 2
            p.replicaNodes = [i < 2 ? 1 : 2]
            return p
        }
        md.topics = [t]
        var cache = MetadataCache()
        cache.apply(md, now: .zero)
        #expect(cache.partitionRacks[TopicPartition("t", 0)] == ["a"] && cache.partitionRacks[TopicPartition("t", 3)] == ["b"])
        run.context.metadata = cache
        let j = Self.sent(run.step(), JoinGroupRequest.self)
        var jr = Self.join(members: [])
        jr.members = [("m1", "b"), ("m2", "a")].map { id, rack in
            var m = JoinGroupResponse.JoinGroupResponseMember()
            m.memberId = id
            m.metadata = try! ConsumerProtocol.encodeSubscription(topics: ["t"], userData: nil, owned: [], generation: -1, rack: rack)
            return m
        }
        let s = Self.sent(run.answer(j[0].tag, jr), SyncGroupRequest.self)
        let plan = try s[0].request.assignments.map { try ConsumerProtocol.decodeAssignment($0.assignment).partitions.map(\.partition) }
        // Without racks, range would give m1 partitions 0 and 1.
        #expect(plan == [[2, 3], [0, 1]])
    }
}

extension SyncGroupResponse {
    func with(_ parts: [TopicPartition]) -> SyncGroupResponse {
        var r = self
        r.assignment = try! ConsumerProtocol.encodeAssignment(partitions: parts, userData: nil)
        return r
    }
}
