import Testing
@testable import KafkaStateMachines

/// What the consumer makes of batches a broker should never send: a typed `corruptBatch`
/// for the partition, the good records before it kept, and a `skip` target past it that
/// never traps or wraps.
@Suite struct HostileBatchTests {
    static let tp = TopicPartition("t", 0)
    let ctx = CompressionContexts()

    func batch(_ count: Int, base: Int64, codec: CompressionCodec = .none, valueSize: Int = 8, control: Bool = false) throws -> [UInt8] {
        let records = (0 ..< count).map { _ in EncodableRecord(value: [UInt8](repeating: 0x61, count: valueSize), timestamp: 1) }
        return try RecordBatchEncoder.encode(records, options: RecordBatchOptions(baseOffset: base, codec: codec, isControl: control), contexts: ctx)
    }

    static func fetched(_ bytes: [UInt8], from offset: Int64) -> FetchedPartition {
        FetchedPartition(topicPartition: tp, fetchOffset: offset, nextOffset: offset, records: bytes)
    }

    /// A gzip batch expanding to 400 KB: past a 100 KB limit it stops the partition after
    /// the good batch before it, and skip resumes after it; under the default it decodes.
    @Test func decompressionLimitIsPassedToTheDecoder() throws {
        let good = try batch(2, base: 0)
        let bomb = try batch(4, base: 2, codec: .gzip, valueSize: 100_000)
        let p = Self.fetched(good + bomb, from: 0)
        let d = p.decode(contexts: ctx, decompressionLimit: DecompressionLimit(maxOutputBytes: 100_000))
        #expect(d.records.map(\.offset) == [0, 1])
        guard case .corruptBatch(let at, let reason) = d.error else { Issue.record("\(String(describing: d.error))"); return }
        #expect(at == 2 && reason.contains("decompress"))
        #expect(d.skipTo == 6)
        let all = p.decode(contexts: ctx)
        #expect(all.error == nil && all.records.count == 6)
    }

    /// A control batch whose record is ordinary data is a corruptBatch, not a silently
    /// dropped marker (nor data delivered from a control batch).
    @Test func controlBatchWithDataRecordsIsACorruptBatch() throws {
        let p = Self.fetched(try batch(1, base: 0) + batch(3, base: 1, control: true) + batch(1, base: 4), from: 0)
        for keep in [false, true] {
            let d = p.decode(contexts: ctx, keepControlRecords: keep)
            #expect(d.records.map(\.offset) == [0])
            guard case .corruptBatch(let at, _) = d.error else { Issue.record("\(String(describing: d.error))"); return }
            #expect(at == 1 && d.skipTo == 4)
        }
    }

    /// A bad batch at base offset Int64.max (and one whose last delta overflows): the skip
    /// target saturates at Int64.max instead of trapping or wrapping negative, in the poll-time
    /// decoder and in the fetcher's scan alike.
    @Test func skipPastABadBatchAtTheEndOfTheOffsetRangeDoesNotWrap() throws {
        for base in [Int64.max, Int64.max - 1] {
            var bad = try batch(3, base: base)
            bad[bad.count - 1] ^= 0xFF   // CRC mismatch
            let d = Self.fetched(bad, from: base).decode(contexts: ctx)
            guard case .corruptBatch(let at, _) = d.error else { Issue.record("\(String(describing: d.error))"); return }
            #expect(at == base)
            #expect(d.skipTo == Int64.max)
            let scan = BatchScan(bad, fetchOffset: base, verifyCRC: true)
            #expect(scan.corrupt?.offset == base && scan.skipTo == Int64.max)
        }
        #expect(BatchScan.after(Int64.max) == Int64.max && BatchScan.after(-1) == 0)
    }
}
