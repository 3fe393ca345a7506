import Testing
@testable import KafkaProtocol

@Suite struct LegacyMessageSetTests {
    /// A magic 0 message (offset 0, null key, value "hi"), written field by field from the
    /// protocol documentation; the CRC-32 comes from zlib run separately.
    static let goldenMagic0: [UInt8] = [
        0, 0, 0, 0, 0, 0, 0, 0, // offset 0
        0, 0, 0, 16, // message size: crc 4 + magic 1 + attributes 1 + key 4 + value 4 + 2
        0xFD, 0x6E, 0xBD, 0xDB, // crc over magic..end
        0, // magic
        0, // attributes
        0xFF, 0xFF, 0xFF, 0xFF, // key: null
        0, 0, 0, 2, 0x68, 0x69, // value "hi"
    ]

    /// The same as magic 1 with timestamp 1000.
    static let goldenMagic1: [UInt8] = [
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 24,
        0x06, 0x61, 0x4B, 0x6D,
        1, // magic
        0, // attributes (create time)
        0, 0, 0, 0, 0, 0, 0x03, 0xE8, // timestamp 1000
        0xFF, 0xFF, 0xFF, 0xFF,
        0, 0, 0, 2, 0x68, 0x69,
    ]

    @Test func encoderProducesTheGoldenMessages() throws {
        let ctx = CompressionContexts()
        let r = [EncodableRecord(key: nil, value: Array("hi".utf8), timestamp: 1000)]
        #expect(try LegacyMessageSetEncoder.encode(r, magic: 0, contexts: ctx) == Self.goldenMagic0)
        #expect(try LegacyMessageSetEncoder.encode(r, magic: 1, contexts: ctx) == Self.goldenMagic1)
    }

    @Test func decoderReadsTheGoldenMessages() throws {
        let ctx = CompressionContexts()
        for (bytes, magic, ts) in [(Self.goldenMagic0, Int8(0), Int64(-1)), (Self.goldenMagic1, 1, 1000)] {
            let (batches, tail) = try RecordsReader.decodeAll(bytes, contexts: ctx)
            #expect(tail == 0)
            let b = try #require(batches.first)
            #expect(b.magic == magic)
            #expect(b.codec == .none)
            #expect(b.records.count == 1)
            #expect(b.records[0].key == nil)
            #expect(b.records[0].valueBytes == Array("hi".utf8))
            #expect(b.records[0].timestamp == ts)
            #expect(b.header.producerId == -1)
        }
    }

    @Test func badCRCAndBadLengths() throws {
        let ctx = CompressionContexts()
        var bad = Self.goldenMagic1
        bad[bad.count - 1] ^= 0x20
        do {
            _ = try RecordsReader.decodeAll(bad, contexts: ctx)
            Issue.record("bad CRC accepted")
        } catch {
            guard case .badCRC(expected: 0x0661_4B6D, _) = error.kind else { Issue.record("\(error)"); return }
            #expect(error.offset == 12)
            #expect(error.message == "LegacyMessage")
            #expect(error.baseOffset == 0)
        }
        var negKey = Self.goldenMagic0
        negKey.replaceSubrange(18 ..< 22, with: [0xFF, 0xFF, 0xFF, 0xFE])
        #expect(throws: KafkaDecodingError(message: "LegacyMessage", field: "keyLength", offset: 18, kind: .negativeLength(-2), baseOffset: 0)) {
            try RecordsReader.decodeAll(negKey, options: RecordDecodingOptions(verifyCRC: false), contexts: ctx)
        }
        var longValue = Self.goldenMagic0
        longValue[25] = 9
        #expect(throws: KafkaDecodingError.self) {
            try RecordsReader.decodeAll(longValue, options: RecordDecodingOptions(verifyCRC: false), contexts: ctx)
        }
    }

    static func records(_ n: Int) -> [EncodableRecord] {
        var out: [EncodableRecord] = []
        for i in 0 ..< n {
            let key: [UInt8]? = i % 4 == 0 ? nil : Array("k\(i)".utf8)
            let value: [UInt8]? = i % 6 == 5 ? nil : Array(String(repeating: "v\(i)", count: 10).utf8)
            let ts: Int64 = 1_600_000_000_000 + Int64(i)
            out.append(EncodableRecord(key: key, value: value, timestamp: ts))
        }
        return out
    }

    @Test(arguments: [Int8(0), 1], [CompressionCodec.none, .gzip, .snappy, .lz4, .zstd])
    func roundTrips(magic: Int8, codec: CompressionCodec) throws {
        let ctx = CompressionContexts()
        let recs = Self.records(12)
        let bytes = try LegacyMessageSetEncoder.encode(recs, magic: magic, codec: codec, baseOffset: 300, contexts: ctx)
        let (batches, tail) = try RecordsReader.decodeAll(bytes, contexts: ctx)
        #expect(tail == 0)
        let all = batches.flatMap(\.records)
        #expect(all.count == 12)
        #expect(batches.count == (codec == .none ? 12 : 1))
        for (i, (got, want)) in zip(all, recs).enumerated() {
            #expect(got.offset == 300 + Int64(i), "magic \(magic) \(codec)")
            #expect(got.keyBytes == want.key)
            #expect(got.valueBytes == want.value)
            #expect(got.timestamp == (magic == 0 ? -1 : want.timestamp))
        }
        if codec != .none {
            #expect(batches[0].codec == codec)
            #expect(batches[0].header.nextOffset == 312)
        }
    }

    @Test func magic1WrapperOffsetsAreRelativeToTheLastInner() throws {
        // A broker assigns the wrapper the absolute offset of the last inner message and
        // leaves inner offsets relative: rewrite our wrapper's offset as a broker would.
        let ctx = CompressionContexts()
        var bytes = try LegacyMessageSetEncoder.encode(Self.records(5), magic: 1, codec: .gzip, contexts: ctx)
        var w = ByteWriter()
        w.writeInt64(1004)
        bytes.replaceSubrange(0 ..< 8, with: w.bytes)
        let recs = try RecordsReader.decodeAll(bytes, contexts: ctx).batches.flatMap(\.records)
        #expect(recs.map(\.offset) == [1000, 1001, 1002, 1003, 1004])
        // A wrapper below its last inner offset (and not 0) is invalid.
        w = ByteWriter()
        w.writeInt64(2)
        bytes.replaceSubrange(0 ..< 8, with: w.bytes)
        #expect(throws: KafkaDecodingError.self) { try RecordsReader.decodeAll(bytes, contexts: ctx) }
        // Offset 0 (some librdkafka producers): inner offsets as they are.
        w = ByteWriter()
        w.writeInt64(0)
        bytes.replaceSubrange(0 ..< 8, with: w.bytes)
        #expect(try RecordsReader.decodeAll(bytes, contexts: ctx).batches.flatMap(\.records).map(\.offset) == [0, 1, 2, 3, 4])
    }

    /// Found by fuzzing: a wrapper at Int64.max over inner offsets near Int64.min
    /// overflowed the relative-offset arithmetic.
    @Test func extremeWrapperAndInnerOffsetsAreAnErrorNotATrap() throws {
        let ctx = CompressionContexts()
        let inner = try LegacyMessageSetEncoder.encode(Self.records(2), magic: 1, baseOffset: Int64.min, contexts: ctx)
        let compressed = try ctx.compress(.gzip, inner)
        var w = ByteWriter()
        try LegacyMessageSetEncoder.writeMessage(offset: Int64.max, magic: 1, attributes: 1, timestamp: 0, key: nil, value: compressed, into: &w)
        #expect(throws: KafkaDecodingError.self) { try RecordsReader.decodeAll(w.bytes, contexts: ctx) }
    }

    @Test func magic1LogAppendTimeWrapperOverridesInnerTimestamps() throws {
        let ctx = CompressionContexts()
        let bytes = try LegacyMessageSetEncoder.encode(Self.records(3), magic: 1, codec: .snappy, timestampType: .logAppendTime, contexts: ctx)
        let b = try #require(try RecordsReader.decodeAll(bytes, contexts: ctx).batches.first)
        #expect(b.header.attributes.timestampType == .logAppendTime)
        #expect(b.records.allSatisfy { $0.timestamp == 1_600_000_000_002 })
    }

    @Test func magic0LZ4UsesTheKafka3160Checksum() throws {
        let ctx = CompressionContexts()
        let bytes = try LegacyMessageSetEncoder.encode(Self.records(3), magic: 0, codec: .lz4, contexts: ctx)
        // The wrapper value starts after offset, size, crc, magic, attributes, null key, value length.
        let valueAt: Int = 26
        let frame = Array(bytes[valueAt...])
        #expect(throws: KafkaDecodingError.self) { try ctx.decompress(.lz4, frame) }
        #expect(try ctx.decompress(.lz4, frame, legacyLZ4HeaderChecksum: true).count > 0)
        let magic1 = try LegacyMessageSetEncoder.encode(Self.records(3), magic: 1, codec: .lz4, contexts: ctx)
        let valueAt1: Int = 34 // plus the timestamp
        let frame1 = Array(magic1[valueAt1...])
        #expect(try ctx.decompress(.lz4, frame1).count > 0)
    }

    @Test func headersNeedMagic2() {
        let r = [EncodableRecord(value: [1], headers: [RecordHeader(key: "a", value: nil)], timestamp: 0)]
        #expect(throws: KafkaEncodingError.self) { try LegacyMessageSetEncoder.encode(r, magic: 1, contexts: CompressionContexts()) }
    }

    @Test(arguments: [Int8(0), 1], ["none", "gzip", "snappy", "lz4"])
    func decodesKafkaPythonMessageSets(magic: Int8, codec: String) throws {
        let bytes = try fixture("records/kafka-python-magic\(magic)-\(codec).bin")
        let (batches, tail) = try RecordsReader.decodeAll(bytes, contexts: CompressionContexts())
        #expect(tail == 0)
        let recs = batches.flatMap(\.records)
        #expect(recs.count == 20)
        for (i, r) in recs.enumerated() {
            #expect(r.offset == Int64(i))
            #expect(r.timestamp == (magic == 0 ? -1 : 1_700_000_000_000 + Int64(i * 3)))
            #expect(r.keyBytes == (i % 7 == 0 ? nil : Array("key-\(i)".utf8)))
            #expect(r.valueBytes == (i % 11 == 0 ? nil : Array(String(repeating: "value-\(i)-", count: 5).utf8)))
        }
    }
}
