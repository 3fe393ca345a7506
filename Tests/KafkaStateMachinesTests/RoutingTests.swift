import Testing
@testable import KafkaStateMachines

private func listOffsets(_ parts: [(String, [Int32])]) -> ListOffsetsRequest {
    var r = ListOffsetsRequest()
    r.replicaId = -1
    r.topics = parts.map { name, ps in
        var t = ListOffsetsRequest.ListOffsetsTopic()
        t.name = name
        t.partitions = ps.map { p in
            var x = ListOffsetsRequest.ListOffsetsPartition()
            x.partitionIndex = p
            x.timestamp = -1
            return x
        }
        return t
    }
    return r
}

/// A broker's ListOffsets answer: offset = 100 * partition, or `error` for every partition.
private func answer(_ req: SeenRequest, error: KafkaErrorCode = .noError) -> [UInt8] {
    let r = req.body as! ListOffsetsRequest
    var resp = ListOffsetsResponse()
    resp.topics = r.topics.map { t in
        var rt = ListOffsetsResponse.ListOffsetsTopicResponse()
        rt.name = t.name
        rt.partitions = t.partitions.map { p in
            var rp = ListOffsetsResponse.ListOffsetsPartitionResponse()
            rp.partitionIndex = p.partitionIndex
            rp.errorCode = error.rawValue
            rp.offset = Int64(p.partitionIndex) * 100
            return rp
        }
        return rt
    }
    return respond(req, resp)
}

private func summary(_ r: ListOffsetsResponse) -> [String] {
    r.topics.flatMap { t in t.partitions.map { "\(t.name)[\($0.partitionIndex)]=\($0.offset)/\($0.errorCode)" } }
}

@Suite struct RoutingTests {
    /// Loads metadata for the request's topics, splits ListOffsets by leader, sends each
    /// part to its leader on its own connection and merges the answers into one response.
    mutating func splitSetup(maxRetries: Int? = nil) -> (Harness, [SeenRequest]) {
        var h = Harness(Harness.config())
        let first = h.request(listOffsets([("t", [0, 1, 2]), ("u", [0])]), maxRetries: maxRetries, promise: 1)
        #expect(opens(first).map(\.1) == [.seed(0)])
        let meta = decodeWrites(h.handshake(1))
        #expect(meta.count == 1 && meta[0].apiKey == .metadata)
        #expect((meta[0].body as! MetadataRequest).topics?.compactMap(\.name) == ["t", "u"])
        let routed = h.receive(1, respond(meta[0], metadataResponse(brokers: [1, 2], topics: [("t", [(0, 1), (1, 2), (2, 1)])])))
        #expect(opens(routed).map(\.1) == [.node(1), .node(2)])
        let parts = decodeWrites(h.handshake(2)) + decodeWrites(h.handshake(3))
        return (h, parts)
    }

    @Test mutating func listOffsetsSplitAcrossLeadersAndMerged() {
        var (h, parts) = splitSetup()
        #expect(parts.count == 2)
        let toNode1 = parts[0].body as! ListOffsetsRequest, toNode2 = parts[1].body as! ListOffsetsRequest
        #expect(toNode1.topics.map(\.name) == ["t"] && toNode1.topics[0].partitions.map(\.partitionIndex) == [0, 2])
        #expect(toNode2.topics[0].partitions.map(\.partitionIndex) == [1])
        #expect(toNode1.replicaId == -1)
        #expect(completions(h.receive(3, answer(parts[1]))).isEmpty)
        let done = h.receive(2, answer(parts[0]))
        let merged = success(done, 1, as: ListOffsetsResponse.self)
        #expect(merged.map(summary) == ["t[0]=0/0", "t[2]=200/0", "t[1]=100/0", "u[0]=-1/3"])
    }

    /// NOT_LEADER_OR_FOLLOWER says our leaders are stale: a refresh follows, not after the
    /// minimum metadata age but after the shorter stale-refresh floor since the last one.
    @Test mutating func staleLeaderErrorTriggersRefreshAfterTheFloor() {
        var (h, parts) = splitSetup(maxRetries: 0)
        _ = h.receive(2, answer(parts[0]))
        h.now = .milliseconds(10)
        let done = h.receive(3, answer(parts[1], error: .notLeaderOrFollower))
        #expect(success(done, 1, as: ListOffsetsResponse.self).map(summary)?.contains("t[1]=100/6") == true)
        #expect(decodeWrites(done).isEmpty)
        #expect(h.engine.nextDeadline() == .milliseconds(250))
        #expect(decodeWrites(h.advance(to: 249)).isEmpty)
        #expect(decodeWrites(h.advance(to: 250)).map(\.apiKey) == [.metadata])
    }

    /// A broker that keeps answering NOT_LEADER_OR_FOLLOWER (an election that drags on) gets
    /// refreshes no closer together than the floor, however many answers ask for one; an
    /// ask that is not about stale leaders (an unknown topic) still keeps the minimum age.
    @Test mutating func staleRefreshesAreRateLimitedByTheFloor() {
        var (h, parts) = splitSetup(maxRetries: 50)
        _ = h.receive(2, answer(parts[0]))
        var refreshes: [Instant] = []
        var shard = parts[1]
        var t: UInt64 = 10
        while refreshes.count < 4 {
            h.now = .milliseconds(t)
            _ = h.receive(shard.connection.rawValue, answer(shard, error: .notLeaderOrFollower))
            guard let wake = h.engine.nextDeadline() else { Issue.record("no refresh scheduled"); return }
            h.now = wake
            h.engine.tick(now: wake)
            let refresh = decodeWrites(h.drain())
            guard refresh.map(\.apiKey) == [.metadata] else { Issue.record("expected a refresh, got \(refresh.map(\.apiKey))"); return }
            refreshes.append(wake)
            // The cluster still names node 2 as t[1]'s leader: the partition goes back there.
            let same = metadataResponse(brokers: [1, 2], topics: [("t", [(0, 1), (1, 2), (2, 1)])])
            let again = decodeWrites(h.receive(refresh[0].connection.rawValue, respond(refresh[0], same)))
            guard again.count == 1 else { Issue.record("expected the retry, got \(again.map(\.apiKey))"); return }
            shard = again[0]
            t = (wake - .zero).milliseconds + 1
        }
        for (a, b) in zip(refreshes, refreshes.dropFirst()) { #expect(b - a >= .milliseconds(250), "\(a) then \(b)") }

        // An unknown topic asks for a plain refresh: it waits for the minimum age.
        let last = refreshes.last!
        #expect(decodeWrites(h.request(listOffsets([("new-topic", [0])]), promise: 9)).isEmpty)
        h.now = last + .milliseconds(4999)
        h.engine.tick(now: h.now)
        #expect(decodeWrites(h.drain()).filter { $0.apiKey == .metadata }.isEmpty)
        h.now = last + .milliseconds(5000)
        h.engine.tick(now: h.now)
        #expect(decodeWrites(h.drain()).map(\.apiKey) == [.metadata])
    }

    /// With retries left, the partitions whose leader moved are asked again of the new
    /// leader once metadata is refreshed; the caller sees one merged, complete answer.
    @Test mutating func staleLeaderPartitionsRetriedAtTheNewLeader() {
        var (h, parts) = splitSetup()
        _ = h.receive(2, answer(parts[0]))
        h.now = .milliseconds(10)
        let first = h.receive(3, answer(parts[1], error: .notLeaderOrFollower))
        #expect(completions(first).isEmpty)
        let refresh = decodeWrites(h.advance(to: 250))
        #expect(refresh.map(\.apiKey) == [.metadata])
        // t[1] moved to node 1.
        let moved = metadataResponse(brokers: [1, 2], topics: [("t", [(0, 1), (1, 1), (2, 1)])])
        let again = decodeWrites(h.receive(refresh[0].connection.rawValue, respond(refresh[0], moved)))
        #expect(again.count == 1 && again[0].connection == ConnectionID(2))
        let retried = again[0].body as! ListOffsetsRequest
        #expect(retried.topics.map(\.name) == ["t"] && retried.topics[0].partitions.map(\.partitionIndex) == [1])
        let done = h.receive(2, answer(again[0]))
        #expect(success(done, 1, as: ListOffsetsResponse.self).map(summary) == ["t[0]=0/0", "t[2]=200/0", "t[1]=100/0", "u[0]=-1/3"])
    }

    @Test mutating func metadataRefreshedAtMaxAge() {
        var config = Harness.config()
        config.metadataMaxAge = .milliseconds(60_000)
        config.connectionIdleTimeout = .seconds(1000)
        var h = Harness(config)
        _ = h.request(listOffsets([("t", [0])]), promise: 1)
        let meta = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(meta[0], metadataResponse(brokers: [1], topics: [("t", [(0, 1)])])))
        #expect(h.engine.nextDeadline() == .milliseconds(10_000)) // the shard connection's dial timeout
        let parts = decodeWrites(h.handshake(2))
        _ = h.receive(2, answer(parts[0]))
        #expect(h.engine.nextDeadline() == .milliseconds(60_000))
        let refresh = decodeWrites(h.advance(to: 60_000))
        #expect(refresh.map(\.apiKey) == [.metadata])
        #expect((refresh[0].body as! MetadataRequest).topics?.compactMap(\.name) == ["t"])
    }

    /// FindCoordinator is asked once and cached; NOT_COORDINATOR drops the cache entry and
    /// the request is retried against the new coordinator after backoff.
    @Test func coordinatorCachedAndInvalidatedOnNotCoordinator() {
        var h = Harness(Harness.config())
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        _ = h.request(hb, promise: 1)
        let find = decodeWrites(h.handshake(1))
        #expect(find.count == 1 && find[0].apiKey == .findCoordinator && find[0].version == 6)
        #expect((find[0].body as! FindCoordinatorRequest).coordinatorKeys == ["g"])
        let toNode1 = h.receive(1, respond(find[0], coordinator("g", node: 1)))
        #expect(opens(toNode1).map(\.1) == [.node(1)])
        let beat = decodeWrites(h.handshake(2))
        #expect(beat.map(\.apiKey) == [.heartbeat])
        var moved = HeartbeatResponse()
        moved.errorCode = KafkaErrorCode.notCoordinator.rawValue
        #expect(completions(h.receive(2, respond(beat[0], moved))).isEmpty)

        guard let wake = h.engine.nextDeadline() else { Issue.record("no retry scheduled"); return }
        #expect(wake.nanoseconds >= 80_000_000 && wake.nanoseconds <= 120_000_000)
        let refind = decodeWrites(h.advance(to: wake.nanoseconds / 1_000_000 + 1))
        #expect(refind.map(\.apiKey) == [.findCoordinator] && refind[0].connection == ConnectionID(1))
        let toNode2 = h.receive(1, respond(refind[0], coordinator("g", node: 2)))
        #expect(opens(toNode2).map(\.1) == [.node(2)])
        let beat2 = decodeWrites(h.handshake(3))
        let done = h.receive(3, respond(beat2[0], HeartbeatResponse()))
        #expect(success(done, 1, as: HeartbeatResponse.self) != nil)

        // The next group request goes straight to the cached coordinator.
        let again = h.request(hb, promise: 2)
        #expect(opens(again).isEmpty)
        #expect(decodeWrites(again).map { "\($0.apiKey)@\($0.connection)" } == ["Heartbeat@conn3"])
    }

    @Test func coordinatorErrorThatIsNotRetriableFailsWaiters() {
        var h = Harness(Harness.config())
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        _ = h.request(hb, promise: 1)
        let find = decodeWrites(h.handshake(1))
        var denied = FindCoordinatorResponse()
        var c = FindCoordinatorResponse.Coordinator()
        c.key = "g"
        c.errorCode = KafkaErrorCode(30).rawValue // GROUP_AUTHORIZATION_FAILED
        c.errorMessage = "denied"
        denied.coordinators = [c]
        let after = h.receive(1, respond(find[0], denied))
        #expect(failure(after, 1) == .brokerError(KafkaErrorCode(30), message: "denied"))
    }

    /// A rebalance can park JoinGroup at the coordinator for minutes; it travels on its own
    /// connection so a fetch to the same broker is not stuck behind it.
    @Test func groupJoinsAndFetchesUseSeparateConnections() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let meta = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(meta[0], metadataResponse(brokers: [1])))
        var join = JoinGroupRequest()
        join.groupId = "g"
        join.protocolType = "consumer"
        let a = h.request(join, to: .broker(1), promise: 2)
        let b = h.request(FetchRequest(), to: .broker(1), promise: 3)
        let c = h.request(MetadataRequest(), to: .broker(1), promise: 4)
        #expect((opens(a) + opens(b) + opens(c)).map(\.0) == [ConnectionID(2), ConnectionID(3), ConnectionID(4)])
    }

    @Test func controllerRoutingWaitsForMetadata() {
        var h = Harness(Harness.config())
        _ = h.request(CreateTopicsRequest(), promise: 1)
        let meta = decodeWrites(h.handshake(1))
        #expect(meta.map(\.apiKey) == [.metadata])
        let routed = h.receive(1, respond(meta[0], metadataResponse(brokers: [1, 2, 3], controller: 3)))
        #expect(opens(routed).map(\.1) == [.node(3)])
    }

    @Test func unknownBrokerIsUnroutableAfterARefresh() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .broker(9), promise: 1)
        let meta = decodeWrites(h.handshake(1))
        let after = h.receive(1, respond(meta[0], metadataResponse(brokers: [1])))
        #expect(failure(after, 1) == .unroutable("broker 9 is not in the cluster metadata"))
    }

    /// A request for a broker missing from fresh metadata (a stopped broker is not listed)
    /// waits for a refresh after the stale-refresh floor, not the minimum metadata age (5 s):
    /// a broker back within the floor is reached then.
    @Test func missingBrokerRefreshesAfterTheFloor() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .broker(9), promise: 1)
        let meta = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(meta[0], metadataResponse(brokers: [1])))
        h.now = .milliseconds(10)
        _ = h.request(MetadataRequest(), to: .broker(9), promise: 2)
        #expect(h.engine.nextDeadline() == .milliseconds(250))
        #expect(decodeWrites(h.advance(to: 249)).isEmpty)
        // The refresh goes to broker 1, the one the metadata lists, on a new connection.
        #expect(opens(h.advance(to: 250)).map(\.1) == [.node(1)])
        let refresh = decodeWrites(h.handshake(2))
        #expect(refresh.map(\.apiKey) == [.metadata])
        guard let ask = refresh.first else { return }
        let after = h.receive(2, respond(ask, metadataResponse(brokers: [1, 9])))
        #expect(opens(after).map(\.1) == [.node(9)])
    }
}

func coordinator(_ key: String, node: Int32) -> FindCoordinatorResponse {
    var r = FindCoordinatorResponse()
    var c = FindCoordinatorResponse.Coordinator()
    c.key = key
    c.nodeId = node
    c.host = "broker\(node)"
    c.port = 9092
    r.coordinators = [c]
    return r
}

@Suite struct ShardingTests {
    @Test func deleteRecordsSplitAndMergedWithUnroutable() {
        var r = DeleteRecordsRequest()
        let spec: [(String, [Int32])] = [("a", [0, 1]), ("b", [0])]
        r.topics = spec.map { name, ps in
            var t = DeleteRecordsRequest.DeleteRecordsTopic()
            t.name = name
            t.partitions = ps.map { var p = DeleteRecordsRequest.DeleteRecordsPartition(); p.partitionIndex = $0; p.offset = 10; return p }
            return t
        }
        let leaders: [TopicPartition: Int32] = [TopicPartition("a", 0): 2, TopicPartition("a", 1): 1]
        let plan = PartitionSharding.plan(PartitionSharding.deleteRecords().partitions(of: r)) { leaders[$0] }
        #expect(plan.shards.map(\.0) == [1, 2])
        #expect(plan.unroutable == [TopicPartition("b", 0)])
        let toLeader1 = PartitionSharding.deleteRecords().subset(r, keeping: plan.shards[0].1) as! DeleteRecordsRequest
        #expect(toLeader1.topics.map(\.name) == ["a"] && toLeader1.topics[0].partitions.map(\.partitionIndex) == [1])

        var answer = DeleteRecordsResponse()
        var t = DeleteRecordsResponse.DeleteRecordsTopicResult()
        t.name = "a"
        var p = DeleteRecordsResponse.DeleteRecordsPartitionResult()
        p.partitionIndex = 1
        p.lowWatermark = 10
        t.partitions = [p]
        answer.topics = [t]
        answer.throttleTimeMs = 5
        let merged = PartitionSharding.deleteRecords().merge([answer], unroutable: [(TopicPartition("b", 0), .unknownTopicOrPartition)]) as! DeleteRecordsResponse
        #expect(merged.throttleTimeMs == 5)
        #expect(merged.topics.map(\.name) == ["a", "b"])
        #expect(merged.topics[1].partitions[0].errorCode == 3 && merged.topics[1].partitions[0].lowWatermark == -1)
    }

    @Test func offsetForLeaderEpochAndDescribeProducersAreSharded() {
        #expect(RequestTarget.resolved(for: OffsetForLeaderEpochRequest()) == .partitionLeaders)
        #expect(RequestTarget.resolved(for: DescribeProducersRequest()) == .partitionLeaders)
        var r = DescribeProducersRequest()
        var t = DescribeProducersRequest.TopicRequest()
        t.name = "x"
        t.partitionIndexes = [3, 1, 2]
        r.topics = [t]
        let sub = PartitionSharding.describeProducers().subset(r, keeping: [TopicPartition("x", 2), TopicPartition("x", 3)]) as! DescribeProducersRequest
        #expect(sub.topics[0].partitionIndexes == [3, 2])
    }
}

@Suite struct RequestSemanticsTests {
    @Test func acksZeroProduceCompletesOnWrite() {
        var h = Harness(Harness.config())
        var produce = ProduceRequest()
        produce.acks = 0
        _ = h.request(produce, to: .anyBroker, promise: 1)
        let after = h.handshake(1)
        #expect(decodeWrites(after).map(\.apiKey) == [.produce])
        #expect(success(after, 1, as: ProduceResponse.self) != nil)
        // Nothing is outstanding: no request deadline, only the idle reaper's.
        #expect(h.engine.nextDeadline() == .milliseconds(20_000))
    }

    /// An older coordinator lookup (FindCoordinator < v4) carries the key and the answer
    /// in the top-level fields instead of the batched arrays.
    @Test func findCoordinatorBeforeV4() {
        var h = Harness(Harness.config())
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        _ = h.request(hb, promise: 1)
        var v = fullApiVersions()
        v.apiKeys = v.apiKeys.map { var x = $0; if x.apiKey == ApiKey.findCoordinator.rawValue { x.maxVersion = 3 }; return x }
        let find = decodeWrites(h.handshake(1, versions: v))
        let body = find[0].body as! FindCoordinatorRequest
        #expect(find[0].version == 3 && body.key == "g" && body.coordinatorKeys.isEmpty)
        var answer = FindCoordinatorResponse()
        answer.nodeId = 4
        answer.host = "broker4"
        answer.port = 9092
        let routed = h.receive(1, respond(find[0], answer))
        #expect(routed.map(\.description).first == "open(conn2, node4, broker4:9092)")
    }

    @Test func coordinatorLoadingIsRetriedThenReported() {
        var config = Harness.config()
        config.maxRetries = 1
        var h = Harness(config)
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        _ = h.request(hb, promise: 1)
        let find = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(find[0], coordinator("g", node: 1)))
        let beat = decodeWrites(h.handshake(2))
        var loading = HeartbeatResponse()
        loading.errorCode = KafkaErrorCode.coordinatorLoadInProgress.rawValue
        #expect(completions(h.receive(2, respond(beat[0], loading))).isEmpty)
        // Still the coordinator (only loading): no new FindCoordinator, the same connection.
        let again = decodeWrites(h.advance(to: h.engine.nextDeadline()!.nanoseconds / 1_000_000 + 1))
        #expect(again.map { "\($0.apiKey)@\($0.connection)" } == ["Heartbeat@conn2"])
        let after = h.receive(2, respond(again[0], loading))
        #expect(failure(after, 1) == .retriesExhausted(attempts: 2, last: .brokerError(.coordinatorLoadInProgress, message: nil)))
    }

    /// NOT_CONTROLLER: the request waits for a metadata refresh (after the stale-refresh
    /// floor, not the minimum age) and goes to the new controller.
    @Test func notControllerFollowsTheNewController() {
        var h = Harness(Harness.config())
        _ = h.request(ListPartitionReassignmentsRequest(), promise: 1)
        let meta = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(meta[0], metadataResponse(brokers: [1, 2, 3], controller: 3)))
        let sent = decodeWrites(h.handshake(2))
        #expect(sent.map(\.apiKey) == [.listPartitionReassignments])
        var moved = ListPartitionReassignmentsResponse()
        moved.errorCode = KafkaErrorCode.notController.rawValue
        #expect(h.receive(2, respond(sent[0], moved)).isEmpty)
        #expect(h.engine.nextDeadline() == .milliseconds(250))
        let refresh = decodeWrites(h.advance(to: 250))
        #expect(refresh.map(\.apiKey) == [.metadata])
        let routed = h.receive(refresh[0].connection.rawValue, respond(refresh[0], metadataResponse(brokers: [1, 2, 3], controller: 2)))
        #expect(opens(routed).map(\.1) == [.node(2)])
        let resent = decodeWrites(h.handshake(3))
        #expect(success(h.receive(3, respond(resent[0], ListPartitionReassignmentsResponse())), 1, as: ListPartitionReassignmentsResponse.self) != nil)
    }

    /// A top-level error that says nothing about routing is the caller's to handle (a fetch
    /// session error means the fetcher must start a new session, not resend this request).
    @Test func otherTopLevelErrorsAreReturnedNotRetried() {
        var h = Harness(Harness.config())
        _ = h.request(FetchRequest(), to: .anyBroker, promise: 1)
        let fetch = decodeWrites(h.handshake(1))
        var stale = FetchResponse()
        stale.errorCode = KafkaErrorCode(70).rawValue // FETCH_SESSION_ID_NOT_FOUND, retriable
        #expect(success(h.receive(1, respond(fetch[0], stale)), 1, as: FetchResponse.self)?.errorCode == 70)
    }

    @Test func nonRetriableTopLevelErrorIsReturnedAsTheResponse() {
        var h = Harness(Harness.config())
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        _ = h.request(hb, to: .anyBroker, promise: 1)
        let beat = decodeWrites(h.handshake(1))
        var fenced = HeartbeatResponse()
        fenced.errorCode = KafkaErrorCode.illegalGeneration.rawValue
        // The caller interprets group errors itself; the engine only retries transport trouble.
        #expect(success(h.receive(1, respond(beat[0], fenced)), 1, as: HeartbeatResponse.self)?.errorCode == 22)
    }
}

@Suite struct MetadataFailureTests {
    /// A periodic refresh that fails at once (here: a pin no broker version satisfies) dates
    /// the next one from the attempt, so the driver is not asked to tick again immediately.
    @Test func failedPeriodicRefreshWaitsAnotherMaxAge() {
        var config = Harness.config()
        config.metadataMaxAge = .milliseconds(60_000)
        config.connectionIdleTimeout = .seconds(1000)
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(sent[0], metadataResponse(brokers: [])))
        // The broker forgets every Metadata version.
        h.engine.connectionClosed(ConnectionID(1), now: h.now)
        _ = h.drain()
        var v = fullApiVersions()
        v.apiKeys.removeAll { $0.apiKey == ApiKey.metadata.rawValue }
        #expect(opens(h.advance(to: 60_000)).map(\.0) == [ConnectionID(2)])
        _ = h.handshake(2, versions: v)
        #expect(h.engine.nextDeadline() == .milliseconds(120_000))
    }
}

@Suite struct TransactionRoutingTests {
    @Test func transactionalRequestsFindTheTransactionCoordinator() {
        var h = Harness(Harness.config())
        var end = EndTxnRequest()
        end.transactionalId = "tx-1"
        _ = h.request(end, promise: 1)
        let find = decodeWrites(h.handshake(1))
        let body = find[0].body as! FindCoordinatorRequest
        #expect(body.keyType == 1 && body.coordinatorKeys == ["tx-1"])
        let routed = h.receive(1, respond(find[0], coordinator("tx-1", node: 5)))
        #expect(opens(routed).map(\.1) == [.node(5)])
        #expect(decodeWrites(h.handshake(2)).map(\.apiKey) == [.endTxn])
        // A group of the same name is a different coordinator key: it is looked up anew.
        var hb = HeartbeatRequest()
        hb.groupId = "tx-1"
        let group = decodeWrites(h.request(hb, promise: 2))
        #expect(group.map(\.apiKey) == [.findCoordinator] && (group[0].body as! FindCoordinatorRequest).keyType == 0)
    }

    /// `.automatic` for every API key (all 88) with a default request, from the generated
    /// routing: one group / transactional id to its coordinator, many split by coordinator,
    /// every-broker kinds fanned out and merged, config resources by named broker.
    @Test func automaticTargetOfEveryApi() throws {
        #expect(ApiKey.all.count == 88)
        var expected: [ApiKey: RequestTarget] = [
            .joinGroup: .groupCoordinator(""), .syncGroup: .groupCoordinator(""), .heartbeat: .groupCoordinator(""),
            .leaveGroup: .groupCoordinator(""), .offsetCommit: .groupCoordinator(""), .txnOffsetCommit: .groupCoordinator(""),
            .offsetDelete: .groupCoordinator(""), .consumerGroupHeartbeat: .groupCoordinator(""),
            .shareGroupHeartbeat: .groupCoordinator(""),
            .describeGroups: .keyCoordinators, .deleteGroups: .keyCoordinators, .consumerGroupDescribe: .keyCoordinators,
            .shareGroupDescribe: .keyCoordinators, .offsetFetch: .keyCoordinators, .describeTransactions: .keyCoordinators,
            .addOffsetsToTxn: .transactionCoordinator(""), .endTxn: .transactionCoordinator(""),
            .createTopics: .controller, .deleteTopics: .controller, .createPartitions: .controller, .electLeaders: .controller,
            .alterPartitionReassignments: .controller, .listPartitionReassignments: .controller,
            .listOffsets: .partitionLeaders, .deleteRecords: .partitionLeaders, .offsetForLeaderEpoch: .partitionLeaders,
            .describeProducers: .partitionLeaders,
            .listGroups: .everyBroker, .listTransactions: .everyBroker, .describeLogDirs: .everyBroker,
            .describeConfigs: .namedBrokers, .alterConfigs: .namedBrokers, .incrementalAlterConfigs: .namedBrokers,
        ]
        for key in ApiKey.all {
            let type = try #require(requestType(for: key))
            #expect(RequestTarget.resolved(for: type.init()) == expected.removeValue(forKey: key) ?? .anyBroker, "\(key.name)")
            // Every kind the engine splits has a sharder, and every sharder a kind.
            #expect((type.routing == .partitionLeaders) == (PartitionSharding.sharder(for: key) != nil) || key == .produce
                    || key == .fetch || key == .shareFetch || key == .shareAcknowledge, "\(key.name)")
            // Every key sharder serves a kind that names no single key, with the routing it needs.
            if let sharder = KeySharding.sharder(for: key) {
                switch sharder.routing {
                case .coordinator(.group): #expect(type.routing == .groupCoordinator, "\(key.name)")
                case .coordinator(.transaction): #expect(type.routing == .transactionCoordinator, "\(key.name)")
                case .everyBroker: #expect(type.routing == .everyBroker, "\(key.name)")
                case .namedBroker: #expect(type.routing == .namedBroker, "\(key.name)")
                }
            } else {
                #expect(type.routing != .everyBroker && type.routing != .namedBroker, "\(key.name)")
            }
        }
        #expect(expected.isEmpty)

        // Keys from fields; an OffsetFetch without a group id batches groups (v8+): split.
        var fetchOffsets = OffsetFetchRequest()
        #expect(RequestTarget.resolved(for: fetchOffsets) == .keyCoordinators)
        fetchOffsets.groupId = "g"
        #expect(RequestTarget.resolved(for: fetchOffsets) == .groupCoordinator("g"))
        var initPid = InitProducerIdRequest()
        initPid.transactionalId = nil
        #expect(RequestTarget.resolved(for: initPid) == .anyBroker)
        initPid.transactionalId = "t"
        #expect(RequestTarget.resolved(for: initPid) == .transactionCoordinator("t"))
        var add = AddPartitionsToTxnRequest()
        #expect(RequestTarget.resolved(for: add) == .anyBroker)
        add.v3AndBelowTransactionalId = "t"
        #expect(RequestTarget.resolved(for: add) == .transactionCoordinator("t"))
        var join = JoinGroupRequest()
        join.groupId = "g"
        #expect(RequestTarget.resolved(for: join) == .groupCoordinator("g"))
        // AddPartitionsToTxn v4+ (no v3 id) is broker-to-coordinator batching: any broker.
        var addV4 = AddPartitionsToTxnRequest()
        addV4.v3AndBelowTransactionalId = ""
        #expect(RequestTarget.resolved(for: addV4) == .anyBroker)
    }
}
