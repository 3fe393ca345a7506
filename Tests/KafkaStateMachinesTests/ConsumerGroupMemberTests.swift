import Testing
@testable import KafkaStateMachines

/// Transcripts of the group member speaking the consumer group protocol (KIP-848): the
/// coordinator is scripted here by its ConsumerGroupHeartbeat answers (member epoch,
/// heartbeat interval, target assignment by topic id), as the KIP and Kafka's message
/// definitions describe them. Inputs -> outputs (requests, fetcher inputs, events).
@Suite struct ConsumerGroupMemberTests {
    typealias G = GroupMemberTests
    typealias Heartbeat = ConsumerGroupHeartbeatRequest

    static let tId = KafkaUUID(high: 1, low: 1)
    static let uId = KafkaUUID(high: 2, low: 2)
    static let tp = (0 ..< 4).map { TopicPartition("t", Int32($0)) }

    typealias Run = GroupMemberTests.Run

    static func metadata(_ topics: [(String, KafkaUUID, Int)] = [("t", tId, 4)]) -> MetadataCache {
        var r = MetadataResponse()
        r.brokers = [Int32(1), 2].map { id in
            var b = MetadataResponse.MetadataResponseBroker()
            b.nodeId = id
            b.host = "b\(id)"
            b.port = 9092
            return b
        }
        r.topics = topics.map { name, id, count in
            var t = MetadataResponse.MetadataResponseTopic()
            t.name = name
            t.topicId = id
            t.partitions = (0 ..< count).map { i in
                var p = MetadataResponse.MetadataResponsePartition()
                p.partitionIndex = Int32(i)
                p.leaderId = Int32(i % 2) + 1
                return p
            }
            return t
        }
        var m = MetadataCache()
        m.apply(r, now: .zero)
        return m
    }

    static func config(instance: String? = nil, topics: [String] = ["t"], patterns: [String] = []) -> GroupConfig {
        var c = GroupConfig(groupId: "g", instanceId: instance, subscription: TopicSubscription(topics: topics, patterns: patterns), balancers: [])
        c.groupProtocol = .consumer
        c.sessionTimeout = .seconds(45)
        c.heartbeatInterval = .seconds(3)
        c.autocommitInterval = nil
        return c
    }

    static func response(_ code: KafkaErrorCode = .noError, member: String? = nil, epoch: Int32, interval: Int32 = 2_000,
                         assignment: [(KafkaUUID, [Int32])]? = nil) -> ConsumerGroupHeartbeatResponse {
        var r = ConsumerGroupHeartbeatResponse()
        r.errorCode = code.rawValue
        r.memberId = member
        r.memberEpoch = epoch
        r.heartbeatIntervalMs = interval
        if let assignment {
            var a = ConsumerGroupHeartbeatResponse.Assignment()
            a.topicPartitions = assignment.map { id, parts in
                var t = ConsumerGroupHeartbeatResponse.TopicPartitions()
                t.topicId = id
                t.partitions = parts
                return t
            }
            r.assignment = a
        }
        return r
    }

    static func sentRequests(_ o: [ComponentOutput]) -> [ComponentRequest] {
        o.compactMap { if case .send(let r) = $0 { return r } else { return nil } }
    }

    /// The owned list a heartbeat reports, by topic id (nil: unchanged).
    static func owned(_ h: Heartbeat) -> [KafkaUUID: [Int32]]? {
        h.topicPartitions.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.topicId, $0.partitions) }) }
    }

    static func commitOK(_ parts: [TopicPartition]) -> OffsetCommitResponse {
        var r = OffsetCommitResponse()
        var t = OffsetCommitResponse.OffsetCommitResponseTopic()
        t.name = "t"
        t.partitions = parts.map { tp in
            var p = OffsetCommitResponse.OffsetCommitResponsePartition()
            p.partitionIndex = tp.partition
            return p
        }
        r.topics = [t]
        return r
    }

    /// Joins (epoch 0 -> `epoch`), is given `parts` of t, acknowledges them and takes them
    /// (committed offsets all 5). Now = 0; the next heartbeat is due at 2 s.
    static func stable(_ parts: [Int32] = [0, 1], epoch: Int32 = 1, config: GroupConfig = ConsumerGroupMemberTests.config()) -> (Run, String) {
        var run = Run(consumer: config)
        let j = G.sent(run.step(), Heartbeat.self)
        let id = j[0].request.memberId
        let ack = G.sent(run.answer(j[0].tag, response(member: id, epoch: epoch, assignment: [(tId, parts)])), Heartbeat.self)
        let f = G.sent(run.answer(ack[0].tag, response(epoch: epoch)), OffsetFetchRequest.self)
        _ = run.answer(f[0].tag, G.offsets(Dictionary(uniqueKeysWithValues: parts.map { ($0, Int64(5)) })))
        return (run, id)
    }

    /// The first heartbeat carries epoch 0 and every field; the answer's assignment is
    /// acknowledged at once with the owned list (only what changed), and only once that is
    /// answered are the partitions taken: committed offsets fetched, then fetching starts.
    @Test func joinsAtEpochZeroThenAcknowledgesAndTakesTheAssignment() {
        var c = Self.config()
        c.rack = "r1"
        c.serverAssignor = "uniform"
        var run = Run(consumer: c)
        let out = run.step()
        let j = G.sent(out, Heartbeat.self)
        #expect(j.count == 1 && G.sent(out, JoinGroupRequest.self).isEmpty)
        let first = j[0].request
        #expect(first.memberEpoch == 0 && first.memberId.count == 22, "a client-generated UUID (KIP-1082)")
        #expect(first.subscribedTopicNames == ["t"] && first.subscribedTopicRegex == nil)
        #expect(first.rebalanceTimeoutMs == 60_000 && first.serverAssignor == "uniform" && first.rackId == "r1")
        #expect(first.topicPartitions?.isEmpty == true && first.instanceId == nil)
        let req = Self.sentRequests(out)[0]
        #expect(req.maxRetries == 0 && req.target == .groupCoordinator("g"))
        #expect(req.pin == 1 ... 1, "an id of our own goes to a v1+ coordinator only (its version is not known yet)")

        let joined = run.answer(j[0].tag, Self.response(member: first.memberId, epoch: 1, assignment: [(Self.tId, [0, 1])]))
        #expect(G.events(joined).contains { if case .joined(first.memberId, 1, false, "consumer") = $0 { return true } else { return false } })
        #expect(G.sent(joined, OffsetFetchRequest.self).isEmpty && G.inputs(joined).isEmpty, "not taken before the acknowledgement is answered")
        let ack = G.sent(joined, Heartbeat.self)
        #expect(ack.count == 1)
        let a = ack[0].request
        #expect(a.memberEpoch == 1 && a.memberId == first.memberId && Self.owned(a) == [Self.tId: [0, 1]])
        #expect(a.subscribedTopicNames == nil && a.rackId == nil && a.rebalanceTimeoutMs == -1 && a.serverAssignor == nil,
                "unchanged fields are null")

        let taken = run.answer(ack[0].tag, Self.response(epoch: 1))
        let f = G.sent(taken, OffsetFetchRequest.self)
        #expect(f.count == 1 && f[0].request.topics?.first?.partitionIndexes == [0, 1])
        let assigned = run.answer(f[0].tag, G.offsets([0: 7, 1: -1]))
        #expect(G.inputs(assigned) == [.assign([Self.tp[0]: .exact(7), Self.tp[1]: .start])])
        #expect(G.events(assigned).contains { if case .assigned([Self.tp[0], Self.tp[1]], generation: 1) = $0 { return true } else { return false } })
        #expect(run.m.generation == 1 && run.m.memberId == first.memberId)
    }

    /// The member id comes from the engine's seeded generator: the same seed, the same id.
    @Test func theMemberIdIsDrawnFromTheSeed() {
        var a = Run(consumer: Self.config(), seed: 7), b = Run(consumer: Self.config(), seed: 7), c = Run(consumer: Self.config(), seed: 8)
        let ida = G.sent(a.step(), Heartbeat.self)[0].request.memberId
        #expect(ida == G.sent(b.step(), Heartbeat.self)[0].request.memberId)
        #expect(ida != G.sent(c.step(), Heartbeat.self)[0].request.memberId)
    }

    /// v0 coordinators name the member: the first heartbeat goes with an empty id and the
    /// answer's id is used from then on.
    @Test func aVersionZeroCoordinatorNamesTheMember() {
        var run = Run(consumer: Self.config())
        run.coordinator(heartbeat: 0 ... 0)
        let j = G.sent(run.step(), Heartbeat.self)
        #expect(j[0].request.memberId == "")
        let out = run.answer(j[0].tag, Self.response(member: "given", epoch: 1, assignment: [(Self.tId, [])]))
        #expect(run.m.memberId == "given")
        _ = out
        let h = G.sent(run.at(2_000), Heartbeat.self)
        #expect(h.count == 1 && h[0].request.memberId == "given")
    }

    /// Heartbeats go at the interval the coordinator returns, which can change per answer.
    @Test func heartbeatsFollowTheCoordinatorsInterval() {
        var (run, id) = Self.stable()
        #expect(G.sent(run.at(1_999), Heartbeat.self).isEmpty)
        let h = G.sent(run.at(2_000), Heartbeat.self)
        #expect(h.count == 1 && h[0].request.memberEpoch == 1 && h[0].request.memberId == id)
        #expect(h[0].request.topicPartitions == nil && h[0].request.subscribedTopicNames == nil, "nothing changed")
        _ = run.answer(h[0].tag, Self.response(epoch: 1, interval: 5_000))
        #expect(G.sent(run.at(6_999), Heartbeat.self).isEmpty)
        #expect(G.sent(run.at(7_000), Heartbeat.self).count == 1)
        #expect(run.m.nextDeadline(after: nil) == nil || run.m.nextDeadline(after: nil)! > .milliseconds(7_000))
    }

    /// A new target that moves partition 0 away and brings partition 2: partition 0 is
    /// revoked first (fetching stopped, the revoke event, its consumed offset committed with
    /// the member id and epoch on OffsetCommit v9+), then the owned list [1, 2] is sent, and
    /// only once that heartbeat is answered is partition 2 fetched.
    @Test func aNewTargetRevokesThenAcknowledgesThenAssigns() {
        var c = Self.config()
        c.commitOnRevoke = true
        var (run, id) = Self.stable([0, 1], epoch: 5, config: c)
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 9, leaderEpoch: 3)])
        let h = G.sent(run.at(2_000), Heartbeat.self)
        let out = run.answer(h[0].tag, Self.response(epoch: 5, assignment: [(Self.tId, [1, 2])]))
        #expect(G.inputs(out) == [.unassign([Self.tp[0]])])
        guard case .revoking(let rid, [Self.tp[0]])? = G.events(out).first(where: { if case .revoking = $0 { return true } else { return false } }) else {
            Issue.record("no revocation"); return
        }
        #expect(G.sent(out, Heartbeat.self).isEmpty, "nothing acknowledged while the revocation is pending")
        #expect(G.sent(out, OffsetFetchRequest.self).isEmpty)
        // Time passes while the user finishes: heartbeats still report partition 0 as owned.
        let during = G.sent(run.at(4_000), Heartbeat.self)
        #expect(during.count == 1 && during[0].request.topicPartitions == nil)
        _ = run.answer(during[0].tag, Self.response(epoch: 5))
        run.m.revocationHandled(rid)
        let commit = run.step()
        let oc = G.sent(commit, OffsetCommitRequest.self)
        #expect(oc.count == 1 && oc[0].request.generationIdOrMemberEpoch == 5 && oc[0].request.memberId == id)
        #expect(oc[0].request.topics.first?.partitions.map(\.committedOffset) == [9])
        #expect(Self.sentRequests(commit).first { $0.request is OffsetCommitRequest }?.pin == 9 ... 9)
        #expect(G.sent(commit, Heartbeat.self).isEmpty, "the acknowledgement waits for the commit")
        let acked = run.answer(oc[0].tag, Self.commitOK([Self.tp[0]]))
        let ack = G.sent(acked, Heartbeat.self)
        #expect(ack.count == 1 && Self.owned(ack[0].request) == [Self.tId: [1, 2]])
        #expect(G.sent(acked, OffsetFetchRequest.self).isEmpty && !G.inputs(acked).contains { if case .assign = $0 { return true } else { return false } })
        let taken = run.answer(ack[0].tag, Self.response(epoch: 6))
        let f = G.sent(taken, OffsetFetchRequest.self)
        #expect(f.count == 1 && f[0].request.topics?.first?.partitionIndexes == [2])
        let a = run.answer(f[0].tag, G.offsets([2: 11]))
        #expect(G.inputs(a) == [.assign([Self.tp[2]: .exact(11)])])
        #expect(run.m.owned == [Self.tp[1], Self.tp[2]] && run.m.generation == 6)
    }

    /// Fenced while the user still holds a revocation (past its rebalance timeout): the
    /// commit on revoke cannot be made any more, and the member says so with a failed
    /// commit report for those partitions (found by group-consumer-slow-random seed 211:
    /// it was dropped silently, so the user believed the consumed offsets committed).
    @Test func aRevocationHeldPastAFenceReportsItsCommitFailed() {
        var c = Self.config()
        c.commitOnRevoke = true
        var (run, _) = Self.stable([0, 1], epoch: 5, config: c)
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 9)])
        let h = G.sent(run.at(2_000), Heartbeat.self)
        let out = run.answer(h[0].tag, Self.response(epoch: 5, assignment: [(Self.tId, [1])]))
        guard case .revoking(let rid, [Self.tp[0]])? = G.events(out).first(where: { if case .revoking = $0 { return true } else { return false } }) else {
            Issue.record("no revocation"); return
        }
        let during = G.sent(run.at(4_000), Heartbeat.self)
        _ = run.answer(during[0].tag, Self.response(.unknownMemberId, epoch: -1))
        run.m.revocationHandled(rid)
        let after = run.step()
        #expect(G.sent(after, OffsetCommitRequest.self).isEmpty, "no epoch to commit under")
        let reports = G.events(after).compactMap { e -> CommitReport? in if case .committed(let r) = e { return r } else { return nil } }
        #expect(reports.count == 1 && !reports[0].ok && reports[0].offsets == [Self.tp[0]: CommitPosition(offset: 9)])
        #expect(reports.first?.failed[Self.tp[0]] != nil)
    }

    /// A consumer protocol member's offsets in a transaction carry its member epoch as the
    /// generation (TxnOffsetCommit, KIP-447 fencing by epoch).
    @Test func transactionOffsetsCarryTheMemberEpoch() {
        var c = Self.config()
        c.commitOnRevoke = false
        c.transactional = true
        var (run, id) = Self.stable([0], epoch: 4, config: c)
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 8)])
        let o = run.m.transactionOffsets
        #expect(o?.generationId == 4 && o?.memberId == id && o?.offsets[Self.tp[0]]?.offset == 8)
    }

    /// FENCED_MEMBER_EPOCH and UNKNOWN_MEMBER_ID: every partition is lost (no commit), and the
    /// member joins again at epoch 0 with the same member id and every field.
    @Test(arguments: [KafkaErrorCode.fencedMemberEpoch, .unknownMemberId])
    func aFencedMemberLosesEverythingAndRejoinsAtEpochZero(code: KafkaErrorCode) {
        var (run, id) = Self.stable()
        run.m.noteConsumed([Self.tp[0]: CommitPosition(offset: 9)])
        let h = G.sent(run.at(2_000), Heartbeat.self)
        let out = run.answer(h[0].tag, Self.response(code, epoch: -1))
        #expect(G.inputs(out) == [.unassign([Self.tp[0], Self.tp[1]])])
        #expect(G.events(out).contains { if case .lost([Self.tp[0], Self.tp[1]]) = $0 { return true } else { return false } })
        #expect(G.sent(out, OffsetCommitRequest.self).isEmpty)
        let j = G.sent(out, Heartbeat.self)
        #expect(j.count == 1)
        #expect(j[0].request.memberEpoch == 0 && j[0].request.memberId == id && j[0].request.subscribedTopicNames == ["t"])
        #expect(j[0].request.topicPartitions?.isEmpty == true && j[0].request.rebalanceTimeoutMs == 60_000)
        #expect(run.m.generation == -1 && run.m.owned.isEmpty)
        // A commit asked for meanwhile is refused: no generation to speak for.
        run.m.commit([Self.tp[0]: CommitPosition(offset: 9)], promise: PromiseID(3), now: run.now)
        #expect(G.events(run.step()).contains { if case .committed(let r) = $0 { return r.error == .notInGroup } else { return false } })
        let back = run.answer(j[0].tag, Self.response(member: id, epoch: 3, assignment: [(Self.tId, [0])]))
        #expect(run.m.generation == 3 && G.sent(back, Heartbeat.self).count == 1)
    }

    /// NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE: the coordinator is looked up again and
    /// the heartbeat sent after a backoff, with every field (the new coordinator's view is
    /// not known). COORDINATOR_LOAD_IN_PROGRESS: retried the same way, no lookup.
    @Test(arguments: [KafkaErrorCode.notCoordinator, .coordinatorNotAvailable, .coordinatorLoadInProgress])
    func aMovedOrLoadingCoordinatorIsRetried(code: KafkaErrorCode) {
        var (run, _) = Self.stable()
        let h = G.sent(run.at(2_000), Heartbeat.self)
        let out = run.answer(h[0].tag, Self.response(code, epoch: 0))
        let moved = out.contains { if case .coordinatorMoved(CoordinatorKey(.group, "g")) = $0 { return true } else { return false } }
        #expect(moved == (code != .coordinatorLoadInProgress))
        #expect(G.sent(out, Heartbeat.self).isEmpty && G.inputs(out).isEmpty, "partitions kept")
        #expect(run.m.owned == [Self.tp[0], Self.tp[1]])
        let again = G.sent(run.at(2_200), Heartbeat.self)
        #expect(again.count == 1)
        #expect(again[0].request.memberEpoch == 1 && Self.owned(again[0].request) == [Self.tId: [0, 1]])
        #expect(again[0].request.subscribedTopicNames == ["t"] && again[0].request.rebalanceTimeoutMs == 60_000)
        _ = run.answer(again[0].tag, Self.response(epoch: 1))
        #expect(G.sent(run.at(3_000), Heartbeat.self).isEmpty)
    }

    /// A connection lost under a heartbeat: retried after a backoff, the partitions kept
    /// until no heartbeat got through for the session timeout (then lost, rejoin at 0).
    @Test func heartbeatsThatNeverGetThroughLoseThePartitionsAfterTheSession() {
        var (run, _) = Self.stable()
        var t: UInt64 = 2_000
        var lost = false
        var out = run.at(t)
        while t < 60_000 && !lost {
            for x in G.sent(out, Heartbeat.self) { _ = run.fail(x.tag, .connectionClosed(broker: .node(1))) }
            t += 500
            out = run.at(t)
            lost = G.events(out).contains { if case .lost = $0 { return true } else { return false } }
        }
        #expect(lost && t == 45_000)
        #expect(G.sent(out, Heartbeat.self).first?.request.memberEpoch == 0)
    }

    /// Leaving: the revocation's commit first (autocommit on), then a heartbeat at epoch -1.
    @Test func aDynamicMemberCommitsThenLeavesWithEpochMinusOne() {
        var c = Self.config()
        c.autocommitInterval = .seconds(5)
        c.commitOnRevoke = false
        var (run, id) = Self.stable([0, 1], epoch: 2, config: c)
        run.m.noteConsumed([Self.tp[1]: CommitPosition(offset: 4)])
        run.m.leave(PromiseID(9), now: run.now)
        let out = run.step()
        guard case .revoking(let rid, [Self.tp[0], Self.tp[1]])? = G.events(out).first else { Issue.record("no revocation"); return }
        run.m.revocationHandled(rid)
        let c1 = G.sent(run.step(), OffsetCommitRequest.self)
        #expect(c1.count == 1 && c1[0].request.generationIdOrMemberEpoch == 2)
        let l = G.sent(run.answer(c1[0].tag, Self.commitOK([Self.tp[1]])), Heartbeat.self)
        #expect(l.count == 1 && l[0].request.memberEpoch == -1 && l[0].request.memberId == id && l[0].request.instanceId == nil)
        let done = run.answer(l[0].tag, Self.response(epoch: -1))
        #expect(G.events(done).contains { if case .left(PromiseID(9)) = $0 { return true } else { return false } })
        #expect(!run.m.isActive)
    }

    /// A static member leaves with epoch -2 and its instance id: the coordinator keeps its
    /// assignment for its return. Every heartbeat names the instance.
    @Test func aStaticMemberLeavesWithEpochMinusTwo() {
        let c = Self.config(instance: "i-1")
        var (run, id) = Self.stable([0], epoch: 3, config: c)
        let h = G.sent(run.at(2_000), Heartbeat.self)
        #expect(h[0].request.instanceId == "i-1")
        _ = run.answer(h[0].tag, Self.response(epoch: 3))
        run.m.leave(PromiseID(2), now: run.now)
        let out = run.step()
        guard case .revoking(let rid, _)? = G.events(out).first else { Issue.record("no revocation"); return }
        run.m.revocationHandled(rid)
        let l = G.sent(run.step(), Heartbeat.self)
        #expect(l.count == 1 && l[0].request.memberEpoch == -2 && l[0].request.instanceId == "i-1" && l[0].request.memberId == id)
        let done = run.answer(l[0].tag, Self.response(epoch: -2))
        #expect(G.events(done).contains { if case .left(PromiseID(2)) = $0 { return true } else { return false } })
    }

    /// A pattern subscription goes to the coordinator as SubscribedTopicRegex where it serves
    /// ConsumerGroupHeartbeat v1+ (the request pinned to v1); a v0 coordinator gets the names
    /// the pattern matches here.
    @Test(arguments: [Int16(1), 0]) func aPatternIsSentAsARegexWhereTheCoordinatorTakesOne(max: Int16) {
        var run = Run(consumer: Self.config(topics: [], patterns: ["t.*"]), topics: [("t", Self.tId, 4), ("tx", Self.uId, 1), ("other", KafkaUUID(high: 3, low: 3), 1)])
        run.coordinator(heartbeat: 0 ... max)
        let out = run.step()
        let j = G.sent(out, Heartbeat.self)
        #expect(j.count == 1)
        if max >= 1 {
            #expect(j[0].request.subscribedTopicRegex == "t.*" && j[0].request.subscribedTopicNames == nil)
            #expect(Self.sentRequests(out)[0].pin == 1 ... 1)
        } else {
            #expect(j[0].request.subscribedTopicRegex == nil && j[0].request.subscribedTopicNames == ["t", "tx"])
            #expect(Self.sentRequests(out)[0].pin == nil)
        }
    }

    /// With the coordinator's version unknown, the regex goes pinned to v1; a coordinator that
    /// turns out to serve only v0 gets the resolved names at once.
    @Test func aRegexRefusedForItsVersionFallsBackToNames() {
        var run = Run(consumer: Self.config(topics: [], patterns: ["t.*"]))
        let j = G.sent(run.step(), Heartbeat.self)
        #expect(j[0].request.subscribedTopicRegex == "t.*")
        let out = run.fail(j[0].tag, .unsupportedVersion(apiKey: .consumerGroupHeartbeat, brokerRange: 0 ... 0))
        let again = G.sent(out, Heartbeat.self)
        #expect(again.count == 1 && again[0].request.subscribedTopicRegex == nil && again[0].request.subscribedTopicNames == ["t"])
        #expect(run.m.isActive)
    }

    /// A pattern resolved here (v0 coordinator): a new matching topic in metadata changes the
    /// subscription, which goes at once (not at the next interval), and only it.
    @Test func aPatternResolvedHereSendsNewNamesAtOnce() {
        var run = Run(consumer: Self.config(topics: [], patterns: ["t.*"]))
        run.coordinator(heartbeat: 0 ... 0)
        let j = G.sent(run.step(), Heartbeat.self)
        #expect(j[0].request.subscribedTopicNames == ["t"])
        let ack = G.sent(run.answer(j[0].tag, Self.response(member: "m", epoch: 1, assignment: [])), Heartbeat.self)
        #expect(ack.isEmpty, "nothing changed")
        let out = run.metadata([("t", Self.tId, 4), ("tz", Self.uId, 1)])
        let h = G.sent(out, Heartbeat.self)
        #expect(h.count == 1 && h[0].request.subscribedTopicNames == ["t", "tz"] && h[0].request.topicPartitions == nil)
        #expect(h[0].request.rebalanceTimeoutMs == -1 && h[0].request.memberEpoch == 1)
    }

    /// Targets that arrive while a revocation is pending wait for it; the latest one is
    /// reconciled after (a partition being revoked and given back comes back as new).
    @Test func aTargetDuringARevocationIsReconciledAfterIt() {
        var c = Self.config()
        c.commitOnRevoke = false
        var (run, _) = Self.stable([0, 1], epoch: 2, config: c)
        let h = G.sent(run.at(2_000), Heartbeat.self)
        let out = run.answer(h[0].tag, Self.response(epoch: 2, assignment: [(Self.tId, [1])]))
        guard case .revoking(let rid, [Self.tp[0]])? = G.events(out).first else { Issue.record("no revocation"); return }
        let h2 = G.sent(run.at(4_000), Heartbeat.self)
        let mid = run.answer(h2[0].tag, Self.response(epoch: 2, assignment: [(Self.tId, [0, 1, 3])]))
        #expect(G.events(mid).isEmpty && G.inputs(mid).isEmpty)
        run.m.revocationHandled(rid)
        let done = run.step()
        let ack = G.sent(done, Heartbeat.self)
        #expect(ack.count == 1 && Self.owned(ack[0].request) == [Self.tId: [0, 1, 3]])
        let f = G.sent(run.answer(ack[0].tag, Self.response(epoch: 3)), OffsetFetchRequest.self)
        #expect(f.count == 1 && f[0].request.topics?.first?.partitionIndexes == [0, 3])
    }

    /// A target naming a topic id metadata does not know: metadata is refreshed at once; the
    /// known part is reconciled meanwhile, and the new topic's partitions once it is named.
    @Test func anUnknownTopicIdIsResolvedThroughMetadata() {
        var run = Run(consumer: Self.config(topics: ["t", "u"]))
        let j = G.sent(run.step(), Heartbeat.self)
        let out = run.answer(j[0].tag, Self.response(member: j[0].request.memberId, epoch: 1, assignment: [(Self.tId, [0]), (Self.uId, [0, 1])]))
        #expect(out.contains { if case .metadata(["t", "u"], .urgent) = $0 { return true } else { return false } })
        let ack = G.sent(out, Heartbeat.self)
        #expect(ack.count == 1 && Self.owned(ack[0].request) == [Self.tId: [0]])
        let f0 = G.sent(run.answer(ack[0].tag, Self.response(epoch: 1)), OffsetFetchRequest.self)
        #expect(f0.count == 1 && f0[0].request.topics?.map(\.name) == ["t"])
        _ = run.answer(f0[0].tag, G.offsets([0: 1]))
        let named = run.metadata([("t", Self.tId, 4), ("u", Self.uId, 2)])
        let ack2 = G.sent(named, Heartbeat.self)
        #expect(ack2.count == 1 && Self.owned(ack2[0].request) == [Self.tId: [0], Self.uId: [0, 1]])
        let taken = run.answer(ack2[0].tag, Self.response(epoch: 2))
        let f = G.sent(taken, OffsetFetchRequest.self)
        #expect(f.count == 1 && f[0].request.topics?.map(\.name) == ["u"])
    }

    /// A coordinator known not to serve ConsumerGroupHeartbeat (ApiVersions) ends the
    /// membership with a typed error before anything is sent; so does a request refused for
    /// its version, or UNSUPPORTED_VERSION in the answer. No classic fallback.
    @Test func anUnsupportingBrokerFailsWithATypedError() {
        var run = Run(consumer: Self.config())
        run.coordinator(heartbeat: nil)
        let out = run.step()
        #expect(Self.sentRequests(out).isEmpty)
        #expect(G.events(out).contains { if case .failed(.groupProtocolUnsupported) = $0 { return true } else { return false } })
        #expect(!run.m.isActive)

        var run2 = Run(consumer: Self.config())
        let j = G.sent(run2.step(), Heartbeat.self)
        let out2 = run2.fail(j[0].tag, .unsupportedVersion(apiKey: .consumerGroupHeartbeat, brokerRange: nil))
        #expect(G.events(out2).contains { if case .failed(.groupProtocolUnsupported) = $0 { return true } else { return false } })
        #expect(G.sent(out2, JoinGroupRequest.self).isEmpty)

        var run3 = Run(consumer: Self.config())
        let j3 = G.sent(run3.step(), Heartbeat.self)
        let out3 = run3.answer(j3[0].tag, Self.response(.unsupportedVersion, epoch: 0))
        #expect(G.events(out3).contains { if case .failed(.groupProtocolUnsupported) = $0 { return true } else { return false } })
    }

    /// Errors the member cannot get past as configured reach the user typed, with the code.
    @Test(arguments: [KafkaErrorCode.unsupportedAssignor, .groupMaxSizeReached, .invalidRequest, .unreleasedInstanceId, .groupAuthorizationFailed])
    func refusalsEndTheMembershipWithTheCode(code: KafkaErrorCode) {
        var run = Run(consumer: Self.config(instance: "i-1"))
        let j = G.sent(run.step(), Heartbeat.self)
        var r = Self.response(code, epoch: 0)
        r.errorMessage = "no"
        let out = run.answer(j[0].tag, r)
        #expect(G.events(out).contains { if case .failed(.broker(code, let what)) = $0 { return what.contains("no") } else { return false } })
        #expect(!run.m.isActive && G.sent(run.at(10_000), Heartbeat.self).isEmpty)
    }

    /// OffsetCommit answered STALE_MEMBER_EPOCH: sent again (with the epoch then current);
    /// FENCED_MEMBER_EPOCH: reported, and the member is fenced.
    @Test func commitsRefusedForTheEpoch() {
        var (run, _) = Self.stable([0], epoch: 2)
        _ = run.at(1_950)
        run.m.commit([Self.tp[0]: CommitPosition(offset: 6)], promise: PromiseID(4), now: run.now)
        let c = G.sent(run.step(), OffsetCommitRequest.self)
        #expect(c.count == 1 && c[0].request.generationIdOrMemberEpoch == 2)
        var stale = Self.commitOK([Self.tp[0]])
        stale.topics[0].partitions[0].errorCode = KafkaErrorCode.staleMemberEpoch.rawValue
        let out = run.answer(c[0].tag, stale)
        #expect(G.events(out).isEmpty && !out.contains { if case .coordinatorMoved = $0 { return true } else { return false } })
        let h = G.sent(run.at(2_000), Heartbeat.self)
        _ = run.answer(h[0].tag, Self.response(epoch: 3))
        let again = G.sent(run.at(2_200), OffsetCommitRequest.self)
        #expect(again.count == 1 && again.first?.request.generationIdOrMemberEpoch == 3)
        guard again.count == 1 else { return }
        var fenced = Self.commitOK([Self.tp[0]])
        fenced.topics[0].partitions[0].errorCode = KafkaErrorCode.fencedMemberEpoch.rawValue
        let f = run.answer(again[0].tag, fenced)
        #expect(G.events(f).contains { if case .committed(let r) = $0 { return r.promise == PromiseID(4) && !r.ok } else { return false } })
        #expect(G.events(f).contains { if case .lost = $0 { return true } else { return false } })
        #expect(G.sent(f, Heartbeat.self).first?.request.memberEpoch == 0)
    }

    /// The settings: the consumer protocol needs no balancers; a server assignor is refused
    /// for the classic protocol.
    @Test func theConfigurationChecksTheProtocol() {
        #expect(Self.config().invalidReason() == nil)
        var c = GroupMemberTests.config()
        c.serverAssignor = "range"
        #expect(c.invalidReason() != nil)
        c.groupProtocol = .consumer
        #expect(c.invalidReason() == nil)
        c.serverAssignor = ""
        #expect(c.invalidReason() != nil)
    }
}

/// The classic transcripts' run, set up for a consumer protocol member (metadata with topic
/// ids, a coordinator with chosen versions, failures and metadata updates fed in).
extension GroupMemberTests.Run {
    init(consumer config: GroupConfig, seed: UInt64 = 1, topics: [(String, KafkaUUID, Int)] = [("t", ConsumerGroupMemberTests.tId, 4)]) {
        m = GroupMember(config, seed: seed)
        context = ComponentContext(metadata: ConsumerGroupMemberTests.metadata(topics), brokerVersions: [:], isClosed: false, lastTick: nil)
    }

    /// The coordinator is broker 1, serving ConsumerGroupHeartbeat at these versions (nil: not at all).
    mutating func coordinator(heartbeat: ClosedRange<Int16>?) {
        context.coordinators.set(CoordinatorKey(.group, "g"), .init(nodeId: 1, address: BrokerAddress(host: "b1", port: 9092)))
        var keys: [(key: ApiKey, range: ClosedRange<Int16>)] = [(key: .offsetCommit, range: 0 ... 9), (key: .offsetFetch, range: 0 ... 9)]
        if let heartbeat { keys.append((key: .consumerGroupHeartbeat, range: heartbeat)) }
        context.brokerVersions[.node(1)] = BrokerVersions(keys)
    }

    mutating func fail(_ tag: UInt64, _ e: KafkaClientError) -> [ComponentOutput] {
        m.answered(tag, .failure(e), context: context, now: now)
        return step()
    }

    mutating func metadata(_ topics: [(String, KafkaUUID, Int)]) -> [ComponentOutput] {
        context.metadata = ConsumerGroupMemberTests.metadata(topics)
        m.metadataUpdated(context: context, now: now)
        return step()
    }
}
