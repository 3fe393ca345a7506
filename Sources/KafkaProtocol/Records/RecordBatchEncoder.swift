/// What a v2 batch says about its records beyond the records themselves.
public struct RecordBatchOptions: Sendable, Equatable {
    public var baseOffset: Int64
    public var partitionLeaderEpoch: Int32
    public var codec: CompressionCodec
    public var timestampType: TimestampType
    public var isTransactional: Bool
    public var isControl: Bool
    /// -1 (with epoch and sequence -1) for a non-idempotent producer.
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32

    public init(baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1, codec: CompressionCodec = .none,
                timestampType: TimestampType = .createTime, isTransactional: Bool = false, isControl: Bool = false,
                producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.codec = codec
        self.timestampType = timestampType
        self.isTransactional = isTransactional
        self.isControl = isControl
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
    }
}

/// Builds v2 record batches straight into one output buffer: the header with placeholders,
/// the records (or their compressed form), then the length and CRC-32C back-patched.
public enum RecordBatchEncoder {
    /// Appends one batch holding `records` (offset deltas 0..<n, timestamps relative to the
    /// first record's) to `writer`.
    public static func encode(_ records: [EncodableRecord], options: RecordBatchOptions = RecordBatchOptions(),
                              contexts: CompressionContexts, into writer: inout ByteWriter) throws(KafkaEncodingError) {
        guard !records.isEmpty else { throw encodeError("records", .invalidValue("a batch needs at least one record")) }
        guard records.count <= Int(Int32.max) else { throw encodeError("records", .invalidValue("too many records")) }
        let baseTimestamp = records[0].timestamp
        var maxTimestamp = baseTimestamp
        for r in records where r.timestamp > maxTimestamp { maxTimestamp = r.timestamp }

        let start = writer.count
        writer.writeInt64(options.baseOffset)
        let lengthAt = writer.reserveInt32()
        writer.writeInt32(options.partitionLeaderEpoch)
        writer.writeInt8(2)
        let crcAt = writer.reserveInt32()
        let attributes = RecordBatchAttributes(codec: options.codec, timestampType: options.timestampType,
                                               isTransactional: options.isTransactional, isControl: options.isControl)
        writer.writeInt16(attributes.rawValue)
        writer.writeInt32(Int32(records.count - 1))
        writer.writeInt64(baseTimestamp)
        writer.writeInt64(maxTimestamp)
        writer.writeInt64(options.producerId)
        writer.writeInt16(options.producerEpoch)
        writer.writeInt32(options.baseSequence)
        writer.writeInt32(Int32(records.count))

        if options.codec == .none {
            try writeRecords(records, baseTimestamp: baseTimestamp, into: &writer)
        } else {
            var plain = ByteWriter(capacity: estimatedSize(records))
            try writeRecords(records, baseTimestamp: baseTimestamp, into: &plain)
            try withUnsafeBytesTyped(plain.bytes) { (p) throws(KafkaEncodingError) in
                try contexts.compress(options.codec, p, into: &writer.bytes)
            }
        }

        let length = writer.count - start - RecordBatchHeader.logOverhead
        guard length <= Int(Int32.max) else { throw encodeError("batchLength", .valueTooLong(length)) }
        writer.patchInt32(at: lengthAt, Int32(length))
        let crc = writer.bytes.withUnsafeBytes { b in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[(start + RecordBatchHeader.attributesOffset)...]))
        }
        writer.patchUInt32(at: crcAt, crc)
    }

    /// One batch as a new array.
    public static func encode(_ records: [EncodableRecord], options: RecordBatchOptions = RecordBatchOptions(),
                              contexts: CompressionContexts) throws(KafkaEncodingError) -> [UInt8] {
        var w = ByteWriter(capacity: RecordBatchHeader.size + estimatedSize(records))
        try encode(records, options: options, contexts: contexts, into: &w)
        return w.bytes
    }

    static func estimatedSize(_ records: [EncodableRecord]) -> Int {
        var n = 0
        for r in records { n &+= 24 &+ (r.key?.count ?? 0) &+ (r.value?.count ?? 0) }
        return n
    }

    /// Writes each record: its body length as a varint, then the body. Body sizes are
    /// computed first so nothing is written twice.
    static func writeRecords(_ records: [EncodableRecord], baseTimestamp: Int64, into w: inout ByteWriter) throws(KafkaEncodingError) {
        w.bytes.reserveCapacity(w.count + estimatedSize(records))
        for (i, r) in records.enumerated() {
            let (delta, overflow) = r.timestamp.subtractingReportingOverflow(baseTimestamp)
            guard !overflow else { throw encodeError("timestampDelta", .invalidValue("timestamp \(r.timestamp) too far from \(baseTimestamp)")) }
            let offsetDelta = Int32(i)
            let keyLen = try length(r.key, "key")
            let valueLen = try length(r.value, "value")
            var size = 1 + varlongSize(delta) + varintSize(offsetDelta)
            size += varintSize(keyLen) + max(0, Int(keyLen)) + varintSize(valueLen) + max(0, Int(valueLen))
            size += varintSize(Int32(truncatingIfNeeded: r.headers.count))
            for h in r.headers {
                let hkCount = h.key.utf8.count
                guard hkCount <= Int(Int32.max) else { throw encodeError("headerKey", .valueTooLong(hkCount)) }
                let hk = Int32(hkCount)
                let hv = try length(h.value, "headerValue")
                size += varintSize(hk) + Int(hk) + varintSize(hv) + max(0, Int(hv))
            }
            guard size <= Int(Int32.max), r.headers.count <= Int(Int32.max) else { throw encodeError("record", .valueTooLong(size)) }
            w.writeVarint(Int32(size))
            w.writeInt8(0)
            w.writeVarlong(delta)
            w.writeVarint(offsetDelta)
            w.writeVarint(keyLen)
            if let k = r.key { w.writeRaw(k) }
            w.writeVarint(valueLen)
            if let v = r.value { w.writeRaw(v) }
            w.writeVarint(Int32(r.headers.count))
            for h in r.headers {
                w.writeVarint(Int32(h.key.utf8.count))
                w.writeRaw(h.key.utf8)
                if let v = h.value {
                    w.writeVarint(Int32(v.count))
                    w.writeRaw(v)
                } else {
                    w.writeVarint(-1)
                }
            }
        }
    }

    @inline(__always)
    static func length(_ b: [UInt8]?, _ field: StaticString) throws(KafkaEncodingError) -> Int32 {
        guard let b else { return -1 }
        guard b.count <= Int(Int32.max) else { throw encodeError(field, .valueTooLong(b.count)) }
        return Int32(b.count)
    }

    @inline(__always)
    static func varintSize(_ v: Int32) -> Int {
        unsignedVarintSize(UInt64(UInt32(bitPattern: (v &<< 1) ^ (v &>> 31))))
    }

    @inline(__always)
    static func varlongSize(_ v: Int64) -> Int {
        unsignedVarintSize(UInt64(bitPattern: (v &<< 1) ^ (v &>> 63)))
    }

    @inline(__always)
    static func unsignedVarintSize(_ u: UInt64) -> Int {
        // 7 bits per byte; a zero value still takes one byte.
        let bits = 64 - (u | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }
}

func encodeError(_ field: StaticString, _ kind: KafkaEncodingError.Kind) -> KafkaEncodingError {
    KafkaEncodingError(message: "RecordBatch", field: field.description, kind: kind)
}
