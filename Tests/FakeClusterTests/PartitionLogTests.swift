import Testing
@testable import FakeCluster

@Suite struct PartitionLogTests {
    func filled(_ counts: [Int], epoch: Int32 = 0) -> PartitionLog {
        var log = PartitionLog()
        for c in counts { _ = try! log.appendAsLeader(makeBatch(count: c), leaderEpoch: epoch) }
        log.setHighWatermark(log.logEndOffset)
        return log
    }

    @Test func appendAssignsOffsetsAndPatchesBytes() throws {
        var log = PartitionLog()
        let r1 = try log.appendAsLeader(makeBatch(count: 3), leaderEpoch: 4)
        let r2 = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 4)
        #expect(r1 == .appended(baseOffset: 0, lastOffset: 2))
        #expect(r2 == .appended(baseOffset: 3, lastOffset: 4))
        #expect(log.logEndOffset == 5)
        let stored = try BatchHeader.parse(log.batches[1].bytes)
        #expect(stored.baseOffset == 3 && stored.partitionLeaderEpoch == 4)
        #expect(log.epochCache == [.init(epoch: 4, startOffset: 0)])
    }

    @Test func corruptBatchRejected() {
        var log = PartitionLog()
        var b = makeBatch()
        b[30] ^= 1
        #expect(throws: PartitionLog.AppendError.self) { try log.appendAsLeader(b, leaderEpoch: 0) }
        #expect(log.logEndOffset == 0)
    }

    @Test func duplicateNotAppendedTwice() throws {
        var log = PartitionLog()
        let b = makeBatch(count: 2, producerId: 9, epoch: 0, sequence: 0)
        _ = try log.appendAsLeader(b, leaderEpoch: 0)
        #expect(try log.appendAsLeader(b, leaderEpoch: 0) == .duplicate(baseOffset: 0, lastOffset: 1))
        #expect(log.logEndOffset == 2)
        #expect(throws: PartitionLog.AppendError.producer(.outOfOrderSequenceNumber)) {
            try log.appendAsLeader(makeBatch(producerId: 9, epoch: 0, sequence: 5), leaderEpoch: 0)
        }
    }

    @Test func readRespectsHighWatermark() throws {
        var log = filled([2, 2, 2])
        log.setHighWatermark(4)
        let r = try log.read(from: 0, maxBytes: 1 << 20, limit: .consumer(.readUncommitted)).get()
        #expect(r.batches.map(\.baseOffset) == [0, 2])
        let f = try log.read(from: 0, maxBytes: 1 << 20, limit: .logEnd).get()
        #expect(f.batches.map(\.baseOffset) == [0, 2, 4])
    }

    @Test func readReturnsWholeBatchesWithinMaxBytes() throws {
        let log = filled([1, 1, 1])
        let size = log.batches[0].bytes.count
        let two = try log.read(from: 0, maxBytes: size * 2 + size / 2, limit: .logEnd).get()
        #expect(two.batches.count == 2)
        // Over the limit but first: still returned.
        let one = try log.read(from: 1, maxBytes: 1, limit: .logEnd).get()
        #expect(one.batches.map(\.baseOffset) == [1])
        let none = try log.read(from: 1, maxBytes: 1, limit: .logEnd, minOneBatch: false).get()
        #expect(none.batches.isEmpty)
    }

    @Test func readFromMiddleOfBatchStartsAtContainingBatch() throws {
        let log = filled([3, 3])
        let r = try log.read(from: 4, maxBytes: 1 << 20, limit: .logEnd).get()
        #expect(r.batches.map(\.baseOffset) == [3])
    }

    @Test func offsetOutOfRange() throws {
        var log = filled([2, 2])
        #expect(log.read(from: 5, maxBytes: 100, limit: .logEnd) == .failure(.offsetOutOfRange))
        // Reading at the log end is fine and empty.
        #expect(try log.read(from: 4, maxBytes: 100, limit: .logEnd).get().batches.isEmpty)
        _ = log.deleteRecords(before: 2)
        #expect(log.read(from: 1, maxBytes: 100, limit: .logEnd) == .failure(.offsetOutOfRange))
    }

    @Test func deleteRecordsAdvancesStartWithinHighWatermark() throws {
        var log = filled([2, 2, 2])
        log.setHighWatermark(4)
        #expect(log.deleteRecords(before: 5) == .failure(.offsetOutOfRange))
        #expect(log.deleteRecords(before: 3) == .success(3))
        #expect(log.logStartOffset == 3)
        #expect(log.batches.map(\.baseOffset) == [2, 4]) // batch 2..3 still holds offset 3
        #expect(log.deleteRecords(before: -1) == .success(4))
        #expect(log.deleteRecords(before: 1) == .success(4)) // never moves back
    }

    @Test func truncateCutsAtBatchBoundaryAndRebuildsState() throws {
        var log = PartitionLog()
        _ = try log.appendAsLeader(makeBatch(count: 2, producerId: 1, epoch: 0, sequence: 0), leaderEpoch: 0)
        _ = try log.appendAsLeader(makeBatch(count: 2, producerId: 1, epoch: 0, sequence: 2), leaderEpoch: 1)
        log.setHighWatermark(4)
        log.truncate(to: 3)
        #expect(log.logEndOffset == 2)
        #expect(log.highWatermark == 2)
        #expect(log.epochCache == [.init(epoch: 0, startOffset: 0)])
        // The producer state forgot sequence 2..3, so it may be written again.
        #expect(try log.appendAsLeader(makeBatch(count: 2, producerId: 1, epoch: 0, sequence: 2), leaderEpoch: 2)
            == .appended(baseOffset: 2, lastOffset: 3))
    }

    @Test func lastStableOffsetAndAbortedIndex() throws {
        var log = PartitionLog()
        _ = try log.appendAsLeader(makeBatch(count: 1), leaderEpoch: 0)                                         // 0
        _ = try log.appendAsLeader(makeBatch(count: 2, producerId: 5, epoch: 0, sequence: 0, transactional: true), leaderEpoch: 0) // 1-2
        _ = try log.appendAsLeader(makeBatch(count: 1), leaderEpoch: 0)                                         // 3
        log.setHighWatermark(log.logEndOffset)
        #expect(log.lastStableOffset == 1)
        let committed = try log.read(from: 0, maxBytes: 1 << 20, limit: .consumer(.readCommitted)).get()
        #expect(committed.batches.map(\.baseOffset) == [0])
        #expect(committed.lastStableOffset == 1)
        let marker = log.appendMarker(commit: false, producerId: 5, producerEpoch: 0, coordinatorEpoch: 0, leaderEpoch: 0, timestamp: 0)
        #expect(marker == 4)
        log.setHighWatermark(log.logEndOffset)
        #expect(log.lastStableOffset == 5)
        #expect(log.abortedTransactions == [.init(producerId: 5, firstOffset: 1, lastOffset: 4)])
        let all = try log.read(from: 0, maxBytes: 1 << 20, limit: .consumer(.readCommitted)).get()
        #expect(all.batches.count == 4)
        #expect(all.abortedTransactions == [.init(producerId: 5, firstOffset: 1, lastOffset: 4)])
        // A read past the aborted range does not list it; uncommitted reads never do.
        let later = try log.read(from: 5, maxBytes: 1 << 20, limit: .consumer(.readCommitted)).get()
        #expect(later.abortedTransactions == [])
        #expect(try log.read(from: 0, maxBytes: 1 << 20, limit: .consumer(.readUncommitted)).get().abortedTransactions == nil)
    }

    @Test func commitMarkerDoesNotIndexAbort() throws {
        var log = PartitionLog()
        _ = try log.appendAsLeader(makeBatch(producerId: 5, epoch: 0, sequence: 0, transactional: true), leaderEpoch: 0)
        log.appendMarker(commit: true, producerId: 5, producerEpoch: 0, coordinatorEpoch: 0, leaderEpoch: 0, timestamp: 0)
        log.setHighWatermark(log.logEndOffset)
        #expect(log.abortedTransactions.isEmpty)
        #expect(log.lastStableOffset == 2)
    }

    @Test func offsetForTimestampIsRecordPrecise() throws {
        var log = PartitionLog()
        _ = try log.appendAsLeader(makeBatch(count: 3, timestamp: 100, timestampStep: 10), leaderEpoch: 0) // 100,110,120
        _ = try log.appendAsLeader(makeBatch(count: 2, timestamp: 200, timestampStep: 50), leaderEpoch: 0) // 200,250
        #expect(log.offset(forTimestamp: 105) == .init(offset: 1, timestamp: 110))
        #expect(log.offset(forTimestamp: 0) == .init(offset: 0, timestamp: 100))
        #expect(log.offset(forTimestamp: 121) == .init(offset: 3, timestamp: 200))
        #expect(log.offset(forTimestamp: 251) == nil)
        #expect(log.maxTimestamp() == .init(offset: 4, timestamp: 250))
    }

    @Test func epochEndOffsets() throws {
        var log = PartitionLog()
        _ = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 1)  // epoch 1 @0
        log.assignEpoch(3)                                              // epoch 3 @2 (no data yet)
        _ = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 3)
        #expect(log.epochCache == [.init(epoch: 1, startOffset: 0), .init(epoch: 3, startOffset: 2)])
        #expect(log.endOffset(forEpoch: 3) == .init(epoch: 3, endOffset: 4))
        #expect(log.endOffset(forEpoch: 1) == .init(epoch: 1, endOffset: 2))
        #expect(log.endOffset(forEpoch: 2) == .init(epoch: 1, endOffset: 2))   // largest epoch below, ends where 3 starts
        #expect(log.endOffset(forEpoch: 0) == .init(epoch: 0, endOffset: 0))   // older than anything: the first start
        #expect(log.endOffset(forEpoch: 7) == .init(epoch: -1, endOffset: -1))
        #expect(log.endOffset(forEpoch: -1) == .init(epoch: -1, endOffset: -1))
    }
}
