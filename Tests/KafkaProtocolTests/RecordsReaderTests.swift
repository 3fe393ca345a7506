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
