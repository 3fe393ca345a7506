/// One decoded batch of a partition's records: a v2 record batch, or a legacy (magic 0/1)
/// message — a single message or a compressed wrapper and its inner messages — presented
/// with the same header fields so a consumer need not care which format the log holds.
public struct RecordBatch: Sendable {
    public var header: RecordBatchHeader
    /// The records, in offset order. Empty for a batch whose records were all compacted
    /// away (the header still tells the next offset).
    public var records: [Record]
    /// Where the batch starts in the decoded bytes.
    public var byteOffset: Int

    public init(header: RecordBatchHeader, records: [Record], byteOffset: Int) {
        self.header = header
        self.records = records
        self.byteOffset = byteOffset
    }

    public var magic: Int8 { header.magic }
    public var baseOffset: Int64 { header.baseOffset }
    /// Known to be valid: the decoder rejects batches with an unknown codec.
    public var codec: CompressionCodec { header.attributes.codec ?? .none }
    public var isControl: Bool { header.attributes.isControl }
    public var isTransactional: Bool { header.attributes.isTransactional }
}
