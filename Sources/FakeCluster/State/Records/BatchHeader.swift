/// The v2 batch header as FakeCluster reads it: KafkaProtocol's `RecordBatchHeader` (which
/// does the parsing), the broker's stricter checks on a produced batch, and the derived
/// values the log and the producer state use. In-place edits go through RecordBatchPatch.
typealias BatchHeader = RecordBatchHeader

extension RecordBatchHeader {
    /// Parses and validates one batch that must span `bytes` exactly (a produce request's
    /// partition carries one batch in modern clients; callers split multi-batch data first).
    static func parse(_ bytes: [UInt8], verifyCRC: Bool = true) throws(KafkaDecodingError) -> RecordBatchHeader {
        let h = try RecordBatchHeader(decoding: bytes, batchAt: 0, verifyCRC: verifyCRC)
        guard h.totalSize == bytes.count else {
            throw KafkaDecodingError(message: "RecordBatch", field: "batchLength", offset: h.totalSize,
                                     kind: .trailingBytes(bytes.count - h.totalSize))
        }
        guard h.lastOffsetDelta >= 0 else {
            throw KafkaDecodingError(message: "RecordBatch", field: "lastOffsetDelta", offset: 23,
                                     kind: .invalidValue("negative lastOffsetDelta \(h.lastOffsetDelta)"))
        }
        return h
    }

    /// Splits concatenated v2 batches (a produce partition's `records` field) by their
    /// length fields, without checking their CRCs; a trailing partial batch is an error.
    static func split(_ bytes: [UInt8]) throws(KafkaDecodingError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var at = 0
        while at < bytes.count {
            let h = try RecordBatchHeader(decoding: bytes, batchAt: at, verifyCRC: false)
            out.append(Array(bytes[at ..< at + h.totalSize]))
            at += h.totalSize
        }
        return out
    }

    var isControl: Bool { attributes.isControl }
    var isTransactional: Bool { attributes.isTransactional }
    var isLogAppendTime: Bool { attributes.timestampType == .logAppendTime }
    var compressionCodec: Int { attributes.codecID }
    var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    var hasProducerId: Bool { producerId >= 0 }
    /// The last sequence in this batch, wrapping past Int32.max back to 0 as Kafka does.
    var lastSequence: Int32 { ProducerSequence.add(baseSequence, lastOffsetDelta) }
}
