import Testing
@testable import KafkaStateMachines

/// Poll-time decoding a piece at a time: each piece stops once its decoded bytes reach the
/// budget (one batch at least), pieces together equal the whole decode, read-committed
/// filtering carries across pieces, and each piece says where a commit after it stands.
@Suite struct FetchedPartitionReaderTests {
    static let tp = TopicPartition("t", 0)
    let ctx = CompressionContexts()

    func batch(_ count: Int, base: Int64, codec: CompressionCodec = .none, valueSize: Int = 100, epoch: Int32 = 0,
               transactional: Bool = false, producerId: Int64 = -1) throws -> [UInt8] {
        let records = (0 ..< count).map { i in EncodableRecord(value: Array("v\(base + Int64(i))".utf8) + [UInt8](repeating: 0x61, count: valueSize), timestamp: 1) }
        var o = RecordBatchOptions(baseOffset: base, codec: codec)
        o.partitionLeaderEpoch = epoch
        o.isTransactional = transactional
        o.producerId = producerId
        return try RecordBatchEncoder.encode(records, options: o, contexts: ctx)
    }

    func readAll(_ r: inout FetchedPartitionReader, budget: Int) -> [FetchedPartitionReader.Piece] {
        var pieces: [FetchedPartitionReader.Piece] = []
        while !r.isFinished {
            pieces.append(r.next(budget: budget, contexts: ctx))
            if pieces.count > 1000 { Issue.record("no progress"); break }
        }
        return pieces
    }

    /// Ten zstd batches of 100 records x ~105 B (about 20 KB decoded each, with the records'
    /// own storage) read with a 30 KB budget: two batches a piece, never more decoded than
    /// the budget plus one batch, every
    /// record once and in order, the commit position at each piece's last batch.
    @Test func piecesStopAtTheBudgetAndTogetherAreTheWholeFetch() throws {
        var bytes: [UInt8] = []
        for b in 0 ..< 10 { bytes += try batch(100, base: Int64(b * 100), codec: .zstd, epoch: 3) }
        var fetched = FetchedPartition(topicPartition: Self.tp, fetchOffset: 0, nextOffset: 1000, records: bytes)
        fetched.lastEpoch = 3
        let whole = fetched.decode(contexts: ctx)
        var r = FetchedPartitionReader(fetched)
        let pieces = readAll(&r, budget: 30_000)
        #expect(pieces.count == 5)
        #expect(pieces.flatMap(\.records).map(\.offset) == whole.records.map(\.offset))
        #expect(whole.records.map(\.offset) == Array(0 ..< 1000))
        for (i, p) in pieces.enumerated() {
            #expect(p.records.count == 200)
            #expect(p.decodedBytes >= 30_000 && p.decodedBytes < 60_000, "\(p.decodedBytes)")
            #expect(p.nextOffset == Int64((i + 1) * 200))
            #expect(p.lastEpoch == 3)
            #expect(p.finished == (i == 4))
        }
        #expect(pieces.last?.nextOffset == 1000)
    }

    /// A budget of one byte still hands out a whole batch each time (progress), and a
    /// fetch that started inside a batch skips the records before its offset.
    @Test func aTinyBudgetStillDecodesOneBatchAndSkipsRecordsBeforeTheFetchOffset() throws {
        let bytes = try batch(5, base: 0, codec: .lz4) + batch(5, base: 5, codec: .lz4)
        var r = FetchedPartitionReader(FetchedPartition(topicPartition: Self.tp, fetchOffset: 3, nextOffset: 10, records: bytes))
        let pieces = readAll(&r, budget: 1)
        #expect(pieces.map { $0.records.map(\.offset) } == [[3, 4], [5, 6, 7, 8, 9]])
        #expect(pieces.map(\.nextOffset) == [5, 10])
    }

    /// One piece over several batches when the fetch began inside the first: only that
    /// batch's earlier records are skipped, the later batches are taken whole (uncompressed
    /// and compressed), in order, each record with its own value.
    @Test func onePieceSkipsOnlyTheFirstBatchsRecordsBeforeTheFetchOffset() throws {
        let bytes = try batch(5, base: 0, valueSize: 0) + batch(5, base: 5, valueSize: 0) + batch(5, base: 10, codec: .zstd, valueSize: 0)
        var r = FetchedPartitionReader(FetchedPartition(topicPartition: Self.tp, fetchOffset: 3, nextOffset: 15, records: bytes))
        let piece = r.next(budget: .max, contexts: ctx)
        #expect(piece.finished)
        #expect(piece.records.map(\.offset) == Array(3 ..< 15))
        #expect(piece.records.map { $0.value.map { String(decoding: $0, as: UTF8.self) } } == (3 ..< 15).map { "v\($0)" })
        // A first batch wholly before the fetch offset gives nothing; the next is taken whole.
        var later = FetchedPartitionReader(FetchedPartition(topicPartition: Self.tp, fetchOffset: 5, nextOffset: 15, records: bytes))
        #expect(later.next(budget: .max, contexts: ctx).records.map(\.offset) == Array(5 ..< 15))
    }

    /// An aborted transaction whose batches span two pieces stays filtered in the second
    /// (the filter's state carries over), and the abort marker ends it for what follows.
    @Test func readCommittedFilteringCarriesAcrossPieces() throws {
        var bytes = try batch(2, base: 0, transactional: true, producerId: 7)       // aborted
        bytes += try batch(2, base: 2, transactional: true, producerId: 7)          // aborted, next piece
        bytes += try ControlRecord.endTransactionMarkerBatch(commit: false, producerId: 7, producerEpoch: 0, coordinatorEpoch: 0,
                                                             timestamp: 0, baseOffset: 4, contexts: ctx)
        bytes += try batch(2, base: 5, transactional: true, producerId: 7)          // a later, committed transaction
        let f = FetchedPartition(topicPartition: Self.tp, fetchOffset: 0, nextOffset: 7, records: bytes,
                                 abortedTransactions: [AbortedTransaction(producerId: 7, firstOffset: 0)], isolation: .readCommitted)
        var r = FetchedPartitionReader(f)
        let pieces = readAll(&r, budget: 1)
        #expect(pieces.flatMap(\.records).map(\.offset) == [5, 6])
        #expect(pieces.map(\.nextOffset) == [2, 4, 5, 7], "filtered batches still move the commit position")
        #expect(pieces.flatMap(\.records).map(\.offset) == f.decode(contexts: ctx).records.map(\.offset))
    }

    /// A corrupt batch in a later piece: the earlier pieces were handed out whole, the bad
    /// piece names the batch and where skip resumes, and the reader is finished.
    @Test func aCorruptBatchEndsTheReaderWithTheRecordsBeforeIt() throws {
        var bad = try batch(3, base: 4)
        bad[bad.count - 1] ^= 0xFF
        let bytes = try batch(2, base: 0) + batch(2, base: 2) + bad + batch(1, base: 7)
        var r = FetchedPartitionReader(FetchedPartition(topicPartition: Self.tp, fetchOffset: 0, nextOffset: 8, records: bytes))
        let pieces = readAll(&r, budget: 1)
        #expect(pieces.count == 3)
        #expect(pieces[2].records.isEmpty && pieces[2].finished)
        guard case .corruptBatch(let at, _) = pieces[2].error else { Issue.record("\(String(describing: pieces[2].error))"); return }
        #expect(at == 4 && pieces[2].skipTo == 7 && pieces[2].nextOffset == 4)
        #expect(r.isFinished)
    }
}
