/// The fixed 61-byte header of a v2 record batch. For batches built from legacy
/// (magic 0/1) messages the reader fills the same fields from the messages (producer
/// fields -1).
public struct RecordBatchHeader: Sendable, Equatable {
    public var baseOffset: Int64
    /// Bytes after this field to the end of the batch.
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    /// CRC-32C (magic 2) or CRC-32 (magic 0/1) as stored.
    public var crc: UInt32
    public var attributes: RecordBatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    public init(baseOffset: Int64, batchLength: Int32, partitionLeaderEpoch: Int32, magic: Int8, crc: UInt32,
                attributes: RecordBatchAttributes, lastOffsetDelta: Int32, baseTimestamp: Int64, maxTimestamp: Int64,
                producerId: Int64, producerEpoch: Int16, baseSequence: Int32, recordCount: Int32) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordCount = recordCount
    }

    /// The offset after the batch's last offset: where the next fetch starts. Saturates
    /// rather than overflowing on hostile values.
    public var nextOffset: Int64 {
        let (last, o1) = baseOffset.addingReportingOverflow(Int64(lastOffsetDelta))
        let (next, o2) = last.addingReportingOverflow(1)
        return o1 || o2 ? Int64.max : next
    }

    /// Reads the header of the v2 batch starting at `at` without decoding its records
    /// (checking the CRC over the whole batch unless told not to): enough for a broker to
    /// validate and assign offsets, or to skip a batch. The whole batch must be present.
    public init(decoding bytes: [UInt8], batchAt at: Int, verifyCRC: Bool = true) throws(KafkaDecodingError) {
        guard at >= 0, at <= bytes.count else {
            throw KafkaDecodingError(message: "RecordBatch", field: "", offset: at, kind: .truncated(needed: RecordBatchHeader.size, available: 0))
        }
        var r = ByteReader(bytes, range: at ..< bytes.count)
        _ = try r.readInt64("baseOffset")
        let length = Int(try r.readInt32("batchLength"))
        guard length >= 0, length <= r.remaining else {
            throw KafkaDecodingError(message: "RecordBatch", field: "batchLength", offset: at + RecordBatchHeader.batchLengthOffset,
                                     kind: .lengthPastEnd(length: length, available: r.remaining))
        }
        self = try RecordBatchDecoder.decodeHeader(bytes, range: at ..< r.offset + length, verifyCRC: verifyCRC)
    }

    /// The bytes the batch occupies (12 + batchLength).
    public var totalSize: Int { Int(batchLength) + RecordBatchHeader.logOverhead }

    // Byte layout of a v2 batch (offsets from the batch's first byte).
    static let batchLengthOffset = 8
    static let partitionLeaderEpochOffset = 12
    static let magicOffset = 16
    static let crcOffset = 17
    static let attributesOffset = 21
    static let size = 61
    /// Bytes before the length's end; a batch spans 12 + batchLength bytes.
    static let logOverhead = 12
}
