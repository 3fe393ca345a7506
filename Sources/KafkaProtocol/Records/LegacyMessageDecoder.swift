/// Decodes one complete legacy message (magic 0 or 1): offset, size, CRC-32, magic,
/// attributes, timestamp (magic 1), key, value. A compressed message is a wrapper whose
/// value is an inner message set, decoded here one level deep: inner offsets are absolute
/// for magic 0 and relative for magic 1 (KIP-31: the wrapper carries the absolute offset
/// of the last inner message).
enum LegacyMessageDecoder {
    /// One message's fields; key and value are positions in the buffer it was read from.
    struct Message {
        var offset: Int64
        var crc: UInt32
        var magic: Int8
        var attributes: Int8
        var timestamp: Int64
        var keyStart: Int
        var keyLength: Int
        var valueStart: Int
        var valueLength: Int
        var size: Int32

        var codecID: Int { Int(attributes & 0x07) }
        var timestampType: TimestampType { magic >= 1 && attributes & 0x08 != 0 ? .logAppendTime : .createTime }
    }

    /// Reads the message occupying exactly `bytes[range]`.
    static func readMessage(_ bytes: [UInt8], range: Range<Int>, verifyCRC: Bool) throws(KafkaDecodingError) -> Message {
        let start = range.lowerBound
        var r = ByteReader(bytes, range: range)
        let offset = try r.readInt64("offset")
        let size = try r.readInt32("messageSize")
        let crc = try r.readUInt32("crc")
        let magicAt = r.offset
        let magic = try r.readInt8("magic")
        guard magic == 0 || magic == 1 else {
            throw KafkaDecodingError(field: "magic", offset: magicAt, kind: .invalidValue("magic \(magic), expected 0 or 1"))
        }
        if verifyCRC {
            let actual = bytes.withUnsafeBytes { b in CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[magicAt ..< range.upperBound])) }
            guard actual == crc else {
                throw KafkaDecodingError(field: "crc", offset: start + 12, kind: .badCRC(expected: crc, actual: actual))
            }
        }
        let attributes = try r.readInt8("attributes")
        let timestamp = magic >= 1 ? try r.readInt64("timestamp") : -1
        let kAt = r.offset
        let keyLength = Int(try r.readInt32("keyLength"))
        let keyStart = r.offset
        if keyLength >= 0 {
            try r.skip(keyLength, "key")
        } else if keyLength != -1 {
            throw KafkaDecodingError(field: "keyLength", offset: kAt, kind: .negativeLength(keyLength))
        }
        let vAt = r.offset
        let valueLength = Int(try r.readInt32("valueLength"))
        let valueStart = r.offset
        if valueLength >= 0 {
            try r.skip(valueLength, "value")
        } else if valueLength != -1 {
            throw KafkaDecodingError(field: "valueLength", offset: vAt, kind: .negativeLength(valueLength))
        }
        guard r.isAtEnd else { throw KafkaDecodingError(field: "message", offset: r.offset, kind: .trailingBytes(r.remaining)) }
        return Message(offset: offset, crc: crc, magic: magic, attributes: attributes, timestamp: timestamp, keyStart: keyStart,
                       keyLength: keyLength, valueStart: valueStart, valueLength: valueLength, size: size)
    }

    /// The extent of the message starting at `at` in `bytes[..<end]`: nil when fewer bytes
    /// remain than it needs (the caller decides whether that is a truncated tail).
    static func messageRange(_ bytes: [UInt8], at: Int, end: Int) throws(KafkaDecodingError) -> Range<Int>? {
        guard end - at >= RecordBatchHeader.logOverhead else { return nil }
        var r = ByteReader(bytes, range: at ..< end)
        _ = try r.readInt64("offset")
        let size = Int(try r.readInt32("messageSize"))
        // crc + magic + attributes + key length + value length
        guard size >= 14 else {
            throw KafkaDecodingError(field: "messageSize", offset: at + 8, kind: .invalidValue("message size \(size) below the minimum of 14"))
        }
        guard size <= r.remaining else { return nil }
        return at ..< r.offset + size
    }

    /// Decodes the message in `bytes[range]` into a batch: one record, or a wrapper's inner
    /// records.
    static func decode(_ bytes: [UInt8], range: Range<Int>, options: RecordDecodingOptions,
                       contexts: CompressionContexts) throws(KafkaDecodingError) -> RecordBatch {
        var baseOffsetForErrors: Int64?
        do throws(KafkaDecodingError) {
            let m = try readMessage(bytes, range: range, verifyCRC: options.verifyCRC)
            baseOffsetForErrors = m.offset
            let codec = try CompressionCodec(id: m.codecID, field: "attributes.codec", offset: range.lowerBound + 17)
            var records: [Record] = []
            if codec == .none {
                records.append(Record(offset: m.offset, timestamp: m.timestamp, attributes: m.attributes, buffer: bytes,
                                      keyStart: m.keyStart, keyLength: m.keyLength, valueStart: m.valueStart, valueLength: m.valueLength,
                                      headersRange: 0 ..< 0, headerCount: 0))
            } else {
                records = try decodeWrapper(m, bytes, codec: codec, options: options, contexts: contexts)
            }
            return legacyBatch(m, records: records, codec: codec, byteOffset: range.lowerBound)
        } catch {
            var e = error
            if e.message.isEmpty { e.message = "LegacyMessage" }
            e.baseOffset = baseOffsetForErrors ?? (range.count >= 8 ? readBigEndianInt64(bytes, range.lowerBound) : nil)
            throw e
        }
    }

    static func decodeWrapper(_ w: Message, _ bytes: [UInt8], codec: CompressionCodec, options: RecordDecodingOptions,
                              contexts: CompressionContexts) throws(KafkaDecodingError) -> [Record] {
        guard w.valueLength >= 0 else {
            throw KafkaDecodingError(field: "value", offset: w.valueStart - 4, kind: .unexpectedNull)
        }
        let plain: [UInt8]
        do throws(KafkaDecodingError) {
            plain = try bytes.withUnsafeBytesTypedSlice(w.valueStart ..< w.valueStart + w.valueLength) { (p) throws(KafkaDecodingError) in
                // Magic 0 lz4 wrappers were written with the KAFKA-3160 header checksum.
                try contexts.decompress(codec, p, limit: options.decompressionLimit, legacyLZ4HeaderChecksum: w.magic == 0)
            }
        } catch {
            var e = error
            e.field = "value(\(codec)).\(e.field)"
            e.offset += w.valueStart
            throw e
        }
        // Frame the inner messages first: the last one's offset is needed to turn magic 1
        // relative offsets into absolute ones.
        var inner: [Message] = []
        var at = 0
        while at < plain.count {
            guard let range = try messageRange(plain, at: at, end: plain.count) else {
                throw KafkaDecodingError(field: "value(decompressed)", offset: at, kind: .truncated(needed: RecordBatchHeader.logOverhead, available: plain.count - at))
            }
            let m = try readMessage(plain, range: range, verifyCRC: options.verifyCRC)
            guard m.codecID == 0 else {
                throw KafkaDecodingError(field: "value(decompressed).attributes", offset: range.lowerBound + 17,
                                         kind: .invalidValue("compressed message inside a compressed wrapper"))
            }
            inner.append(m)
            at = range.upperBound
        }
        guard let last = inner.last else {
            throw KafkaDecodingError(field: "value(decompressed)", offset: 0, kind: .invalidValue("empty wrapper message"))
        }
        // Magic 1: absolute = wrapper offset - last inner offset + inner offset. Some
        // librdkafka versions produce wrappers at offset 0; those inner offsets are used
        // as they are (as the Java client does).
        var base: Int64 = 0
        if w.magic >= 1 && w.offset != 0 {
            let (d, o) = w.offset.subtractingReportingOverflow(last.offset)
            guard w.offset >= last.offset, !o else {
                throw KafkaDecodingError(field: "offset", offset: 0,
                                         kind: .invalidValue("wrapper offset \(w.offset) inconsistent with its last inner offset \(last.offset)"))
            }
            base = d
        }
        var records: [Record] = []
        records.reserveCapacity(inner.count)
        for m in inner {
            var offset = m.offset
            if w.magic >= 1 {
                let (abs, o) = base.addingReportingOverflow(m.offset)
                guard !o else {
                    throw KafkaDecodingError(field: "value(decompressed).offset", offset: 0, kind: .invalidValue("relative offset overflows"))
                }
                offset = abs
            }
            let timestamp = w.timestampType == .logAppendTime ? w.timestamp : m.timestamp
            records.append(Record(offset: offset, timestamp: timestamp, attributes: m.attributes, buffer: plain,
                                  keyStart: m.keyStart, keyLength: m.keyLength, valueStart: m.valueStart, valueLength: m.valueLength,
                                  headersRange: 0 ..< 0, headerCount: 0))
        }
        return records
    }

    /// A batch header describing a legacy message and its records.
    static func legacyBatch(_ m: Message, records: [Record], codec: CompressionCodec, byteOffset: Int) -> RecordBatch {
        let first = records.first?.offset ?? m.offset
        let last = records.last?.offset ?? m.offset
        let (delta, o) = last.subtractingReportingOverflow(first)
        var maxTimestamp = m.timestamp
        for r in records where r.timestamp > maxTimestamp { maxTimestamp = r.timestamp }
        let header = RecordBatchHeader(
            baseOffset: first, batchLength: m.size, partitionLeaderEpoch: -1, magic: m.magic, crc: m.crc,
            attributes: RecordBatchAttributes(codec: codec, timestampType: m.timestampType),
            lastOffsetDelta: o || delta > Int64(Int32.max) || delta < 0 ? 0 : Int32(delta),
            baseTimestamp: records.first?.timestamp ?? m.timestamp, maxTimestamp: maxTimestamp,
            producerId: -1, producerEpoch: -1, baseSequence: -1, recordCount: Int32(clamping: records.count))
        return RecordBatch(header: header, records: records, byteOffset: byteOffset)
    }
}

@inline(__always)
func readBigEndianInt64(_ b: [UInt8], _ at: Int) -> Int64 {
    var v: UInt64 = 0
    for i in 0 ..< 8 { v = v &<< 8 | UInt64(b[at + i]) }
    return Int64(bitPattern: v)
}
