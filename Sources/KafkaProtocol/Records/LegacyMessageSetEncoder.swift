/// Writes legacy message sets (magic 0 and 1) for brokers older than 0.11: plain messages,
/// or one compressed wrapper message whose value holds the inner message set.
public enum LegacyMessageSetEncoder {
    /// Appends a message set for `records` to `writer`. Offsets start at `baseOffset` (a
    /// producer writes 0; the broker assigns real ones). Compressed magic 1 sets use
    /// relative inner offsets with the wrapper at the last one (KIP-31); magic 0 uses
    /// absolute inner offsets and the KAFKA-3160 lz4 header checksum old brokers expect.
    public static func encode(_ records: [EncodableRecord], magic: Int8, codec: CompressionCodec = .none,
                              timestampType: TimestampType = .createTime, baseOffset: Int64 = 0,
                              contexts: CompressionContexts, into writer: inout ByteWriter) throws(KafkaEncodingError) {
        guard magic == 0 || magic == 1 else { throw legacyError("magic", .invalidValue("magic \(magic) is not a legacy format")) }
        guard !records.isEmpty else { throw legacyError("records", .invalidValue("a message set needs at least one record")) }
        for r in records where !r.headers.isEmpty {
            throw legacyError("headers", .invalidValue("record headers need magic 2"))
        }
        let (lastOffset, overflow) = baseOffset.addingReportingOverflow(Int64(records.count - 1))
        guard !overflow else { throw legacyError("offset", .invalidValue("offsets overflow")) }
        let tsBit: Int8 = magic == 1 && timestampType == .logAppendTime ? 0x08 : 0
        if codec == .none {
            for (i, r) in records.enumerated() {
                try writeMessage(offset: baseOffset + Int64(i), magic: magic, attributes: tsBit, timestamp: r.timestamp,
                                 key: r.key, value: r.value, into: &writer)
            }
            return
        }
        var inner = ByteWriter(capacity: RecordBatchEncoder.estimatedSize(records))
        var maxTimestamp = Int64.min
        for (i, r) in records.enumerated() {
            let offset = magic == 1 ? Int64(i) : baseOffset + Int64(i)
            try writeMessage(offset: offset, magic: magic, attributes: 0, timestamp: r.timestamp, key: r.key, value: r.value, into: &inner)
            maxTimestamp = max(maxTimestamp, r.timestamp)
        }
        var compressed: [UInt8] = []
        try withUnsafeBytesTyped(inner.bytes) { (p) throws(KafkaEncodingError) in
            try contexts.compress(codec, p, into: &compressed, legacyLZ4HeaderChecksum: magic == 0)
        }
        try writeMessage(offset: lastOffset, magic: magic, attributes: Int8(codec.rawValue) | tsBit, timestamp: maxTimestamp,
                         key: nil, value: compressed, into: &writer)
    }

    public static func encode(_ records: [EncodableRecord], magic: Int8, codec: CompressionCodec = .none,
                              timestampType: TimestampType = .createTime, baseOffset: Int64 = 0,
                              contexts: CompressionContexts) throws(KafkaEncodingError) -> [UInt8] {
        var w = ByteWriter(capacity: RecordBatchEncoder.estimatedSize(records) + 34 * records.count)
        try encode(records, magic: magic, codec: codec, timestampType: timestampType, baseOffset: baseOffset, contexts: contexts, into: &w)
        return w.bytes
    }

    /// One message: offset, size, CRC-32 over magic..end, magic, attributes, timestamp
    /// (magic 1), key, value.
    static func writeMessage(offset: Int64, magic: Int8, attributes: Int8, timestamp: Int64, key: [UInt8]?, value: [UInt8]?,
                             into w: inout ByteWriter) throws(KafkaEncodingError) {
        _ = try RecordBatchEncoder.length(key, "key")
        _ = try RecordBatchEncoder.length(value, "value")
        w.writeInt64(offset)
        let sizeAt = w.reserveInt32()
        let crcAt = w.reserveInt32()
        let magicAt = w.count
        w.writeInt8(magic)
        w.writeInt8(attributes)
        if magic >= 1 { w.writeInt64(timestamp) }
        w.writeNullableBytes(key, compact: false)
        w.writeNullableBytes(value, compact: false)
        let size = w.count - crcAt
        guard size <= Int(Int32.max) else { throw legacyError("messageSize", .valueTooLong(size)) }
        w.patchInt32(at: sizeAt, Int32(size))
        let crc = w.bytes.withUnsafeBytes { b in CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[magicAt...])) }
        w.patchUInt32(at: crcAt, crc)
    }
}

private func legacyError(_ field: StaticString, _ kind: KafkaEncodingError.Kind) -> KafkaEncodingError {
    KafkaEncodingError(message: "LegacyMessageSet", field: field.description, kind: kind)
}
