/// In-place edits a broker makes to a produced v2 batch on append, without re-encoding:
/// assign the base offset and partition leader epoch (outside the CRC), or switch the
/// batch to log-append time (inside it, so the CRC is recomputed). For FakeCluster and
/// tests; the client never needs them.
public enum RecordBatchPatch {
    /// Sets the base offset of the v2 batch starting at `at`.
    public static func setBaseOffset(_ bytes: inout [UInt8], batchAt at: Int, _ offset: Int64) throws(KafkaEncodingError) {
        try check(bytes, at)
        put64(&bytes, at, UInt64(bitPattern: offset))
    }

    /// Sets the partition leader epoch of the v2 batch starting at `at`.
    public static func setPartitionLeaderEpoch(_ bytes: inout [UInt8], batchAt at: Int, _ epoch: Int32) throws(KafkaEncodingError) {
        try check(bytes, at)
        var w = ByteWriter(capacity: 4)
        w.writeInt32(epoch)
        bytes.replaceSubrange(at + RecordBatchHeader.partitionLeaderEpochOffset ..< at + RecordBatchHeader.magicOffset, with: w.bytes)
    }

    /// Marks the batch log-append-time with `timestamp` as its max timestamp (what every
    /// record then reads as its timestamp) and recomputes the CRC.
    public static func setLogAppendTime(_ bytes: inout [UInt8], batchAt at: Int, timestamp: Int64) throws(KafkaEncodingError) {
        let end = try check(bytes, at)
        bytes[at + RecordBatchHeader.attributesOffset + 1] |= 0x08
        put64(&bytes, at + 35, UInt64(bitPattern: timestamp))
        let crc = bytes.withUnsafeBytes { b in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[(at + RecordBatchHeader.attributesOffset) ..< end]))
        }
        var w = ByteWriter(capacity: 4)
        w.writeUInt32(crc)
        bytes.replaceSubrange(at + RecordBatchHeader.crcOffset ..< at + RecordBatchHeader.attributesOffset, with: w.bytes)
    }

    /// Checks that a whole v2 batch starts at `at`; returns its end.
    @discardableResult
    static func check(_ bytes: [UInt8], _ at: Int) throws(KafkaEncodingError) -> Int {
        guard at >= 0, bytes.count - at >= RecordBatchHeader.size, bytes[at + RecordBatchHeader.magicOffset] == 2 else {
            throw KafkaEncodingError(message: "RecordBatch", field: "", kind: .invalidValue("no v2 batch header at byte \(at)"))
        }
        var r = ByteReader(bytes, range: at + RecordBatchHeader.batchLengthOffset ..< at + 12)
        let length = (try? r.readInt32("batchLength")).map(Int.init) ?? -1
        guard length >= RecordBatchHeader.size - RecordBatchHeader.logOverhead, length <= bytes.count - at - RecordBatchHeader.logOverhead else {
            throw KafkaEncodingError(message: "RecordBatch", field: "batchLength", kind: .invalidValue("batch length \(length) does not fit"))
        }
        return at + RecordBatchHeader.logOverhead + length
    }

    static func put64(_ bytes: inout [UInt8], _ at: Int, _ v: UInt64) {
        for i in 0 ..< 8 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64(i))) }
    }
}
