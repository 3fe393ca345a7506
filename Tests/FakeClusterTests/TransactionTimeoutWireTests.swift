@testable import FakeCluster
import Testing

@Suite struct TransactionTimeoutWireTests {
    @Test func anExpiredTransactionIsAbortedOnVirtualTimeAndItsProducerFenced() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let coord = cluster.coordinator("tx", .transaction)!
        var c = WireClient(&cluster, broker: coord)
        var ip = InitProducerIdRequest()
        ip.transactionalId = "tx"
        ip.transactionTimeoutMs = 1_000
        let id = try c.call(ip, version: 3, on: &cluster)
        try #require(id.errorCode == 0)
        var add = AddPartitionsToTxnRequest()
        add.v3AndBelowTransactionalId = "tx"
        add.v3AndBelowProducerId = id.producerId
        add.v3AndBelowProducerEpoch = id.producerEpoch
        var topic = AddPartitionsToTxnRequest.AddPartitionsToTxnTopic()
        topic.name = "t"
        topic.partitions = [0]
        add.v3AndBelowTopics = [topic]
        #expect(try c.call(add, version: 3, on: &cluster).resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode == 0)
        #expect(cluster.nextDeadline != nil)
        _ = cluster.tick(now: .milliseconds(5_000))
        // PrepareAbort: the marker lands after the WriteTxnMarkers delay.
        #expect(cluster.offsets(.init("t", 0))!.highWatermark == 0)
        #expect(cluster.nextDeadline == .milliseconds(5_005))
        _ = cluster.tick(now: .milliseconds(5_005))
        // The abort marker is in the log and the old epoch can no longer end the transaction.
        #expect(cluster.offsets(.init("t", 0))!.highWatermark == 1)
        var end = EndTxnRequest()
        end.transactionalId = "tx"
        end.producerId = id.producerId
        end.producerEpoch = id.producerEpoch
        end.committed = true
        let r = try c.call(end, version: 3, on: &cluster, now: .milliseconds(5_001))
        #expect(r.errorCode == KafkaErrorCode.producerFenced.rawValue || r.errorCode == KafkaErrorCode.invalidProducerEpoch.rawValue)
    }
}
