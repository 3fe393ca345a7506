import CKafkaCRC32C

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of record batch v2.
///
/// Uses the CPU's instruction (SSE4.2 / ARMv8 CRC) when present and a slicing-by-8 table
/// fallback otherwise. Both paths are public so tests and benchmarks can compare them.
public enum CRC32C {
    /// Whether the hardware path is used. Read once from the CPU; immutable afterwards.
    public static let hardwareAvailable: Bool = ckafka_crc32c_hw_available() != 0

    /// The checksum of `bytes` (initial value 0xFFFFFFFF, final inversion, as Kafka uses).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Continues a finished checksum `crc` over more bytes (checksum(a+b) ==
    /// update(checksum(a), b)).
    @inlinable
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        if hardwareAvailable { return hardware(crc, bytes) }
        return software(crc, bytes)
    }

    /// The instruction path; callers must check `hardwareAvailable` first.
    public static func hardware(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return ~ckafka_crc32c_hw(~crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// The portable slicing-by-8 path.
    public static func software(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        CRC32CTables.shared.withUnsafeBufferPointer { t in
            var c = ~crc
            var i = 0
            let n = bytes.count
            // Eight bytes per step: one lookup per byte into eight tables, no dependency
            // chain between the lookups.
            while n - i >= 8 {
                let lo = UInt32(bytes[i]) | UInt32(bytes[i + 1]) &<< 8 | UInt32(bytes[i + 2]) &<< 16 | UInt32(bytes[i + 3]) &<< 24
                let hi = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) &<< 8 | UInt32(bytes[i + 6]) &<< 16 | UInt32(bytes[i + 7]) &<< 24
                let x = c ^ lo
                c = t[7 &* 256 &+ Int(x & 0xFF)] ^ t[6 &* 256 &+ Int((x &>> 8) & 0xFF)]
                    ^ t[5 &* 256 &+ Int((x &>> 16) & 0xFF)] ^ t[4 &* 256 &+ Int(x &>> 24)]
                c ^= t[3 &* 256 &+ Int(hi & 0xFF)] ^ t[2 &* 256 &+ Int((hi &>> 8) & 0xFF)]
                    ^ t[1 &* 256 &+ Int((hi &>> 16) & 0xFF)] ^ t[Int(hi &>> 24)]
                i &+= 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c &>> 8)
                i &+= 1
            }
            return ~c
        }
    }
}

/// The eight 256-entry tables of slicing-by-8, built once on first use (immutable).
enum CRC32CTables {
    static let shared: [UInt32] = {
        let poly: UInt32 = 0x82F6_3B78
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0 ..< 256 {
            var c = UInt32(i)
            for _ in 0 ..< 8 { c = (c & 1) != 0 ? (c &>> 1) ^ poly : c &>> 1 }
            t[i] = c
        }
        for k in 1 ..< 8 {
            for i in 0 ..< 256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev &>> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()
}
