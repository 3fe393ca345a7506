@testable import FakeCluster
import Testing

/// KIP-890 part 2 on the wire (`transactionVersion: 2`, a 4.0 broker): the feature in
/// ApiVersions, Produce v12 and TxnOffsetCommit v5 adding their partition or group to the
/// transaction (beginning it), EndTxn v5 bumping the epoch and answering it, retries named by
/// the previous (id, epoch) pair, and an abort with nothing begun.
@Suite struct TransactionVersion2WireTests {
    static let t0 = TopicPartition(topic: "t", partition: 0)

    static func cluster(transactionVersion: Int16 = 2) -> FakeCluster {
        threeBrokers {
            $0.release = .v4_0
            $0.transactionVersion = transactionVersion
            $0.topics = [.init(name: "t", partitions: 1)]
        }
    }

    /// InitProducerId for "tx" at its coordinator: (client at the coordinator, id, epoch).
    static func initTx(_ cluster: inout FakeCluster) throws -> (WireClient, Int64, Int16) {
        var c = WireClient(&cluster, broker: cluster.coordinator("tx", .transaction)!)
        var ip = InitProducerIdRequest()
        ip.transactionalId = "tx"
        ip.transactionTimeoutMs = 60_000
        let id = try c.call(ip, version: 4, on: &cluster)
        try #require(id.errorCode == 0)
        return (c, id.producerId, id.producerEpoch)
    }

    static func produce(_ cluster: inout FakeCluster, pid: Int64, epoch: Int16, sequence: Int32, version: Int16,
                        now: Instant = .zero) throws -> Int16 {
        var c = WireClient(&cluster, broker: cluster.partitionInfo(t0)!.leader)
        var r = produceRequest("t", 0, makeBatch(producerId: pid, epoch: epoch, sequence: sequence, transactional: true))
        r.transactionalId = "tx"
        let resp = try c.call(r, version: version, on: &cluster, now: now)
        return resp.responses[0].partitionResponses[0].errorCode
    }

    static func endTxn(_ c: inout WireClient, _ cluster: inout FakeCluster, pid: Int64, epoch: Int16, commit: Bool,
                       version: Int16 = 5, now: Instant = .zero) throws -> EndTxnResponse {
        var end = EndTxnRequest()
        end.transactionalId = "tx"
        end.producerId = pid
        end.producerEpoch = epoch
        end.committed = commit
        return try c.call(end, version: version, on: &cluster, now: now)
    }

    @Test func apiVersionsFinalizesTheFeatureOnlyWhenConfigured() throws {
        for tv in [Int16(0), 2] {
            var cluster = Self.cluster(transactionVersion: tv)
            var c = WireClient(&cluster, broker: 1)
            let r = try c.call(ApiVersionsRequest(), version: 3, on: &cluster)
            let finalized = r.finalizedFeatures.first { $0.name == "transaction.version" }
            if tv == 0 {
                #expect(finalized == nil && r.finalizedFeaturesEpoch == -1)
            } else {
                #expect(finalized?.maxVersionLevel == 2 && r.finalizedFeaturesEpoch >= 0)
            }
            #expect(r.apiKeys.first { $0.apiKey == ApiKey.produce.rawValue }?.maxVersion == 12)
            #expect(r.apiKeys.first { $0.apiKey == ApiKey.txnOffsetCommit.rawValue }?.maxVersion == 5)
        }
    }

    /// UpdateFeatures finalizing transaction.version 2 turns the behaviour on, as the config does.
    @Test func updateFeaturesTurnsTheFeatureOn() throws {
        var cluster = Self.cluster(transactionVersion: 0)
        var c = WireClient(&cluster, broker: 2)
        var u = UpdateFeaturesRequest()
        var k = UpdateFeaturesRequest.FeatureUpdateKey()
        k.feature = "transaction.version"
        k.maxVersionLevel = 2
        u.featureUpdates = [k]
        #expect(try c.call(u, version: 1, on: &cluster).results.map(\.errorCode) == [0])
        let v = try c.call(ApiVersionsRequest(), version: 4, on: &cluster)
        #expect(v.finalizedFeatures.first { $0.name == "transaction.version" }?.maxVersionLevel == 2 && v.finalizedFeaturesEpoch == 1)
        let (_, pid, epoch) = try Self.initTx(&cluster)
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 12) == 0)
        #expect(cluster.describeTransaction("tx")?.state == "Ongoing")
    }

    /// A transactional Produce v12 adds its partition and begins the transaction; v11, or
    /// v12 without the feature, still needs AddPartitionsToTxn (refused as before).
    @Test func produceV12AddsThePartitionImplicitly() throws {
        var off = Self.cluster(transactionVersion: 0)
        let (_, pidOff, epochOff) = try Self.initTx(&off)
        #expect(try Self.produce(&off, pid: pidOff, epoch: epochOff, sequence: 0, version: 12) == KafkaErrorCode.invalidTxnState.rawValue)

        var cluster = Self.cluster()
        let (_, pid, epoch) = try Self.initTx(&cluster)
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 11) == KafkaErrorCode.invalidTxnState.rawValue)
        #expect(cluster.describeTransaction("tx")?.state == "Empty")
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 12) == 0)
        let t = try #require(cluster.describeTransaction("tx"))
        #expect(t.state == "Ongoing" && t.partitions == [Self.t0])
    }

    /// TxnOffsetCommit v5 adds its group (AddOffsetsToTxn's work) and begins the transaction.
    @Test func txnOffsetCommitV5AddsTheGroupImplicitly() throws {
        var cluster = Self.cluster()
        let (_, pid, epoch) = try Self.initTx(&cluster)
        var g = WireClient(&cluster, broker: cluster.coordinator("g", .group)!)
        var r = TxnOffsetCommitRequest()
        r.transactionalId = "tx"
        r.groupId = "g"
        r.producerId = pid
        r.producerEpoch = epoch
        var topic = TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic()
        topic.name = "t"
        var p = TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition()
        p.partitionIndex = 0
        p.committedOffset = 5
        topic.partitions = [p]
        r.topics = [topic]
        let resp = try g.call(r, version: 5, on: &cluster)
        #expect(resp.topics[0].partitions[0].errorCode == 0)
        let t = try #require(cluster.state.transactions.transaction("tx"))
        #expect(t.state == .ongoing && t.groups == ["g"])
    }

    /// EndTxn v5 bumps the epoch and answers it; the markers carry it. A retry naming the
    /// previous pair is CONCURRENT_TRANSACTIONS until the markers land, then NONE with the
    /// same new pair; the other outcome is INVALID_TXN_STATE. The old epoch is fenced on the
    /// partition; the new one starts at sequence 0 and begins the next transaction.
    @Test func endTxnV5BumpsTheEpochAndRecognisesRetries() throws {
        var cluster = Self.cluster()
        var (c, pid, epoch) = try Self.initTx(&cluster)
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 12) == 0)
        let end = try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: true)
        #expect(end.errorCode == 0 && end.producerId == pid && end.producerEpoch == epoch + 1)
        #expect(cluster.describeTransaction("tx")?.state == "PrepareCommit")
        #expect(try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: true).errorCode
            == KafkaErrorCode.concurrentTransactions.rawValue)
        _ = cluster.tick(now: .milliseconds(10))
        #expect(cluster.describeTransaction("tx")?.state == "CompleteCommit")
        #expect(cluster.offsets(Self.t0)!.lastStable == 2, "the record and its commit marker")
        let retry = try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: true, now: .milliseconds(10))
        #expect(retry.errorCode == 0 && retry.producerId == pid && retry.producerEpoch == epoch + 1)
        #expect(try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: false, now: .milliseconds(10)).errorCode
            == KafkaErrorCode.invalidTxnState.rawValue)
        // Older than the previous pair: fenced.
        if epoch > 0 {
            #expect(try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch - 1, commit: true, now: .milliseconds(10)).errorCode
                == KafkaErrorCode.producerFenced.rawValue)
        }
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 1, version: 12, now: .milliseconds(10))
            == KafkaErrorCode.invalidProducerEpoch.rawValue)
        epoch += 1
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 12, now: .milliseconds(10)) == 0)
        #expect(cluster.describeTransaction("tx")?.state == "Ongoing")
        let abort = try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: false, now: .milliseconds(10))
        #expect(abort.errorCode == 0 && abort.producerEpoch == epoch + 1)
    }

    /// A new instance (InitProducerId) after an EndTxn v5: the old instance's retry of that
    /// EndTxn no longer counts as one (it would hand the zombie the new epoch): fenced.
    @Test func aNewInstanceFencesTheRetryOfAnEndedTransaction() throws {
        var cluster = Self.cluster()
        var (c, pid, epoch) = try Self.initTx(&cluster)
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 12) == 0)
        #expect(try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: true).producerEpoch == epoch + 1)
        _ = cluster.tick(now: .milliseconds(10))
        let (_, pid2, epoch2) = try Self.initTx(&cluster)
        #expect(pid2 == pid && epoch2 == epoch + 2)
        let retry = try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: true, now: .milliseconds(10))
        #expect(retry.errorCode == KafkaErrorCode.producerFenced.rawValue && retry.producerEpoch == -1)
        epoch = epoch2
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 12, now: .milliseconds(10)) == 0)
    }

    /// An abort with nothing begun (the producer cannot know whether its Produce v12 added
    /// anything) is accepted and bumps the epoch; a commit of nothing is INVALID_TXN_STATE.
    /// EndTxn v4 on the same cluster keeps the old rules: no bump, no pair in the answer.
    @Test func anEmptyAbortBumpsTheEpoch() throws {
        var cluster = Self.cluster()
        var (c, pid, epoch) = try Self.initTx(&cluster)
        #expect(try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: true).errorCode == KafkaErrorCode.invalidTxnState.rawValue)
        let abort = try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: false)
        #expect(abort.errorCode == 0 && abort.producerEpoch == epoch + 1)
        #expect(cluster.describeTransaction("tx")?.producerEpoch == epoch + 1)
        epoch += 1
        #expect(try Self.produce(&cluster, pid: pid, epoch: epoch, sequence: 0, version: 12) == 0)
        let v4 = try Self.endTxn(&c, &cluster, pid: pid, epoch: epoch, commit: true, version: 4)
        #expect(v4.errorCode == 0 && cluster.describeTransaction("tx")?.producerEpoch == epoch)
    }
}

/// The coordinator's KIP-890 part 2 rules below the wire: the epoch overflow of an EndTxn
/// (a new producer id at epoch 0; the markers on the old id at Int16.max) and its retry,
/// recognised by the previous pair.
@Suite struct TransactionVersion2CoordinatorTests {
    typealias PE = TransactionCoordinator.ProducerIdAndEpoch

    @Test func endTxnAtTheLastEpochMovesToANewProducerId() throws {
        var c = TransactionCoordinator(firstProducerId: 7)
        var pe = PE(producerId: -1, producerEpoch: -1)
        // Each plain InitProducerId bumps the epoch; stop at the last one an EndTxn can bump from.
        while pe.producerEpoch < Int16.max - 1 {
            guard case .success(let next) = c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, now: .zero) else {
                Issue.record("init failed"); return
            }
            pe = next
        }
        #expect(pe == PE(producerId: 7, producerEpoch: Int16.max - 1))
        let tp = TopicPartition(topic: "t", partition: 0)
        #expect(c.addPartitions(transactionalId: "tx", producerId: 7, producerEpoch: pe.producerEpoch, [tp], now: .zero) == .noError)
        guard case .ending(let completion, let next) = c.endTransactionV2(transactionalId: "tx", producerId: 7,
                                                                          producerEpoch: pe.producerEpoch, commit: true, now: .zero) else {
            Issue.record("EndTxn did not end"); return
        }
        #expect(next == PE(producerId: 8, producerEpoch: 0))
        #expect(completion.producerId == 7 && completion.producerEpoch == Int16.max && completion.partitions == [tp])
        #expect(c.endTransactionV2(transactionalId: "tx", producerId: 7, producerEpoch: pe.producerEpoch, commit: true, now: .zero)
            == .failure(.concurrentTransactions))
        c.markersWritten(transactionalId: "tx", now: .zero)
        #expect(c.endTransactionV2(transactionalId: "tx", producerId: 7, producerEpoch: pe.producerEpoch, commit: true, now: .zero)
            == .done(next), "the retry of the overflowing EndTxn")
        #expect(c.endTransactionV2(transactionalId: "tx", producerId: 7, producerEpoch: pe.producerEpoch - 1, commit: true, now: .zero)
            == .failure(.producerFenced))
        #expect(c.endTransactionV2(transactionalId: "tx", producerId: 99, producerEpoch: 0, commit: false, now: .zero)
            == .failure(.invalidProducerIdMapping))
        // The new id goes on: its next transaction begins and ends at epoch 0 -> 1.
        #expect(c.addPartitions(transactionalId: "tx", producerId: 8, producerEpoch: 0, [tp], now: .zero) == .noError)
        guard case .ending(_, let after) = c.endTransactionV2(transactionalId: "tx", producerId: 8, producerEpoch: 0,
                                                              commit: false, now: .zero) else {
            Issue.record("second EndTxn did not end"); return
        }
        #expect(after == PE(producerId: 8, producerEpoch: 1))
    }
}
