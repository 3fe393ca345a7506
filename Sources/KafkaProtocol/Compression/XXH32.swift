/// XXH32, the hash the lz4 frame format uses for its header checksum. Only needed to read
/// and write the KAFKA-3160 header checksum, so written for clarity over speed (headers
/// are a few bytes).
public enum XXH32 {
    static let p1: UInt32 = 0x9E37_79B1
    static let p2: UInt32 = 0x85EB_CA77
    static let p3: UInt32 = 0xC2B2_AE3D
    static let p4: UInt32 = 0x27D4_EB2F
    static let p5: UInt32 = 0x1656_67B1

    @inline(__always) static func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 { (x &<< r) | (x &>> (32 &- r)) }

    @inline(__always) static func le32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) &<< 8 | UInt32(b[i + 2]) &<< 16 | UInt32(b[i + 3]) &<< 24
    }

    @inline(__always) static func round(_ acc: UInt32, _ lane: UInt32) -> UInt32 {
        rotl(acc &+ lane &* p2, 13) &* p1
    }

    public static func hash(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    public static func hash(_ b: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        let n = b.count
        var i = 0
        var h: UInt32
        if n >= 16 {
            var v1 = seed &+ p1 &+ p2
            var v2 = seed &+ p2
            var v3 = seed
            var v4 = seed &- p1
            while n - i >= 16 {
                v1 = round(v1, le32(b, i))
                v2 = round(v2, le32(b, i + 4))
                v3 = round(v3, le32(b, i + 8))
                v4 = round(v4, le32(b, i + 12))
                i += 16
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt32(truncatingIfNeeded: n)
        while n - i >= 4 {
            h = rotl(h &+ le32(b, i) &* p3, 17) &* p4
            i += 4
        }
        while i < n {
            h = rotl(h &+ UInt32(b[i]) &* p5, 11) &* p1
            i += 1
        }
        h ^= h &>> 15
        h = h &* p2
        h ^= h &>> 13
        h = h &* p3
        h ^= h &>> 16
        return h
    }
}
