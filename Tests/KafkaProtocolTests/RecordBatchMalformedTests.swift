import Testing
@testable import KafkaProtocol

/// Every class of malformed batch must come back as a typed error naming the field, the
/// byte offset and the batch's base offset — never a trap, never a huge allocation.
@Suite struct RecordBatchMalformedTests {
    /// The golden batch's header with `records` as its payload, `count` as its record
    /// count and a correct length and CRC, at base offset 500.
    static func batch(records: [UInt8], count: Int32 = 1, attributes: Int16 = 0, lastOffsetDelta: Int32? = nil) -> [UInt8] {
        var w = ByteWriter()
        w.writeInt64(500)
        w.writeInt32(Int32(49 + records.count))
        w.writeInt32(-1)
        w.writeInt8(2)
        w.writeUInt32(0)
        w.writeInt16(attributes)
        w.writeInt32(lastOffsetDelta ?? count - 1)
        w.writeInt64(1000)
        w.writeInt64(1000)
        w.writeInt64(-1)
        w.writeInt16(-1)
        w.writeInt32(-1)
        w.writeInt32(count)
        w.writeRaw(records)
        let crc = CRC32C.checksum(Array(w.bytes[21...]))
        w.patchUInt32(at: 17, crc)
        return w.bytes
    }

    func decodeError(_ bytes: [UInt8], options: RecordDecodingOptions = RecordDecodingOptions()) -> KafkaDecodingError? {
        do {
            _ = try RecordsReader.decodeAll(bytes, options: options, contexts: CompressionContexts())
            return nil
        } catch {
            return error
        }
    }

    @Test func badCRCNamesTheBatch() throws {
        var bytes = RecordBatchTests.golden
        bytes[bytes.count - 2] ^= 1 // flip a bit of the value
        let e = try #require(decodeError(bytes))
        #expect(e.kind == .badCRC(expected: 0x716A_6189, actual: CRC32C.checksum(Array(bytes[21...]))))
        #expect(e.field == "crc")
        #expect(e.offset == 17)
        #expect(e.baseOffset == 0)
        #expect(e.message == "RecordBatch")
        // With verification off the same bytes decode.
        let (batches, _) = try RecordsReader.decodeAll(bytes, options: RecordDecodingOptions(verifyCRC: false), contexts: CompressionContexts())
        #expect(batches[0].records[0].valueBytes == Array("w".utf8))
    }

    @Test func errorOffsetsAreAbsoluteForALaterBatch() throws {
        var bytes = RecordBatchTests.golden + Self.batch(records: [0x10, 0, 0, 0, 2, 0x6B, 2, 0x76, 0])
        bytes[bytes.count - 1] = 0x02 // header count 1, no room for it; CRC now wrong too
        let e = try #require(decodeError(bytes))
        #expect(e.kind == .badCRC(expected: CRC32C.checksum(Array(Self.batch(records: [0x10, 0, 0, 0, 2, 0x6B, 2, 0x76, 0])[21...])),
                                  actual: CRC32C.checksum(Array(bytes[(RecordBatchTests.golden.count + 21)...]))))
        #expect(e.offset == RecordBatchTests.golden.count + 17)
        #expect(e.baseOffset == 500)
        // The first batch is still readable through the incremental reader.
        var reader = RecordsReader(bytes, contexts: CompressionContexts())
        #expect(try reader.next()?.records.count == 1)
        #expect(throws: KafkaDecodingError.self) { try reader.next() }
    }

    @Test func unknownCodecAndBadMagic() throws {
        let e = try #require(decodeError(Self.batch(records: [0x10, 0, 0, 0, 2, 0x6B, 2, 0x76, 0], attributes: 6)))
        #expect(e.kind == .unknownCodec(6))
        #expect(e.offset == 21)
        #expect(e.baseOffset == 500)
        var bad = RecordBatchTests.golden
        bad[16] = 3
        let m = try #require(decodeError(bad))
        #expect(m.field == "magic")
        #expect(m.offset == 16)
    }

    @Test func batchLengthTooShortOrNegative() throws {
        var short = RecordBatchTests.golden
        short[11] = 20 // 20 bytes cannot hold the 49-byte header rest
        let e = try #require(decodeError(short))
        #expect(e.field == "batchLength")
        #expect(e.baseOffset == 0)
        var negative = RecordBatchTests.golden
        negative[8] = 0xFF
        let n = try #require(decodeError(negative))
        #expect(n.kind == .negativeLength(Int(Int32(bitPattern: 0xFF00_003A))))
    }

    @Test func recordLevelMalformations() throws {
        let cases: [(String, [UInt8], Int32, KafkaDecodingError.Kind)] = [
            ("negative record length", [0x01], 1, .negativeLength(-1)),
            ("record length past end", [0x20, 0, 0, 0], 1, .lengthPastEnd(length: 16, available: 3)),
            ("negative key length", [0x08, 0, 0, 0, 0x03, 0x01, 0], 1, .negativeLength(-2)),
            ("key past record end", [0x0A, 0, 0, 0, 0x0A, 0x61, 0x01, 0], 1, .truncated(needed: 5, available: 1)),
            ("negative value length", [0x0C, 0, 0, 0, 0x01, 0x05, 0], 1, .negativeLength(-3)),
            ("overlong varint", [0x16, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], 1, .varintTooLong),
            ("negative header count", [0x0C, 0, 0, 0, 0x01, 0x01, 0x03], 1, .negativeLength(-2)),
            ("header count past end", [0x0C, 0, 0, 0, 0x01, 0x01, 0x20], 1, .lengthPastEnd(length: 16, available: 0)),
            ("negative header key", [0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x03, 0x01], 1, .negativeLength(-2)),
            ("trailing bytes in record", [0x10, 0, 0, 0, 0x01, 0x01, 0x00, 0x00, 0x00], 1, .trailingBytes(2)),
            ("fewer records than the count", [0x0C, 0, 0, 0, 0x01, 0x01, 0x00], 2, .truncated(needed: 1, available: 0)),
            ("more records than the count", [0x0C, 0, 0, 0, 0x01, 0x01, 0x00, 0x0C, 0, 0, 0x02, 0x01, 0x01, 0x00], 1, .trailingBytes(7)),
            ("negative record count", [], -1, .negativeLength(-1)),
        ]
        for (name, records, count, kind) in cases {
            let e = decodeError(Self.batch(records: records, count: count))
            #expect(e?.kind == kind, "\(name): \(String(describing: e))")
            #expect(e?.baseOffset == 500, "\(name)")
            #expect(e.map { $0.offset >= 61 || name == "negative record count" } == true, "\(name) offset \(String(describing: e?.offset))")
        }
    }

    @Test func hugeRecordCountDoesNotReserveMemory() throws {
        let e = try #require(decodeError(Self.batch(records: [0x0C, 0, 0, 0, 0x01, 0x01, 0x00], count: Int32.max)))
        #expect(e.kind == .truncated(needed: 1, available: 0))
    }

    @Test func offsetAndTimestampOverflowAreErrors() throws {
        var w = ByteWriter()
        w.writeInt64(Int64.max)
        let big = Array(w.bytes)
        var bytes = Self.batch(records: [0x0C, 0, 0, 0x02, 0x01, 0x01, 0x00], lastOffsetDelta: 1)
        bytes.replaceSubrange(0 ..< 8, with: big)
        let e = try #require(decodeError(bytes, options: RecordDecodingOptions(verifyCRC: false)))
        #expect(e.field == "record.offsetDelta")
        #expect(e.kind == .invalidValue("offset overflows"))
        let ts = Self.batch(records: [0x1A, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, 0x01, 0x01, 0x00])
        let t = try #require(decodeError(ts))
        #expect(t.field == "record.timestampDelta")
    }

    @Test func truncatedTailIsNotAnError() throws {
        let one = RecordBatchTests.golden
        let two = try RecordBatchEncoder.encode(RecordBatchTests.sampleRecords(20), options: RecordBatchOptions(baseOffset: 1),
                                                contexts: CompressionContexts())
        let all = one + two
        for cut in [one.count + 1, one.count + 11, one.count + 12, one.count + 61, all.count - 1] {
            let (batches, tail) = try RecordsReader.decodeAll(Array(all[..<cut]), contexts: CompressionContexts())
            #expect(batches.count == 1, "cut \(cut)")
            #expect(tail == cut - one.count, "cut \(cut)")
        }
        let (none, tail) = try RecordsReader.decodeAll(Array(one[..<30]), contexts: CompressionContexts())
        #expect(none.isEmpty && tail == 30)
        #expect(try RecordsReader.decodeAll([], contexts: CompressionContexts()).batches.isEmpty)
    }

    @Test func compressedBombInsideABatchIsBounded() throws {
        let bomb = try fixture("codecs/bomb-1gib-unsized.zst")
        let bytes = Self.batch(records: bomb, count: 1, attributes: 4)
        let e = try #require(decodeError(bytes, options: RecordDecodingOptions(decompressionLimit: DecompressionLimit(maxOutputBytes: 1 << 20))))
        #expect(e.kind == .decompressionLimitExceeded(limit: 1 << 20))
        #expect(e.baseOffset == 500)
        #expect(e.field.hasPrefix("records(zstd)"))
        let sized = Self.batch(records: try fixture("codecs/bomb-1gib-sized.zst"), count: 1, attributes: 4)
        #expect(decodeError(sized)?.kind == .decompressionLimitExceeded(limit: 256 << 20))
    }

    @Test func corruptCompressedPayloadIsTyped() throws {
        let bytes = Self.batch(records: [1, 2, 3, 4, 5, 6, 7, 8], count: 1, attributes: 3)
        let e = try #require(decodeError(bytes))
        guard case .corruptCompressedData = e.kind else { Issue.record("\(e)"); return }
        #expect(e.offset >= 61)
    }

    /// Random damage to valid inputs of every format: decoding may succeed or fail, but
    /// must not trap.
    @Test func mutationsNeverTrap() throws {
        let ctx = CompressionContexts()
        var inputs: [[UInt8]] = []
        for codec in CompressionCodec.allCases {
            inputs.append(try RecordBatchEncoder.encode(RecordBatchTests.sampleRecords(8), options: RecordBatchOptions(codec: codec), contexts: ctx))
        }
        for magic: Int8 in [0, 1] {
            for codec: CompressionCodec in [.none, .gzip, .lz4] {
                let plain = RecordBatchTests.sampleRecords(6).map { EncodableRecord(key: $0.key, value: $0.value, timestamp: $0.timestamp) }
                inputs.append(try LegacyMessageSetEncoder.encode(plain, magic: magic, codec: codec, contexts: ctx))
            }
        }
        var g = TestBytes(seed: 2024)
        let options = RecordDecodingOptions(verifyCRC: false, decompressionLimit: DecompressionLimit(maxOutputBytes: 1 << 20))
        var decodedSome = 0
        for input in inputs {
            for _ in 0 ..< 300 {
                var m = input
                let flips = 1 + Int(g.next() % 4)
                for _ in 0 ..< flips {
                    m[Int(g.next() % UInt64(m.count))] = UInt8(truncatingIfNeeded: g.next())
                }
                if g.next() % 4 == 0 { m.removeLast(Int(g.next() % UInt64(m.count))) }
                if (try? RecordsReader.decodeAll(m, options: options, contexts: ctx)) != nil { decodedSome += 1 }
                _ = try? RecordsReader.decodeAll(m, contexts: ctx)
            }
        }
        #expect(decodedSome > 0)
    }

    /// A record with offset delta `d` (zigzag 2d), null key and value, no headers.
    static func record(delta: UInt8) -> [UInt8] { [0x0C, 0, 0, delta, 0x01, 0x01, 0x00] }

    /// Offset deltas must rise and stay within the batch's last delta: a negative delta, one
    /// past the batch, a repeat or a step back would hand the user offsets the batch does not own.
    @Test func offsetDeltasOutsideTheBatchOrNotRisingAreErrors() throws {
        let cases: [(String, [UInt8], Int32, Int32?)] = [
            ("negative delta", Self.record(delta: 0x01), 1, nil),
            ("delta past the batch's last", Self.record(delta: 0x04), 1, 1),
            ("repeated delta", Self.record(delta: 0) + Self.record(delta: 0), 2, nil),
            ("falling delta", Self.record(delta: 0x02) + Self.record(delta: 0), 2, nil),
        ]
        for (name, records, count, last) in cases {
            let e = decodeError(Self.batch(records: records, count: count, lastOffsetDelta: last))
            #expect(e?.field == "record.offsetDelta", "\(name): \(String(describing: e))")
            #expect(e?.baseOffset == 500, "\(name)")
            if case .invalidValue = e?.kind {} else { Issue.record("\(name): \(String(describing: e))") }
        }
        // Gaps (a compacted batch) are fine: deltas 0 and 2 of a batch whose last delta is 3.
        let (batches, _) = try RecordsReader.decodeAll(Self.batch(records: Self.record(delta: 0) + Self.record(delta: 0x04), count: 2, lastOffsetDelta: 3),
                                                       contexts: CompressionContexts())
        #expect(batches[0].records.map(\.offset) == [500, 502])
    }

    /// A control batch (attributes 0x20) must hold control records: a null key, or one too
    /// short for version and type, is a decoding error; a real marker decodes.
    @Test func controlBatchHoldingANonControlRecordIsAnError() throws {
        let marker: [UInt8] = [0x14, 0, 0, 0, 0x08, 0, 0, 0, 1, 0x01, 0x00]       // key v0 COMMIT, null value
        let (batches, _) = try RecordsReader.decodeAll(Self.batch(records: marker, attributes: 0x20), contexts: CompressionContexts())
        #expect(try ControlRecord(parsing: batches[0].records[0]).type == .commit)
        for (name, records) in [("null key", Self.record(delta: 0)), ("2-byte key", [0x10, 0, 0, 0, 0x04, 0, 0, 0x01, 0x00] as [UInt8])] {
            let e = decodeError(Self.batch(records: records, attributes: 0x20))
            #expect(e?.field == "records(control)", "\(name): \(String(describing: e))")
            #expect(e?.baseOffset == 500, "\(name)")
            // The same record in a data batch is fine.
            #expect(decodeError(Self.batch(records: records)) == nil, "\(name)")
        }
    }
}
