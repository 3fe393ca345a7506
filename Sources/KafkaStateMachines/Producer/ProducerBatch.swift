/// One partition's batch: records encoded into `body` as they arrive (each record's
/// length-prefixed v2 body, offset delta = its index), sealed into wire bytes when sent.
/// The uncompressed body is kept until the batch is acknowledged, so a retry can re-seal
/// it with a new epoch, sequence or codec, and a too-large batch can be split.
struct ProducerBatch {
    var body: [UInt8] = []
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
    /// The last sealed form and what it was sealed with.
    var wire: [UInt8]? = nil
    var wireKey: (codec: CompressionCodec, producerId: Int64, epoch: Int16, sequence: Int32, legacyMagic: Int8?)? = nil

    init(opened: Instant) { self.opened = opened }

    var count: Int { tokens.count }
    /// Bytes on the wire uncompressed, header included.
    var wireSize: Int { RecordBatchEncoder.batchHeaderSize + body.count }

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
                                            timestampDelta: r.timestamp &- baseTimestamp, size: size, to: &body)
        tokens.append(r.token)
        charged += charge
    }

    /// The batch as sent: sealed again only when what it is sealed with changed.
    /// `transactional` marks the batch as part of a transaction (attribute bit 4): the
    /// broker then holds it back from read_committed readers until the transaction's marker.
    /// `legacyMagic` (0 or 1) seals it as a legacy message set for a broker before 0.11.
    mutating func sealed(codec: CompressionCodec, producerId: Int64, epoch: Int16, transactional: Bool = false,
                         legacyMagic: Int8? = nil, contexts: CompressionContexts) throws(KafkaEncodingError) -> [UInt8] {
        if let wire, let k = wireKey, k.codec == codec, k.producerId == producerId, k.epoch == epoch, k.sequence == sequence,
           k.legacyMagic == legacyMagic {
            return wire
        }
        if let magic = legacyMagic {
            var w = ByteWriter(capacity: body.count + 34 * count + 64)
            try LegacyMessageSetEncoder.encode(v2Body: body, count: count, baseTimestamp: baseTimestamp, magic: magic, codec: codec,
                                               contexts: contexts, into: &w)
            wire = w.bytes
            wireKey = (codec, producerId, epoch, sequence, legacyMagic)
            return w.bytes
        }
        var w = ByteWriter(capacity: RecordBatchEncoder.batchHeaderSize + body.count + 64)
        let options = RecordBatchOptions(codec: codec, isTransactional: transactional, producerId: producerId, producerEpoch: epoch,
                                         baseSequence: sequence)
        let failure: KafkaEncodingError? = body.withUnsafeBytes { b in
            do throws(KafkaEncodingError) {
                try RecordBatchEncoder.seal(body: b, count: count, baseTimestamp: baseTimestamp, maxTimestamp: maxTimestamp,
                                            options: options, contexts: contexts, into: &w)
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
        var index = 0
        var secondBase: Int64 = 0
        for i in 0 ..< count {
            let toSecond = i >= half
            // Timestamp deltas are relative to the first record of the new batch.
            var r = ByteReader(body, range: index ..< body.count)
            guard let len = try? r.readVarint("length"), len >= 1, (try? r.readInt8("attributes")) != nil,
                  let ts = try? r.readVarlong("timestampDelta") else { return nil }
            _ = len
            if i == half { secondBase = ts }
            let shift = toSecond ? -secondBase : 0
            let delta = Int32(toSecond ? i - half : i)
            guard let next = toSecond
                ? RecordBatchEncoder.rebaseRecordBody(body, at: index, offsetDelta: delta, timestampShift: shift, to: &second.body)
                : RecordBatchEncoder.rebaseRecordBody(body, at: index, offsetDelta: delta, timestampShift: shift, to: &first.body)
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

    /// Keeps `body`'s storage, emptied, when there is room; `body` is left empty.
    mutating func keep(_ body: inout [UInt8]) {
        var kept: [UInt8] = []
        swap(&kept, &body)
        guard bodies.count < Self.limit, kept.capacity > 0 else { return }
        kept.removeAll(keepingCapacity: true)
        bodies.append(kept)
    }
}
