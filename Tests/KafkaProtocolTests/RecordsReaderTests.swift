import Testing
@testable import KafkaProtocol

@Suite struct RecordsReaderTests {
    @Test func mixedFormatsInOneBlob() throws {
        let ctx = CompressionContexts()
        let plain = (0 ..< 3).map { EncodableRecord(key: nil, value: Array("m\($0)".utf8), timestamp: 10 + Int64($0)) }
        var w = ByteWriter()
        try LegacyMessageSetEncoder.encode(plain, magic: 0, codec: .none, baseOffset: 0, contexts: ctx, into: &w)
        try LegacyMessageSetEncoder.encode(plain, magic: 1, codec: .gzip, baseOffset: 3, contexts: ctx, into: &w)
        try RecordBatchEncoder.encode(plain, options: RecordBatchOptions(baseOffset: 6, codec: .zstd), contexts: ctx, into: &w)
        try RecordBatchEncoder.encode(plain, options: RecordBatchOptions(baseOffset: 9), contexts: ctx, into: &w)
        let full = w.bytes
        let cut = try RecordBatchEncoder.encode(plain, options: RecordBatchOptions(baseOffset: 12), contexts: ctx)
        let (batches, tail) = try RecordsReader.decodeAll(full + Array(cut.prefix(40)), contexts: ctx)
        #expect(tail == 40)
        #expect(batches.map(\.magic) == [0, 0, 0, 1, 2, 2])
        #expect(batches.flatMap(\.records).map(\.offset) == Array(0 ..< 12))
        #expect(batches.flatMap(\.records).map { $0.valueBytes! } == (0 ..< 4).flatMap { _ in (0 ..< 3).map { Array("m\($0)".utf8) } })
    }

    @Test func totalDecompressionBudgetSpansBatches() throws {
        let ctx = CompressionContexts()
        let big = [EncodableRecord(value: [UInt8](repeating: 7, count: 300_000), timestamp: 0)]
        var w = ByteWriter()
        for i in 0 ..< 4 {
            try RecordBatchEncoder.encode(big, options: RecordBatchOptions(baseOffset: Int64(i), codec: .zstd), contexts: ctx, into: &w)
        }
        // Each batch is under the per-batch limit; together they exceed the total.
        let options = RecordDecodingOptions(decompressionLimit: DecompressionLimit(maxOutputBytes: 400_000),
                                            totalDecompressionLimit: DecompressionLimit(maxOutputBytes: 1_000_000))
        var reader = RecordsReader(w.bytes, options: options, contexts: ctx)
        for _ in 0 ..< 3 { #expect(try reader.next() != nil) }
        #expect(reader.decompressedBytes > 900_000)
        do {
            _ = try reader.next()
            Issue.record("total budget not enforced")
        } catch {
            guard case .decompressionLimitExceeded = error.kind else { Issue.record("\(error)"); return }
            #expect(error.baseOffset == 3)
        }
        // With the default budget all four decode.
        #expect(try RecordsReader.decodeAll(w.bytes, contexts: ctx).batches.count == 4)
    }

    @Test func unknownMagicAndShortLength() throws {
        let ctx = CompressionContexts()
        var bad = RecordBatchTests.golden
        bad[16] = 9
        #expect(throws: KafkaDecodingError(message: "Records", field: "magic", offset: 16, kind: .invalidValue("unknown magic 9"), baseOffset: 0)) {
            try RecordsReader.decodeAll(bad, contexts: ctx)
        }
        let short: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0]
        #expect(throws: KafkaDecodingError.self) { try RecordsReader.decodeAll(short, contexts: ctx) }
    }
}
