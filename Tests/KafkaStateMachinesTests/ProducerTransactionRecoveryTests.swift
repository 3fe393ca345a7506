import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)
private let t1 = TopicPartition("t", 1)
private let in0 = TopicPartition("in", 0)

/// Engine transcripts of the transactional producer's recovery: a fence inside a
/// transaction (KIP-588) made must-abort and settled at the abort by InitProducerId naming
/// the producer's id and epoch; a commit whose EndTxn went unanswered and whose retry was
/// fenced, settled the same way and never reported committed; the KIP-360 bump after an
/// abort for UNKNOWN_PRODUCER_ID / OUT_OF_ORDER_SEQUENCE_NUMBER; transactional requests that
/// lose their connection retried up to the transaction timeout (45 s here), then given up.
/// The world's InitProducerId grants the same id at epoch + 1 unless scripted otherwise.
@Suite struct ProducerTransactionRecoveryTests {
    static func world(_ configure: (inout ProducerConfig) -> Void = { _ in }) -> ProducerWorld {
        ProducerTransactionTranscriptTests.world(configure)
    }

    static func offsets() -> TransactionOffsets {
        TransactionOffsets(groupId: "g", generationId: 7, memberId: "m-1", offsets: [in0: CommitPosition(offset: 10)])
    }

    /// The next transaction works at the recovered epoch: its partition is added again and
    /// its first batch goes at `epoch` from sequence 0; the commit succeeds.
    static func nextTransactionCommits(_ w: inout ProducerWorld, epoch: Int16, promise: UInt64) {
        w.begin(promise)
        #expect(w.transactionOutcome(promise) == .some(nil))
        let adds = w.adds.count
        #expect(w.produce("t", 0, [promise * 100]) == [nil])
        #expect(w.adds.count == adds + 1)
        let batch = w.held.last?.batches.first
        #expect(batch?.header.producerEpoch == epoch && batch?.sequence == 0, "\(String(describing: batch))")
        w.end(commit: true, promise + 1)
        w.answerAll()
        #expect(w.transactionOutcome(promise + 1) == .some(nil))
        #expect(w.ends.last?.request.committed == true && w.ends.last?.request.producerEpoch == epoch)
    }

    // MARK: KIP-588

    /// The coordinator fenced our epoch (it aborted the transaction on its timeout) when a new
    /// partition was added: the transaction must abort, nothing fatal. The commit says so;
    /// the abort sends no EndTxn but InitProducerId v3+ naming (1000, 0); granted, the abort
    /// succeeds and the next transaction goes at epoch 1.
    @Test(arguments: [KafkaErrorCode.producerFenced, .invalidProducerEpoch])
    func aFenceOnAddPartitionsIsRecoveredAtTheAbort(code: KafkaErrorCode) {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.addErrors = [code]
        w.produce("t", 1, [2])
        guard case .transactionMustAbort(cause: .broker(code, _))? = w.reports.last?.error else {
            Issue.record("record 2: \(w.reports)")
            return
        }
        #expect(!w.notices.contains { if case .fatal = $0 { return true } else { return false } })
        w.end(commit: true, 2)
        guard case .some(.mustAbort(cause: .broker(code, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        let inits = w.inits.count
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.isEmpty, "EndTxn would be fenced: the abort re-initializes instead")
        #expect(w.inits.count == inits + 1)
        #expect(w.inits.last?.producerId == 1000 && w.inits.last?.producerEpoch == 0 && w.inits.last?.transactionalId == "tx")
        #expect((w.initVersions.last ?? 0) >= 3)
        Self.nextTransactionCommits(&w, epoch: 1, promise: 10)
    }

    /// A Produce answered INVALID_PRODUCER_EPOCH while the commit flushes: the commit is
    /// answered "must abort" (not fatal), and the abort recovers.
    @Test func aFenceOnProduceDuringTheCommitIsRecoveredAtTheAbort() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.end(commit: true, 2)
        w.answer(errors: [t0: .invalidProducerEpoch])
        guard case .some(.mustAbort(cause: .broker(.invalidProducerEpoch, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.isEmpty && w.inits.last?.producerEpoch == 0 && w.inits.last?.producerId == 1000)
        Self.nextTransactionCommits(&w, epoch: 1, promise: 10)
    }

    /// A fence on AddOffsetsToTxn or TxnOffsetCommit answers the offsets "must abort"; the
    /// abort recovers.
    @Test(arguments: [false, true])
    func aFenceOnTheOffsetsIsRecoveredAtTheAbort(onCommit: Bool) {
        var w = Self.world()
        w.begin(1)
        if onCommit { w.txnCommitErrors = [.producerFenced] } else { w.addOffsetsErrors = [.producerFenced] }
        w.sendOffsets(2, Self.offsets())
        guard case .some(.mustAbort(cause: .broker(.producerFenced, _))?) = w.transactionOutcome(2) else {
            Issue.record("offsets: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.isEmpty && w.inits.last?.producerEpoch == 0)
        Self.nextTransactionCommits(&w, epoch: 1, promise: 10)
    }

    /// The recovery refused (PRODUCER_FENCED: another instance registered the id): a real
    /// zombie. The abort fails fatally with the fenced error, and so does everything after.
    @Test func aRefusedRecoveryIsFatalAndFenced() {
        var w = Self.world()
        w.begin(1)
        w.addErrors = [.producerFenced]
        w.produce("t", 0, [1])
        w.initErrors = [.producerFenced]
        w.end(commit: false, 2)
        guard case .some(.fatal(let e)?) = w.transactionOutcome(2), e.isFenced else {
            Issue.record("abort: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect((w.transactionOutcome(2) ?? nil)?.isFenced == true)
        #expect(w.notices.contains { if case .fatal = $0 { return true } else { return false } })
        w.begin(3)
        guard case .some(.fatal?) = w.transactionOutcome(3) else {
            Issue.record("begin: \(String(describing: w.transactionOutcome(3)))")
            return
        }
        #expect(w.ends.isEmpty)
    }

    /// CONCURRENT_TRANSACTIONS on the recovery (the coordinator still writing the timeout
    /// abort's markers) is asked again; the abort answers once it is granted.
    @Test func aRecoveryWaitsForTheCoordinatorsAbort() {
        var w = Self.world()
        w.begin(1)
        w.addErrors = [.producerFenced]
        w.produce("t", 0, [1])
        w.initErrors = [.concurrentTransactions, .concurrentTransactions]
        let inits = w.inits.count
        w.end(commit: false, 2)
        #expect(w.transactionOutcome(2) == nil)
        w.run(until: 10_000)
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.inits.count == inits + 3 && w.inits.suffix(3).allSatisfy { $0.producerEpoch == 0 && $0.producerId == 1000 })
    }

    /// Brokers without InitProducerId v3 cannot take the id and epoch: a fence stays fatal
    /// at once, as before KIP-588.
    @Test func belowInitProducerIdV3AFenceIsFatal() {
        var w = Self.world()
        w.initMaxVersion = 2
        w.begin(1)
        w.addErrors = [.producerFenced]
        w.produce("t", 0, [1])
        #expect(w.reports.first?.error == .fatal(.broker(.producerFenced, message: nil)))
        #expect(w.notices.contains(.fatal(.broker(.producerFenced, message: nil))))
        w.end(commit: false, 2)
        #expect(w.transactionOutcome(2) == .some(.fatal(.broker(.producerFenced, message: nil))))
        #expect(w.inits.count == 1)
    }

    // MARK: the uncertain commit

    /// The commit's EndTxn is lost with its connection; its retry is fenced (the coordinator
    /// aborted the transaction on its timeout before the first attempt reached it). Without
    /// KIP-588 that was fatal; now InitProducerId settles it: granted, the commit is answered
    /// `.commitUncertain` (never success) and the producer goes on at the new epoch.
    @Test func anUncertainCommitFencedOnRetryIsSettledNotReportedCommitted() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.dropEnds = 1
        w.endErrors = [.producerFenced]
        let inits = w.inits.count
        w.end(commit: true, 2)
        #expect(w.transactionOutcome(2) == nil)
        w.run(until: 10_000)
        guard case .some(.commitUncertain(cause: .broker(.producerFenced, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2))) \(w.trace)")
            return
        }
        #expect(w.ends.count == 2 && w.ends.allSatisfy { $0.request.committed && $0.request.producerEpoch == 0 })
        #expect(w.inits.count == inits + 1 && w.inits.last?.producerEpoch == 0 && w.inits.last?.producerId == 1000)
        #expect(!w.h.engine.transactionOpen)
        Self.nextTransactionCommits(&w, epoch: 1, promise: 10)
    }

    /// The same with the recovery refused: a zombie, fatal.
    @Test func anUncertainCommitWhoseRecoveryIsRefusedIsFatal() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.dropEnds = 1
        w.endErrors = [.producerFenced]
        w.initErrors = [.producerFenced]
        w.end(commit: true, 2)
        w.run(until: 10_000)
        guard case .some(.fatal(let e)?) = w.transactionOutcome(2), e.isFenced else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
    }

    /// A fenced EndTxn with no unanswered attempt before it (the transaction timed out just
    /// before the commit reached the coordinator) is settled the same way: the commit is
    /// answered `.commitUncertain` (it certainly did not commit), an abort succeeds; the
    /// producer goes on. An unanswered attempt retried with success is simply committed.
    @Test func aFencedEndTxnIsSettledAndAnUnansweredOneRetried() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.endErrors = [.producerFenced]
        w.end(commit: true, 2)
        guard case .some(.commitUncertain(cause: .broker(.producerFenced, "EndTxn fenced"?))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect(w.ends.count == 1 && w.inits.last?.producerEpoch == 0)
        w.begin(3)
        w.produce("t", 0, [4])
        w.endErrors = [.invalidProducerEpoch]
        w.answerAll()
        w.end(commit: false, 5)
        #expect(w.transactionOutcome(5) == .some(nil))
        #expect(w.ends.last?.request.producerEpoch == 1 && w.inits.last?.producerEpoch == 1)
        Self.nextTransactionCommits(&w, epoch: 2, promise: 10)

        var v = Self.world()
        v.begin(1)
        v.produce("t", 0, [1])
        v.answerAll()
        v.dropEnds = 1
        v.end(commit: true, 2)
        v.run(until: 10_000)
        #expect(v.transactionOutcome(2) == .some(nil))
        #expect(v.ends.count == 2)
    }

    // MARK: KIP-360 inside a transaction

    /// UNKNOWN_PRODUCER_ID or OUT_OF_ORDER_SEQUENCE_NUMBER on a transactional batch: the
    /// record fails, the transaction must abort (EndTxn abort as usual), and then the epoch is
    /// bumped (InitProducerId naming 1000/0) before the next transaction sends, which starts
    /// at epoch 1 from sequence 0.
    @Test(arguments: [KafkaErrorCode.unknownProducerId, .outOfOrderSequenceNumber])
    func aSequenceFailureBumpsTheEpochAfterTheAbort(code: KafkaErrorCode) {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answer(errors: [t0: code])
        #expect(w.failedTokens == [1])
        #expect(!w.notices.contains { if case .fatal = $0 { return true } else { return false } })
        w.end(commit: true, 2)
        guard case .some(.mustAbort(cause: .broker(code, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        let inits = w.inits.count
        w.end(commit: false, 3)
        w.answerAll()
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.count == 1 && !w.ends[0].request.committed && w.ends[0].request.producerEpoch == 0)
        w.begin(4)
        while w.transactionOutcome(4) == nil, w.step(limitMs: 10_000) {}
        #expect(w.transactionOutcome(4) == .some(nil))
        #expect(w.inits.count == inits + 1 && w.inits.last?.producerId == 1000 && w.inits.last?.producerEpoch == 0)
        #expect(w.produce("t", 0, [5]) == [nil])
        while w.held.isEmpty, w.step(limitMs: 10_000) {}
        #expect(w.held.first?.batches.first?.header.producerEpoch == 1 && w.held.first?.batches.first?.sequence == 0)
    }

    // MARK: bounded retries

    static func isFatal(_ n: ProducerNotice) -> Bool { if case .fatal = n { return true } else { return false } }

    /// AddPartitionsToTxn losing its connection every time: retried up to the transaction
    /// timeout, then the transaction must abort (the record fails), nothing fatal; the abort
    /// ends it (the coordinator never had a partition) and the producer goes on.
    @Test func addPartitionsUnreachableForTheTimeoutMakesItMustAbort() {
        var w = Self.world()
        w.begin(1)
        w.dropAdds = .max
        w.produce("t", 0, [1])
        w.run(until: 30_000)
        #expect(w.reports.isEmpty, "still retrying within the timeout")
        w.run(until: 200_000)
        guard case .transactionMustAbort(cause: .request)? = w.reports.first?.error else {
            Issue.record("record 1: \(w.reports)")
            return
        }
        #expect(w.adds.count > 2 && !w.notices.contains(where: Self.isFatal))
        w.dropAdds = 0
        w.end(commit: false, 2)
        #expect(w.transactionOutcome(2) == .some(nil))
        Self.nextTransactionCommits(&w, epoch: 0, promise: 10)
    }

    /// AddOffsetsToTxn losing its connection every time: the offsets are answered "must
    /// abort" after the transaction timeout; nothing fatal.
    @Test func offsetsUnreachableForTheTimeoutMakeItMustAbort() {
        var w = Self.world()
        w.begin(1)
        w.dropOffsets = .max
        w.sendOffsets(2, Self.offsets())
        w.run(until: 30_000)
        #expect(w.transactionOutcome(2) == nil)
        w.run(until: 200_000)
        guard case .some(.mustAbort(cause: .request)?) = w.transactionOutcome(2) else {
            Issue.record("offsets: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect(!w.notices.contains(where: Self.isFatal))
        w.dropOffsets = 0
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
    }

    /// EndTxn losing its connection every time: retried (each attempt once, no retry by the
    /// core) up to the transaction timeout, then fatal: whether it ended is unknown.
    @Test func endTxnUnreachableForTheTimeoutIsFatal() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.dropEnds = .max
        w.end(commit: true, 2)
        w.run(until: 30_000)
        #expect(w.transactionOutcome(2) == nil && w.ends.count > 2)
        w.run(until: 200_000)
        guard case .some(.fatal(.request))? = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect(w.notices.contains(where: Self.isFatal))
    }

    /// The transactional InitProducerId losing its connection every time: fatal after the
    /// transaction timeout (begin answers with it).
    @Test func initProducerIdUnreachableForTheTimeoutIsFatal() {
        var w = Self.world()
        w.dropInits = .max
        w.begin(1)
        w.run(until: 30_000)
        #expect(w.transactionOutcome(1) == nil)
        w.run(until: 300_000)
        guard case .some(.fatal(.request))? = w.transactionOutcome(1) else {
            Issue.record("begin: \(String(describing: w.transactionOutcome(1))) inits \(w.inits.count)")
            return
        }
    }
}
