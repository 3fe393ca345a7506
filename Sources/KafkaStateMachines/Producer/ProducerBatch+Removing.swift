extension ProducerBatch {
    /// KIP-467: the broker refused some records of this batch by index (RecordErrors) and
    /// wrote none of it. Returns the batch without them, re-encoded with offset deltas from
    /// zero (same sequence and attempts, to be sent again), and each removed record as a
    /// batch of its own holding only its token and buffer charge (for its report); nil for
    /// a malformed body. Indices outside the batch are ignored.
    func removing(_ indices: [Int]) -> (kept: ProducerBatch, removed: [(index: Int, batch: ProducerBatch)])? {
        var kept = ProducerBatch(opened: opened)
        kept.closed = true
        kept.sequence = sequence
        kept.attempts = attempts
        var removed: [(index: Int, batch: ProducerBatch)] = []
        let share = count > 0 ? charged / count : 0
        var position = Self.headerRoom
        // The timestamp delta (relative to this batch) of the first record kept: the kept
        // batch's deltas are relative to it.
        var keptBase: Int64? = nil
        var keptMax = Int64.min
        for i in 0 ..< count {
            var r = ByteReader(bytes, range: position ..< bytes.count)
            guard let length = try? r.readVarint("length"), length >= 1 else { return nil }
            let next = r.offset + Int(length)
            guard next <= bytes.count, (try? r.readInt8("attributes")) != nil, let ts = try? r.readVarlong("timestampDelta") else { return nil }
            if indices.contains(i) {
                var single = ProducerBatch(opened: opened)
                single.closed = true
                single.tokens = [tokens[i]]
                single.charged = share
                single.attempts = attempts
                removed.append((i, single))
                position = next
                continue
            }
            if keptBase == nil { keptBase = ts }
            guard let after = RecordBatchEncoder.rebaseRecordBody(bytes, at: position, offsetDelta: Int32(kept.count),
                                                                  timestampShift: -keptBase!, to: &kept.bytes) else { return nil }
            position = after
            kept.tokens.append(tokens[i])
            keptMax = max(keptMax, baseTimestamp &+ ts)
        }
        kept.baseTimestamp = baseTimestamp &+ (keptBase ?? 0)
        kept.maxTimestamp = kept.count > 0 ? keptMax : kept.baseTimestamp
        kept.charged = charged - share * removed.count
        return (kept, removed)
    }
}
