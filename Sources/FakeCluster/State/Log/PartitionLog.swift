/// One replica's log of one partition: whole v2 batches as raw bytes plus the offsets and
/// indexes a broker derives from them (high watermark, last stable offset, aborted
/// transactions, leader-epoch cache, idempotent producer state).
///
/// Truncation removes whole batches, so every offset boundary here is a batch boundary.
struct PartitionLog: Sendable, Equatable {
    struct StoredBatch: Equatable, Sendable {
        var header: BatchHeader
        var bytes: [UInt8]
        /// For transaction markers: true commit, false abort.
        var controlCommit: Bool?
        /// For markers the coordinator wrote here: the coordinator epoch they carry.
        var markerCoordinatorEpoch: Int32? = nil

        var baseOffset: Int64 { header.baseOffset }
        var lastOffset: Int64 { header.lastOffset }
    }

    /// An aborted transaction as the fetch response lists it; `lastOffset` is the marker's.
    struct AbortedTransaction: Equatable, Sendable {
        var producerId: Int64
        var firstOffset: Int64
        var lastOffset: Int64
    }

    struct EpochEntry: Equatable, Sendable {
        var epoch: Int32
        var startOffset: Int64
    }

    enum Isolation: Sendable { case readUncommitted, readCommitted }

    enum AppendError: Error, Equatable {
        case corrupt(KafkaDecodingError)
        case producer(KafkaErrorCode)
    }

    enum AppendOutcome: Equatable {
        case appended(baseOffset: Int64, lastOffset: Int64)
        case duplicate(baseOffset: Int64, lastOffset: Int64)
    }

    private(set) var batches: [StoredBatch] = []
    private(set) var logStartOffset: Int64 = 0
    private(set) var logEndOffset: Int64 = 0
    private(set) var highWatermark: Int64 = 0
    private(set) var abortedTransactions: [AbortedTransaction] = []
    /// Ascending by epoch and start offset; answers OffsetForLeaderEpoch.
    private(set) var epochCache: [EpochEntry] = []
    private(set) var producers: ProducerStateTable

    init(unknownProducerPolicy: ProducerStateTable.UnknownProducerPolicy = .outOfOrderSequence) {
        producers = ProducerStateTable(unknownProducerPolicy: unknownProducerPolicy)
    }

    /// The first offset a read-committed consumer may not see: the earliest open
    /// transaction's first offset, capped by the high watermark.
    var lastStableOffset: Int64 {
        let firstOpen = producers.openTransactions.map(\.firstOffset).min() ?? Int64.max
        return min(firstOpen, highWatermark)
    }

    var latestEpoch: Int32? { epochCache.last?.epoch }

    var sizeInBytes: Int { batches.reduce(0) { $0 + $1.bytes.count } }

    // MARK: appending

    /// A leader's append of a client batch: validates the header and producer state,
    /// assigns offsets (patching base offset and leader epoch in place), and records it.
    ///
    /// With `logAppendTime` (topic config message.timestamp.type=LogAppendTime) the batch's
    /// timestamp type bit and max timestamp are rewritten and its CRC recomputed.
    mutating func appendAsLeader(_ raw: [UInt8], leaderEpoch: Int32, logAppendTime: Int64? = nil) throws(AppendError) -> AppendOutcome {
        let header: BatchHeader
        do { header = try BatchHeader.parse(raw) } catch { throw .corrupt(error) }
        switch producers.validate(header) {
        case .reject(let code): throw .producer(code)
        case let .duplicate(first, last): return .duplicate(baseOffset: first, lastOffset: last)
        case .accept: break
        }
        var bytes = raw
        let base = logEndOffset
        // The header parsed, so the patches (which check for a whole v2 batch) cannot fail.
        try! RecordBatchPatch.setBaseOffset(&bytes, batchAt: 0, base)
        try! RecordBatchPatch.setPartitionLeaderEpoch(&bytes, batchAt: 0, leaderEpoch)
        if let t = logAppendTime { try! RecordBatchPatch.setLogAppendTime(&bytes, batchAt: 0, timestamp: t) }
        let h = try! BatchHeader.parse(bytes, verifyCRC: false)
        store(StoredBatch(header: h, bytes: bytes, controlCommit: h.isControl ? Self.controlType(bytes) : nil))
        return .appended(baseOffset: base, lastOffset: h.lastOffset)
    }

    /// Writes a transaction marker (built by the transaction coordinator) at the log end.
    @discardableResult
    mutating func appendMarker(commit: Bool, producerId: Int64, producerEpoch: Int16,
                               coordinatorEpoch: Int32, leaderEpoch: Int32, timestamp: Int64) -> Int64 {
        var bytes = ControlBatch.marker(commit: commit, producerId: producerId, producerEpoch: producerEpoch,
                                        coordinatorEpoch: coordinatorEpoch, timestamp: timestamp)
        let base = logEndOffset
        // Built by us, so patching and parsing cannot fail.
        try! RecordBatchPatch.setBaseOffset(&bytes, batchAt: 0, base)
        try! RecordBatchPatch.setPartitionLeaderEpoch(&bytes, batchAt: 0, leaderEpoch)
        let h = try! BatchHeader.parse(bytes)
        store(StoredBatch(header: h, bytes: bytes, controlCommit: commit, markerCoordinatorEpoch: coordinatorEpoch))
        return base
    }

    /// A follower copying the leader's batch verbatim (offsets already assigned).
    mutating func appendReplicated(_ batch: StoredBatch) {
        precondition(batch.baseOffset == logEndOffset, "replicated batch must continue the log")
        store(batch)
    }

    private mutating func store(_ b: StoredBatch) {
        let h = b.header
        if latestEpoch.map({ h.partitionLeaderEpoch > $0 }) ?? (h.partitionLeaderEpoch >= 0) {
            epochCache.append(EpochEntry(epoch: h.partitionLeaderEpoch, startOffset: h.baseOffset))
        }
        if let commit = b.controlCommit, !commit,
           let first = producers.entry(for: h.producerId)?.currentTransactionFirstOffset {
            abortedTransactions.append(AbortedTransaction(producerId: h.producerId, firstOffset: first, lastOffset: h.baseOffset))
        }
        producers.record(h, baseOffset: h.baseOffset, controlCommit: b.controlCommit, coordinatorEpoch: b.markerCoordinatorEpoch)
        batches.append(b)
        logEndOffset = h.lastOffset + 1
    }

    /// Reads the control record's type from an uncompressed control batch: the first
    /// record's key is version (int16) + type (int16: 0 abort, 1 commit).
    static func controlType(_ bytes: [UInt8]) -> Bool? {
        var r = ByteReader(bytes, range: 61 ..< bytes.count)
        do {
            _ = try r.readVarint("length")
            _ = try r.readInt8("attributes")
            _ = try r.readVarlong("timestampDelta")
            _ = try r.readVarint("offsetDelta")
            let keyLength = try r.readVarint("keyLength")
            guard keyLength >= 4 else { return nil }
            _ = try r.readInt16("version")
            let type = try r.readInt16("type")
            return type == 1 ? true : (type == 0 ? false : nil)
        } catch {
            return nil
        }
    }

    // MARK: leadership and replication

    /// Called when this replica becomes leader at `epoch`: Kafka records the epoch's start
    /// at the current log end, even before the new leader appends anything.
    mutating func assignEpoch(_ epoch: Int32) {
        if let last = epochCache.last, last.epoch >= epoch { return }
        epochCache.append(EpochEntry(epoch: epoch, startOffset: logEndOffset))
    }

    /// Set by the replication layer (the minimum log end over the ISR); never past the log end.
    mutating func setHighWatermark(_ hw: Int64) {
        highWatermark = max(logStartOffset, min(hw, logEndOffset))
    }

    /// Cuts the log back to the batch boundary at or below `offset` (a follower
    /// reconciling a divergence, or a test forcing one), rebuilding derived state.
    mutating func truncate(to offset: Int64) {
        guard offset < logEndOffset else { return }
        let kept = batches.filter { $0.lastOffset < offset }
        let newEnd = kept.last.map { $0.lastOffset + 1 } ?? logStartOffset
        // Kafka drops cached epochs that start at or past the new end.
        let cache = epochCache.filter { $0.startOffset < newEnd }
        let start = logStartOffset
        let hw = highWatermark
        self = PartitionLog(unknownProducerPolicy: producers.unknownProducerPolicy)
        logStartOffset = start
        logEndOffset = start
        for b in kept { store(b) }
        logEndOffset = newEnd
        epochCache = cache
        highWatermark = min(hw, newEnd)
    }

    /// DeleteRecords: advances the log start (never past the high watermark; -1 means the
    /// high watermark). Returns the new log start offset.
    mutating func deleteRecords(before offset: Int64) -> Result<Int64, KafkaErrorCode> {
        let target = offset == -1 ? highWatermark : offset
        guard target >= 0, target <= highWatermark else { return .failure(.offsetOutOfRange) }
        advanceLogStart(to: target)
        return .success(logStartOffset)
    }

    /// Moves the log start forward, dropping whole batches that end before it. A follower
    /// adopting its leader's start may jump past its own end. Producer state is kept so an
    /// idempotent producer whose records were deleted keeps its sequence (simpler than
    /// Kafka's expiry, documented deviation).
    mutating func advanceLogStart(to target: Int64) {
        guard target > logStartOffset else { return }
        logStartOffset = target
        logEndOffset = max(logEndOffset, target)
        highWatermark = max(highWatermark, target)
        batches.removeAll { $0.lastOffset < target }
        abortedTransactions.removeAll { $0.lastOffset < target }
        // The epoch in force at the new start stays, moved up to it.
        if let idx = epochCache.lastIndex(where: { $0.startOffset <= target }) {
            epochCache.removeFirst(idx)
            epochCache[0].startOffset = target
        }
    }

    // MARK: reading

    struct ReadResult: Equatable {
        var batches: [StoredBatch]
        var highWatermark: Int64
        var lastStableOffset: Int64
        var logStartOffset: Int64
        /// Only for read-committed reads: aborted transactions overlapping the returned range.
        var abortedTransactions: [AbortedTransaction]?

        var bytes: [UInt8] { batches.flatMap(\.bytes) }
    }

    enum ReadLimit: Sendable {
        /// Consumers: up to the high watermark (uncommitted) or last stable offset (committed).
        case consumer(Isolation)
        /// Followers replicate up to the log end.
        case logEnd
    }

    /// Whole batches starting with the one containing `offset`, up to `maxBytes`; the first
    /// batch is returned even when larger than `maxBytes` (Kafka's fetch v3+ rule), unless
    /// `minOneBatch` is false. Offsets outside [log start, log end] are OFFSET_OUT_OF_RANGE.
    func read(from offset: Int64, maxBytes: Int, limit: ReadLimit, minOneBatch: Bool = true) -> Result<ReadResult, KafkaErrorCode> {
        guard offset >= logStartOffset, offset <= logEndOffset else { return .failure(.offsetOutOfRange) }
        let upper: Int64
        var isolation = Isolation.readUncommitted
        switch limit {
        case .logEnd: upper = logEndOffset
        case .consumer(let iso):
            isolation = iso
            upper = iso == .readCommitted ? lastStableOffset : highWatermark
        }
        var out: [StoredBatch] = []
        var used = 0
        var i = firstBatchIndex(containing: offset)
        while i < batches.count, batches[i].baseOffset < upper {
            let size = batches[i].bytes.count
            if used + size > maxBytes, !(out.isEmpty && minOneBatch) { break }
            out.append(batches[i])
            used += size
            i += 1
        }
        var aborted: [AbortedTransaction]?
        if isolation == .readCommitted {
            let end = out.last.map { $0.lastOffset + 1 } ?? offset
            aborted = abortedTransactions.filter { $0.lastOffset >= offset && $0.firstOffset < end }
        }
        return .success(ReadResult(batches: out, highWatermark: highWatermark, lastStableOffset: lastStableOffset,
                                   logStartOffset: logStartOffset, abortedTransactions: aborted))
    }

    /// Index of the first batch whose last offset is at or past `offset` (binary search).
    func firstBatchIndex(containing offset: Int64) -> Int {
        var lo = 0, hi = batches.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if batches[mid].lastOffset < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    // MARK: offset lookups

    struct OffsetAndTimestamp: Equatable {
        var offset: Int64
        var timestamp: Int64
    }

    /// ListOffsets by timestamp: the first record whose timestamp is at or after `timestamp`.
    /// Uncompressed batches are scanned record by record; for compressed ones the batch's
    /// base offset and max timestamp stand in (the fake does not decompress).
    func offset(forTimestamp timestamp: Int64) -> OffsetAndTimestamp? {
        for b in batches where b.header.maxTimestamp >= timestamp {
            if let rec = Self.records(of: b).first(where: { $0.timestamp >= timestamp }) { return rec }
            return OffsetAndTimestamp(offset: b.baseOffset, timestamp: b.header.maxTimestamp)
        }
        return nil
    }

    /// ListOffsets MAX_TIMESTAMP: the earliest record carrying the largest timestamp.
    func maxTimestamp() -> OffsetAndTimestamp? {
        var best: StoredBatch?
        for b in batches where best.map({ b.header.maxTimestamp > $0.header.maxTimestamp }) ?? true { best = b }
        guard let best else { return nil }
        let ts = best.header.maxTimestamp
        return Self.records(of: best).first(where: { $0.timestamp == ts })
            ?? OffsetAndTimestamp(offset: best.baseOffset, timestamp: ts)
    }

    /// (offset, timestamp) of each record in an uncompressed, create-time batch; empty otherwise.
    static func records(of b: StoredBatch) -> [OffsetAndTimestamp] {
        let h = b.header
        if h.isLogAppendTime {
            return [OffsetAndTimestamp(offset: h.baseOffset, timestamp: h.maxTimestamp)]
        }
        // The producer wrote these bytes: a negative count or deltas that overflow Int64 make
        // the batch unreadable here (the callers fall back to the header), never a trap.
        guard h.compressionCodec == 0, h.recordCount >= 0 else { return [] }
        var out: [OffsetAndTimestamp] = []
        var r = ByteReader(b.bytes, range: 61 ..< b.bytes.count)
        do {
            for _ in 0 ..< h.recordCount {
                let length = try r.readVarint("length")
                let start = r.offset
                _ = try r.readInt8("attributes")
                let tsDelta = try r.readVarlong("timestampDelta")
                let offDelta = try r.readVarint("offsetDelta")
                let (offset, o1) = h.baseOffset.addingReportingOverflow(Int64(offDelta))
                let (timestamp, o2) = h.baseTimestamp.addingReportingOverflow(tsDelta)
                guard !o1, !o2 else { return [] }
                out.append(OffsetAndTimestamp(offset: offset, timestamp: timestamp))
                try r.skip(Int(length) - (r.offset - start), "record")
            }
        } catch {
            return []
        }
        return out
    }

    /// OffsetForLeaderEpoch on this replica: the largest epoch at or below `requested` and
    /// the start offset of the next-higher epoch (or the log end for the latest epoch).
    /// (-1, -1) when the requested epoch is undefined or newer than any this log knows.
    func endOffset(forEpoch requested: Int32) -> EpochEndOffset {
        guard requested >= 0, !epochCache.isEmpty else { return .undefined }
        if latestEpoch == requested { return EpochEndOffset(epoch: requested, endOffset: logEndOffset) }
        guard let higher = epochCache.first(where: { $0.epoch > requested }) else { return .undefined }
        guard let floor = epochCache.last(where: { $0.epoch <= requested }) else {
            return EpochEndOffset(epoch: requested, endOffset: higher.startOffset)
        }
        return EpochEndOffset(epoch: floor.epoch, endOffset: higher.startOffset)
    }

    struct EpochEndOffset: Equatable, Sendable {
        var epoch: Int32
        var endOffset: Int64
        static let undefined = EpochEndOffset(epoch: -1, endOffset: -1)
    }
}
