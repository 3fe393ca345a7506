import Testing
@testable import FakeCluster

@Suite struct TransactionCoordinatorTests {
    typealias PE = TransactionCoordinator.ProducerIdAndEpoch

    func start(_ c: inout TransactionCoordinator, _ tid: String = "tx", timeout: Int32 = 60_000) -> PE {
        guard case .success(let pe) = c.initProducerId(transactionalId: tid, timeoutMs: timeout, now: .zero) else {
            Issue.record("init failed"); return PE(producerId: -1, producerEpoch: -1)
        }
        return pe
    }

    @Test func idempotentProducersGetSequentialIds() {
        var c = TransactionCoordinator(firstProducerId: 50)
        #expect(c.initProducerId(transactionalId: nil, timeoutMs: 0, now: .zero) == .success(PE(producerId: 50, producerEpoch: 0)))
        #expect(c.initProducerId(transactionalId: nil, timeoutMs: 0, now: .zero) == .success(PE(producerId: 51, producerEpoch: 0)))
    }

    @Test func reinitBumpsEpoch() {
        var c = TransactionCoordinator(firstProducerId: 1)
        let a = start(&c)
        let b = start(&c)
        #expect(a == PE(producerId: 1, producerEpoch: 0))
        #expect(b == PE(producerId: 1, producerEpoch: 1))
        #expect(c.transaction("tx")?.state == .empty)
    }

    @Test func timeoutValidation() {
        var c = TransactionCoordinator(maxTransactionTimeoutMs: 1000)
        #expect(c.initProducerId(transactionalId: "t", timeoutMs: 1001, now: .zero) == .failure(.invalidTransactionTimeout))
        #expect(c.initProducerId(transactionalId: "t", timeoutMs: 0, now: .zero) == .failure(.invalidTransactionTimeout))
    }

    @Test func kip360BumpWithExpectedIdAndEpoch() {
        var c = TransactionCoordinator(firstProducerId: 1)
        let a = start(&c)
        let bumped = c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: a, now: .zero)
        #expect(bumped == .success(PE(producerId: 1, producerEpoch: 1)))
        // Retrying with the same old pair returns the already-bumped pair.
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: a, now: .zero)
            == .success(PE(producerId: 1, producerEpoch: 1)))
        // A pair that is neither current nor previous is fenced.
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: PE(producerId: 1, producerEpoch: 7), now: .zero)
            == .failure(.producerFenced))
    }

    @Test func plainReinitFencesOldKip360Pair() {
        var c = TransactionCoordinator(firstProducerId: 1)
        let a = start(&c)                       // (1, 0)
        _ = c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: a, now: .zero) // (1, 1), remembers (1, 0)
        _ = start(&c)                           // a new instance: (1, 2), forgets
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: a, now: .zero) == .failure(.producerFenced))
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, expected: PE(producerId: 1, producerEpoch: 1), now: .zero)
            == .failure(.producerFenced))
    }

    @Test func epochOverflowAllocatesNewProducerId() {
        var c = TransactionCoordinator(firstProducerId: 1)
        _ = start(&c)
        for _ in 0 ..< Int(Int16.max) - 1 { _ = start(&c) }
        #expect(c.transaction("tx")?.producerEpoch == Int16.max - 1)
        #expect(start(&c) == PE(producerId: 2, producerEpoch: 0))
    }

    @Test func commitFlow() {
        var c = TransactionCoordinator(firstProducerId: 1)
        let pe = start(&c)
        #expect(c.addPartitions(transactionalId: "tx", producerId: pe.producerId, producerEpoch: pe.producerEpoch,
                                [tp("b", 1), tp("a", 0), tp("b", 1)], now: ms(5)) == .noError)
        #expect(c.addOffsets(transactionalId: "tx", producerId: pe.producerId, producerEpoch: pe.producerEpoch, groupId: "g", now: ms(6)) == .noError)
        #expect(c.transaction("tx")?.state == .ongoing)
        #expect(c.isPartitionInTransaction(producerId: 1, producerEpoch: 0, tp("a", 0)))
        let end = c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: true, now: ms(7))
        #expect(end == .ending(.init(transactionalId: "tx", producerId: 1, producerEpoch: 0, coordinatorEpoch: 0,
                                     commit: true, partitions: [tp("a", 0), tp("b", 1)], groups: ["g"])))
        #expect(c.transaction("tx")?.state == .prepareCommit)
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: true, now: ms(7)) == .failure(.concurrentTransactions))
        #expect(c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: ms(7)) == .concurrentTransactions)
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 1000, now: ms(7)) == .failure(.concurrentTransactions))
        c.markersWritten(transactionalId: "tx", now: ms(8))
        #expect(c.transaction("tx")?.state == .completeCommit)
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: true, now: ms(9)) == .alreadyComplete)
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: false, now: ms(9)) == .failure(.invalidTxnState))
    }

    @Test func validationErrors() {
        var c = TransactionCoordinator(firstProducerId: 1)
        let pe = start(&c)
        #expect(c.addPartitions(transactionalId: "nope", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: .zero) == .invalidProducerIdMapping)
        #expect(c.addPartitions(transactionalId: "tx", producerId: 99, producerEpoch: 0, [tp("a", 0)], now: .zero) == .invalidProducerIdMapping)
        _ = start(&c) // bump: epoch 1
        #expect(c.addPartitions(transactionalId: "tx", producerId: pe.producerId, producerEpoch: pe.producerEpoch, [tp("a", 0)], now: .zero) == .producerFenced)
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 1, commit: true, now: .zero) == .failure(.invalidTxnState))
    }

    @Test func checkForTxnOffsetCommit() {
        var c = TransactionCoordinator(firstProducerId: 1)
        _ = start(&c)
        #expect(c.check(transactionalId: "tx", producerId: 1, producerEpoch: 0) == .noError)
        #expect(c.check(transactionalId: "tx", producerId: 2, producerEpoch: 0) == .invalidProducerIdMapping)
        #expect(c.check(transactionalId: "nope", producerId: 1, producerEpoch: 0) == .invalidProducerIdMapping)
        _ = start(&c)
        #expect(c.check(transactionalId: "tx", producerId: 1, producerEpoch: 0) == .producerFenced)
    }

    @Test func initDuringOngoingAbortsWithBumpedEpoch() {
        var c = TransactionCoordinator(firstProducerId: 1)
        _ = start(&c)
        _ = c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: .zero)
        let r = c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, now: ms(1))
        #expect(r == .abortingOngoing(.init(transactionalId: "tx", producerId: 1, producerEpoch: 1, coordinatorEpoch: 0,
                                            commit: false, partitions: [tp("a", 0)], groups: [])))
        // The old producer is fenced.
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: true, now: ms(1)) == .failure(.producerFenced))
        c.markersWritten(transactionalId: "tx", now: ms(2))
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 60_000, now: ms(3)) == .success(PE(producerId: 1, producerEpoch: 2)))
    }

    @Test func timeoutAbortsAndFences() {
        var c = TransactionCoordinator(firstProducerId: 1)
        _ = start(&c, timeout: 1000)
        _ = start(&c, "other", timeout: 5000)
        #expect(c.nextDeadline == nil)
        _ = c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: ms(100))
        _ = c.addPartitions(transactionalId: "other", producerId: 2, producerEpoch: 0, [tp("a", 0)], now: ms(100))
        #expect(c.nextDeadline == ms(1100))
        #expect(c.expireTransactions(now: ms(1099)).isEmpty)
        let expired = c.expireTransactions(now: ms(1100))
        #expect(expired.map(\.transactionalId) == ["tx"])
        #expect(expired.first?.producerEpoch == 1)
        #expect(expired.first?.commit == false)
        #expect(c.transaction("tx")?.state == .prepareAbort)
        #expect(c.nextDeadline == ms(5100))
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: true, now: ms(1200)) == .failure(.producerFenced))
    }

    @Test func coordinatorMoveBumpsMarkerEpoch() {
        var c = TransactionCoordinator(firstProducerId: 1)
        _ = start(&c)
        c.moved()
        _ = c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: .zero)
        guard case .ending(let comp) = c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: false, now: .zero) else {
            Issue.record("expected ending"); return
        }
        #expect(comp.coordinatorEpoch == 1)
    }

    /// KIP-588: a timeout abort bumps the epoch and remembers the pair the producer held.
    /// InitProducerId naming that pair is CONCURRENT_TRANSACTIONS while the abort's markers
    /// are being written, then granted with a further bump; a retry of the grant gets the
    /// same pair back; other stale pairs stay fenced.
    @Test func aTimedOutProducerMayRecoverWithItsOldPair() {
        var c = TransactionCoordinator(firstProducerId: 1)
        let a = start(&c, timeout: 1000)                     // (1, 0)
        _ = c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: ms(100))
        #expect(c.expireTransactions(now: ms(1100)).first?.producerEpoch == 1)
        #expect(c.transaction("tx")?.timedOutProducerEpoch == 0)
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 1000, expected: a, now: ms(1101)) == .failure(.concurrentTransactions))
        c.markersWritten(transactionalId: "tx", now: ms(1200))
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 1000, expected: PE(producerId: 1, producerEpoch: 5), now: ms(1201))
            == .failure(.producerFenced))
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 1000, expected: a, now: ms(1202)) == .success(PE(producerId: 1, producerEpoch: 2)))
        #expect(c.transaction("tx")?.timedOutProducerEpoch == -1)
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 1000, expected: a, now: ms(1203)) == .success(PE(producerId: 1, producerEpoch: 2)),
                "a retry of the recovery")
        #expect(c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 2, [tp("a", 0)], now: ms(1300)) == .noError)
    }

    /// A newer instance registering the id (a plain InitProducerId) after the timeout ends
    /// the old producer's claim: its recovery is refused (it is a zombie).
    @Test func aNewInstanceAfterTheTimeoutRefusesTheOldPair() {
        var c = TransactionCoordinator(firstProducerId: 1)
        let a = start(&c, timeout: 1000)
        _ = c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: ms(100))
        _ = c.expireTransactions(now: ms(1100))
        c.markersWritten(transactionalId: "tx", now: ms(1200))
        #expect(start(&c) == PE(producerId: 1, producerEpoch: 2))
        #expect(c.initProducerId(transactionalId: "tx", timeoutMs: 1000, expected: a, now: ms(1300)) == .failure(.producerFenced))
    }

    /// An EndTxn retried while the coordinator is still writing that transaction's markers
    /// gets CONCURRENT_TRANSACTIONS (retriable), and once they are written, the outcome it
    /// asked for again (commit: success); the other outcome is INVALID_TXN_STATE.
    @Test func endTxnRetriedDuringPrepareGetsConcurrentTransactions() {
        var c = TransactionCoordinator(firstProducerId: 1)
        _ = start(&c)
        _ = c.addPartitions(transactionalId: "tx", producerId: 1, producerEpoch: 0, [tp("a", 0)], now: ms(1))
        guard case .ending = c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: false, now: ms(2)) else {
            Issue.record("expected ending"); return
        }
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: false, now: ms(3)) == .failure(.concurrentTransactions))
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: true, now: ms(3)) == .failure(.invalidTxnState))
        c.markersWritten(transactionalId: "tx", now: ms(4))
        #expect(c.endTransaction(transactionalId: "tx", producerId: 1, producerEpoch: 0, commit: false, now: ms(5)) == .alreadyComplete)
    }
}
