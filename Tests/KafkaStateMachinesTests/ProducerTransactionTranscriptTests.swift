import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)
private let t1 = TopicPartition("t", 1)
private let t2 = TopicPartition("t", 2)

/// Engine transcripts of the transactional producer: InitProducerId at the transaction
/// coordinator, AddPartitionsToTxn before a partition's first batch, commit after flushing,
/// abort dropping what was not sent, fencing, "must abort", and misuse refused at the call.
/// A `ProducerWorld` plays the brokers (node 2 coordinates the transactional id); each test
/// answers the Produce requests itself.
@Suite struct ProducerTransactionTranscriptTests {
    static func world(_ configure: (inout ProducerConfig) -> Void = { _ in }) -> ProducerWorld {
        var w = ProducerWorld {
            $0.transactionalId = "tx"
            $0.transactionTimeout = .seconds(45)
            configure(&$0)
        }
        w.topics["t"] = [.init(leader: 1), .init(leader: 1), .init(leader: 3)]
        return w
    }

    static func record(_ tp: TopicPartition, _ token: UInt64) -> ProducerRecord {
        ProducerWorld.record(tp.topic, tp.partition, token)
    }

    /// The first begin finds the transaction coordinator (key type 1) and registers the id
    /// there with its timeout; it answers once the producer id is in.
    @Test func beginRegistersTheTransactionalIdAtItsCoordinator() throws {
        var w = Self.world()
        w.begin(1)
        #expect(w.transactionOutcome(1) == .some(nil))
        #expect(w.findRequests.count == 1)
        let find = try #require(w.findRequests.first)
        #expect(find.keyType == 1 && (find.key == "tx" || find.coordinatorKeys == ["tx"]))
        #expect(w.inits.count == 1 && w.initBrokers == [.node(2)])
        #expect(w.inits[0].transactionalId == "tx" && w.inits[0].transactionTimeoutMs == 45_000)
        #expect(w.h.engine.transactionOpen)
    }

    /// NOT_COORDINATOR looks the coordinator up again; COORDINATOR_LOAD_IN_PROGRESS and
    /// CONCURRENT_TRANSACTIONS ask again after backoff at the same one; begin answers when
    /// an id finally comes.
    @Test func initProducerIdRetriesCoordinatorErrors() {
        var w = Self.world()
        w.initErrors = [.notCoordinator, .coordinatorLoadInProgress, .concurrentTransactions]
        w.begin(1)
        #expect(w.transactionOutcome(1) == nil)
        w.run(until: 20_000)
        #expect(w.transactionOutcome(1) == .some(nil))
        #expect(w.inits.count == 4 && w.inits.allSatisfy { $0.transactionalId == "tx" })
        #expect(w.findRequests.count == 2, "only NOT_COORDINATOR says the coordinator moved")
    }

    /// PRODUCER_FENCED (and the like) on InitProducerId end the producer: begin fails with it.
    @Test func initProducerIdAuthorizationFailureIsFatal() {
        var w = Self.world()
        w.initErrors = [.transactionalIdAuthorizationFailed]
        w.begin(1)
        guard case .some(.fatal(.broker(.transactionalIdAuthorizationFailed, _))?) = w.transactionOutcome(1) else {
            Issue.record("begin: \(String(describing: w.transactionOutcome(1)))")
            return
        }
        #expect(w.h.engine.produce(Self.record(t0, 1), now: w.now) == .fatal(.broker(.transactionalIdAuthorizationFailed, message: nil)))
    }

    /// Partitions are added in one AddPartitionsToTxn per round before any of their batches
    /// go; a partition already added is not asked again; batches carry the transactional bit.
    @Test func partitionsAreAddedBeforeTheirFirstBatch() {
        var w = Self.world()
        w.begin(1)
        w.h.engine.produce([Self.record(t0, 1), Self.record(t1, 2), Self.record(t2, 3)], now: w.now)
        w.settle()
        #expect(w.adds.count == 1)
        #expect(w.adds.first?.broker == 2 && w.adds.first?.partitions == [t0, t1, t2])
        let firstProduce = w.trace.firstIndex { $0.hasPrefix("Produce") }
        let add = w.trace.firstIndex { $0.hasPrefix("AddPartitionsToTxn") }
        #expect(add != nil && firstProduce != nil && add! < firstProduce!, "\(w.trace)")
        w.answerAll()
        w.produce("t", 0, [4])
        #expect(w.adds.count == 1, "t[0] is in the transaction already")
        let batches = w.allSent.flatMap(\.batches)
        #expect(batches.count == 4)
        #expect(batches.allSatisfy { $0.header.attributes.isTransactional && $0.header.producerId == 1000 })
        #expect(w.allSent.allSatisfy { $0.request.transactionalId == "tx" })
    }

    /// A batch waits while its partition is not added: CONCURRENT_TRANSACTIONS (the previous
    /// transaction's markers still being written) holds it until the retry succeeds.
    @Test func batchesWaitForTheirPartitionToBeAdded() {
        var w = Self.world()
        w.begin(1)
        w.addErrors = [.concurrentTransactions]
        w.produce("t", 0, [1])
        #expect(w.adds.count == 1 && w.allSent.isEmpty)
        w.run(until: 5_000)
        #expect(w.adds.count == 2 && w.allSent.count == 1)
        w.answerAll()
        #expect(w.deliveredTokens == [1])
    }

    /// Commit sends lingering batches at once, waits for every answer, then EndTxn(commit)
    /// with the producer id and epoch; the next transaction needs no new producer id.
    @Test func commitFlushesThenEndsTheTransaction() {
        var w = Self.world { $0.linger = .seconds(10) }
        w.begin(1)
        w.produce("t", 0, [1, 2])
        w.produce("t", 2, [3])
        #expect(w.allSent.isEmpty, "lingering")
        w.end(commit: true, 2)
        #expect(w.allSent.count == 2)
        #expect(w.ends.isEmpty && w.transactionOutcome(2) == nil, "EndTxn waits for the records")
        w.answerAll()
        #expect(w.deliveredTokens.sorted() == [1, 2, 3])
        #expect(w.ends.count == 1)
        let end = w.ends[0]
        #expect(end.broker == 2 && end.request.committed && end.request.transactionalId == "tx")
        #expect(end.request.producerId == 1000 && end.request.producerEpoch == 0)
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(!w.h.engine.transactionOpen)
        w.begin(3)
        #expect(w.transactionOutcome(3) == .some(nil) && w.inits.count == 1)
        w.produce("t", 0, [4])
        #expect(w.adds.count == 3, "a new transaction adds its partitions again: \(w.adds) \(w.trace)")
    }

    /// A transaction with no record ends without the coordinator (which would answer
    /// INVALID_TXN_STATE for a transaction it never saw).
    @Test func anEmptyTransactionEndsLocally() {
        var w = Self.world()
        w.begin(1)
        w.end(commit: true, 2)
        w.begin(3)
        w.end(commit: false, 4)
        #expect(w.transactionOutcome(2) == .some(nil) && w.transactionOutcome(4) == .some(nil))
        #expect(w.ends.isEmpty && w.adds.isEmpty)
    }

    /// Abort drops the records never sent (reported `.transactionAborted`), waits for the
    /// batch in flight, then EndTxn(abort).
    @Test func abortDropsUnsentRecordsAndWaitsForSentOnes() {
        var w = Self.world { $0.maxInFlightPerBroker = 1 }
        w.begin(1)
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        #expect(w.held.count == 1, "the second waits for the in-flight limit")
        w.end(commit: false, 2)
        #expect(w.reports.map(\.tokens) == [[2]] && w.reports.first?.error == .transactionAborted)
        #expect(w.ends.isEmpty, "EndTxn waits for the batch in flight")
        w.answerAll()
        #expect(w.deliveredTokens == [1])
        #expect(w.ends.count == 1 && w.ends[0].request.committed == false)
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.allSent.count == 1, "the dropped record never went")
        #expect(w.h.engine.producerBufferedRecords == 0)
    }

    /// A record that fails makes the transaction "must abort": later records are refused,
    /// commit says to abort (and sends nothing), abort ends it, and the next one is clean.
    @Test func aFailedRecordMakesTheTransactionMustAbort() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answer(errors: [t0: .topicAuthorizationFailed])
        #expect(w.failedTokens == [1])
        let refused = w.produce("t", 1, [2])
        guard case .transactionMustAbort(cause: .broker(.topicAuthorizationFailed, _))? = refused.first ?? nil else {
            Issue.record("produce: \(refused)")
            return
        }
        w.end(commit: true, 2)
        guard case .some(.mustAbort(cause: .broker(.topicAuthorizationFailed, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect(w.ends.isEmpty)
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.count == 1 && w.ends[0].request.committed == false)
        w.begin(4)
        #expect(w.produce("t", 0, [5]) == [nil])
        w.end(commit: true, 5)
        w.answerAll()
        #expect(w.transactionOutcome(5) == .some(nil) && w.ends.last?.request.committed == true)
    }

    /// A record refused at the call inside a transaction (too large; a partition the topic
    /// lacks, through the driver's lending path) makes it "must abort" as a failed delivery
    /// does: a commit asked for right after (before a callback user could see the refusal)
    /// refuses instead of committing the transaction without the record. Refusals because of
    /// the transaction's state (produce outside one) change nothing.
    @Test func aRecordRefusedAtTheCallMakesTheTransactionMustAbort() {
        var w = Self.world { $0.maxBatchBytes = 1000 }
        #expect(w.produce("t", 0, [1]) == [.notInTransaction])
        w.begin(1)
        #expect(w.produce("t", 0, [2]) == [nil])
        guard case .recordTooLarge? = w.produce("t", 1, [3], size: 2000).first ?? nil else {
            Issue.record("the large record was not refused")
            return
        }
        w.end(commit: true, 2)
        guard case .some(.mustAbort(cause: .recordTooLarge))? = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        w.end(commit: false, 3)
        w.answerAll()
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.allSatisfy { !$0.request.committed })

        w.begin(4)
        w.produceTogether("t", 7, [5])
        #expect(w.failedTokens.contains(5))
        w.end(commit: true, 5)
        guard case .some(.mustAbort(cause: .partitionOutOfRange(7, count: 3)))? = w.transactionOutcome(5) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(5)))")
            return
        }
        w.end(commit: false, 6)
        #expect(w.transactionOutcome(6) == .some(nil))
        w.begin(7)
        #expect(w.produce("t", 0, [8]) == [nil])
        w.end(commit: true, 8)
        w.answerAll()
        #expect(w.transactionOutcome(8) == .some(nil) && w.ends.last?.request.committed == true)
    }

    /// Once the transaction must abort, what was not sent fails at once with
    /// `.transactionMustAbort`: here a batch whose partition's AddPartitionsToTxn was backing
    /// off (CONCURRENT_TRANSACTIONS) when another partition's record failed. Before, no
    /// AddPartitionsToTxn went out for it any more, so it stayed buffered and a flush never
    /// completed. The abort then ends the transaction and the next one is clean.
    @Test func mustAbortFailsWhatWasNotSentSoAFlushCompletes() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.addErrors = [.concurrentTransactions]
        w.produce("t", 2, [2])
        w.answer(errors: [t0: .invalidRecord])
        w.flush(9)
        w.run(until: 60_000)
        #expect(w.notices.contains(.flushed(PromiseID(9))))
        #expect(w.h.engine.producerBufferedRecords == 0)
        guard case .transactionMustAbort(cause: .broker(.invalidRecord, _))? = w.reports.first(where: { $0.tokens == [2] })?.error else {
            Issue.record("record 2: \(w.reports)")
            return
        }
        #expect(!w.allSent.contains { $0.batches.contains { $0.tp == t2 } }, "t/2 was never sent")
        w.end(commit: false, 2)
        w.answerAll()
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.ends.count == 1 && w.ends[0].request.committed == false)
        w.begin(3)
        #expect(w.produce("t", 2, [3]) == [nil])
        w.end(commit: true, 4)
        w.answerAll()
        #expect(w.transactionOutcome(4) == .some(nil) && w.ends.last?.request.committed == true)
    }

    /// A batch refused for good after an earlier attempt (which may be in the log: here it
    /// was, answered NOT_ENOUGH_REPLICAS_AFTER_APPEND) leaves its sequence numbers
    /// uncertain: after the abort the producer bumps its epoch (InitProducerId naming its
    /// id and epoch, KIP-360) before the next transaction's first batch, which goes at the
    /// new epoch from sequence 0. Renumbered onto the spent sequence instead, the broker
    /// would take it for a duplicate of the written batch: acknowledged, never written.
    @Test func aBatchRefusedAfterARetryBumpsTheEpochAfterTheAbort() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answer(errors: [t0: .notEnoughReplicasAfterAppend])
        while w.held.isEmpty, w.step(limitMs: 10_000) {}
        #expect(w.held.count == 1 && w.held.first?.batches.first?.sequence == 0)
        w.answer(errors: [t0: .invalidRecord])
        #expect(w.failedTokens == [1])
        let inits = w.inits.count
        w.end(commit: false, 2)
        w.answerAll()
        #expect(w.transactionOutcome(2) == .some(nil))
        w.begin(3)
        while w.transactionOutcome(3) == nil, w.step(limitMs: 10_000) {}
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.inits.count == inits + 1 && w.inits.last?.transactionalId == "tx" && w.inits.last?.producerEpoch == 0
                && (w.inits.last?.producerId ?? -1) >= 0)
        w.produce("t", 0, [4])
        while w.held.isEmpty, w.step(limitMs: 10_000) {}
        #expect(w.held.first?.batches.first?.header.producerEpoch == 1 && w.held.first?.batches.first?.sequence == 0)
    }

    /// A record failing while the commit flushes answers the commit with "must abort" at
    /// once; nothing is committed.
    @Test func aFailureDuringTheCommitFlushTurnsItIntoMustAbort() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.end(commit: true, 2)
        #expect(w.transactionOutcome(2) == nil)
        w.answer(errors: [t0: .invalidRecord])
        guard case .some(.mustAbort)? = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect(w.ends.isEmpty && w.h.engine.transactionOpen)
    }

    /// PRODUCER_FENCED from a coordinator without InitProducerId v3 (no KIP-588 recovery,
    /// see ProducerTransactionRecoveryTests) ends the producer: the record fails with it,
    /// commit, begin and produce fail with it from then on.
    @Test func fencedOnAddPartitionsIsFatalBelowInitProducerIdV3() {
        var w = Self.world()
        w.initMaxVersion = 2
        w.begin(1)
        w.addErrors = [.producerFenced]
        w.produce("t", 0, [1])
        #expect(w.reports.first?.error == .fatal(.broker(.producerFenced, message: nil)))
        #expect(w.notices.contains(.fatal(.broker(.producerFenced, message: nil))))
        w.end(commit: true, 2)
        let outcome = w.transactionOutcome(2)
        #expect(outcome == .some(.fatal(.broker(.producerFenced, message: nil))))
        #expect((outcome ?? nil)?.isFenced == true)
        w.begin(3)
        #expect(w.transactionOutcome(3) == .some(.fatal(.broker(.producerFenced, message: nil))))
        #expect(w.allSent.isEmpty && w.ends.isEmpty)
    }

    /// Where the coordinator lacks InitProducerId v3: fenced at EndTxn (another instance
    /// took the id while we were open), commit fails fatally; INVALID_PRODUCER_EPOCH on a
    /// Produce does the same. (With v3+ both are settled by InitProducerId: the recovery tests.)
    @Test func fencedOnEndTxnOrProduceIsFatal() {
        var w = Self.world()
        w.initMaxVersion = 2
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.endErrors = [.producerFenced]
        w.end(commit: true, 2)
        #expect(w.transactionOutcome(2) == .some(.fatal(.broker(.producerFenced, message: nil))))

        var v = Self.world()
        v.initMaxVersion = 2
        v.begin(1)
        v.produce("t", 0, [1])
        v.end(commit: true, 2)
        v.answer(errors: [t0: .invalidProducerEpoch])
        guard case .some(.fatal(let e)?) = v.transactionOutcome(2), e.isFenced else {
            Issue.record("commit: \(String(describing: v.transactionOutcome(2)))")
            return
        }
    }

    /// CONCURRENT_TRANSACTIONS on EndTxn is asked again after backoff.
    @Test func endTxnRetriesConcurrentTransactions() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.endErrors = [.concurrentTransactions, .coordinatorLoadInProgress]
        w.end(commit: true, 2)
        #expect(w.transactionOutcome(2) == nil)
        w.run(until: 10_000)
        #expect(w.ends.count == 3 && w.transactionOutcome(2) == .some(nil))
    }

    /// Misuse is refused at the call and changes nothing.
    @Test func misuseIsRefusedAtTheCall() {
        var w = Self.world()
        #expect(w.produce("t", 0, [1]) == [.notInTransaction])
        w.end(commit: true, 1)
        w.end(commit: false, 2)
        #expect(w.transactionOutcome(1) == .some(.noTransaction) && w.transactionOutcome(2) == .some(.noTransaction))
        w.begin(3)
        w.begin(4)
        #expect(w.transactionOutcome(3) == .some(nil) && w.transactionOutcome(4) == .some(.alreadyInTransaction))
        w.produce("t", 0, [5])
        w.end(commit: true, 6)
        w.end(commit: false, 7)
        #expect(w.transactionOutcome(7) == .some(.endInProgress))
        #expect(w.produce("t", 0, [8]) == [.notInTransaction], "a committing transaction takes no more records")
        w.answerAll()
        #expect(w.transactionOutcome(6) == .some(nil))

        var plain = ProducerWorld()
        plain.begin(1)
        plain.end(commit: true, 2)
        #expect(plain.transactionOutcome(1) == .some(.notTransactional) && plain.transactionOutcome(2) == .some(.notTransactional))

        var empty = Self.world { $0.transactionalId = "" }
        empty.begin(1)
        #expect(empty.transactionOutcome(1) == .some(.invalidConfiguration(.emptyTransactionalId)))
        var notIdempotent = Self.world { $0.idempotent = false }
        notIdempotent.begin(1)
        #expect(notIdempotent.transactionOutcome(1) == .some(.invalidConfiguration(.transactionsNeedIdempotence)))
        #expect(empty.inits.isEmpty && notIdempotent.inits.isEmpty)
    }

    /// Closing the client answers a waiting commit with `.clientClosed`.
    @Test func closeAnswersAWaitingCommit() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.end(commit: true, 2)
        w.h.engine.handle(.close, now: w.now)
        w.settle()
        #expect(w.transactionOutcome(2) == .some(.clientClosed))
    }
}
