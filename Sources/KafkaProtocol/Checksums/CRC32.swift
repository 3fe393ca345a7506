import CZlib

/// CRC-32 (IEEE 802.3), the checksum of legacy (magic 0 and 1) messages; zlib's
/// implementation, which is already table/SIMD optimised.
public enum CRC32 {
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Continues a finished checksum over more bytes. zlib takes a 32-bit length, so long
    /// inputs go through in chunks.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        var c = UInt(crc)
        var p = base.assumingMemoryBound(to: Bytef.self)
        var n = bytes.count
        while n > 0 {
            let step = min(n, Int(UInt32.max >> 1))
            c = CZlib.crc32(c, p, uInt(step))
            p += step
            n -= step
        }
        return UInt32(truncatingIfNeeded: c)
    }
}
