/// Reads the record batches of one partition's `records` bytes from a Fetch response (or
/// a Produce request), whatever mix of v2 batches and legacy magic 0/1 messages they hold
/// (a log written before an upgrade keeps its old format).
///
/// The broker cuts the response at the fetch's max bytes, so the last batch may be
/// incomplete: the reader stops there and reports the tail in `truncatedTailBytes`; that
/// is not an error (the consumer fetches again from the next offset).
///
///     var reader = RecordsReader(records, contexts: contexts)
///     while let batch = try reader.next() { for record in batch.records { ... } }
public struct RecordsReader {
    public let bytes: [UInt8]
    public let options: RecordDecodingOptions
    let contexts: CompressionContexts
    /// Absolute index of the next batch.
    public private(set) var position: Int
    /// Set once the reader reaches an incomplete final batch: how many bytes it held.
    public private(set) var truncatedTailBytes: Int = 0
    /// Bytes decompressed so far, counted against `options.totalDecompressionLimit`.
    public private(set) var decompressedBytes: Int = 0

    public init(_ bytes: [UInt8], options: RecordDecodingOptions = RecordDecodingOptions(), contexts: CompressionContexts) {
        self.bytes = bytes
        self.options = options
        self.contexts = contexts
        self.position = 0
    }

    /// Resumes reading `bytes` at `position` (a batch boundary an earlier reader stopped at),
    /// with `decompressedBytes` already spent of the total budget.
    public init(_ bytes: [UInt8], options: RecordDecodingOptions, contexts: CompressionContexts,
                resumingAt position: Int, decompressedBytes: Int) {
        self.bytes = bytes
        self.options = options
        self.contexts = contexts
        self.position = min(max(0, position), bytes.count)
        self.decompressedBytes = decompressedBytes
    }

    /// The next batch, or nil at the end (check `truncatedTailBytes`). After an error the
    /// reader does not advance: a batch that fails to decode leaves the ones before it
    /// usable, and the error names the failing batch's base offset.
    public mutating func next() throws(KafkaDecodingError) -> RecordBatch? {
        let end = bytes.count
        let at = position
        guard at < end else { return nil }
        // Every format starts with offset (8), length (4), then 4 more bytes and the magic.
        guard end - at >= RecordBatchHeader.logOverhead else {
            truncatedTailBytes = end - at
            position = end
            return nil
        }
        var r = ByteReader(bytes, range: at ..< end)
        let baseOffset = try r.readInt64("offset")
        let lengthAt = r.offset
        let length = Int(try r.readInt32("length"))
        guard length >= 0 else {
            throw KafkaDecodingError(message: "Records", field: "length", offset: lengthAt, kind: .negativeLength(length), baseOffset: baseOffset)
        }
        guard length <= r.remaining else {
            truncatedTailBytes = end - at
            position = end
            return nil
        }
        let range = at ..< r.offset + length
        guard length >= 5 else {
            throw KafkaDecodingError(message: "Records", field: "length", offset: lengthAt,
                                     kind: .invalidValue("length \(length) too short for any record format"), baseOffset: baseOffset)
        }
        let magic = Int8(bitPattern: bytes[at + RecordBatchHeader.magicOffset])
        // This batch may use what is left of the reader's total budget, at most the
        // per-batch limit.
        var batchOptions = options
        let left = max(0, options.totalDecompressionLimit.maxOutputBytes - decompressedBytes)
        batchOptions.decompressionLimit.maxOutputBytes = min(options.decompressionLimit.maxOutputBytes, left)
        let batch: RecordBatch
        switch magic {
        case 2:
            batch = try RecordBatchDecoder.decode(bytes, range: range, options: batchOptions, contexts: contexts)
        case 0, 1:
            batch = try LegacyMessageDecoder.decode(bytes, range: range, options: batchOptions, contexts: contexts)
        default:
            throw KafkaDecodingError(message: "Records", field: "magic", offset: at + RecordBatchHeader.magicOffset,
                                     kind: .invalidValue("unknown magic \(magic)"), baseOffset: baseOffset)
        }
        position = range.upperBound
        // A compressed batch's records all share its decompressed buffer (a batch with no
        // records holds nothing).
        if batch.codec != .none, let first = batch.records.first {
            decompressedBytes += first.buffer.count
        }
        return batch
    }

    /// Decodes every complete batch of `bytes`.
    public static func decodeAll(_ bytes: [UInt8], options: RecordDecodingOptions = RecordDecodingOptions(),
                                 contexts: CompressionContexts) throws(KafkaDecodingError) -> (batches: [RecordBatch], truncatedTailBytes: Int) {
        var reader = RecordsReader(bytes, options: options, contexts: contexts)
        var batches: [RecordBatch] = []
        while let b = try reader.next() { batches.append(b) }
        return (batches, reader.truncatedTailBytes)
    }
}
