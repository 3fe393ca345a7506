import Testing
@testable import KafkaProtocol

@Suite struct CompressionCodecTests {
    static let compressing: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

    @Test func unknownCodecIdIsTyped() throws {
        #expect(throws: KafkaDecodingError(field: "attributes.codec", offset: 9, kind: .unknownCodec(5))) {
            try CompressionCodec(id: 5, offset: 9)
        }
        #expect(try CompressionCodec(id: 4) == .zstd)
    }

    @Test(arguments: compressing) func roundTripsAssortedInputs(codec: CompressionCodec) throws {
        let ctx = CompressionContexts()
        var g = TestBytes(seed: UInt64(codec.rawValue))
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog ", count: 3000).utf8)
        let inputs: [[UInt8]] = [[], [7], g.bytes(100), g.bytes(70_000), text, [UInt8](repeating: 0, count: 200_000)]
        for input in inputs {
            let c = try ctx.compress(codec, input)
            let d = try ctx.decompress(codec, c)
            #expect(d == input, "\(codec) \(input.count) bytes")
            // The context is reused: a second pass must give the same result.
            #expect(try ctx.decompress(codec, try ctx.compress(codec, input)) == input)
        }
        // Compressible input actually compresses.
        #expect(try ctx.compress(codec, text).count < text.count / 4)
    }

    @Test func gzipWritesARealGzipMember() throws {
        let c = try CompressionContexts().compress(.gzip, Array("hello".utf8))
        #expect(Array(c.prefix(3)) == [0x1F, 0x8B, 0x08])
    }

    @Test(arguments: [
        ("codecs/plain.gz", CompressionCodec.gzip),
        ("codecs/plain-two-members.gz", .gzip),
        ("codecs/plain.snappy-raw", .snappy),
        ("codecs/plain.snappy-xerial", .snappy),
        ("codecs/plain.lz4", .lz4),
        ("codecs/plain.zst", .zstd),
    ])
    func decodesFramesFromReferenceImplementations(path: String, codec: CompressionCodec) throws {
        let plain = try fixture("codecs/plain.bin")
        let input = try fixture(path)
        #expect(try CompressionContexts().decompress(codec, input) == plain)
    }

    @Test(arguments: compressing)
    func everyDecompressorStopsAtTheLimit(codec: CompressionCodec) throws {
        let ctx = CompressionContexts()
        let input = [UInt8](repeating: 0x41, count: 100_000)
        let c = try ctx.compress(codec, input)
        #expect(throws: KafkaDecodingError.self) { try ctx.decompress(codec, c, limit: DecompressionLimit(maxOutputBytes: 99_999)) }
        do {
            _ = try ctx.decompress(codec, c, limit: DecompressionLimit(maxOutputBytes: 1000))
            Issue.record("limit not enforced")
        } catch {
            #expect(error.kind == .decompressionLimitExceeded(limit: 1000))
        }
        // Exactly at the limit is fine.
        #expect(try ctx.decompress(codec, c, limit: DecompressionLimit(maxOutputBytes: 100_000)) == input)
    }

    @Test func zstdBombWithDeclaredSizeFailsBeforeDecompressing() throws {
        let bomb = try fixture("codecs/bomb-1gib-sized.zst")
        #expect(bomb.count < 100_000)
        let clock = ContinuousClock()
        let t = clock.measure {
            #expect(throws: KafkaDecodingError(field: "zstd", offset: 0, kind: .decompressionLimitExceeded(limit: 256 << 20))) {
                try CompressionContexts().decompress(.zstd, bomb)
            }
        }
        #expect(t < .milliseconds(100))
    }

    @Test func zstdBombWithoutDeclaredSizeStopsAtTheLimit() throws {
        let bomb = try fixture("codecs/bomb-1gib-unsized.zst")
        do {
            _ = try CompressionContexts().decompress(.zstd, bomb, limit: DecompressionLimit(maxOutputBytes: 4 << 20))
            Issue.record("bomb decompressed")
        } catch {
            #expect(error.kind == .decompressionLimitExceeded(limit: 4 << 20))
        }
    }

    @Test func snappyLengthBombFailsBeforeAllocating() {
        // Five bytes claiming 4 GiB of output.
        let input: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]
        #expect(throws: KafkaDecodingError(field: "snappy", offset: 0, kind: .decompressionLimitExceeded(limit: 256 << 20))) {
            try CompressionContexts().decompress(.snappy, input)
        }
    }

    @Test(arguments: compressing)
    func corruptInputIsATypedErrorNeverACrash(codec: CompressionCodec) throws {
        let ctx = CompressionContexts()
        var g = TestBytes(seed: 99)
        let plain = Array(String(repeating: "corruption test payload ", count: 500).utf8) + g.bytes(2000)
        let good = try ctx.compress(codec, plain)
        // Truncations at many points, and single-byte flips; none may trap, and
        // truncations must fail (lz4/snappy/gzip/zstd all need their full input).
        for cut in stride(from: 0, to: good.count - 1, by: max(1, good.count / 60)) {
            #expect(throws: KafkaDecodingError.self, "\(codec) cut at \(cut)") { try ctx.decompress(codec, Array(good[..<cut])) }
        }
        for i in stride(from: 0, to: good.count, by: max(1, good.count / 200)) {
            var bad = good
            bad[i] ^= 0x5A
            _ = try? ctx.decompress(codec, bad, limit: DecompressionLimit(maxOutputBytes: 1 << 20))
        }
        for seed in 0 ..< 200 as Range<UInt64> {
            var r = TestBytes(seed: seed)
            _ = try? ctx.decompress(codec, r.bytes(Int(seed % 97)), limit: DecompressionLimit(maxOutputBytes: 1 << 20))
        }
        // The context still works after all those failures.
        #expect(try ctx.decompress(codec, good) == plain)
    }
}
