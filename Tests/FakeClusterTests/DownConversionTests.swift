@testable import FakeCluster
import Testing

/// A Fetch below v4 gets legacy messages; a compressed batch goes out as one wrapper
/// message compressed with the batch's codec, as Kafka down-converts.
@Suite struct DownConversionTests {
    private func produceAndFetchOld(codec: CompressionCodec, fetchVersion: Int16) throws -> [UInt8] {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        var c = WireClient(&cluster, broker: leader)
        var options = RecordBatchOptions()
        options.codec = codec
        let records = (0 ..< 3).map { EncodableRecord(value: Array("value-\($0)".utf8), timestamp: 1_000 + Int64($0)) }
        let batch = try RecordBatchEncoder.encode(records, options: options, contexts: CompressionContexts())
        let p = try c.call(produceRequest("t", 0, batch), version: 7, on: &cluster)
        try #require(p.responses.first?.partitionResponses.first?.errorCode == 0)
        let f = try c.call(fetchRequest("t", 0, offset: 0, maxWaitMs: 0), version: fetchVersion, on: &cluster)
        return try #require(f.responses.first?.partitions.first?.records)
    }

    @Test(arguments: [(CompressionCodec.gzip, Int16(3)), (.snappy, 2), (.lz4, 3), (.gzip, 1), (.lz4, 0)])
    func compressedBatchesStayCompressed(codec: CompressionCodec, fetchVersion: Int16) throws {
        let legacy = try produceAndFetchOld(codec: codec, fetchVersion: fetchVersion)
        // One wrapper message: offset(8) size(4) crc(4) magic(1) attributes(1).
        try #require(legacy.count > 18)
        #expect(legacy[16] == (fetchVersion >= 2 ? 1 : 0))
        #expect(Int(legacy[17] & 0x07) == Int(codec.rawValue))
        let wrapperSize = Int(UInt32(legacy[8]) << 24 | UInt32(legacy[9]) << 16 | UInt32(legacy[10]) << 8 | UInt32(legacy[11]))
        #expect(wrapperSize + 12 == legacy.count, "a single wrapper message")
        let decoded = try RecordsReader.decodeAll(legacy, contexts: CompressionContexts())
        let got = decoded.batches.flatMap(\.records)
        #expect(got.map(\.offset) == [0, 1, 2])
        #expect(got.map { String(decoding: $0.valueBytes ?? [], as: UTF8.self) } == ["value-0", "value-1", "value-2"])
    }

    @Test func uncompressedAndZstdBatchesGoOutAsPlainMessages() throws {
        for codec in [CompressionCodec.none, .zstd] {
            let legacy = try produceAndFetchOld(codec: codec, fetchVersion: 3)
            let decoded = try RecordsReader.decodeAll(legacy, contexts: CompressionContexts())
            #expect(decoded.batches.flatMap(\.records).map(\.offset) == [0, 1, 2])
            #expect(legacy[17] & 0x07 == 0)
        }
    }
}
