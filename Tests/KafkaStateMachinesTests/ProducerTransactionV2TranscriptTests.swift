import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)
private let t2 = TopicPartition("t", 2)
private let in0 = TopicPartition("in", 0)

/// Engine transcripts of KIP-890 part 2 (transaction version 2): with every broker's
/// ApiVersions finalizing transaction.version 2 the producer sends no AddPartitionsToTxn
/// (Produce v12 adds the partition) and no AddOffsetsToTxn (TxnOffsetCommit v5 adds the
/// group), ends with EndTxn v5 and goes on with the epoch it answers; TRANSACTION_ABORTABLE
/// on a commit leaves a transaction that must abort. One broker without the feature, or a
/// broker offering the versions without it, keeps the old path and its version caps.
@Suite struct ProducerTransactionV2TranscriptTests {
    static func world(transactionVersion: Int16 = 2, without: Set<Int32> = []) -> ProducerWorld {
        var w = ProducerTransactionTranscriptTests.world()
        w.transactionVersion = transactionVersion
        w.brokersWithoutTransactionV2 = without
        return w
    }

    static func offsets() -> TransactionOffsets {
        TransactionOffsets(groupId: "g", generationId: 4, memberId: "m-1", offsets: [in0: CommitPosition(offset: 10, leaderEpoch: 1)])
    }

    func versions(_ w: ProducerWorld, _ key: ApiKey) -> [Int16] { w.versions.filter { $0.key == key }.map(\.version) }

    /// No AddPartitionsToTxn: the batches go at once as Produce v12 (transactional, the id
    /// named); the commit is EndTxn v5, and the next transaction writes with the epoch it
    /// answered, sequences from 0, and ends with that epoch.
    @Test func partitionsJoinThroughProduceAndTheEndTxnEpochIsAdopted() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1, 2])
        w.produce("t", 2, [3])
        #expect(w.adds.isEmpty, "\(w.trace)")
        #expect(w.h.engine.transactionV2 == true)
        #expect(!w.allSent.isEmpty && versions(w, .produce).allSatisfy { $0 == 12 }, "\(w.versions)")
        #expect(w.allSent.allSatisfy { $0.request.transactionalId == "tx" })
        w.answerAll()
        w.end(commit: true, 2)
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.ends.count == 1 && w.ends[0].request.committed && w.ends[0].request.producerEpoch == 0)
        #expect(versions(w, .endTxn) == [5])
        #expect(w.inits.count == 1, "the epoch comes from EndTxn, not a KIP-360 InitProducerId")

        let before = w.allSent.count
        w.begin(3)
        w.produce("t", 0, [4])
        w.answerAll()
        let next = w.allSent[before...].flatMap(\.batches)
        #expect(next.count == 1 && next[0].header.producerId == 1000 && next[0].header.producerEpoch == 1)
        #expect(next[0].sequence == 0, "a new epoch starts sequences over")
        w.end(commit: false, 4)
        #expect(w.transactionOutcome(4) == .some(nil))
        #expect(w.ends.count == 2 && !w.ends[1].request.committed && w.ends[1].request.producerEpoch == 1)
        #expect(w.adds.isEmpty && w.inits.count == 1)
    }

    /// Offsets go straight to the group coordinator as TxnOffsetCommit v5 (no
    /// AddOffsetsToTxn), and a transaction of offsets alone still ends at the coordinator.
    @Test func offsetsJoinThroughTxnOffsetCommit() {
        var w = Self.world()
        w.begin(1)
        w.sendOffsets(2, Self.offsets())
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.addOffsets.isEmpty && w.txnCommits.count == 1 && w.txnCommits[0].broker == 3)
        #expect(versions(w, .txnOffsetCommit) == [5])
        w.end(commit: true, 3)
        #expect(w.transactionOutcome(3) == .some(nil) && w.ends.count == 1 && versions(w, .endTxn) == [5])
    }

    /// TRANSACTION_ABORTABLE answering the commit: the commit is answered "must abort" with
    /// that cause, new records are refused, and the abort that follows goes to the
    /// coordinator and succeeds.
    @Test func transactionAbortableOnCommitMakesItMustAbort() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.endErrors = [.transactionAbortable]
        w.end(commit: true, 2)
        guard case .some(.mustAbort(cause: .broker(.transactionAbortable, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect(w.h.engine.transactionOpen)
        #expect(w.h.engine.produce(ProducerWorld.record("t", 0, 9), now: w.now) != nil, "a must-abort transaction takes no records")
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.count == 2 && w.ends[0].request.committed && !w.ends[1].request.committed)
        // The refused commit bumped nothing: the abort names the same epoch.
        #expect(w.ends[1].request.producerEpoch == 0)
        #expect(!w.h.engine.transactionOpen)
    }

    /// One broker (the coordinator) without the feature: the old path, with the versions
    /// capped below KIP-890 part 2's although every broker serves them.
    @Test func oneBrokerWithoutTheFeatureKeepsTheOldPath() {
        var w = Self.world(without: [2])
        w.begin(1)
        w.produce("t", 0, [1])
        w.produce("t", 2, [2])
        #expect(w.h.engine.transactionV2 == false)
        #expect(w.adds.count >= 1)
        w.answerAll()
        w.sendOffsets(2, Self.offsets())
        #expect(w.addOffsets.count == 1)
        w.end(commit: true, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(versions(w, .produce).allSatisfy { $0 <= 11 }, "\(w.versions)")
        #expect(versions(w, .txnOffsetCommit).allSatisfy { $0 <= 4 } && versions(w, .endTxn).allSatisfy { $0 <= 4 })
        #expect(w.ends[0].request.producerEpoch == 0)
    }

    /// A broker offering Produce v12, TxnOffsetCommit v5 and EndTxn v5 without finalizing
    /// the feature (Kafka 4.x with transaction.version 0 or 1) is spoken to with the old
    /// versions, and nothing is adopted from EndTxn.
    @Test func versionsWithoutTheFeatureStayOld() {
        var w = Self.world(transactionVersion: 0)
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.sendOffsets(2, Self.offsets())
        w.end(commit: true, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(versions(w, .produce) == [11] && versions(w, .txnOffsetCommit) == [4] && versions(w, .endTxn) == [4], "\(w.versions)")
        w.begin(4)
        w.produce("t", 0, [2])
        #expect(w.allSent.last?.batches.first?.header.producerEpoch == 0)
    }

    /// The path is fixed per transaction when it first sends: a transaction never mixes
    /// them, and the first one's transcript has no AddPartitionsToTxn even for a partition
    /// led by a broker met only later.
    @Test func thePathIsDecidedOncePerTransaction() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 2, [1])  // led by node 3
        w.answerAll()
        w.produce("t", 0, [2])
        w.answerAll()
        #expect(w.adds.isEmpty && w.h.engine.transactionV2 == true)
        w.end(commit: true, 2)
        #expect(w.h.engine.transactionV2 == nil, "no transaction open")
        #expect(Set(w.allSent.flatMap(\.batches).map(\.tp)) == [t0, t2])
    }

    /// An EndTxn whose answer cannot be read is sent again with the same (id, epoch), the
    /// pair the coordinator recognises as the retry of the EndTxn that bumped it; the epoch
    /// its answer names is adopted once.
    @Test func anEndTxnRetryNamesThePreviousPair() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.endGarbage = 1
        w.end(commit: true, 2)
        w.run(until: 5_000)
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.ends.count == 2 && w.ends.allSatisfy { $0.request.producerEpoch == 0 && $0.request.committed })
        w.begin(3)
        w.produce("t", 0, [2])
        #expect(w.allSent.last?.batches.first?.header.producerEpoch == 1)
    }

    /// TRANSACTION_ABORTABLE on a Produce (KIP-890): the record fails, the transaction must
    /// abort, and the abort goes to the coordinator.
    @Test func transactionAbortableOnProduceMakesItMustAbort() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answer(errors: [t0: .transactionAbortable])
        #expect(w.failedTokens == [1])
        w.end(commit: true, 2)
        guard case .some(.mustAbort(cause: .broker(.transactionAbortable, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.count == 1 && !w.ends[0].request.committed && versions(w, .endTxn) == [5])
    }
}

