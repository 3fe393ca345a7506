import Testing
@testable import KafkaProtocol

@Suite struct SnappyTests {
    func compress(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var table: [UInt16] = []
        b.withUnsafeBytes { Snappy.compress($0, into: &out, table: &table) }
        return out
    }

    func decompress(_ b: [UInt8], limit: Int = 1 << 30) throws(KafkaDecodingError) -> [UInt8] {
        try CompressionContexts().decompress(.snappy, b, limit: DecompressionLimit(maxOutputBytes: limit))
    }

    @Test func handWrittenBlocksDecode() throws {
        // Length 5, literal "abcde".
        #expect(try decompress([0x05, 0x10, 0x61, 0x62, 0x63, 0x64, 0x65]) == Array("abcde".utf8))
        // Length 9: literal "ab", then a 1-byte-offset copy (length 7, offset 2) that overlaps.
        // tag = 01 | (7-4)<<2 | 0<<5 = 0x0D
        #expect(try decompress([0x09, 0x04, 0x61, 0x62, 0x0D, 0x02]) == Array("ababababa".utf8))
        // A 2-byte-offset copy: literal "xyz", copy length 3 offset 3 -> tag (3-1)<<2 | 2 = 0x0A.
        #expect(try decompress([0x06, 0x08, 0x78, 0x79, 0x7A, 0x0A, 0x03, 0x00]) == Array("xyzxyz".utf8))
    }

    @Test func malformedBlocksAreTypedErrors() {
        let cases: [[UInt8]] = [
            [0x05, 0x10, 0x61],                  // literal past end of input
            [0x04, 0x0D, 0x01],                  // copy before any output
            [0x03, 0x08, 0x61, 0x62, 0x63, 0x00], // trailing element past declared length
            [0x05, 0x08, 0x61, 0x62, 0x63],      // shorter than declared
            [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // length varint too long
            [0x09, 0x04, 0x61, 0x62, 0x0D, 0x03], // offset 3 > 2 bytes written
            [0x02, 0xF0],                        // 60: one length byte missing
            [0x80, 0x80, 0x04, 0x00],            // 65536 bytes claimed by one element byte
        ]
        for c in cases {
            #expect(throws: KafkaDecodingError.self, "\(c)") { try decompress(c) }
        }
    }

    @Test func implausibleLengthIsRefusedBeforeAllocating() {
        // 200 MB declared (under the default limit) for a 2-byte body.
        let input: [UInt8] = [0x80, 0xDA, 0xC4, 0x5F, 0x00, 0x00]
        do {
            _ = try CompressionContexts().decompress(.snappy, input)
            Issue.record("accepted")
        } catch {
            guard case .corruptCompressedData = error.kind else { Issue.record("\(error)"); return }
        }
    }

    @Test func overlappingCopiesOfEveryShortOffset() throws {
        // Runs with periods 1...20 and long copies exercise both overlapping-copy paths.
        for period in 1 ... 20 {
            var input: [UInt8] = []
            for i in 0 ..< 3000 { input.append(UInt8(truncatingIfNeeded: (i % period) &* 37 &+ period)) }
            #expect(try decompress(compress(input)) == input, "period \(period)")
        }
    }

    @Test func compressorRoundTripsEdgeCases() throws {
        var g = TestBytes(seed: 5)
        var inputs: [[UInt8]] = [[], [1], Array(repeating: 9, count: 14), Array(repeating: 9, count: 15), Array(repeating: 9, count: 65_536 * 3 + 5)]
        for n in [16, 17, 100, 1000, 65_535, 65_536, 65_537, 200_000] {
            inputs.append(g.bytes(n))
            inputs.append((0 ..< n).map { UInt8(truncatingIfNeeded: ($0 / 3) % 251) })
            // Long-range repeats to exercise the 64-byte split of copies.
            let unit = g.bytes(40)
            inputs.append(Array((0 ..< n / 40 + 1).flatMap { _ in unit }.prefix(n)))
        }
        for input in inputs {
            #expect(try decompress(compress(input)) == input, "\(input.count) bytes")
            #expect(compress(input).count <= Snappy.maxCompressedLength(input.count))
        }
    }

    @Test func xerialFramingIsDetectedAndBounded() throws {
        let plain = try fixture("codecs/plain.bin")
        let framed = try fixture("codecs/plain.snappy-xerial")
        #expect(framed.withUnsafeBytes { SnappyXerial.isFramed($0) })
        #expect(try decompress(framed) == plain)
        // Two 32 KiB chunks exceed 40000: the error names the second chunk's block.
        let firstChunk = Int(framed[16]) << 24 | Int(framed[17]) << 16 | Int(framed[18]) << 8 | Int(framed[19])
        #expect(throws: KafkaDecodingError(field: "snappy", offset: 16 + 4 + firstChunk + 4, kind: .decompressionLimitExceeded(limit: 40000))) {
            try decompress(framed, limit: 40000)
        }
        // Cut inside a chunk.
        #expect(throws: KafkaDecodingError.self) { try decompress(Array(framed.prefix(1000))) }
    }
}
