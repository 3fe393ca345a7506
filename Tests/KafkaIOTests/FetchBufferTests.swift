@testable import KafkaIO
import KafkaProtocol
@testable import KafkaStateMachines
import Testing

/// The poll side of the consumer's buffer: a take decodes at most its budget (one batch at
/// least) and leaves the rest as fetched bytes; fetched bytes go back to the engine only
/// once a partition's data was all handed out; a corrupt batch found while decoding blocks
/// its partition until the stop reaches the engine; commits follow what was handed out.
struct FetchBufferTests {
    static func decoding(budget: Int) -> FetchBuffer.Decoding {
        FetchBuffer.Decoding(budget: budget, verifyCRC: true, keepControlRecords: false, decompressionLimit: .default)
    }

    /// `batches` zstd batches of 100 records x 200 B from `base`: about 30 KB decoded each.
    static func fetched(_ tp: TopicPartition, base: Int64, batches: Int, epoch: Int32 = 0, corruptLast: Bool = false) throws -> FetchedPartition {
        let ctx = CompressionContexts()
        var bytes: [UInt8] = []
        for b in 0 ..< batches {
            let records = (0 ..< 100).map { _ in EncodableRecord(value: [UInt8](repeating: 0x62, count: 200), timestamp: 1) }
            var o = RecordBatchOptions(baseOffset: base + Int64(b * 100), codec: .zstd)
            o.partitionLeaderEpoch = epoch
            var batch = try RecordBatchEncoder.encode(records, options: o, contexts: ctx)
            if corruptLast && b == batches - 1 { batch[batch.count - 1] ^= 0xFF }
            bytes += batch
        }
        var f = FetchedPartition(topicPartition: tp, fetchOffset: base, nextOffset: base + Int64(batches * 100), records: bytes)
        f.lastEpoch = epoch
        return f
    }

    /// 40 batches (about 1.2 MB decoded, a few KB fetched) taken with a 100 KB budget: each
    /// take hands out a few batches, in order; the fetched bytes are released only by the
    /// take that finishes the partition.
    @Test func takesAreBoundedByTheBudgetAndReleaseBytesAtTheEnd() throws {
        let buffer = FetchBuffer()
        let tp = TopicPartition("t", 0)
        let f = try Self.fetched(tp, base: 0, batches: 40)
        buffer.push(FetchBatch(broker: 1, partitions: [f]))
        var offsets: [Int64] = []
        var released = 0
        var takes = 0
        while buffer.hasData {
            let t = buffer.take(Self.decoding(budget: 100_000))
            takes += 1
            let n = t.partitions.first?.records.count ?? 0
            #expect(n > 0 && n <= 400, "\(n) records in one take")
            offsets += t.partitions.flatMap { $0.records.map(\.offset) }
            if buffer.hasData { #expect(t.released == 0 && t.partitions.first?.atEnd == false) }
            released += t.released
            #expect(takes < 100)
            if takes >= 100 { break }
        }
        #expect(offsets == Array(0 ..< 4000))
        #expect(takes >= 10)
        #expect(released == f.records.count)
    }

    /// Two partitions: the second is not started until the first take's budget allows, and
    /// a partially read partition keeps later data of its own behind it (offset order).
    @Test func aPartlyReadPartitionKeepsItsOrderAcrossItems() throws {
        let buffer = FetchBuffer()
        let a = TopicPartition("t", 0), b = TopicPartition("t", 1)
        buffer.push(FetchBatch(broker: 1, partitions: [try Self.fetched(a, base: 0, batches: 4), try Self.fetched(b, base: 0, batches: 1)]))
        buffer.push(FetchBatch(broker: 1, partitions: [try Self.fetched(a, base: 400, batches: 1)]))
        var seen: [TopicPartition: [Int64]] = [:]
        while buffer.hasData {
            let t = buffer.take(Self.decoding(budget: 1))
            #expect(t.partitions.count == 1 && t.partitions[0].records.count == 100, "one batch a take")
            for p in t.partitions { seen[TopicPartition(p.topic, p.partition), default: []] += p.records.map(\.offset) }
        }
        #expect(seen[a] == Array(0 ..< 500))
        #expect(seen[b] == Array(0 ..< 100))
    }

    /// A corrupt batch found while decoding: the records before it are handed out, the
    /// stop is reported once, and the partition's later data waits (blocked) until the
    /// engine's stop drops it, which releases its bytes.
    @Test func aCorruptBatchBlocksItsPartitionUntilDropped() throws {
        let buffer = FetchBuffer()
        let tp = TopicPartition("t", 0)
        let bad = try Self.fetched(tp, base: 0, batches: 3, corruptLast: true)
        let later = try Self.fetched(tp, base: 300, batches: 1)
        buffer.push(FetchBatch(broker: 1, partitions: [bad, later]))
        let t = buffer.take(Self.decoding(budget: 1 << 20))
        #expect(t.partitions[0].records.map(\.offset) == Array(0 ..< 200))
        #expect(t.stops.count == 1 && t.stops.first?.offset == 200 && t.stops.first?.skipTo == 300)
        #expect(t.released == bad.records.count)
        #expect(!buffer.hasData, "the partition's later data waits for the stop")
        #expect(buffer.take(Self.decoding(budget: 1 << 20)).isEmpty)
        #expect(buffer.drop([tp]) == later.records.count)
        buffer.push(FetchBatch(broker: 1, partitions: [later]))
        #expect(buffer.take(Self.decoding(budget: 1 << 20)).partitions.first?.records.count == 100, "unblocked after the drop")
    }

    /// A group consumer's commit position after a partial take is the end of the last
    /// batch handed out, with that batch's epoch; after the last piece, the fetch's end.
    @Test func commitPositionsFollowWhatWasHandedOut() throws {
        let buffer = FetchBuffer()
        buffer.trackPositions(true)
        let tp = TopicPartition("t", 0)
        buffer.push(FetchBatch(broker: 1, partitions: [try Self.fetched(tp, base: 0, batches: 3, epoch: 5)]))
        _ = buffer.take(Self.decoding(budget: 1))
        _ = buffer.take(Self.decoding(budget: 1))
        #expect(buffer.takeConsumedChanges() == [tp: CommitPosition(offset: 100, leaderEpoch: 5)])
        _ = buffer.take(Self.decoding(budget: 1))
        buffer.finishAll()
        #expect(buffer.takeConsumedChanges() == [tp: CommitPosition(offset: 300, leaderEpoch: 5)])
    }
}
