@testable import FakeCluster
import Testing

/// Transaction coordinator failover with the log kept: when the broker coordinating a
/// transactional id stops (or the coordinator moves), another broker takes the id over
/// with its whole state, loads for `transactionCoordinatorLoadMs` (answering
/// COORDINATOR_LOAD_IN_PROGRESS), the old broker answers NOT_COORDINATOR, and a transaction
/// caught in PrepareCommit/PrepareAbort gets its markers from the new coordinator, carrying
/// the bumped coordinator epoch.
@Suite struct TransactionFailoverTests {
    static let loadMs: Int64 = 50
    static let delayMs: Int64 = 5
    static let load = KafkaErrorCode.coordinatorLoadInProgress.rawValue
    static let notCoordinator = KafkaErrorCode.notCoordinator.rawValue

    /// One partition replicated on all three brokers, so it keeps a leader whichever stops.
    private func cluster(loadMs: Int64 = loadMs) -> FakeCluster {
        threeBrokers {
            $0.topics = [.init(name: "t", partitions: 1, replicationFactor: 3)]
            $0.transactionCoordinatorLoadMs = loadMs
            $0.transactionMarkerDelayMs = Self.delayMs
        }
    }

    private func initId(_ c: inout WireClient, _ cluster: inout FakeCluster, now: Instant) throws -> InitProducerIdResponse {
        var ip = InitProducerIdRequest()
        ip.transactionalId = "tx"
        ip.transactionTimeoutMs = 60_000
        return try c.call(ip, version: 3, on: &cluster, now: now)
    }

    private func add(_ id: InitProducerIdResponse, _ c: inout WireClient, _ cluster: inout FakeCluster,
                     now: Instant) throws -> Int16 {
        var add = AddPartitionsToTxnRequest()
        add.v3AndBelowTransactionalId = "tx"
        add.v3AndBelowProducerId = id.producerId
        add.v3AndBelowProducerEpoch = id.producerEpoch
        var topic = AddPartitionsToTxnRequest.AddPartitionsToTxnTopic()
        topic.name = "t"
        topic.partitions = [0]
        add.v3AndBelowTopics = [topic]
        return try c.call(add, version: 3, on: &cluster, now: now).resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode
    }

    private func end(_ id: InitProducerIdResponse, commit: Bool, _ c: inout WireClient, _ cluster: inout FakeCluster,
                     now: Instant) throws -> Int16 {
        var end = EndTxnRequest()
        end.transactionalId = "tx"
        end.producerId = id.producerId
        end.producerEpoch = id.producerEpoch
        end.committed = commit
        return try c.call(end, version: 3, on: &cluster, now: now).errorCode
    }

    /// An open transaction with two records in t[0]; returns the id and the coordinator.
    private func openTransaction(_ cluster: inout FakeCluster) throws -> (InitProducerIdResponse, Int32) {
        let home = cluster.coordinator("tx", .transaction)!
        var tc = WireClient(&cluster, broker: home)
        let id = try initId(&tc, &cluster, now: .zero)
        try #require(id.errorCode == 0)
        try #require(try add(id, &tc, &cluster, now: .milliseconds(1)) == 0)
        var pc = WireClient(&cluster, broker: cluster.partitionInfo(.init("t", 0))!.leader)
        let batch = makeBatch(count: 2, producerId: id.producerId, epoch: id.producerEpoch, sequence: 0, transactional: true)
        let p = try pc.call(produceRequest("t", 0, batch), version: 7, on: &cluster, now: .milliseconds(2))
        try #require(p.responses[0].partitionResponses[0].errorCode == 0)
        return (id, home)
    }

    /// The markers in t[0]'s leader log: (commit, producer epoch, coordinator epoch).
    private func markers(_ cluster: FakeCluster) throws -> [(commit: Bool, producerEpoch: Int16, coordinatorEpoch: Int32?)] {
        let log = try #require(cluster.state.leaderLog(.init("t", 0)))
        var out: [(Bool, Int16, Int32?)] = []
        for b in log.batches where b.controlCommit != nil {
            let batch = try #require(try RecordsReader.decodeAll(b.bytes, contexts: CompressionContexts()).batches.first)
            let marker = try ControlRecord(parsing: try #require(batch.records.first))
            out.append((marker.type == .commit, batch.header.producerEpoch, marker.coordinatorEpoch))
        }
        return out
    }

    @Test func stoppingTheCoordinatorKeepsTheTransactionState() throws {
        var cluster = cluster()
        let (id, home) = try openTransaction(&cluster)
        let before = try #require(cluster.describeTransaction("tx"))
        _ = cluster.stopBroker(home, now: .milliseconds(10))
        let heir = try #require(cluster.coordinator("tx", .transaction))
        #expect(heir != home)
        var after = try #require(cluster.describeTransaction("tx"))
        #expect(after.loadingUntil == .milliseconds(60))
        after.loadingUntil = nil
        #expect(after == before)
        #expect(after.state == "Ongoing" && after.partitions == [.init("t", 0)])
        #expect(after.producerId == id.producerId && after.producerEpoch == id.producerEpoch)
        #expect(cluster.state.transactions.coordinatorEpoch == 1)

        // After the load the new coordinator carries on: the same producer commits.
        var tc = WireClient(&cluster, broker: heir)
        #expect(try end(id, commit: true, &tc, &cluster, now: .milliseconds(60)) == 0)
        _ = cluster.tick(now: .milliseconds(65))
        #expect(cluster.describeTransaction("tx")?.state == "CompleteCommit")
        #expect(try markers(cluster).map(\.commit) == [true])
    }

    @Test func theNewCoordinatorAnswersLoadInProgressDuringItsLoad() throws {
        var cluster = cluster()
        let (id, home) = try openTransaction(&cluster)
        _ = cluster.stopBroker(home, now: .milliseconds(10))
        var tc = WireClient(&cluster, broker: cluster.coordinator("tx", .transaction)!)
        #expect(try add(id, &tc, &cluster, now: .milliseconds(11)) == Self.load)
        #expect(try initId(&tc, &cluster, now: .milliseconds(30)).errorCode == Self.load)
        #expect(try end(id, commit: true, &tc, &cluster, now: .milliseconds(59)) == Self.load)
        #expect(cluster.describeTransaction("tx")?.state == "Ongoing")  // nothing happened meanwhile
        #expect(try add(id, &tc, &cluster, now: .milliseconds(60)) == 0)
    }

    @Test func noLoadWindowByDefault() throws {
        var cluster = cluster(loadMs: 0)
        let (id, home) = try openTransaction(&cluster)
        _ = cluster.stopBroker(home, now: .milliseconds(10))
        var tc = WireClient(&cluster, broker: cluster.coordinator("tx", .transaction)!)
        #expect(try add(id, &tc, &cluster, now: .milliseconds(10)) == 0)
    }

    @Test func theOldCoordinatorAnswersNotCoordinator() throws {
        var cluster = cluster()
        let (id, home) = try openTransaction(&cluster)
        let other = Int32([1, 2, 3].first { $0 != home }!)
        _ = cluster.moveCoordinator("tx", .transaction, to: other, now: .milliseconds(10))
        #expect(cluster.coordinator("tx", .transaction) == other)
        var heir = WireClient(&cluster, broker: other)
        #expect(try add(id, &heir, &cluster, now: .milliseconds(20)) == Self.load)
        var old = WireClient(&cluster, broker: home)
        #expect(try add(id, &old, &cluster, now: .milliseconds(30)) == Self.notCoordinator)
        #expect(try end(id, commit: false, &old, &cluster, now: .milliseconds(100)) == Self.notCoordinator)
        #expect(try add(id, &heir, &cluster, now: .milliseconds(100)) == 0)
        #expect(cluster.state.transactions.coordinatorEpoch == 1)
    }

    @Test(arguments: [true, false])
    func aPreparedTransactionCompletesItsMarkersAfterFailover(commit: Bool) throws {
        var cluster = cluster()
        let (id, home) = try openTransaction(&cluster)
        var tc = WireClient(&cluster, broker: home)
        #expect(try end(id, commit: commit, &tc, &cluster, now: .milliseconds(10)) == 0)
        #expect(cluster.describeTransaction("tx")?.state == (commit ? "PrepareCommit" : "PrepareAbort"))
        // The coordinator dies before its WriteTxnMarkers round trip (due at 15 ms) ends.
        _ = cluster.stopBroker(home, now: .milliseconds(12))
        _ = cluster.tick(now: .milliseconds(15))
        #expect(try markers(cluster).isEmpty)  // the old coordinator's writes died with it
        #expect(cluster.describeTransaction("tx")?.state == (commit ? "PrepareCommit" : "PrepareAbort"))
        // The new coordinator loads (12 + 50 ms) and then writes the markers (5 ms).
        #expect(cluster.nextDeadline == .milliseconds(67))
        var heir = WireClient(&cluster, broker: cluster.coordinator("tx", .transaction)!)
        #expect(try end(id, commit: commit, &heir, &cluster, now: .milliseconds(63)) == KafkaErrorCode.concurrentTransactions.rawValue)
        _ = cluster.tick(now: .milliseconds(67))
        #expect(cluster.describeTransaction("tx")?.state == (commit ? "CompleteCommit" : "CompleteAbort"))
        let m = try markers(cluster)
        #expect(m.map(\.commit) == [commit])
        #expect(cluster.offsets(.init("t", 0))!.lastStable == 3)
        #expect(try end(id, commit: commit, &heir, &cluster, now: .milliseconds(68)) == 0)  // a retried end
    }

    @Test func markersCarryTheNewCoordinatorEpoch() throws {
        var cluster = cluster()
        // A transaction ended before any failover: epoch 0.
        let (id, home) = try openTransaction(&cluster)
        var tc = WireClient(&cluster, broker: home)
        #expect(try end(id, commit: true, &tc, &cluster, now: .milliseconds(10)) == 0)
        _ = cluster.tick(now: .milliseconds(15))
        // Two takeovers while the next one is prepared: a move, then that broker stops.
        #expect(try add(id, &tc, &cluster, now: .milliseconds(20)) == 0)
        #expect(try end(id, commit: false, &tc, &cluster, now: .milliseconds(21)) == 0)
        let other = Int32([1, 2, 3].first { $0 != home }!)
        _ = cluster.moveCoordinator("tx", .transaction, to: other, now: .milliseconds(22))
        _ = cluster.stopBroker(other, now: .milliseconds(30))
        #expect(cluster.coordinator("tx", .transaction) != other)
        #expect(cluster.state.transactions.coordinatorEpoch == 2)
        _ = cluster.tick(now: .milliseconds(85))
        let m = try markers(cluster)
        #expect(m.map(\.commit) == [true, false])
        #expect(m.map(\.coordinatorEpoch) == [0, 2])
        #expect(m.map(\.producerEpoch) == [id.producerEpoch, id.producerEpoch])
    }

    @Test func aTransactionDoesNotTimeOutWhileItsCoordinatorLoads() {
        var c = ClusterState(brokers: [.init(nodeId: 1, host: "h", port: 1), .init(nodeId: 2, host: "h", port: 2)], seed: 1)
        c.config.transactionCoordinatorLoadMs = 50
        _ = c.createTopic(name: "t", partitions: 1, replicationFactor: 2)
        guard case .success(let p) = c.transactions.initProducerId(transactionalId: "tx", timeoutMs: 100, now: .zero) else {
            Issue.record("init failed"); return
        }
        _ = c.transactions.addPartitions(transactionalId: "tx", producerId: p.producerId, producerEpoch: p.producerEpoch,
                                         [.init("t", 0)], now: .zero)
        c.transactionCoordinatorsTookOver(["tx"], now: ms(80))
        #expect(c.transactions.nextDeadline == ms(130))
        _ = c.tick(now: ms(100))
        #expect(c.transactions.transaction("tx")?.state == .ongoing)
        _ = c.tick(now: ms(130))
        #expect(c.transactions.transaction("tx")?.state == .completeAbort)
    }

    /// A previous pass found AddPartitionsToTxn ignored pushed errors (the request was handled).
    @Test func pushedErrorsReachAddPartitionsToTxn() throws {
        var cluster = cluster(loadMs: 0)
        let home = cluster.coordinator("tx", .transaction)!
        var tc = WireClient(&cluster, broker: home)
        let id = try initId(&tc, &cluster, now: .zero)
        cluster.pushError(.addPartitionsToTxn, .concurrentTransactions, count: 2)
        let concurrent = KafkaErrorCode.concurrentTransactions.rawValue
        #expect(try add(id, &tc, &cluster, now: .milliseconds(1)) == concurrent)
        #expect(cluster.describeTransaction("tx")?.state == "Empty")  // not handled
        #expect(try add(id, &tc, &cluster, now: .milliseconds(2)) == concurrent)
        #expect(try add(id, &tc, &cluster, now: .milliseconds(3)) == 0)
        #expect(cluster.describeTransaction("tx")?.state == "Ongoing")

        // The batched form (v4, broker to broker) carries it at the top and per partition.
        cluster.pushError(.addPartitionsToTxn, .notCoordinator)
        var r = AddPartitionsToTxnRequest()
        var t = AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction()
        t.transactionalId = "tx"
        t.producerId = id.producerId
        t.producerEpoch = id.producerEpoch
        var topic = AddPartitionsToTxnRequest.AddPartitionsToTxnTopic()
        topic.name = "t"
        topic.partitions = [0]
        t.topics = [topic]
        r.transactions = [t]
        let resp = try tc.call(r, version: 4, on: &cluster, now: .milliseconds(4))
        #expect(resp.errorCode == Self.notCoordinator)
        #expect(resp.resultsByTransaction.first?.topicResults.first?.resultsByPartition.first?.partitionErrorCode == Self.notCoordinator)
    }
}
