import Testing
@testable import KafkaProtocol

@Suite struct CRC32CTests {
    /// RFC 3720 appendix B.4 vectors, plus the common "123456789" check value.
    static let vectors: [([UInt8], UInt32)] = [
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0 ..< 32).map { UInt8($0) }, 0x46DD_794E),
        ((0 ..< 32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        (Array("123456789".utf8), 0xE306_9283),
        ([], 0),
    ]

    @Test func softwareMatchesKnownVectors() {
        for (input, want) in Self.vectors {
            #expect(input.withUnsafeBytes { CRC32C.software(0, $0) } == want)
        }
    }

    @Test func hardwareMatchesKnownVectors() throws {
        try #require(CRC32C.hardwareAvailable, "no CRC-32C instruction on this CPU")
        for (input, want) in Self.vectors {
            #expect(input.withUnsafeBytes { CRC32C.hardware(0, $0) } == want)
        }
    }

    @Test func x86HasTheInstruction() {
        #if arch(x86_64)
        // Every x86_64 machine this project builds on has SSE4.2; if detection says no,
        // the detection is broken.
        #expect(CRC32C.hardwareAvailable)
        #endif
    }

    @Test func pathsAgreeOnAllLengthsAndAlignments() throws {
        var g = TestBytes(seed: 42)
        let data = g.bytes(300 + 16)
        try data.withUnsafeBytes { all in
            for start in 0 ..< 9 {
                for length in 0 ... 300 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start ..< start + length])
                    let sw = CRC32C.software(0, slice)
                    let bitwise = bitwiseCRC32C(slice)
                    #expect(sw == bitwise, "software length \(length) start \(start)")
                    if CRC32C.hardwareAvailable {
                        #expect(CRC32C.hardware(0, slice) == sw, "hardware length \(length) start \(start)")
                    }
                    #expect(CRC32C.checksum(slice) == sw)
                }
            }
            _ = try #require(all.count == 316)
        }
    }

    /// The instruction path interleaves three streams over 3x256 and 3x8192-byte blocks:
    /// lengths around those boundaries, at several alignments, must agree with the table
    /// path.
    @Test func pathsAgreeAcrossInterleavingBoundaries() throws {
        try #require(CRC32C.hardwareAvailable, "no CRC-32C instruction on this CPU")
        var g = TestBytes(seed: 7)
        let data = g.bytes(3 * 8192 * 3 + 64)
        let lengths = [767, 768, 769, 3 * 768 + 5, 24_575, 24_576, 24_577, 24_576 + 768 + 9, 2 * 24_576 + 3 * 768 + 7, 3 * 24_576]
        data.withUnsafeBytes { all in
            for start in [0, 1, 3, 8, 13] {
                for length in lengths {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start ..< start + length])
                    #expect(CRC32C.hardware(0, slice) == CRC32C.software(0, slice), "length \(length) start \(start)")
                    #expect(CRC32C.hardware(0x1234_5678, slice) == CRC32C.software(0x1234_5678, slice), "seeded, length \(length)")
                }
            }
        }
        // A known vector at a large size: 1 MiB of zeros (checked with an independent
        // implementation, kafka-python's pure-Python CRC-32C).
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        #expect(zeros.withUnsafeBytes { CRC32C.hardware(0, $0) } == 0x1429_8C12)
    }

    @Test func updateContinuesAChecksum() {
        let a = Array("12345".utf8), b = Array("6789".utf8)
        let first = CRC32C.checksum(a)
        #expect(b.withUnsafeBytes { CRC32C.update(first, $0) } == 0xE306_9283)
        #expect(b.withUnsafeBytes { CRC32C.software(first, $0) } == 0xE306_9283)
    }

    @Test func crc32IEEEVector() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    /// One bit at a time, straight from the definition: the reference both fast paths are
    /// checked against.
    func bitwiseCRC32C(_ b: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in b {
            c ^= UInt32(byte)
            for _ in 0 ..< 8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        }
        return ~c
    }
}
