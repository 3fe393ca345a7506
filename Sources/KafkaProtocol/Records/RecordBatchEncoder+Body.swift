extension RecordBatchEncoder {
    /// Appends one v2 batch whose records were already written, in order, as their
    /// length-prefixed bodies (offset deltas 0..<count, timestamp deltas from
    /// `baseTimestamp`): a producer encodes each record into its open batch as it arrives,
    /// and seals the batch here (header, optional compression, length and CRC-32C).
    public static func seal(body: UnsafeRawBufferPointer, count: Int, baseTimestamp: Int64, maxTimestamp: Int64,
                            options: RecordBatchOptions, contexts: CompressionContexts,
                            into writer: inout ByteWriter) throws(KafkaEncodingError) {
        try checkRecordCount(count)
        let start = writer.bytes.count
        writer.bytes.append(contentsOf: repeatElement(0, count: batchHeaderSize))
        try contexts.compress(options.codec, body, into: &writer.bytes)
        try checkBatchLength(writer.bytes.count - start)
        writer.bytes.withUnsafeMutableBytes { b in
            writeHeader(into: UnsafeMutableRawBufferPointer(rebasing: b[start...]), count: count, baseTimestamp: baseTimestamp,
                        maxTimestamp: maxTimestamp, options: options)
        }
    }

    /// Seals an uncompressed batch where it stands: `batch` holds `batchHeaderSize` bytes of
    /// room, then the records' length-prefixed bodies; the header (length and CRC-32C
    /// included) is written into the room. A producer that builds its batches this way
    /// sends them without copying the records into a second array.
    public static func sealInPlace(_ batch: inout [UInt8], count: Int, baseTimestamp: Int64, maxTimestamp: Int64,
                                   options: RecordBatchOptions) throws(KafkaEncodingError) {
        precondition(options.codec == .none, "a compressed batch is sealed into a new array")
        precondition(batch.count >= batchHeaderSize, "no room for the batch header")
        try checkRecordCount(count)
        try checkBatchLength(batch.count)
        batch.withUnsafeMutableBytes { b in
            writeHeader(into: b, count: count, baseTimestamp: baseTimestamp, maxTimestamp: maxTimestamp, options: options)
        }
    }

    private static func checkRecordCount(_ count: Int) throws(KafkaEncodingError) {
        guard count > 0, count <= Int(Int32.max) else { throw encodeError("records", .invalidValue("a batch needs 1 ... Int32.max records")) }
    }

    /// `size`: the whole batch, header included.
    static func checkBatchLength(_ size: Int) throws(KafkaEncodingError) {
        let length = size - RecordBatchHeader.logOverhead
        guard length <= Int(Int32.max) else { throw encodeError("batchLength", .valueTooLong(length)) }
    }

    /// Writes the v2 header into the first `batchHeaderSize` bytes of `batch`, whose records
    /// (compressed or not) fill the rest: the batch length from `batch.count`, then the
    /// CRC-32C from the attributes to the end.
    static func writeHeader(into batch: UnsafeMutableRawBufferPointer, count: Int, baseTimestamp: Int64, maxTimestamp: Int64,
                                    options: RecordBatchOptions) {
        let attributes = RecordBatchAttributes(codec: options.codec, timestampType: options.timestampType,
                                               isTransactional: options.isTransactional, isControl: options.isControl,
                                               hasDeleteHorizon: options.hasDeleteHorizon)
        // Big-endian, unaligned (SE-0349), at the v2 header's fixed offsets.
        batch.storeBytes(of: options.baseOffset.bigEndian, toByteOffset: 0, as: Int64.self)
        batch.storeBytes(of: Int32(batch.count - RecordBatchHeader.logOverhead).bigEndian, toByteOffset: 8, as: Int32.self)
        batch.storeBytes(of: options.partitionLeaderEpoch.bigEndian, toByteOffset: 12, as: Int32.self)
        batch.storeBytes(of: 2, toByteOffset: 16, as: UInt8.self)
        batch.storeBytes(of: attributes.rawValue.bigEndian, toByteOffset: 21, as: Int16.self)
        batch.storeBytes(of: Int32(count - 1).bigEndian, toByteOffset: 23, as: Int32.self)
        batch.storeBytes(of: baseTimestamp.bigEndian, toByteOffset: 27, as: Int64.self)
        batch.storeBytes(of: maxTimestamp.bigEndian, toByteOffset: 35, as: Int64.self)
        batch.storeBytes(of: options.producerId.bigEndian, toByteOffset: 43, as: Int64.self)
        batch.storeBytes(of: options.producerEpoch.bigEndian, toByteOffset: 51, as: Int16.self)
        batch.storeBytes(of: options.baseSequence.bigEndian, toByteOffset: 53, as: Int32.self)
        batch.storeBytes(of: Int32(count).bigEndian, toByteOffset: 57, as: Int32.self)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: batch[RecordBatchHeader.attributesOffset...]))
        batch.storeBytes(of: crc.bigEndian, toByteOffset: 17, as: UInt32.self)
    }

    /// Appends one record's length-prefixed body (what `seal` expects) to `body`, sized in
    /// one pass and written through a pointer. Returns the bytes appended.
    @discardableResult
    public static func appendRecordBody(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], offsetDelta: Int32,
                                        timestampDelta: Int64, to body: inout [UInt8]) -> Int? {
        guard let total = recordSize(key: key, value: value, headers: headers, offsetDelta: offsetDelta, timestampDelta: timestampDelta) else {
            return nil
        }
        appendRecordBody(key: key, value: value, headers: headers, offsetDelta: offsetDelta, timestampDelta: timestampDelta,
                         size: total, to: &body)
        return total.all
    }

    /// `appendRecordBody` with the size `recordSize` gave for the same arguments, for a
    /// caller that already needed it (a producer checks that the record fits first).
    /// Written as a few appends (varints staged in a small scratch buffer, key and value
    /// copied straight from their arrays): no zero-fill of the record's bytes first.
    public static func appendRecordBody(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], offsetDelta: Int32,
                                        timestampDelta: Int64, size total: (body: Int, all: Int), to body: inout [UInt8]) {
        // Staged only when the record cannot exceed the stack buffer whatever `total` says:
        // the bound comes from the fields themselves, so a caller's wrong size is caught by
        // the precondition below, never by writing past the buffer.
        guard stagedBound(key: key, value: value, headers: headers) <= stagedRecordLimit else {
            appendRecordBodyPiecewise(key: key, value: value, headers: headers, offsetDelta: offsetDelta,
                                      timestampDelta: timestampDelta, size: total, to: &body)
            return
        }
        // A small record is written whole on the stack and appended once: every append checks
        // the array's uniqueness and capacity, and piece by piece a record takes five or more.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stagedRecordLimit) { scratch in
            let base = scratch.baseAddress!
            let p = putRecord(base, bodySize: total.body, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
                              key: key, value: value, headers: headers)
            precondition(p - base == total.all, "record size and record bytes disagree")
            body.append(contentsOf: UnsafeBufferPointer(start: base, count: p - base))
        }
    }

    /// Records up to this many bytes are staged whole (see `appendRecordBody`).
    static let stagedRecordLimit = 512

    /// The most bytes a record with these fields takes, length prefix included: every
    /// varint at its widest (a length or count 5 bytes, the timestamp delta 10).
    @inline(__always)
    static func stagedBound(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader]) -> Int {
        var bound = 5 + 1 + 10 + 5 + 5 + (key?.count ?? 0) + 5 + (value?.count ?? 0) + 5
        for h in headers { bound += 10 + h.key.utf8.count + (h.value?.count ?? 0) }
        return bound
    }

    /// `appendRecordBody` for a record too big to stage: key, value and header bytes are
    /// copied straight from their arrays.
    static func appendRecordBodyPiecewise(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], offsetDelta: Int32,
                                          timestampDelta: Int64, size total: (body: Int, all: Int), to body: inout [UInt8]) {
        // length (5) + attributes (1) + timestamp delta (10) + offset delta (5) + key length (5) <= 26.
        var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var p = putVarint(base, Int64(total.body))
            p.pointee = 0
            p += 1
            p = putVarint(p, timestampDelta)
            p = putVarint(p, Int64(offsetDelta))
            p = putVarint(p, Int64(key?.count ?? -1))
            body.append(contentsOf: UnsafeBufferPointer(start: base, count: p - base))
        }
        if let key { body.append(contentsOf: key) }
        appendVarint(Int64(value?.count ?? -1), to: &body)
        if let value { body.append(contentsOf: value) }
        appendVarint(Int64(headers.count), to: &body)
        for h in headers {
            var k = h.key
            k.withUTF8 { u in
                appendVarint(Int64(u.count), to: &body)
                body.append(contentsOf: u)
            }
            appendVarint(Int64(h.value?.count ?? -1), to: &body)
            if let v = h.value { body.append(contentsOf: v) }
        }
    }

    @inline(__always)
    static func appendVarint(_ v: Int64, to body: inout [UInt8]) {
        var scratch: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let end = putVarint(base, v)
            body.append(contentsOf: UnsafeBufferPointer(start: base, count: end - base))
        }
    }

    /// (body, body plus its length varint), or nil when a field is too long for the format.
    public static func recordSize(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], offsetDelta: Int32,
                            timestampDelta: Int64) -> (body: Int, all: Int)? {
        let keyLen = key.map { $0.count } ?? -1
        let valueLen = value.map { $0.count } ?? -1
        guard keyLen <= Int(Int32.max), valueLen <= Int(Int32.max), headers.count <= Int(Int32.max) else { return nil }
        var size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta)
        size += varintSize(Int32(keyLen)) + max(0, keyLen) + varintSize(Int32(valueLen)) + max(0, valueLen)
        if headers.isEmpty {
            size += 1
        } else {
            guard let h = headersSize(headers) else { return nil }
            size += h
        }
        guard size <= Int(Int32.max) else { return nil }
        return (size, varintSize(Int32(size)) + size)
    }

    /// The headers' bytes in a record, their count included; nil when one is too long.
    /// Apart, so that the usual record without headers does not set up their iteration.
    @inline(never)
    static func headersSize(_ headers: [RecordHeader]) -> Int? {
        var size = varintSize(Int32(headers.count))
        for h in headers {
            let hk = h.key.utf8.count
            let hv = h.value.map { $0.count } ?? -1
            guard hk <= Int(Int32.max), hv <= Int(Int32.max) else { return nil }
            size += varintSize(Int32(hk)) + hk + varintSize(Int32(hv)) + max(0, hv)
        }
        return size
    }

    /// `recordSize` at other deltas, from the body size it gave at offset and timestamp
    /// deltas 0 (where each delta takes one byte): a producer sizes a record once at the
    /// call and places it in a batch later without walking its fields again.
    @inline(__always)
    public static func recordSize(baseBody: Int, offsetDelta: Int32, timestampDelta: Int64) -> (body: Int, all: Int)? {
        let size = baseBody - 2 + varintSize(offsetDelta) + varlongSize(timestampDelta)
        guard size <= Int(Int32.max) else { return nil }
        return (size, varintSize(Int32(size)) + size)
    }

    /// Rewrites a length-prefixed record body (as `appendRecordBody` wrote it) with new
    /// offset and timestamp deltas, for a producer splitting a batch the broker found too
    /// large. Returns the index after the record in `source`, or nil on malformed input.
    public static func rebaseRecordBody(_ source: [UInt8], at index: Int, offsetDelta: Int32, timestampShift: Int64,
                                        to body: inout [UInt8]) -> Int? {
        var r = ByteReader(source, range: index ..< source.count)
        guard let length = try? r.readVarint("length"), length >= 1 else { return nil }
        let end = r.offset + Int(length)
        guard end <= source.count, (try? r.readInt8("attributes")) != nil, let ts = try? r.readVarlong("timestampDelta"),
              (try? r.readVarint("offsetDelta")) != nil, r.offset <= end else { return nil }
        let rest = source[r.offset ..< end]
        let newTs = ts &+ timestampShift
        let size = 1 + varlongSize(newTs) + varintSize(offsetDelta) + rest.count
        var head = [UInt8](repeating: 0, count: 32)
        let n = head.withUnsafeMutableBufferPointer { buf -> Int in
            var p = buf.baseAddress!
            p = putVarint(p, Int64(size))
            p.pointee = 0
            p += 1
            p = putVarint(p, newTs)
            p = putVarint(p, Int64(offsetDelta))
            return p - buf.baseAddress!
        }
        body.append(contentsOf: head[0 ..< n])
        body.append(contentsOf: rest)
        return end
    }
}
