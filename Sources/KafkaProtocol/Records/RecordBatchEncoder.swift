/// What a v2 batch says about its records beyond the records themselves.
public struct RecordBatchOptions: Sendable, Equatable {
    public var baseOffset: Int64
    public var partitionLeaderEpoch: Int32
    public var codec: CompressionCodec
    public var timestampType: TimestampType
    public var isTransactional: Bool
    public var isControl: Bool
    /// Set by log compaction (KIP-534): the base timestamp then holds the delete horizon.
    public var hasDeleteHorizon: Bool
    /// -1 (with epoch and sequence -1) for a non-idempotent producer.
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32

    public init(baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1, codec: CompressionCodec = .none,
                timestampType: TimestampType = .createTime, isTransactional: Bool = false, isControl: Bool = false,
                hasDeleteHorizon: Bool = false, producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.codec = codec
        self.timestampType = timestampType
        self.isTransactional = isTransactional
        self.isControl = isControl
        self.hasDeleteHorizon = hasDeleteHorizon
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
    }
}

/// Builds v2 record batches straight into one output buffer: room for the header, the
/// records (or their compressed form), then the header with its length and CRC-32C.
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

        // Room for the header, written once the records are (`writeHeader`).
        let start = writer.bytes.count
        writer.bytes.append(contentsOf: repeatElement(0, count: batchHeaderSize))
        if options.codec == .none {
            try writeRecords(records, baseTimestamp: baseTimestamp, into: &writer)
        } else {
            var plain = ByteWriter(capacity: estimatedSize(records))
            try writeRecords(records, baseTimestamp: baseTimestamp, into: &plain)
            try withUnsafeBytesTyped(plain.bytes) { (p) throws(KafkaEncodingError) in
                try contexts.compress(options.codec, p, into: &writer.bytes)
            }
        }

        try checkBatchLength(writer.bytes.count - start)
        writer.bytes.withUnsafeMutableBytes { b in
            writeHeader(into: UnsafeMutableRawBufferPointer(rebasing: b[start...]), count: records.count, baseTimestamp: baseTimestamp,
                        maxTimestamp: maxTimestamp, options: options)
        }
    }

    /// One batch as a new array.
    public static func encode(_ records: [EncodableRecord], options: RecordBatchOptions = RecordBatchOptions(),
                              contexts: CompressionContexts) throws(KafkaEncodingError) -> [UInt8] {
        var w = ByteWriter(capacity: RecordBatchHeader.size + estimatedSize(records))
        try encode(records, options: options, contexts: contexts, into: &w)
        return w.bytes
    }

    /// Bytes `record` takes in an uncompressed v2 batch at `offsetDelta` with
    /// `timestampDelta` from the batch's base timestamp (length varint included), so a
    /// producer can account batch sizes before encoding. Nil when it cannot be encoded.
    public static func encodedSize(of record: EncodableRecord, offsetDelta: Int32, timestampDelta: Int64) -> Int? {
        guard let keyLen = try? length(record.key, "key"), let valueLen = try? length(record.value, "value"),
              record.headers.count <= Int(Int32.max) else { return nil }
        var size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta)
        size += varintSize(keyLen) + max(0, Int(keyLen)) + varintSize(valueLen) + max(0, Int(valueLen))
        size += varintSize(Int32(record.headers.count))
        for h in record.headers {
            let hk = h.key.utf8.count
            guard hk <= Int(Int32.max), let hv = try? length(h.value, "headerValue") else { return nil }
            size += varintSize(Int32(hk)) + hk + varintSize(hv) + max(0, Int(hv))
        }
        guard size <= Int(Int32.max) else { return nil }
        return varintSize(Int32(size)) + size
    }

    /// The fixed bytes of a v2 batch before its records.
    public static let batchHeaderSize = RecordBatchHeader.size

    static func estimatedSize(_ records: [EncodableRecord]) -> Int {
        var n = 0
        for r in records { n &+= 24 &+ (r.key?.count ?? 0) &+ (r.value?.count ?? 0) }
        return n
    }

    /// Writes each record: its body length as a varint, then the body. A first pass
    /// computes and checks every size; the second writes into the already-sized buffer
    /// through a pointer, with no per-field capacity checks.
    static func writeRecords(_ records: [EncodableRecord], baseTimestamp: Int64, into w: inout ByteWriter) throws(KafkaEncodingError) {
        var sizes: [Int] = []
        sizes.reserveCapacity(records.count)
        var total = 0
        for r in records {
            let (delta, overflow) = r.timestamp.subtractingReportingOverflow(baseTimestamp)
            guard !overflow else { throw encodeError("timestampDelta", .invalidValue("timestamp \(r.timestamp) too far from \(baseTimestamp)")) }
            let keyLen = try length(r.key, "key")
            let valueLen = try length(r.value, "value")
            guard r.headers.count <= Int(Int32.max) else { throw encodeError("headers", .valueTooLong(r.headers.count)) }
            var size = 1 + varlongSize(delta) + varintSize(Int32(truncatingIfNeeded: sizes.count))
            size += varintSize(keyLen) + max(0, Int(keyLen)) + varintSize(valueLen) + max(0, Int(valueLen))
            size += varintSize(Int32(r.headers.count))
            for h in r.headers {
                let hkCount = h.key.utf8.count
                guard hkCount <= Int(Int32.max) else { throw encodeError("headerKey", .valueTooLong(hkCount)) }
                let hv = try length(h.value, "headerValue")
                size += varintSize(Int32(hkCount)) + hkCount + varintSize(hv) + max(0, Int(hv))
            }
            guard size <= Int(Int32.max) else { throw encodeError("record", .valueTooLong(size)) }
            sizes.append(size)
            total += varintSize(Int32(size)) + size
        }
        let start = w.bytes.count
        w.bytes.append(contentsOf: repeatElement(0, count: total))
        w.bytes.withUnsafeMutableBufferPointer { buf in
            var p = buf.baseAddress! + start
            for (i, r) in records.enumerated() {
                p = putRecord(p, bodySize: sizes[i], timestampDelta: r.timestamp &- baseTimestamp, offsetDelta: Int32(i),
                              key: r.key, value: r.value, headers: r.headers)
            }
        }
    }

    /// One record, length-prefixed, written at `p` (sized beforehand: `bodySize` is its
    /// length without the prefix); returns the end.
    static func putRecord(_ p: UnsafeMutablePointer<UInt8>, bodySize: Int, timestampDelta: Int64, offsetDelta: Int32,
                          key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader]) -> UnsafeMutablePointer<UInt8> {
        var p = putVarint(p, Int64(bodySize))
        p.pointee = 0
        p += 1
        p = putVarint(p, timestampDelta)
        p = putVarint(p, Int64(offsetDelta))
        p = putBytes(p, key)
        p = putBytes(p, value)
        p = putVarint(p, Int64(headers.count))
        for h in headers {
            var hk = h.key
            p = hk.withUTF8 { u in
                let q = putVarint(p, Int64(u.count))
                if u.count > 0 { q.update(from: u.baseAddress!, count: u.count) }
                return q + u.count
            }
            p = putBytes(p, h.value)
        }
        return p
    }

    /// A zig-zag varint (the 32-bit zig-zag of a value in Int32 range equals the 64-bit one).
    @inline(__always)
    static func putVarint(_ p: UnsafeMutablePointer<UInt8>, _ v: Int64) -> UnsafeMutablePointer<UInt8> {
        var u = UInt64(bitPattern: (v &<< 1) ^ (v &>> 63))
        var q = p
        while u >= 0x80 {
            q.pointee = UInt8(truncatingIfNeeded: u) | 0x80
            q += 1
            u &>>= 7
        }
        q.pointee = UInt8(truncatingIfNeeded: u)
        return q + 1
    }

    /// A varint length (-1 for nil) and the bytes.
    @inline(__always)
    static func putBytes(_ p: UnsafeMutablePointer<UInt8>, _ b: [UInt8]?) -> UnsafeMutablePointer<UInt8> {
        guard let b else { return putVarint(p, -1) }
        let q = putVarint(p, Int64(b.count))
        b.withUnsafeBufferPointer { src in
            if src.count > 0 { q.update(from: src.baseAddress!, count: src.count) }
        }
        return q + b.count
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
