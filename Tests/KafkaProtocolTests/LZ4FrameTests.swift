import Testing
@testable import KafkaProtocol

@Suite struct LZ4FrameTests {
    @Test func xxh32MatchesTheReferenceImplementation() throws {
        let text = String(decoding: try fixture("codecs/xxh32.txt"), as: UTF8.self)
        var checked = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            let hex = Array(parts[0].utf8)
            var input: [UInt8] = []
            var i = 0
            while i + 1 < hex.count {
                input.append(UInt8(String(decoding: hex[i ... i + 1], as: UTF8.self), radix: 16)!)
                i += 2
            }
            let want = UInt32(parts[1], radix: 16)!
            let seed: UInt32 = parts.count > 2 ? 0x9747_B28C : 0
            #expect(XXH32.hash(input, seed: seed) == want, "\(line)")
            checked += 1
        }
        #expect(checked == 6)
    }

    @Test func decodesKafka3160FramesOnlyWhenAskedTo() throws {
        let plain = try fixture("codecs/plain.bin")
        let broken = try fixture("codecs/plain-kafka3160.lz4")
        let ctx = CompressionContexts()
        #expect(try ctx.decompress(.lz4, broken, legacyLZ4HeaderChecksum: true) == plain)
        // liblz4 itself rejects the broken checksum: the repair is what makes it work.
        #expect(throws: KafkaDecodingError.self) { try ctx.decompress(.lz4, broken) }
        // A correct frame still decodes in legacy mode.
        #expect(try ctx.decompress(.lz4, try fixture("codecs/plain.lz4"), legacyLZ4HeaderChecksum: true) == plain)
    }

    @Test func encodesTheKafka3160Variant() throws {
        let ctx = CompressionContexts()
        let plain = Array(String(repeating: "legacy lz4 ", count: 100).utf8)
        let broken = try ctx.compress(.lz4, plain, legacyLZ4HeaderChecksum: true)
        let good = try ctx.compress(.lz4, plain)
        #expect(broken.count == good.count)
        let hc = try #require(good.withUnsafeBytes { LZ4FrameHeader.checksumIndex($0) })
        #expect(broken[hc] != good[hc])
        #expect(Array(broken[..<hc]) == Array(good[..<hc]))
        // The broken byte is XXH32 over magic + descriptor, second byte.
        #expect(broken[hc] == UInt8(truncatingIfNeeded: XXH32.hash(Array(good[..<hc])) >> 8))
        #expect(good[hc] == UInt8(truncatingIfNeeded: XXH32.hash(Array(good[4 ..< hc])) >> 8))
        #expect(try ctx.decompress(.lz4, broken, legacyLZ4HeaderChecksum: true) == plain)
    }

    @Test func declaredContentSizeAboveTheLimitFailsFast() throws {
        let frame = try fixture("codecs/plain.lz4") // declares 80000 bytes
        #expect(throws: KafkaDecodingError(field: "lz4", offset: 0, kind: .decompressionLimitExceeded(limit: 1000))) {
            try CompressionContexts().decompress(.lz4, frame, limit: DecompressionLimit(maxOutputBytes: 1000))
        }
    }
}
