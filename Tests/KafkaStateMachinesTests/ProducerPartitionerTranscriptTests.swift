import Testing
@testable import KafkaStateMachines

/// Transcripts of where records without a partition go: the sticky partitioner (KIP-480)
/// keeps to one partition until its batch is full, and the least-backup partitioner picks
/// the partition with the fewest buffered records.
@Suite struct ProducerPartitionerTranscriptTests {
    /// The partition of every token, from what went on the wire.
    static func placement(_ w: ProducerWorld) -> [UInt64: Int32] {
        var out: [UInt64: Int32] = [:]
        for b in w.allSent.flatMap(\.batches) {
            for v in b.values { out[UInt64(v.dropFirst().prefix { $0 != "." })!] = b.tp.partition }
        }
        return out
    }

    /// Runs of equal neighbours: [(partition, how many in a row)].
    static func runs(_ partitions: [Int32]) -> [(Int32, Int)] {
        var out: [(Int32, Int)] = []
        for p in partitions {
            if let last = out.last, last.0 == p { out[out.count - 1].1 += 1 } else { out.append((p, 1)) }
        }
        return out
    }

    /// Unkeyed records stay on one partition until its batch is full, then move to another
    /// partition (never the same one again at once). The record that did not fit the full
    /// batch still opens the partition's next batch, so a run is a batch and one record, or
    /// a batch on a partition whose open batch already held that one. A partitioner
    /// choosing per record would leave short runs.
    @Test func stickyKeepsToOnePartitionUntilItsBatchIsFull() {
        var w = ProducerWorld { c in
            c.partitioner = .sticky
            c.manualFlushing = true
            c.maxBatchBytes = 400
            c.maxBufferedBytes = 1_000_000
        }
        w.topics["t"] = [.init(leader: 1), .init(leader: 1), .init(leader: 2), .init(leader: 2)]
        let tokens = Array(UInt64(1) ... 40)
        for t in tokens { w.produce("t", nil, [t], size: 50) }
        w.flush(99)
        while !w.held.isEmpty { w.answerAll() }
        let placed = Self.placement(w)
        #expect(placed.count == tokens.count)
        let runs = Self.runs(tokens.map { placed[$0] ?? -1 })
        let lengths = runs.dropLast().map(\.1)
        // 400 bytes hold several 50-byte records.
        let capacity = w.allSent.flatMap(\.batches).map(\.values.count).max() ?? 0
        #expect(capacity >= 3)
        #expect(lengths.count >= 4, "\(runs)")
        #expect(lengths.allSatisfy { $0 == capacity + 1 || $0 == capacity }, "capacity \(capacity): \(runs)")
        #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.0 != $1.0 }, "\(runs)")
        // Moving on reaches more than one other partition over the run.
        #expect(Set(runs.map(\.0)).count >= 3, "\(runs)")
        #expect(w.deliveredTokens.count == tokens.count)
    }

    /// Keyed records hash (murmur2) whatever the sticky choice is.
    @Test func stickyHashesKeyedRecords() {
        var w = ProducerWorld { $0.partitioner = .sticky; $0.manualFlushing = true }
        w.topics["t"] = [.init(leader: 1), .init(leader: 1), .init(leader: 1)]
        let keys = (0 ..< 12).map { Array("key-\($0)".utf8) }
        for (i, k) in keys.enumerated() {
            w.h.engine.produce(ProducerWorld.record("t", nil, UInt64(i + 1), key: k), now: w.now)
        }
        w.flush(99)
        let placed = Self.placement(w)
        for (i, k) in keys.enumerated() {
            #expect(placed[UInt64(i + 1)] == Murmur2.partition(forKey: k, partitions: 3), "key-\(i)")
        }
    }

    /// Records buffered by hand: 3 on partition 0, 1 on partition 1, 2 on partition 2 and
    /// none on 3. Unkeyed records then fill the least backed-up partition first (ties to
    /// the lowest number): 3, then 1 and 3 in turn, and so on until every queue is level.
    @Test func leastBackupPrefersTheLeastBackedUpPartition() {
        var w = ProducerWorld { $0.partitioner = .leastBackup; $0.manualFlushing = true }
        w.topics["t"] = [.init(leader: 1), .init(leader: 1), .init(leader: 2), .init(leader: 2)]
        w.produce("t", 0, [1, 2, 3])
        w.produce("t", 1, [4])
        w.produce("t", 2, [5, 6])
        w.produce("t", nil, Array(UInt64(7) ... 14))
        w.flush(99)
        let placed = Self.placement(w)
        // Buffered before each: [3,1,2,0] -> 3; [3,1,2,1] -> 1; [3,2,2,1] -> 3; [3,2,2,2] -> 1;
        // [3,3,2,2] -> 2; [3,3,3,2] -> 3; [3,3,3,3] -> 0; [4,3,3,3] -> 1.
        #expect((7 ... 14).map { placed[UInt64($0)] ?? -1 } == [3, 1, 3, 1, 2, 3, 0, 1])
        w.answerAll()
        #expect(w.deliveredTokens.sorted() == Array(1 ... 14))
    }

    /// Delivered records no longer count: once partition 0's backlog is acknowledged it is
    /// the least backed-up again.
    @Test func leastBackupCountsOnlyUndeliveredRecords() {
        var w = ProducerWorld { $0.partitioner = .leastBackup }
        w.topics["t"] = [.init(leader: 1), .init(leader: 2)]
        w.produce("t", 1, [1])
        w.produce("t", 0, [2, 3])
        // Partition 0 holds 2 (unanswered), partition 1 holds 1: the next goes to 1.
        w.produce("t", nil, [4])
        #expect(Self.placement(w)[4] == 1)
        // Answer partition 0's requests only: it is then empty and preferred.
        while let i = w.held.firstIndex(where: { $0.broker == 1 }) { w.answer(i) }
        w.produce("t", nil, [5])
        #expect(Self.placement(w)[5] == 0)
        w.answerAll()
        #expect(w.deliveredTokens.sorted() == [1, 2, 3, 4, 5])
    }
}
