import Testing
@testable import KafkaProtocol

/// A producer's v2 record bodies written as legacy message sets (for brokers before 0.11):
/// the same records come back through the reader, in every codec message sets carry.
@Suite struct LegacyMessageSetBodyTests {
    static func body(_ records: [EncodableRecord]) -> (body: [UInt8], base: Int64) {
        var body: [UInt8] = []
        let base = records[0].timestamp
        for (i, r) in records.enumerated() {
            RecordBatchEncoder.appendRecordBody(key: r.key, value: r.value, headers: r.headers, offsetDelta: Int32(i),
                                                timestampDelta: r.timestamp - base, to: &body)
        }
        return (body, base)
    }

    @Test(arguments: [Int8(0), 1], [CompressionCodec.none, .gzip, .snappy, .lz4])
    func bodiesRoundTrip(magic: Int8, codec: CompressionCodec) throws {
        let ctx = CompressionContexts()
        // Timestamps out of order: deltas may be negative.
        var recs = LegacyMessageSetTests.records(9)
        recs[3].timestamp -= 500
        let (body, base) = Self.body(recs)
        var w = ByteWriter(capacity: 64)
        try LegacyMessageSetEncoder.encode(v2Body: body, count: recs.count, baseTimestamp: base, magic: magic, codec: codec,
                                           contexts: ctx, into: &w)
        #expect(w.bytes == (try LegacyMessageSetEncoder.encode(recs, magic: magic, codec: codec, contexts: ctx)))
        let (batches, tail) = try RecordsReader.decodeAll(w.bytes, contexts: ctx)
        #expect(tail == 0)
        let all = batches.flatMap(\.records)
        #expect(all.map(\.offset) == (0 ..< 9).map(Int64.init))
        #expect(all.map(\.keyBytes) == recs.map(\.key))
        #expect(all.map(\.valueBytes) == recs.map(\.value))
        #expect(all.map(\.timestamp) == recs.map { magic == 0 ? -1 : $0.timestamp })
    }

    @Test func headersAndMalformedBodiesAreEncodingErrors() {
        let ctx = CompressionContexts()
        let (body, base) = Self.body([EncodableRecord(value: [1], headers: [RecordHeader(key: "h", value: nil)], timestamp: 5)])
        var w = ByteWriter(capacity: 64)
        #expect(throws: KafkaEncodingError.self) {
            try LegacyMessageSetEncoder.encode(v2Body: body, count: 1, baseTimestamp: base, magic: 1, codec: .none, contexts: ctx, into: &w)
        }
        // A body cut short, and a count beyond what the body holds.
        let (plain, _) = Self.body([EncodableRecord(value: [1, 2, 3], timestamp: 5)])
        for (bytes, count) in [(Array(plain.dropLast()), 1), (plain, 2)] {
            #expect(throws: KafkaEncodingError.self) {
                try LegacyMessageSetEncoder.encode(v2Body: bytes, count: count, baseTimestamp: 5, magic: 0, codec: .none, contexts: ctx, into: &w)
            }
        }
    }
}
