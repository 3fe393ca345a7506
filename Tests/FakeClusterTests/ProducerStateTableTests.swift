import Testing
@testable import FakeCluster

@Suite struct ProducerStateTableTests {
    func batch(_ seq: Int32, count: Int = 1, epoch: Int16 = 0, pid: Int64 = 1, txn: Bool = false) -> BatchHeader {
        header(makeBatch(count: count, producerId: pid, epoch: epoch, sequence: seq, transactional: txn))
    }

    /// Validates then records at `offset`, as the log does.
    func append(_ t: inout ProducerStateTable, _ h: BatchHeader, at offset: Int64) -> ProducerStateTable.Verdict {
        let v = t.validate(h)
        if v == .accept { t.record(h, baseOffset: offset) }
        return v
    }

    @Test func inSequenceBatchesAccepted() {
        var t = ProducerStateTable()
        #expect(append(&t, batch(0, count: 3), at: 0) == .accept)
        #expect(append(&t, batch(3, count: 2), at: 3) == .accept)
        #expect(t.entry(for: 1)?.lastSequence == 4)
    }

    @Test func gapIsOutOfOrder() {
        var t = ProducerStateTable()
        _ = append(&t, batch(0, count: 3), at: 0)
        #expect(t.validate(batch(4)) == .reject(.outOfOrderSequenceNumber))
    }

    @Test func duplicateReturnsOriginalOffsets() {
        var t = ProducerStateTable()
        _ = append(&t, batch(0, count: 3), at: 10)
        _ = append(&t, batch(3, count: 2), at: 13)
        #expect(t.validate(batch(0, count: 3)) == .duplicate(firstOffset: 10, lastOffset: 12))
        #expect(t.validate(batch(3, count: 2)) == .duplicate(firstOffset: 13, lastOffset: 14))
    }

    @Test func duplicateWindowIsFiveBatches() {
        var t = ProducerStateTable()
        for i in 0 ..< 6 { _ = append(&t, batch(Int32(i)), at: Int64(i)) }
        // Batch with seq 0 fell out of the window; it is no longer recognised as a duplicate.
        #expect(t.validate(batch(0)) == .reject(.outOfOrderSequenceNumber))
        #expect(t.validate(batch(1)) == .duplicate(firstOffset: 1, lastOffset: 1))
        #expect(t.entry(for: 1)?.batches.count == 5)
    }

    @Test func partialOverlapIsNotDuplicate() {
        var t = ProducerStateTable()
        _ = append(&t, batch(0, count: 3), at: 0)
        #expect(t.validate(batch(1, count: 2)) == .reject(.outOfOrderSequenceNumber))
    }

    @Test func staleEpochRejected() {
        var t = ProducerStateTable()
        _ = append(&t, batch(0, epoch: 3), at: 0)
        #expect(t.validate(batch(1, epoch: 2)) == .reject(.invalidProducerEpoch))
    }

    @Test func epochBumpMustRestartAtZero() {
        var t = ProducerStateTable()
        _ = append(&t, batch(0, count: 5, epoch: 0), at: 0)
        #expect(t.validate(batch(5, epoch: 1)) == .reject(.outOfOrderSequenceNumber))
        #expect(append(&t, batch(0, epoch: 1), at: 5) == .accept)
        #expect(t.entry(for: 1)?.epoch == 1)
        #expect(t.entry(for: 1)?.batches.count == 1)
    }

    @Test func unknownProducerPolicies() {
        let h = batch(7)
        #expect(ProducerStateTable().validate(h) == .reject(.outOfOrderSequenceNumber))
        #expect(ProducerStateTable(unknownProducerPolicy: .unknownProducerId).validate(h) == .reject(.unknownProducerId))
        #expect(ProducerStateTable(unknownProducerPolicy: .acceptAnySequence).validate(h) == .accept)
        #expect(ProducerStateTable().validate(batch(0)) == .accept)
    }

    @Test func sequenceWrapsAround() {
        var t = ProducerStateTable(unknownProducerPolicy: .acceptAnySequence)
        _ = append(&t, batch(Int32.max - 1, count: 2), at: 0)
        #expect(t.entry(for: 1)?.lastSequence == Int32.max)
        #expect(t.validate(batch(0)) == .accept)
        #expect(t.validate(batch(1)) == .reject(.outOfOrderSequenceNumber))
    }

    @Test func transactionTrackingAndPlainBatchInTxn() {
        var t = ProducerStateTable()
        _ = append(&t, batch(0, txn: true), at: 4)
        _ = append(&t, batch(1, txn: true), at: 5)
        #expect(t.entry(for: 1)?.currentTransactionFirstOffset == 4)
        #expect(t.openTransactions.map(\.firstOffset) == [4])
        #expect(t.validate(batch(2, txn: false)) == .reject(.invalidTxnState))
        let marker = header(ControlBatch.marker(commit: true, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 0))
        t.record(marker, baseOffset: 6)
        #expect(t.entry(for: 1)?.currentTransactionFirstOffset == nil)
        #expect(t.openTransactions.isEmpty)
        #expect(t.validate(batch(2)) == .accept)
    }

    @Test func markerWithBumpedEpochResetsSequences() {
        var t = ProducerStateTable()
        _ = append(&t, batch(0, count: 3, txn: true), at: 0)
        let marker = header(ControlBatch.marker(commit: false, producerId: 1, producerEpoch: 1, coordinatorEpoch: 0, timestamp: 0))
        t.record(marker, baseOffset: 3)
        #expect(t.validate(batch(3, epoch: 0)) == .reject(.invalidProducerEpoch))
        #expect(t.validate(batch(3, epoch: 1)) == .reject(.outOfOrderSequenceNumber))
        #expect(t.validate(batch(0, epoch: 1)) == .accept)
    }

    @Test func nonIdempotentBatchesSkipValidation() {
        let t = ProducerStateTable()
        #expect(t.validate(header(makeBatch())) == .accept)
    }
}
