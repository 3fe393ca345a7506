import Testing
@testable import KafkaProtocol

@Suite struct RecordBatchTests {
    /// One record (key "k", value "v", timestamp 1000) in an uncompressed v2 batch, written
    /// field by field from the protocol documentation. The CRC-32C was computed with an
    /// independent implementation (kafka-python's) over attributes..end.
    static let golden: [UInt8] = [
        0, 0, 0, 0, 0, 0, 0, 0, // baseOffset 0
        0, 0, 0, 58, // batchLength: 49 header bytes after this field + 9 record bytes
        0xFF, 0xFF, 0xFF, 0xFF, // partitionLeaderEpoch -1
        2, // magic
        0x71, 0x6A, 0x61, 0x89, // crc
        0, 0, // attributes: no codec, create time
        0, 0, 0, 0, // lastOffsetDelta 0
        0, 0, 0, 0, 0, 0, 0x03, 0xE8, // baseTimestamp 1000
        0, 0, 0, 0, 0, 0, 0x03, 0xE8, // maxTimestamp 1000
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // producerId -1
        0xFF, 0xFF, // producerEpoch -1
        0xFF, 0xFF, 0xFF, 0xFF, // baseSequence -1
        0, 0, 0, 1, // record count 1
        0x10, // record length 8 (zig-zag)
        0x00, // attributes
        0x00, // timestampDelta 0
        0x00, // offsetDelta 0
        0x02, 0x6B, // key length 1, "k"
        0x02, 0x76, // value length 1, "v"
        0x00, // header count 0
    ]

    @Test func encoderProducesTheGoldenBatch() throws {
        let bytes = try RecordBatchEncoder.encode([EncodableRecord(key: Array("k".utf8), value: Array("v".utf8), timestamp: 1000)],
                                                  contexts: CompressionContexts())
        #expect(bytes == Self.golden)
    }

    @Test func decoderReadsTheGoldenBatch() throws {
        let (batches, tail) = try RecordsReader.decodeAll(Self.golden, contexts: CompressionContexts())
        #expect(tail == 0)
        let b = try #require(batches.first)
        #expect(batches.count == 1)
        #expect(b.header == RecordBatchHeader(baseOffset: 0, batchLength: 58, partitionLeaderEpoch: -1, magic: 2, crc: 0x716A_6189,
                                              attributes: RecordBatchAttributes(rawValue: 0), lastOffsetDelta: 0, baseTimestamp: 1000,
                                              maxTimestamp: 1000, producerId: -1, producerEpoch: -1, baseSequence: -1, recordCount: 1))
        #expect(b.records.count == 1)
        #expect(b.records[0].offset == 0)
        #expect(b.records[0].timestamp == 1000)
        #expect(b.records[0].keyBytes == Array("k".utf8))
        #expect(b.records[0].valueBytes == Array("v".utf8))
        #expect(b.header.nextOffset == 1)
    }

    static func sampleRecords(_ n: Int) -> [EncodableRecord] {
        (0 ..< n).map { i in
            EncodableRecord(
                key: i % 5 == 0 ? nil : Array("key-\(i)".utf8),
                value: i % 7 == 0 ? nil : Array(String(repeating: "value \(i) ", count: i % 13).utf8),
                headers: i % 3 == 0 ? [RecordHeader(key: "trace", value: Array("id-\(i)".utf8)), RecordHeader(key: "null", value: nil)] : [],
                timestamp: 1_700_000_000_000 + Int64(i * 17) - (i == 3 ? 5000 : 0))
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func roundTripsWithEveryCodec(codec: CompressionCodec) throws {
        let ctx = CompressionContexts()
        let records = Self.sampleRecords(200)
        let options = RecordBatchOptions(baseOffset: 1_000_000, partitionLeaderEpoch: 7, codec: codec, isTransactional: true,
                                         producerId: 4242, producerEpoch: 3, baseSequence: 99)
        let bytes = try RecordBatchEncoder.encode(records, options: options, contexts: ctx)
        let (batches, tail) = try RecordsReader.decodeAll(bytes, contexts: ctx)
        #expect(tail == 0)
        let b = try #require(batches.first)
        #expect(b.codec == codec)
        #expect(b.isTransactional)
        #expect(!b.isControl)
        #expect(b.header.partitionLeaderEpoch == 7)
        #expect(b.header.producerId == 4242)
        #expect(b.header.producerEpoch == 3)
        #expect(b.header.baseSequence == 99)
        #expect(b.header.lastOffsetDelta == 199)
        #expect(b.header.maxTimestamp == records.map(\.timestamp).max())
        #expect(b.header.nextOffset == 1_000_200)
        #expect(b.records.count == records.count)
        for (i, (got, want)) in zip(b.records, records).enumerated() {
            #expect(got.offset == 1_000_000 + Int64(i))
            #expect(got.timestamp == want.timestamp)
            #expect(got.keyBytes == want.key)
            #expect(got.valueBytes == want.value)
            #expect(got.headers == want.headers)
        }
    }

    @Test func logAppendTimeUsesMaxTimestamp() throws {
        var w = ByteWriter()
        try RecordBatchEncoder.encode(Self.sampleRecords(3), options: RecordBatchOptions(timestampType: .logAppendTime),
                                      contexts: CompressionContexts(), into: &w)
        let b = try #require(try RecordsReader.decodeAll(w.bytes, contexts: CompressionContexts()).batches.first)
        #expect(b.header.attributes.timestampType == .logAppendTime)
        #expect(b.records.allSatisfy { $0.timestamp == b.header.maxTimestamp })
    }

    @Test func controlRecordsRoundTrip() throws {
        let ctx = CompressionContexts()
        for commit in [true, false] {
            let bytes = try ControlRecord.endTransactionMarkerBatch(commit: commit, producerId: 77, producerEpoch: 2, coordinatorEpoch: 12,
                                                                   timestamp: 5, baseOffset: 40, contexts: ctx)
            let b = try #require(try RecordsReader.decodeAll(bytes, contexts: ctx).batches.first)
            #expect(b.isControl && b.isTransactional)
            #expect(b.header.producerId == 77)
            let marker = try ControlRecord(parsing: try #require(b.records.first))
            #expect(marker == ControlRecord(version: 0, type: commit ? .commit : .abort, coordinatorEpoch: 12))
            // Key bytes: version 0, type 1 (commit) / 0 (abort); value: version 0, epoch 12.
            #expect(b.records[0].keyBytes == [0, 0, 0, commit ? 1 : 0])
            #expect(b.records[0].valueBytes == [0, 0, 0, 0, 0, 12])
        }
    }

    @Test func controlRecordWithUnknownTypeAndShortKey() throws {
        let ctx = CompressionContexts()
        let rec = ControlRecord(type: .unknown(9)).encodedRecord(timestamp: 0)
        let bytes = try RecordBatchEncoder.encode([rec], options: RecordBatchOptions(isControl: true), contexts: ctx)
        let b = try #require(try RecordsReader.decodeAll(bytes, contexts: ctx).batches.first)
        #expect(try ControlRecord(parsing: b.records[0]).type == .unknown(9))
        let short = try RecordBatchEncoder.encode([EncodableRecord(key: [0], value: nil, timestamp: 0)], options: RecordBatchOptions(isControl: true), contexts: ctx)
        // A key too short for version and type is no control record: the batch is corrupt.
        let e = #expect(throws: KafkaDecodingError.self) { try RecordsReader.decodeAll(short, contexts: ctx) }
        #expect(e?.field == "records(control)")
    }

    @Test func brokerSidePatches() throws {
        let ctx = CompressionContexts()
        var bytes = RecordBatchTests.golden + (try RecordBatchEncoder.encode(Self.sampleRecords(4), options: RecordBatchOptions(codec: .lz4), contexts: ctx))
        let second = RecordBatchTests.golden.count
        try RecordBatchPatch.setBaseOffset(&bytes, batchAt: second, 77)
        try RecordBatchPatch.setPartitionLeaderEpoch(&bytes, batchAt: second, 9)
        try RecordBatchPatch.setLogAppendTime(&bytes, batchAt: second, timestamp: 123_456)
        let b = try RecordsReader.decodeAll(bytes, contexts: ctx).batches[1] // CRC verified
        #expect(b.baseOffset == 77 && b.header.partitionLeaderEpoch == 9)
        #expect(b.header.attributes.timestampType == .logAppendTime && b.codec == .lz4)
        #expect(b.records.map(\.offset) == [77, 78, 79, 80])
        #expect(b.records.allSatisfy { $0.timestamp == 123_456 })
        #expect(throws: KafkaEncodingError.self) { try RecordBatchPatch.setBaseOffset(&bytes, batchAt: 3, 1) }
        #expect(throws: KafkaEncodingError.self) { try RecordBatchPatch.setBaseOffset(&bytes, batchAt: bytes.count - 10, 1) }
    }

    @Test func headerAloneWithoutDecodingRecords() throws {
        let ctx = CompressionContexts()
        let second = try RecordBatchEncoder.encode(Self.sampleRecords(5), options: RecordBatchOptions(baseOffset: 10, codec: .zstd, producerId: 3), contexts: ctx)
        let bytes = RecordBatchTests.golden + second
        let h = try RecordBatchHeader(decoding: bytes, batchAt: RecordBatchTests.golden.count)
        #expect(h.baseOffset == 10 && h.recordCount == 5 && h.producerId == 3 && h.attributes.codec == .zstd)
        #expect(h.totalSize == second.count)
        var bad = bytes
        bad[bad.count - 1] ^= 1
        #expect(throws: KafkaDecodingError.self) { try RecordBatchHeader(decoding: bad, batchAt: RecordBatchTests.golden.count) }
        #expect(try RecordBatchHeader(decoding: bad, batchAt: RecordBatchTests.golden.count, verifyCRC: false).recordCount == 5)
        #expect(throws: KafkaDecodingError.self) { try RecordBatchHeader(decoding: Array(bytes.dropLast()), batchAt: RecordBatchTests.golden.count) }
        #expect(throws: KafkaDecodingError.self) { try RecordBatchHeader(decoding: bytes, batchAt: bytes.count + 5) }
    }

    @Test func deleteHorizonBitRoundTrips() throws {
        let ctx = CompressionContexts()
        let bytes = try RecordBatchEncoder.encode(Self.sampleRecords(1), options: RecordBatchOptions(hasDeleteHorizon: true), contexts: ctx)
        #expect(bytes[22] == 0x40)
        #expect(try RecordsReader.decodeAll(bytes, contexts: ctx).batches[0].header.attributes.hasDeleteHorizon)
    }

    @Test func encodedSizePredictsTheBatchSize() throws {
        let records = Self.sampleRecords(50)
        let base = records[0].timestamp
        var total = RecordBatchEncoder.batchHeaderSize
        for (i, r) in records.enumerated() {
            total += try #require(RecordBatchEncoder.encodedSize(of: r, offsetDelta: Int32(i), timestampDelta: r.timestamp - base))
        }
        #expect(try RecordBatchEncoder.encode(records, contexts: CompressionContexts()).count == total)
    }

    /// A producer sizes a record once at deltas 0 and derives its size at the deltas it
    /// lands at; the derived size must equal sizing from scratch, across varint widths.
    @Test func recordSizeFromTheBaseBodyMatchesSizingFromScratch() throws {
        let headers = [RecordHeader(key: "h", value: [1, 2]), RecordHeader(key: "n", value: nil)]
        let values: [[UInt8]?] = [nil, [], Array(repeating: 7, count: 60), Array(repeating: 7, count: 200)]
        let offsets: [Int32] = [0, 1, 63, 64, 8191, 8192, 1_000_000, .max]
        let stamps: [Int64] = [0, 1, -1, 63, 64, -65, 1_000_000_000, .min, .max]
        for value in values {
            let base = try #require(RecordBatchEncoder.recordSize(key: [1], value: value, headers: headers, offsetDelta: 0, timestampDelta: 0))
            for o in offsets {
                for t in stamps {
                    let direct = try #require(RecordBatchEncoder.recordSize(key: [1], value: value, headers: headers, offsetDelta: o, timestampDelta: t))
                    let derived = try #require(RecordBatchEncoder.recordSize(baseBody: base.body, offsetDelta: o, timestampDelta: t))
                    #expect(derived.body == direct.body && derived.all == direct.all, "offset delta \(o), timestamp delta \(t)")
                }
            }
        }
    }

    /// Small records are staged whole and appended once; larger ones go piece by piece.
    /// Both write the same bytes, whatever the fields, on either side of the limit.
    @Test func stagedAndPiecewiseRecordBodiesAreTheSameBytes() throws {
        let keys: [[UInt8]?] = [nil, [], [7], Array(repeating: 9, count: 300)]
        let headerSets: [[RecordHeader]] = [[], [RecordHeader(key: "h", value: nil)],
                                            [RecordHeader(key: "ünï", value: [1, 2]), RecordHeader(key: "", value: [])]]
        var staged = 0, piecewise = 0
        for key in keys {
            for valueCount in [-1, 0, 1, 100, 180, 450, 510, 600] {
                let value: [UInt8]? = valueCount < 0 ? nil : (0 ..< valueCount).map { UInt8(truncatingIfNeeded: $0) }
                for headers in headerSets {
                    for (o, t) in [(Int32(0), Int64(0)), (Int32(70_000), Int64(-5)), (Int32.max, Int64.max)] {
                        let size = try #require(RecordBatchEncoder.recordSize(key: key, value: value, headers: headers,
                                                                               offsetDelta: o, timestampDelta: t))
                        var a: [UInt8] = [0xAB]
                        var b: [UInt8] = [0xAB]
                        RecordBatchEncoder.appendRecordBody(key: key, value: value, headers: headers, offsetDelta: o,
                                                            timestampDelta: t, size: size, to: &a)
                        RecordBatchEncoder.appendRecordBodyPiecewise(key: key, value: value, headers: headers, offsetDelta: o,
                                                                     timestampDelta: t, size: size, to: &b)
                        #expect(a == b)
                        #expect(a.count == 1 + size.all)
                        if RecordBatchEncoder.stagedBound(key: key, value: value, headers: headers) <= RecordBatchEncoder.stagedRecordLimit {
                            staged += 1
                        } else {
                            piecewise += 1
                        }
                        #expect(size.all <= RecordBatchEncoder.stagedBound(key: key, value: value, headers: headers), "the bound holds")
                    }
                }
            }
        }
        #expect(staged > 0 && piecewise > 0, "both paths ran")
    }

    /// The staging decision does not trust the caller's size: a record too large for the
    /// stack buffer, passed with a size that says it fits, is written piece by piece (with
    /// that wrong length prefix) rather than past the buffer.
    @Test func aWrongSizeNeverStagesALargeRecord() {
        let value = [UInt8](repeating: 5, count: 600)
        var body: [UInt8] = []
        RecordBatchEncoder.appendRecordBody(key: nil, value: value, headers: [], offsetDelta: 0, timestampDelta: 0,
                                            size: (body: 10, all: 11), to: &body)
        // varint(10), attributes, two zero deltas, key -1, value length (2 bytes), the value, no headers.
        #expect(body.count == 1 + 1 + 1 + 1 + 1 + 2 + 600 + 1)
        #expect(body.suffix(601).prefix(600).allSatisfy { $0 == 5 })
    }

    @Test func emptyBatchIsRefusedOnEncode() {
        #expect(throws: KafkaEncodingError.self) { try RecordBatchEncoder.encode([], contexts: CompressionContexts()) }
    }

    @Test func recordsShareTheBatchBuffer() throws {
        let bytes = try RecordBatchEncoder.encode(Self.sampleRecords(10), contexts: CompressionContexts())
        let b = try #require(try RecordsReader.decodeAll(bytes, contexts: CompressionContexts()).batches.first)
        // Uncompressed: the key is a view of the input array itself, not a copy.
        let r = b.records[1]
        let key = try #require(r.key)
        #expect(Array(bytes[key.indices]) == Array("key-1".utf8))
    }

    @Test(arguments: ["none", "gzip", "snappy", "lz4", "zstd"])
    func decodesKafkaPythonBatches(codec: String) throws {
        let bytes = try fixture("records/kafka-python-v2-\(codec).bin")
        let (batches, tail) = try RecordsReader.decodeAll(bytes, contexts: CompressionContexts())
        #expect(tail == 0)
        let b = try #require(batches.first)
        #expect(b.codec.description == codec)
        #expect(b.records.count == 50)
        for (i, r) in b.records.enumerated() {
            #expect(r.offset == Int64(i))
            #expect(r.timestamp == 1_700_000_000_000 + Int64(i * 3))
            #expect(r.keyBytes == (i % 7 == 0 ? nil : Array("key-\(i)".utf8)))
            #expect(r.valueBytes == (i % 11 == 0 ? nil : Array(String(repeating: "value-\(i)-", count: 5).utf8)))
            let headers = i % 3 == 0 ? [RecordHeader(key: "h\(i)", value: Array("hv".utf8)), RecordHeader(key: "n", value: nil)] : []
            #expect(r.headers == headers)
        }
    }
}
