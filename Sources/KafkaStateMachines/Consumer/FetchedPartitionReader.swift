import KafkaProtocol

/// Decodes one fetched partition a piece at a time. Each `next` decodes whole batches until
/// what it decoded reaches a byte budget (at least one batch), so a poll holds a bounded
/// amount of decoded records while the rest of the fetch stays as its (often compressed)
/// wire bytes. Read-committed filtering carries from one piece to the next.
package struct FetchedPartitionReader: Sendable {
    public let fetched: FetchedPartition
    /// Where the next batch starts in `fetched.records`.
    public private(set) var position = 0
    /// Everything was handed out (or an error ended the partition's data).
    public private(set) var isFinished = false
    private var filter: AbortedTransactionFilter
    private var decompressed = 0
    private var lastRecordOffset: Int64?
    /// The offset after what earlier pieces covered.
    private var coveredTo: Int64
    private var coveredEpoch: Int32 = -1

    /// One piece: records in offset order, what decoding them cost, and where a consumer
    /// that has handled them stands.
    public struct Piece: Sendable {
        public var records: [Record]
        /// Decoded bytes: each batch's payload (decompressed when compressed) plus the
        /// records' own storage.
        public var decodedBytes: Int
        public var error: ConsumerPartitionError?
        /// With a decoding error: the offset after the bad batch, where `skip` resumes.
        public var skipTo: Int64?
        /// The offset after everything this piece covers (batches filtered out included)
        /// and the leader epoch of its last batch: what a commit after it carries.
        public var nextOffset: Int64
        public var lastEpoch: Int32
        /// This piece ends the fetched data (the reader is finished).
        public var finished: Bool
    }

    public init(_ fetched: FetchedPartition) {
        self.fetched = fetched
        self.coveredTo = fetched.fetchOffset
        self.filter = AbortedTransactionFilter(fetched.abortedTransactions, active: fetched.isolation == .readCommitted)
    }

    /// Decodes batches until their decoded size reaches `budget` (one batch at least) and
    /// returns them, skipping records before the fetch offset, control batches (unless
    /// `keepControlRecords`) and, for read_committed, aborted transactions' batches.
    /// `decompressionLimit` bounds what one compressed batch may expand to (a bomb past it
    /// is a corrupt batch).
    public mutating func next(budget: Int, contexts: CompressionContexts, verifyCRC: Bool = true, keepControlRecords: Bool = false,
                              decompressionLimit: DecompressionLimit = .default) -> Piece {
        var out: [Record] = []
        var spent = 0
        var lastNext: Int64?
        var lastEpoch: Int32 = -1
        let options = RecordDecodingOptions(verifyCRC: verifyCRC, decompressionLimit: decompressionLimit)
        var reader = RecordsReader(fetched.records, options: options, contexts: contexts,
                                   resumingAt: position, decompressedBytes: decompressed)
        defer {
            position = reader.position
            decompressed = reader.decompressedBytes
        }
        guard !isFinished else {
            return Piece(records: [], decodedBytes: 0, nextOffset: fetched.nextOffset, lastEpoch: fetched.lastEpoch, finished: true)
        }
        let recordSize = MemoryLayout<Record>.stride
        while spent < budget || lastNext == nil {
            let start = reader.position
            let batch: RecordBatch
            do {
                guard let b = try reader.next() else { break }
                batch = b
            } catch {
                isFinished = true
                let at = error.baseOffset ?? lastRecordOffset.map(BatchScan.after) ?? fetched.fetchOffset
                let after = BatchScan.offsetAfterBatch(fetched.records, at: reader.position) ?? BatchScan.after(at)
                return Piece(records: out, decodedBytes: spent, error: .corruptBatch(offset: at, reason: "\(error)"),
                             skipTo: max(after, BatchScan.after(at)), nextOffset: max(lastNext ?? coveredTo, coveredTo),
                             lastEpoch: lastNext == nil ? coveredEpoch : lastEpoch, finished: true)
            }
            let payload = batch.codec != .none ? (batch.records.first?.buffer.count ?? 0) : reader.position - start
            spent += payload + batch.records.count * recordSize
            lastNext = batch.header.nextOffset
            lastEpoch = batch.magic >= 2 ? batch.header.partitionLeaderEpoch : -1
            guard filter.keeps(batch) else { continue }
            if batch.isControl && !keepControlRecords { continue }
            if Self.allAtOrPast(batch.records, fetched.fetchOffset) {
                // The usual case: the piece takes the batch's array as it is (or appends it
                // in one go) instead of copying and retaining record by record.
                if out.isEmpty { out = batch.records } else { out.append(contentsOf: batch.records) }
            } else {
                if out.isEmpty { out.reserveCapacity(batch.records.count) }
                for r in batch.records where r.offset >= fetched.fetchOffset { out.append(r) }
            }
            if let last = out.last { lastRecordOffset = last.offset }
        }
        if reader.position >= fetched.records.count {
            isFinished = true
            return Piece(records: out, decodedBytes: spent, error: fetched.error, nextOffset: fetched.nextOffset,
                         lastEpoch: fetched.lastEpoch, finished: true)
        }
        if let lastNext, lastNext > coveredTo { coveredTo = lastNext; coveredEpoch = lastEpoch }
        return Piece(records: out, decodedBytes: spent, nextOffset: coveredTo, lastEpoch: lastEpoch, finished: false)
    }

    /// Whether no record is before `offset` (only a batch that began before the fetch offset
    /// has such records; legacy message sets are not assumed to be in offset order).
    private static func allAtOrPast(_ records: [Record], _ offset: Int64) -> Bool {
        for i in records.indices where records[i].offset < offset { return false }
        return true
    }
}
