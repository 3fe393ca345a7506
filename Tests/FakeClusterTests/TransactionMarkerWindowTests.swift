@testable import FakeCluster
import Testing

/// EndTxn leaves the transaction in PrepareCommit until the markers land a WriteTxnMarkers
/// delay later: meanwhile the producer gets CONCURRENT_TRANSACTIONS and the LSO is held.
@Suite struct TransactionMarkerWindowTests {
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

    private func lso(_ c: inout WireClient, _ cluster: inout FakeCluster, now: Instant) throws -> Int64? {
        var f = fetchRequest("t", 0, offset: 0, maxWaitMs: 0)
        f.isolationLevel = 1
        return try c.call(f, version: 11, on: &cluster, now: now).responses.first?.partitions.first?.lastStableOffset
    }

    @Test(arguments: [true, false])
    func theCoordinatorAnswersConcurrentTransactionsUntilMarkersLand(commit: Bool) throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1, replicationFactor: 1)] }
        let coordinator = cluster.coordinator("tx", .transaction)!
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        var tc = WireClient(&cluster, broker: coordinator)
        var pc = WireClient(&cluster, broker: leader)
        var ip = InitProducerIdRequest()
        ip.transactionalId = "tx"
        ip.transactionTimeoutMs = 60_000
        let id = try tc.call(ip, version: 3, on: &cluster)
        try #require(id.errorCode == 0)
        #expect(try add(id, &tc, &cluster, now: .milliseconds(1)) == 0)
        let batch = makeBatch(count: 2, producerId: id.producerId, epoch: id.producerEpoch, sequence: 0, transactional: true)
        let p = try pc.call(produceRequest("t", 0, batch), version: 7, on: &cluster, now: .milliseconds(2))
        try #require(p.responses[0].partitionResponses[0].errorCode == 0)

        var end = EndTxnRequest()
        end.transactionalId = "tx"
        end.producerId = id.producerId
        end.producerEpoch = id.producerEpoch
        end.committed = commit
        #expect(try tc.call(end, version: 3, on: &cluster, now: .milliseconds(10)).errorCode == 0)

        // The window: every transactional request from this producer is told to retry.
        let concurrent = KafkaErrorCode.concurrentTransactions.rawValue
        #expect(try add(id, &tc, &cluster, now: .milliseconds(11)) == concurrent)
        #expect(try tc.call(end, version: 3, on: &cluster, now: .milliseconds(11)).errorCode == concurrent)
        #expect(try tc.call(ip, version: 3, on: &cluster, now: .milliseconds(12)).errorCode == concurrent)
        #expect(try lso(&pc, &cluster, now: .milliseconds(12)) == 0)
        #expect(cluster.offsets(.init("t", 0))!.highWatermark == 2)
        #expect(cluster.nextDeadline == .milliseconds(15))

        // The markers land: the LSO moves past the marker and the producer may go on.
        _ = cluster.tick(now: .milliseconds(15))
        #expect(cluster.offsets(.init("t", 0))!.highWatermark == 3)
        #expect(try lso(&pc, &cluster, now: .milliseconds(16)) == 3)
        #expect(try tc.call(end, version: 3, on: &cluster, now: .milliseconds(16)).errorCode == 0) // a retry of the same end
        #expect(try add(id, &tc, &cluster, now: .milliseconds(17)) == 0)
    }

    @Test func aZeroDelayWritesMarkersWithinEndTxn() throws {
        var cluster = threeBrokers {
            $0.topics = [.init(name: "t", partitions: 1, replicationFactor: 1)]
            $0.transactionMarkerDelayMs = 0
        }
        var tc = WireClient(&cluster, broker: cluster.coordinator("tx", .transaction)!)
        var ip = InitProducerIdRequest()
        ip.transactionalId = "tx"
        ip.transactionTimeoutMs = 60_000
        let id = try tc.call(ip, version: 3, on: &cluster)
        #expect(try add(id, &tc, &cluster, now: .milliseconds(1)) == 0)
        var end = EndTxnRequest()
        end.transactionalId = "tx"
        end.producerId = id.producerId
        end.producerEpoch = id.producerEpoch
        end.committed = false
        #expect(try tc.call(end, version: 3, on: &cluster, now: .milliseconds(2)).errorCode == 0)
        #expect(cluster.offsets(.init("t", 0))!.highWatermark == 1)
        #expect(try add(id, &tc, &cluster, now: .milliseconds(3)) == 0)
    }
}
