@testable import FakeCluster
import Testing

@Suite struct KafkaReleaseTests {
    static let releases: [KafkaRelease] = [
        "0.8.2", "0.9", "0.10.0", "0.10.1", "0.10.2", "0.11", "1.0", "1.1", "2.0", "2.1", "2.3", "2.4", "2.5", "2.7",
        "2.8", "3.0", "3.5", "3.7", "3.9", "4.0",
    ].map { KafkaRelease($0)! }

    @Test func parsesVersionStrings() {
        #expect(KafkaRelease("2.8") == KafkaRelease(2, 8, 0))
        #expect(KafkaRelease("0.10.2.1") == nil && KafkaRelease("x.1") == nil && KafkaRelease("3") == nil)
    }

    @Test func maximaNeverDecreaseAcrossReleases() {
        for key in Int16(0) ... 70 {
            var last: Int16 = -1
            for r in Self.releases {
                guard let v = r.versions(ApiKey(key)) else {
                    #expect(last == -1, "API \(key) disappeared in \(r)")
                    continue
                }
                #expect(v.upperBound >= last, "API \(key) went back in \(r)")
                last = v.upperBound
            }
        }
    }

    @Test func landmarkReleases() {
        #expect(!KafkaRelease(0, 9).hasApiVersions && KafkaRelease(0, 10).hasApiVersions)
        #expect(KafkaRelease(0, 10, 2).versions(.initProducerId) == nil)
        #expect(KafkaRelease(0, 11).versions(.initProducerId) == 0 ... 0)
        #expect(KafkaRelease(2, 8).versions(.describeCluster) == 0 ... 0)
        #expect(KafkaRelease(4, 0).versions(.produce)?.lowerBound == 3)
    }
}

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
