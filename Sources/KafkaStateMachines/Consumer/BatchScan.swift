import KafkaProtocol

/// What the fetcher learns from a partition's record bytes without decoding records:
/// where the next fetch starts, the leader epoch of the last batch (KIP-320), and where the
/// first bad batch is. CRC-32C is checked here so a corrupt batch stops its partition at
/// once instead of after the user polled past it.
struct BatchScan {
    /// Bytes of complete, valid batches from the start.
    var validBytes = 0
    var nextOffset: Int64
    /// The partition leader epoch of the last v2 batch, -1 for none or legacy messages.
    var lastEpoch: Int32 = -1
    var batches = 0
    /// The first bad batch: its offset and why.
    var corrupt: (offset: Int64, reason: String)?
    /// Where `skip` resumes after the bad batch.
    var skipTo: Int64 = 0
    /// Bytes of an incomplete final batch (the broker cut the response at its limit).
    var truncatedTail = 0

    init(_ bytes: [UInt8], fetchOffset: Int64, verifyCRC: Bool) {
        nextOffset = fetchOffset
        var at = 0
        let end = bytes.count
        while at < end {
            guard end - at >= 12 else { truncatedTail = end - at; return }
            let base = Self.int64(bytes, at)
            let length = Int(Self.int32(bytes, at + 8))
            guard length >= 5 else { corrupt = (base, "batch length \(length) too short"); return }
            guard length <= end - at - 12 else { truncatedTail = end - at; return }
            let magic = Int8(bitPattern: bytes[at + 16])
            var next: Int64
            switch magic {
            case 2:
                do {
                    let h = try RecordBatchHeader(decoding: bytes, batchAt: at, verifyCRC: verifyCRC)
                    next = h.nextOffset
                    lastEpoch = h.partitionLeaderEpoch
                } catch {
                    corrupt = (base, "\(error)")
                    skipTo = max(Self.after(base), Self.offsetAfterBatch(bytes, at: at) ?? 0)
                    return
                }
            case 0, 1:
                // A legacy message (or compressed wrapper) carries the offset of its last
                // inner message; its CRC-32 is checked by the decoder at poll time.
                next = base &+ 1
                lastEpoch = -1
            default:
                corrupt = (base, "unknown magic \(magic)")
                return
            }
            if next <= base && magic == 2 { next = base &+ 1 }
            nextOffset = max(nextOffset, next)
            at += 12 + length
            validBytes = at
            batches += 1
        }
    }

    /// The offset after the batch at byte `at`, read from its header without checks
    /// (for skipping a batch that failed to decode); nil when the header is cut off.
    static func offsetAfterBatch(_ bytes: [UInt8], at: Int) -> Int64? {
        guard at >= 0, bytes.count - at >= 27 else { return nil }
        let base = int64(bytes, at)
        let magic = Int8(bitPattern: bytes[at + 16])
        guard magic == 2 else { return after(base) }
        let delta = int32(bytes, at + 23)
        let (last, overflow) = base.addingReportingOverflow(Int64(max(delta, 0)))
        return overflow ? .max : after(last)
    }

    /// The offset after `offset`, saturating: a hostile base offset near Int64.max must not
    /// trap (nor wrap to a negative offset) when `skip` moves past its batch.
    static func after(_ offset: Int64) -> Int64 { offset == .max ? .max : offset + 1 }

    private static func int64(_ b: [UInt8], _ at: Int) -> Int64 {
        var v: UInt64 = 0
        for i in 0 ..< 8 { v = v << 8 | UInt64(b[at + i]) }
        return Int64(bitPattern: v)
    }

    private static func int32(_ b: [UInt8], _ at: Int) -> Int32 {
        var v: UInt32 = 0
        for i in 0 ..< 4 { v = v << 8 | UInt32(b[at + i]) }
        return Int32(bitPattern: v)
    }
}
