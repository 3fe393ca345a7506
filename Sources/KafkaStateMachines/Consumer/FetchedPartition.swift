import KafkaProtocol

/// A transaction the broker says was aborted, for read_committed filtering.
public struct AbortedTransaction: Sendable, Equatable {
    public var producerId: Int64
    public var firstOffset: Int64
    public init(producerId: Int64, firstOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
    }
}

/// One partition's share of a fetch response, kept as the response's record bytes: the
/// engine only scans batch headers; records are decoded when the user polls (`decode`).
package struct FetchedPartition: Sendable {
    public var topicPartition: TopicPartition
    /// The offset this fetch asked for: records before it (inside a compressed batch that
    /// started earlier) are skipped.
    public var fetchOffset: Int64
    /// Where the fetcher continues after this data.
    public var nextOffset: Int64
    /// The partition leader epoch of the last batch in `records` (-1: none, or legacy
    /// messages): what a commit of `nextOffset` carries (KIP-320).
    public var lastEpoch: Int32 = -1
    public var highWatermark: Int64
    public var lastStableOffset: Int64
    public var logStartOffset: Int64
    /// Complete batches only (a truncated tail is cut off).
    public var records: [UInt8]
    public var abortedTransactions: [AbortedTransaction]
    public var isolation: IsolationLevel
    /// Set when the partition stopped after these records.
    public var error: ConsumerPartitionError?

    /// The fetch reached the end of what this isolation level can read.
    public var atEnd: Bool {
        let end = isolation == .readCommitted && lastStableOffset >= 0 ? lastStableOffset : highWatermark
        return end >= 0 && nextOffset >= end
    }

    public init(topicPartition: TopicPartition, fetchOffset: Int64, nextOffset: Int64, highWatermark: Int64 = -1,
                lastStableOffset: Int64 = -1, logStartOffset: Int64 = -1, records: [UInt8] = [],
                abortedTransactions: [AbortedTransaction] = [], isolation: IsolationLevel = .readUncommitted,
                error: ConsumerPartitionError? = nil) {
        self.topicPartition = topicPartition
        self.fetchOffset = fetchOffset
        self.nextOffset = nextOffset
        self.highWatermark = highWatermark
        self.lastStableOffset = lastStableOffset
        self.logStartOffset = logStartOffset
        self.records = records
        self.abortedTransactions = abortedTransactions
        self.isolation = isolation
        self.error = error
    }

    /// What the user gets for this partition: its records, and an error if decoding hit
    /// a bad batch (the records before it are kept) or the partition had stopped.
    public struct Decoded: Sendable {
        public var records: [Record]
        public var error: ConsumerPartitionError?
        /// With a decoding error: the offset after the bad batch, where `skip` resumes.
        public var skipTo: Int64?
    }

    /// Decodes every batch (all codecs, v2 and legacy v0/v1), skipping records before
    /// `fetchOffset`, control batches (unless `keepControlRecords`) and, for
    /// read_committed, the batches of aborted transactions.
    /// `decompressionLimit` bounds what one compressed batch may expand to (a bomb past it
    /// is a corrupt batch).
    public func decode(contexts: CompressionContexts, verifyCRC: Bool = true, keepControlRecords: Bool = false,
                       decompressionLimit: DecompressionLimit = .default) -> Decoded {
        var reader = FetchedPartitionReader(self)
        let piece = reader.next(budget: .max, contexts: contexts, verifyCRC: verifyCRC, keepControlRecords: keepControlRecords,
                                decompressionLimit: decompressionLimit)
        return Decoded(records: piece.records, error: piece.error, skipTo: piece.skipTo)
    }
}

/// Read-committed filtering over one fetch's batches in offset order: a producer's
/// transactional batches are dropped from the first offset of an aborted transaction
/// until that producer's abort marker.
struct AbortedTransactionFilter {
    /// Sorted by first offset; consumed from the front as batches pass them.
    private var pending: [AbortedTransaction]
    private var next = 0
    private var abortedProducers: Set<Int64> = []
    private let active: Bool

    init(_ aborted: [AbortedTransaction], active: Bool) {
        self.pending = aborted.sorted { ($0.firstOffset, $0.producerId) < ($1.firstOffset, $1.producerId) }
        self.active = active
    }

    /// Whether the user may see this batch (control batches are judged by the caller,
    /// after their marker has closed the producer's aborted range).
    mutating func keeps(_ batch: RecordBatch) -> Bool {
        guard active, batch.magic >= 2 else { return true }
        let last = batch.header.nextOffset - 1
        while next < pending.count, pending[next].firstOffset <= last {
            abortedProducers.insert(pending[next].producerId)
            next += 1
        }
        let pid = batch.header.producerId
        if batch.isControl {
            // An abort marker ends the producer's aborted range; the marker itself is a
            // control record the caller may keep.
            if abortedProducers.contains(pid), let first = batch.records.first,
               let marker = try? ControlRecord(parsing: first), marker.type == .abort {
                abortedProducers.remove(pid)
            }
            return true
        }
        return !(batch.isTransactional && abortedProducers.contains(pid))
    }
}
