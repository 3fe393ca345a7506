/// Idempotent-producer state of one partition replica: per producer id, its epoch, the
/// last five batches' sequence ranges (Kafka's duplicate window) and whether a
/// transaction is open. The log feeds every appended batch in, so a follower that becomes
/// leader validates exactly as the old leader did.
struct ProducerStateTable: Equatable, Sendable {
    /// Kafka keeps the last five batches per producer (max.in.flight = 5 with idempotence).
    static let duplicateWindow = 5

    struct BatchRange: Equatable, Sendable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
    }

    struct Entry: Equatable, Sendable {
        var epoch: Int16
        /// Oldest first, at most `duplicateWindow`.
        var batches: [BatchRange] = []
        /// First offset of the producer's open transaction in this partition, if any.
        var currentTransactionFirstOffset: Int64?
        /// The coordinator epoch of the last marker written for this producer (-1: none).
        var coordinatorEpoch: Int32 = -1
        /// The last batch's max timestamp (DescribeProducers).
        var lastTimestamp: Int64 = -1

        var lastSequence: Int32 { batches.last?.lastSequence ?? -1 }
    }

    /// What happens to a producer id this table has never seen (or has forgotten) when its
    /// first batch does not start at sequence 0. Brokers disagree across versions: before
    /// KIP-360 they answered UNKNOWN_PRODUCER_ID; newer ones OUT_OF_ORDER_SEQUENCE_NUMBER
    /// when they know the epoch, and accept any sequence when the state is gone.
    enum UnknownProducerPolicy: Sendable, Equatable {
        case outOfOrderSequence
        case unknownProducerId
        case acceptAnySequence
    }

    enum Verdict: Equatable, Sendable {
        case accept
        /// Already appended: answer success with the original offsets.
        case duplicate(firstOffset: Int64, lastOffset: Int64)
        case reject(KafkaErrorCode)
    }

    private(set) var entries: [Int64: Entry] = [:]
    var unknownProducerPolicy: UnknownProducerPolicy = .outOfOrderSequence

    init(unknownProducerPolicy: UnknownProducerPolicy = .outOfOrderSequence) {
        self.unknownProducerPolicy = unknownProducerPolicy
    }

    func entry(for producerId: Int64) -> Entry? { entries[producerId] }

    /// Every producer id this replica holds state for, ascending.
    var producerIds: [Int64] { entries.keys.sorted() }

    /// Producer ids with an open transaction, ascending, with its first offset.
    var openTransactions: [(producerId: Int64, firstOffset: Int64)] {
        entries.keys.sorted().compactMap { pid in
            entries[pid]?.currentTransactionFirstOffset.map { (pid, $0) }
        }
    }

    /// Decides whether a client batch may be appended. Only batches with a producer id
    /// come here; control batches are written by the coordinator and skip validation.
    func validate(_ h: BatchHeader) -> Verdict {
        guard h.hasProducerId else { return .accept }
        guard let e = entries[h.producerId] else {
            if h.baseSequence == 0 { return .accept }
            switch unknownProducerPolicy {
            case .outOfOrderSequence: return .reject(.outOfOrderSequenceNumber)
            case .unknownProducerId: return .reject(.unknownProducerId)
            case .acceptAnySequence: return .accept
            }
        }
        if h.producerEpoch < e.epoch { return .reject(.invalidProducerEpoch) }
        if h.producerEpoch == e.epoch,
           let dup = e.batches.first(where: { $0.firstSequence == h.baseSequence && $0.lastSequence == h.lastSequence }) {
            return .duplicate(firstOffset: dup.firstOffset, lastOffset: dup.lastOffset)
        }
        if !h.isTransactional, e.currentTransactionFirstOffset != nil, h.producerEpoch == e.epoch {
            // A plain batch in the middle of this producer's transaction.
            return .reject(.invalidTxnState)
        }
        if h.producerEpoch > e.epoch {
            // A new epoch restarts sequences at zero.
            return h.baseSequence == 0 ? .accept : .reject(.outOfOrderSequenceNumber)
        }
        return h.baseSequence == ProducerSequence.next(e.lastSequence) ? .accept : .reject(.outOfOrderSequenceNumber)
    }

    /// Records an appended batch (client batch or transaction marker) at its final offsets.
    mutating func record(_ h: BatchHeader, baseOffset: Int64, controlCommit: Bool? = nil, coordinatorEpoch: Int32? = nil) {
        guard h.hasProducerId else { return }
        var e = entries[h.producerId] ?? Entry(epoch: h.producerEpoch)
        if h.producerEpoch != e.epoch {
            e.epoch = h.producerEpoch
            e.batches = []
        }
        e.lastTimestamp = h.maxTimestamp
        if h.isControl {
            e.currentTransactionFirstOffset = nil
            if let c = coordinatorEpoch { e.coordinatorEpoch = c }
        } else {
            if h.baseSequence >= 0 {
                e.batches.append(BatchRange(firstSequence: h.baseSequence, lastSequence: h.lastSequence,
                                            firstOffset: baseOffset,
                                            lastOffset: baseOffset + Int64(h.lastOffsetDelta)))
                if e.batches.count > Self.duplicateWindow { e.batches.removeFirst(e.batches.count - Self.duplicateWindow) }
            }
            if h.isTransactional, e.currentTransactionFirstOffset == nil {
                e.currentTransactionFirstOffset = baseOffset
            }
        }
        entries[h.producerId] = e
    }

    mutating func removeAll() { entries = [:] }
}
