/// One partition's batch: records encoded into `bytes` as they arrive (each record's
/// length-prefixed v2 body, offset delta = its index), sealed when sent. `bytes` starts
/// with room for the v2 header, so an uncompressed batch is sealed where it stands (the
/// header written into the room) and goes out without a copy of its records; a compressed
/// or legacy one is sealed into an array of its own. The records are kept until the batch
/// is acknowledged, so a retry can re-seal them with a new epoch, sequence or codec, and a
/// too-large batch can be split.
struct ProducerBatch {
    /// `headerRoom` bytes for the header, then the records.
    var bytes: [UInt8]
    var tokens: [UInt64] = []
    var baseTimestamp: Int64 = 0
    var maxTimestamp: Int64 = 0
    /// Buffer bytes charged for the records (released when the batch completes).
    var charged = 0
    /// When the first record arrived: linger and the delivery timeout count from here.
    var opened: Instant
    /// Set once sent (or full): later records open a new batch.
    var closed = false
    /// The idempotent base sequence, assigned when first sent; -1 before.
    var sequence: Int32 = -1
    var attempts = 0
    /// The last sealed form when it is not `bytes` (compressed or legacy), and what the
    /// last seal used.
    private var wire: [UInt8]? = nil
    private var wireKey: (codec: CompressionCodec, producerId: Int64, epoch: Int16, sequence: Int32, legacyMagic: Int8?)? = nil

    static let headerRoom = RecordBatchEncoder.batchHeaderSize

    /// `storage`: an emptied array whose capacity the batch reuses (see `BatchBodies`).
    init(opened: Instant, storage: [UInt8] = []) {
        self.opened = opened
        bytes = storage
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: repeatElement(0, count: Self.headerRoom))
    }

    var count: Int { tokens.count }
    /// Bytes on the wire uncompressed, header included.
    var wireSize: Int { bytes.count }
    /// Where the records start in `bytes`, and end.
    var records: Range<Int> { Self.headerRoom ..< bytes.count }

    /// The encoded size of `record` if appended now (body, and body with its length
    /// prefix); nil when a field is too long for the format.
    func sizeIfAppended(_ r: ProducerRecord) -> (body: Int, all: Int)? {
        RecordBatchEncoder.recordSize(key: r.key, value: r.value, headers: r.headers, offsetDelta: Int32(truncatingIfNeeded: count),
                                      timestampDelta: count == 0 ? 0 : r.timestamp &- baseTimestamp)
    }

    /// `sizeIfAppended` from the record's body size at deltas 0 (`recordSize` at the call).
    func sizeIfAppended(_ r: ProducerRecord, baseBody: Int) -> (body: Int, all: Int)? {
        RecordBatchEncoder.recordSize(baseBody: baseBody, offsetDelta: Int32(truncatingIfNeeded: count),
                                      timestampDelta: count == 0 ? 0 : r.timestamp &- baseTimestamp)
    }

    /// Appends `r`; `size` is what `sizeIfAppended(r)` said (computed once per record).
    mutating func append(_ r: ProducerRecord, charge: Int, size: (body: Int, all: Int)) {
        if tokens.isEmpty {
            baseTimestamp = r.timestamp
            maxTimestamp = r.timestamp
        } else if r.timestamp > maxTimestamp {
            maxTimestamp = r.timestamp
        }
        RecordBatchEncoder.appendRecordBody(key: r.key, value: r.value, headers: r.headers, offsetDelta: Int32(truncatingIfNeeded: count),
                                            timestampDelta: r.timestamp &- baseTimestamp, size: size, to: &bytes)
        tokens.append(r.token)
        charged += charge
    }

    /// The batch as sent: sealed again only when what it is sealed with changed.
    /// `transactional` marks the batch as part of a transaction (attribute bit 4): the
    /// broker then holds it back from read_committed readers until the transaction's marker.
    /// `legacyMagic` (0 or 1) seals it as a legacy message set for a broker before 0.11.
    mutating func sealed(codec: CompressionCodec, producerId: Int64, epoch: Int16, transactional: Bool = false,
                         legacyMagic: Int8? = nil, contexts: CompressionContexts) throws(KafkaEncodingError) -> [UInt8] {
        if let k = wireKey, k.codec == codec, k.producerId == producerId, k.epoch == epoch, k.sequence == sequence,
           k.legacyMagic == legacyMagic {
            return wire ?? bytes
        }
        if let magic = legacyMagic {
            var w = ByteWriter(capacity: bytes.count + 34 * count + 64)
            try LegacyMessageSetEncoder.encode(v2Body: bytes, from: Self.headerRoom, count: count, baseTimestamp: baseTimestamp,
                                               magic: magic, codec: codec, contexts: contexts, into: &w)
            wire = w.bytes
            wireKey = (codec, producerId, epoch, sequence, legacyMagic)
            return w.bytes
        }
        let options = RecordBatchOptions(codec: codec, isTransactional: transactional, producerId: producerId, producerEpoch: epoch,
                                         baseSequence: sequence)
        if codec == .none {
            // Sealed in place; a request still holding an earlier seal keeps its own copy
            // (the write below copies on write). Nothing matches until the seal succeeds.
            wire = nil
            wireKey = nil
            try RecordBatchEncoder.sealInPlace(&bytes, count: count, baseTimestamp: baseTimestamp, maxTimestamp: maxTimestamp,
                                               options: options)
            wireKey = (codec, producerId, epoch, sequence, nil)
            return bytes
        }
        var w = ByteWriter(capacity: bytes.count + 64)
        let failure: KafkaEncodingError? = bytes.withUnsafeBytes { b in
            do throws(KafkaEncodingError) {
                try RecordBatchEncoder.seal(body: UnsafeRawBufferPointer(rebasing: b[Self.headerRoom...]), count: count,
                                            baseTimestamp: baseTimestamp, maxTimestamp: maxTimestamp, options: options,
                                            contexts: contexts, into: &w)
                return nil
            } catch { return error }
        }
        if let failure { throw failure }
        wire = w.bytes
        wireKey = (codec, producerId, epoch, sequence, nil)
        return w.bytes
    }

    /// Two batches holding the first and second half of the records, in order, re-encoded
    /// with offset deltas from zero; nil for a single record or a malformed body.
    func split() -> (ProducerBatch, ProducerBatch)? {
        guard count > 1 else { return nil }
        let half = count / 2
        var first = ProducerBatch(opened: opened)
        var second = ProducerBatch(opened: opened)
        first.closed = true
        second.closed = true
        var index = Self.headerRoom
        var secondBase: Int64 = 0
        for i in 0 ..< count {
            let toSecond = i >= half
            // Timestamp deltas are relative to the first record of the new batch.
            var r = ByteReader(bytes, range: index ..< bytes.count)
            guard let len = try? r.readVarint("length"), len >= 1, (try? r.readInt8("attributes")) != nil,
                  let ts = try? r.readVarlong("timestampDelta") else { return nil }
            _ = len
            if i == half { secondBase = ts }
            let shift = toSecond ? -secondBase : 0
            let delta = Int32(toSecond ? i - half : i)
            guard let next = toSecond
                ? RecordBatchEncoder.rebaseRecordBody(bytes, at: index, offsetDelta: delta, timestampShift: shift, to: &second.bytes)
                : RecordBatchEncoder.rebaseRecordBody(bytes, at: index, offsetDelta: delta, timestampShift: shift, to: &first.bytes)
            else { return nil }
            index = next
            if toSecond { second.tokens.append(tokens[i]) } else { first.tokens.append(tokens[i]) }
        }
        first.baseTimestamp = baseTimestamp
        first.maxTimestamp = maxTimestamp
        second.baseTimestamp = baseTimestamp &+ secondBase
        second.maxTimestamp = maxTimestamp
        first.charged = charged * half / count
        second.charged = charged - first.charged
        first.attempts = attempts
        second.attempts = attempts
        return (first, second)
    }
}

/// Batch bodies kept for reuse (see `ProducerStateMachine.spareBodies`).
struct BatchBodies {
    static let limit = 4
    private var bodies: [[UInt8]] = []
    var count: Int { bodies.count }

    /// An empty body with room for `capacity` bytes: a kept one when one is big enough.
    mutating func take(capacity: Int) -> [UInt8] {
        if let i = bodies.lastIndex(where: { $0.capacity >= capacity }) { return bodies.remove(at: i) }
        var body: [UInt8] = []
        body.reserveCapacity(capacity)
        return body
    }

    /// Keeps a batch's storage, emptied, when there is room; `bytes` is left empty. Taken
    /// out of the batch, not copied: emptied while shared, the array would get new storage.
    mutating func keep(_ bytes: inout [UInt8]) {
        var kept: [UInt8] = []
        swap(&kept, &bytes)
        guard bodies.count < Self.limit, kept.capacity > 0 else { return }
        kept.removeAll(keepingCapacity: true)
        bodies.append(kept)
    }
}
