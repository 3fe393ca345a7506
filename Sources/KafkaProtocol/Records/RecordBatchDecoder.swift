/// Decodes one complete v2 record batch (magic 2). The records reader finds batch
/// boundaries; this checks the CRC, decompresses the payload within the limit, and frames
/// every record without copying any of them.
enum RecordBatchDecoder {
    /// Decodes the batch occupying exactly `bytes[range]`. Errors carry the batch's base
    /// offset and absolute byte offsets (offsets inside a compressed payload are relative
    /// to the decompressed bytes and say so in the field name).
    static func decode(_ bytes: [UInt8], range: Range<Int>, options: RecordDecodingOptions,
                       contexts: CompressionContexts) throws(KafkaDecodingError) -> RecordBatch {
        let start = range.lowerBound
        let header = try decodeHeader(bytes, range: range, verifyCRC: options.verifyCRC)
        do throws(KafkaDecodingError) {
            let codec = try CompressionCodec(id: header.attributes.codecID, offset: start + RecordBatchHeader.attributesOffset)
            let payloadStart = start + RecordBatchHeader.size
            let records: [Record]
            if codec == .none {
                records = try frameRecords(bytes, range: payloadStart ..< range.upperBound, header: header, field: "records")
            } else {
                let plain: [UInt8]
                do throws(KafkaDecodingError) {
                    plain = try bytes.withUnsafeBytesTypedSlice(payloadStart ..< range.upperBound) { (p) throws(KafkaDecodingError) in
                        try contexts.decompress(codec, p, limit: options.decompressionLimit)
                    }
                } catch {
                    var e = error
                    e.field = "records(\(codec)).\(e.field)"
                    e.offset += payloadStart
                    throw e
                }
                records = try frameRecords(plain, range: 0 ..< plain.count, header: header, field: "records(decompressed)")
            }
            if header.attributes.isControl {
                // A control batch holds only control records (a marker's key is version and
                // type); anything else in one is a corrupt batch, not data to skip silently.
                for record in records {
                    do throws(KafkaDecodingError) { _ = try ControlRecord(parsing: record) } catch {
                        throw KafkaDecodingError(field: "records(control)", offset: record.keyStart,
                                                 kind: .invalidValue("control batch holds a non-control record at offset \(record.offset): \(error.kind)"))
                    }
                }
            }
            return RecordBatch(header: header, records: records, byteOffset: start)
        } catch {
            var e = error
            if e.message.isEmpty { e.message = "RecordBatch" }
            e.baseOffset = header.baseOffset
            throw e
        }
    }

    /// Reads and checks the 61-byte header of the batch occupying exactly `bytes[range]`
    /// (and its CRC over the whole batch when asked).
    static func decodeHeader(_ bytes: [UInt8], range: Range<Int>, verifyCRC: Bool) throws(KafkaDecodingError) -> RecordBatchHeader {
        let start = range.lowerBound
        var r = ByteReader(bytes, range: range)
        let baseOffset = try r.readInt64("baseOffset")
        do throws(KafkaDecodingError) {
            let batchLength = try r.readInt32("batchLength")
            guard Int(batchLength) >= RecordBatchHeader.size - RecordBatchHeader.logOverhead else {
                throw KafkaDecodingError(field: "batchLength", offset: start + RecordBatchHeader.batchLengthOffset,
                                         kind: .invalidValue("batch length \(batchLength) shorter than the batch header"))
            }
            let partitionLeaderEpoch = try r.readInt32("partitionLeaderEpoch")
            let magic = try r.readInt8("magic")
            guard magic == 2 else {
                throw KafkaDecodingError(field: "magic", offset: start + RecordBatchHeader.magicOffset, kind: .invalidValue("magic \(magic), expected 2"))
            }
            let crc = try r.readUInt32("crc")
            if verifyCRC {
                let actual = bytes.withUnsafeBytes { b in
                    CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[(start + RecordBatchHeader.attributesOffset) ..< range.upperBound]))
                }
                guard actual == crc else {
                    throw KafkaDecodingError(field: "crc", offset: start + RecordBatchHeader.crcOffset, kind: .badCRC(expected: crc, actual: actual))
                }
            }
            let attributes = RecordBatchAttributes(rawValue: try r.readInt16("attributes"))
            let lastOffsetDelta = try r.readInt32("lastOffsetDelta")
            let baseTimestamp = try r.readInt64("baseTimestamp")
            let maxTimestamp = try r.readInt64("maxTimestamp")
            let producerId = try r.readInt64("producerId")
            let producerEpoch = try r.readInt16("producerEpoch")
            let baseSequence = try r.readInt32("baseSequence")
            let countAt = r.offset
            let recordCount = try r.readInt32("recordCount")
            guard recordCount >= 0 else { throw KafkaDecodingError(field: "recordCount", offset: countAt, kind: .negativeLength(Int(recordCount))) }
            return RecordBatchHeader(
                baseOffset: baseOffset, batchLength: batchLength, partitionLeaderEpoch: partitionLeaderEpoch, magic: magic, crc: crc,
                attributes: attributes, lastOffsetDelta: lastOffsetDelta, baseTimestamp: baseTimestamp, maxTimestamp: maxTimestamp,
                producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence, recordCount: recordCount)
        } catch {
            var e = error
            if e.message.isEmpty { e.message = "RecordBatch" }
            e.baseOffset = baseOffset
            throw e
        }
    }

    /// Frames `header.recordCount` records in `buffer[range]`; every length is checked
    /// against its container and the records must fill the range exactly.
    static func frameRecords(_ buffer: [UInt8], range: Range<Int>, header: RecordBatchHeader,
                             field: StaticString) throws(KafkaDecodingError) -> [Record] {
        let count = Int(header.recordCount)
        var records: [Record] = []
        // A record takes at least 7 bytes, so a hostile count cannot reserve more than the
        // payload justifies.
        records.reserveCapacity(min(count, range.count / 7))
        let logAppend = header.attributes.timestampType == .logAppendTime
        var r = ByteReader(buffer, range: range)
        var previousDelta: Int32 = -1
        for _ in 0 ..< count {
            let lenAt = r.offset
            let length = Int(try r.readVarint("record.length"))
            guard length >= 0 else { throw KafkaDecodingError(field: "record.length", offset: lenAt, kind: .negativeLength(length)) }
            guard length <= r.remaining else {
                throw KafkaDecodingError(field: "record.length", offset: lenAt, kind: .lengthPastEnd(length: length, available: r.remaining))
            }
            let recordEnd = r.offset + length
            var b = ByteReader(buffer, range: r.offset ..< recordEnd)
            let attributes = try b.readInt8("record.attributes")
            let tsAt = b.offset
            let timestampDelta = try b.readVarlong("record.timestampDelta")
            let odAt = b.offset
            let offsetDelta = try b.readVarint("record.offsetDelta")
            // Offsets rise inside the batch and stay within it (compaction leaves gaps, never
            // disorder): a lying delta would hand the user duplicate or foreign offsets.
            guard offsetDelta > previousDelta, offsetDelta <= header.lastOffsetDelta else {
                throw KafkaDecodingError(field: "record.offsetDelta", offset: odAt,
                                         kind: .invalidValue("offset delta \(offsetDelta) after \(previousDelta), batch's last delta \(header.lastOffsetDelta)"))
            }
            previousDelta = offsetDelta
            let (offset, o1) = header.baseOffset.addingReportingOverflow(Int64(offsetDelta))
            guard !o1 else { throw KafkaDecodingError(field: "record.offsetDelta", offset: odAt, kind: .invalidValue("offset overflows")) }
            var timestamp = header.maxTimestamp
            if !logAppend {
                let (t, o2) = header.baseTimestamp.addingReportingOverflow(timestampDelta)
                guard !o2 else { throw KafkaDecodingError(field: "record.timestampDelta", offset: tsAt, kind: .invalidValue("timestamp overflows")) }
                timestamp = t
            }
            let kAt = b.offset
            let keyLength = Int(try b.readVarint("record.keyLength"))
            let keyStart = b.offset
            if keyLength >= 0 {
                try b.skip(keyLength, "record.key")
            } else if keyLength != -1 {
                throw KafkaDecodingError(field: "record.keyLength", offset: kAt, kind: .negativeLength(keyLength))
            }
            let vAt = b.offset
            let valueLength = Int(try b.readVarint("record.valueLength"))
            let valueStart = b.offset
            if valueLength >= 0 {
                try b.skip(valueLength, "record.value")
            } else if valueLength != -1 {
                throw KafkaDecodingError(field: "record.valueLength", offset: vAt, kind: .negativeLength(valueLength))
            }
            let hAt = b.offset
            let headerCount = Int(try b.readVarint("record.headerCount"))
            guard headerCount >= 0 else { throw KafkaDecodingError(field: "record.headerCount", offset: hAt, kind: .negativeLength(headerCount)) }
            // Each header takes at least two bytes.
            guard headerCount <= b.remaining / 2 else {
                throw KafkaDecodingError(field: "record.headerCount", offset: hAt, kind: .lengthPastEnd(length: headerCount, available: b.remaining))
            }
            let headersStart = b.offset
            for _ in 0 ..< headerCount { _ = try RecordHeaderFraming.read(&b) }
            guard b.isAtEnd else {
                throw KafkaDecodingError(field: "record", offset: b.offset, kind: .trailingBytes(b.remaining))
            }
            records.append(Record(offset: offset, timestamp: timestamp, attributes: attributes, buffer: buffer,
                                  keyStart: keyStart, keyLength: keyLength, valueStart: valueStart, valueLength: valueLength,
                                  headersRange: headersStart ..< recordEnd, headerCount: headerCount))
            try r.skip(length, "record")
        }
        guard r.isAtEnd else {
            throw KafkaDecodingError(field: field.description, offset: r.offset, kind: .trailingBytes(r.remaining))
        }
        return records
    }
}
