import Testing
@testable import KafkaProtocol

/// The KIP-890 part 2 versions: Produce v12 and TxnOffsetCommit v5 (from the protocol
/// overlay, Tools/KafkaGen/protocol-overlay) are their previous versions on the wire; EndTxn
/// v5's response carries the bumped producer id and epoch, which v4 has no room for.
@Suite struct TransactionVersion2CodecTests {
    @Test func theNewVersionsAreKnown() {
        #expect(ProduceRequest.validVersions.upperBound == 12 && ProduceResponse.validVersions.upperBound == 12)
        #expect(TxnOffsetCommitRequest.validVersions.upperBound == 5 && TxnOffsetCommitResponse.validVersions.upperBound == 5)
        #expect(EndTxnRequest.validVersions.upperBound == 5 && EndTxnResponse.validVersions.upperBound == 5)
        #expect(ApiKey.produce.validVersions == 0 ... 12 && ApiKey.txnOffsetCommit.validVersions == 0 ... 5)
    }

    @Test func endTxnV5CarriesTheBumpedPair() throws {
        var r = EndTxnResponse()
        r.throttleTimeMs = 3
        r.producerId = 4_000
        r.producerEpoch = 17
        let bytes = try r.encoded(version: 5)
        let back = try EndTxnResponse.decode(bytes, version: 5)
        #expect(back.producerId == 4_000 && back.producerEpoch == 17 && back.throttleTimeMs == 3)
        // v4 has no such fields (ignorable): they are dropped, and read back as the defaults.
        let old = try EndTxnResponse.decode(try r.encoded(version: 4), version: 4)
        #expect(old.producerId == -1 && old.producerEpoch == -1)
        #expect(try r.encoded(version: 4).count < bytes.count)
    }

    @Test func produceV12IsV11OnTheWire() throws {
        var r = ProduceRequest()
        r.transactionalId = "tx"
        r.acks = -1
        r.timeoutMs = 30_000
        var t = ProduceRequest.TopicProduceData()
        t.name = "t"
        var p = ProduceRequest.PartitionProduceData()
        p.index = 2
        p.records = [1, 2, 3]
        t.partitionData = [p]
        r.topicData = [t]
        let v12 = try r.encoded(version: 12)
        #expect(v12 == (try r.encoded(version: 11)))
        let back = try ProduceRequest.decode(v12, version: 12)
        #expect(back.transactionalId == "tx" && back.topicData.first?.partitionData.first?.records == [1, 2, 3])
        var resp = ProduceResponse()
        var tr = ProduceResponse.TopicProduceResponse()
        tr.name = "t"
        var pr = ProduceResponse.PartitionProduceResponse()
        pr.index = 2
        pr.errorCode = KafkaErrorCode.transactionAbortable.rawValue
        tr.partitionResponses = [pr]
        resp.responses = [tr]
        let decoded = try ProduceResponse.decode(try resp.encoded(version: 12), version: 12)
        #expect(decoded.responses.first?.partitionResponses.first?.errorCode == 120)
    }

    @Test func txnOffsetCommitV5IsV4OnTheWire() throws {
        var r = TxnOffsetCommitRequest()
        r.transactionalId = "tx"
        r.groupId = "g"
        r.producerId = 9
        r.producerEpoch = 2
        r.generationId = 4
        r.memberId = "m"
        var t = TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic()
        t.name = "in"
        var p = TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition()
        p.partitionIndex = 1
        p.committedOffset = 42
        t.partitions = [p]
        r.topics = [t]
        let v5 = try r.encoded(version: 5)
        #expect(v5 == (try r.encoded(version: 4)))
        let back = try TxnOffsetCommitRequest.decode(v5, version: 5)
        #expect(back.groupId == "g" && back.generationId == 4 && back.topics.first?.partitions.first?.committedOffset == 42)
    }
}
