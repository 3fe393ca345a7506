import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)
private let in0 = TopicPartition("in", 0)
private let in1 = TopicPartition("in", 1)

/// Engine transcripts of consumed offsets committed inside a transaction (KIP-98's
/// sendOffsetsToTransaction, KIP-447's member fields): AddOffsetsToTxn at the transaction
/// coordinator (node 2), TxnOffsetCommit at the group's coordinator (node 3), commit only
/// after both, fencing of a zombie member turning the transaction into "must abort".
@Suite struct TransactionOffsetsTranscriptTests {
    static func offsets(_ group: String = "g", generation: Int32 = 7, member: String = "m-1", instance: String? = "i-1",
                        positions: [TopicPartition: Int64] = [in0: 10, in1: 20]) -> TransactionOffsets {
        TransactionOffsets(groupId: group, generationId: generation, memberId: member, instanceId: instance,
                           offsets: positions.mapValues { CommitPosition(offset: $0, leaderEpoch: 3) })
    }

    static func world() -> ProducerWorld { ProducerTransactionTranscriptTests.world() }

    /// The group joins the transaction at the transaction coordinator, then its offsets go to
    /// the group coordinator with the member's generation, id and instance id; EndTxn follows
    /// both, and the offsets-only part counts as something the coordinator knows.
    @Test func offsetsJoinTheTransactionThenCommitWithIt() throws {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.sendOffsets(2, Self.offsets())
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.addOffsets.count == 1 && w.addOffsets[0].broker == 2)
        #expect(w.addOffsets[0].request.groupId == "g" && w.addOffsets[0].request.transactionalId == "tx")
        #expect(w.addOffsets[0].request.producerId == 1000 && w.addOffsets[0].request.producerEpoch == 0)
        let commit = try #require(w.txnCommits.first)
        #expect(commit.broker == 3, "TxnOffsetCommit goes to the group's coordinator")
        #expect(commit.request.generationId == 7 && commit.request.memberId == "m-1" && commit.request.groupInstanceId == "i-1")
        #expect(commit.request.transactionalId == "tx" && commit.request.producerId == 1000)
        let sent = commit.request.topics.flatMap { t in t.partitions.map { (TopicPartition(t.name, $0.partitionIndex), $0.committedOffset, $0.committedLeaderEpoch) } }
        #expect(sent.map(\.0) == [in0, in1] && sent.map(\.1) == [10, 20] && sent.allSatisfy { $0.2 == 3 })
        w.end(commit: true, 3)
        #expect(w.transactionOutcome(3) == .some(nil) && w.ends.count == 1 && w.ends[0].request.committed)
        let order = ["AddOffsetsToTxn", "TxnOffsetCommit", "EndTxn"].map { k in w.trace.firstIndex { $0.hasPrefix(k) } ?? -1 }
        #expect(order[0] >= 0 && order[0] < order[1] && order[1] < order[2], "\(w.trace)")
    }

    /// A transaction of offsets alone still needs EndTxn (the coordinator has the group in it).
    @Test func anOffsetsOnlyTransactionEndsAtTheCoordinator() {
        var w = Self.world()
        w.begin(1)
        w.sendOffsets(2, Self.offsets())
        w.end(commit: true, 3)
        #expect(w.transactionOutcome(3) == .some(nil))
        #expect(w.ends.count == 1 && w.ends[0].request.committed)
    }

    /// AddOffsetsToTxn goes once per group per transaction; each send is its own
    /// TxnOffsetCommit; a new transaction adds the group again.
    @Test func aGroupIsAddedOncePerTransaction() {
        var w = Self.world()
        w.begin(1)
        w.sendOffsets(2, Self.offsets(positions: [in0: 10]))
        w.sendOffsets(3, Self.offsets(positions: [in0: 15]))
        w.sendOffsets(4, Self.offsets("other", positions: [in0: 1]))
        #expect(w.addOffsets.map(\.request.groupId) == ["g", "other"])
        #expect(w.txnCommits.count == 3)
        w.end(commit: true, 5)
        w.begin(6)
        w.sendOffsets(7, Self.offsets(positions: [in0: 30]))
        #expect(w.addOffsets.map(\.request.groupId) == ["g", "other", "g"])
        #expect([2, 3, 4, 5, 6, 7].allSatisfy { w.transactionOutcome(UInt64($0)) == .some(nil) })
    }

    /// The coordinator moving or loading, and the previous transaction's markers still being
    /// written, are retried; NOT_COORDINATOR from the group coordinator looks it up again.
    @Test func coordinatorErrorsAreRetried() {
        var w = Self.world()
        w.begin(1)
        w.addOffsetsErrors = [.concurrentTransactions, .coordinatorLoadInProgress]
        w.txnCommitErrors = [.notCoordinator, .unknownTopicOrPartition]
        w.sendOffsets(2, Self.offsets())
        w.run(until: 20_000)
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.addOffsets.count == 3 && w.txnCommits.count == 3)
        #expect(w.findRequests.filter { $0.keyType == 0 }.count == 2, "NOT_COORDINATOR: the group's coordinator is looked up again")
    }

    /// A member of an ended generation (a zombie after a rebalance) is refused by the group
    /// coordinator: the send fails "must abort", commit refuses, abort ends it at the coordinator.
    @Test func aFencedMembersOffsetsMakeTheTransactionMustAbort() {
        for code in [KafkaErrorCode.illegalGeneration, .unknownMemberId, .fencedInstanceId, .groupAuthorizationFailed] {
            var w = Self.world()
            w.begin(1)
            w.produce("t", 0, [1])
            w.answerAll()
            w.txnCommitErrors = [code]
            w.sendOffsets(2, Self.offsets())
            guard case .some(.mustAbort(cause: .broker(let c, _))?) = w.transactionOutcome(2), c == code else {
                Issue.record("\(code): send: \(String(describing: w.transactionOutcome(2)))")
                continue
            }
            #expect(w.txnCommits.count == 1, "\(code) is not retried")
            w.end(commit: true, 3)
            guard case .some(.mustAbort)? = w.transactionOutcome(3) else {
                Issue.record("\(code): commit: \(String(describing: w.transactionOutcome(3)))")
                continue
            }
            #expect(w.produce("t", 0, [2]).first??.isMustAbort == true)
            w.end(commit: false, 4)
            #expect(w.transactionOutcome(4) == .some(nil))
            #expect(w.ends.count == 1 && w.ends[0].request.committed == false)
        }
    }

    /// Fenced at TxnOffsetCommit (a newer producer has the transactional id): fatal.
    /// (Below InitProducerId v3; with it the transaction must abort instead: the recovery tests.)
    @Test func aFencedProducerOnTxnOffsetCommitIsFatal() {
        var w = Self.world()
        w.initMaxVersion = 2
        w.begin(1)
        w.txnCommitErrors = [.producerFenced]
        w.sendOffsets(2, Self.offsets())
        #expect(w.transactionOutcome(2) == .some(.fatal(.broker(.producerFenced, message: nil))))
        w.end(commit: true, 3)
        #expect(w.transactionOutcome(3)??.isFenced == true)
    }

    /// Misuse is refused at the call: no transaction, no group member to take offsets from.
    @Test func misuseIsRefusedAtTheCall() {
        var w = Self.world()
        w.sendOffsets(1, Self.offsets())
        #expect(w.transactionOutcome(1) == .some(.noTransaction))
        w.begin(2)
        w.sendOffsets(3, nil)
        #expect(w.transactionOutcome(3) == .some(.notInGroup))
        w.sendOffsets(4, Self.offsets(positions: [:]))
        #expect(w.transactionOutcome(4) == .some(nil), "nothing to send is done at once")
        #expect(w.addOffsets.isEmpty && w.txnCommits.isEmpty)
    }

    /// A revocation under a group transact session (the group member's `.transactionRebalanced`)
    /// makes the open transaction abort: commit refuses, records are refused.
    @Test func aRebalanceDuringTheTransactionMakesItMustAbort() {
        var w = Self.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.h.engine.handle(.transactionRebalanced, now: w.h.now)
        w.settle()
        w.end(commit: true, 2)
        guard case .some(.mustAbort(cause: .broker(.rebalanceInProgress, _))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        w.end(commit: false, 3)
        #expect(w.transactionOutcome(3) == .some(nil) && w.ends.last?.request.committed == false)
        // The next transaction is clean.
        w.begin(4)
        w.sendOffsets(5, Self.offsets())
        w.end(commit: true, 6)
        #expect(w.transactionOutcome(6) == .some(nil) && w.ends.last?.request.committed == true)
    }

    /// A rebalance between transactions (records polled, no transaction open yet) makes the
    /// next transaction must-abort: what was polled may belong to another member now. Only
    /// that one: the transaction after it commits.
    @Test func aRebalanceBetweenTransactionsMakesTheNextMustAbort() {
        var w = Self.world()
        w.h.engine.handle(.transactionRebalanced, now: w.h.now)
        w.settle()
        w.begin(1)
        #expect(w.transactionOutcome(1) == .some(nil), "begin itself succeeds")
        w.produce("t", 0, [1])
        w.answerAll()
        w.sendOffsets(2, Self.offsets())
        w.end(commit: true, 3)
        guard case .some(.mustAbort(cause: .broker(.rebalanceInProgress, _))?) = w.transactionOutcome(3) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(3)))")
            return
        }
        #expect(w.ends.allSatisfy { $0.request.committed == false })
        w.end(commit: false, 4)
        #expect(w.transactionOutcome(4) == .some(nil))
        w.begin(5)
        w.sendOffsets(6, Self.offsets())
        w.end(commit: true, 7)
        #expect(w.transactionOutcome(7) == .some(nil) && w.ends.last?.request.committed == true)
        // Once the producer exists, the same holds between its transactions.
        w.h.engine.handle(.transactionRebalanced, now: w.h.now)
        w.settle()
        w.begin(8)
        w.sendOffsets(9, Self.offsets())
        w.end(commit: true, 10)
        guard case .some(.mustAbort(cause: .broker(.rebalanceInProgress, _))?) = w.transactionOutcome(10) else {
            Issue.record("second commit: \(String(describing: w.transactionOutcome(10)))")
            return
        }
    }

    /// Abort answers offsets still queued behind the one in flight, and sends none of them.
    @Test func abortAnswersQueuedOffsets() {
        var w = Self.world()
        w.begin(1)
        w.addOffsetsErrors = [.concurrentTransactions]
        w.sendOffsets(2, Self.offsets(positions: [in0: 1]))
        w.sendOffsets(3, Self.offsets(positions: [in0: 2]))
        w.end(commit: false, 4)
        w.run(until: 20_000)
        #expect(w.transactionOutcome(3) == .some(.mustAbort(cause: .transactionAborted)))
        #expect(w.transactionOutcome(2) != nil && w.transactionOutcome(4) == .some(nil))
        #expect(w.txnCommits.isEmpty, "nothing of an aborting transaction's offsets is written")
    }
}

/// A transaction coordinator answering garbage: a typed, fatal error at the call after a few
/// tries (nothing reported committed), not a commit that waits forever.
@Suite struct TransactionCoordinatorGarbageTests {
    @Test func aCoordinatorAnsweringGarbageFailsTheCommitWithATypedError() {
        var w = ProducerTransactionTranscriptTests.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.endGarbage = 100
        w.end(commit: true, 2)
        w.run(until: 60_000)
        guard case .some(.fatal(.request(.malformedResponse))?) = w.transactionOutcome(2) else {
            Issue.record("commit: \(String(describing: w.transactionOutcome(2)))")
            return
        }
        #expect(w.ends.count == 3, "asked three times, then gave up: \(w.ends.count)")
        w.begin(3)
        guard case .some(.fatal)? = w.transactionOutcome(3) else {
            Issue.record("begin after: \(String(describing: w.transactionOutcome(3)))")
            return
        }
    }

    /// One garbled answer is retried: the commit succeeds on the next.
    @Test func oneGarbledAnswerIsRetried() {
        var w = ProducerTransactionTranscriptTests.world()
        w.begin(1)
        w.produce("t", 0, [1])
        w.answerAll()
        w.endGarbage = 1
        w.end(commit: true, 2)
        w.run(until: 20_000)
        #expect(w.transactionOutcome(2) == .some(nil))
        #expect(w.ends.count == 2)
    }
}

private extension ProduceError {
    var isMustAbort: Bool {
        if case .transactionMustAbort = self { return true }
        return false
    }
}
