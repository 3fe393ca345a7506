/// The xerial snappy-java stream framing the Java client writes: an 8-byte magic
/// (0x82 "SNAPPY" 0), a big-endian version and compatible-version, then chunks, each a
/// big-endian 4-byte length and a raw snappy block. Decode only: we write raw blocks.
public enum SnappyXerial {
    static let magic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let headerSize = 16

    public static func isFramed(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 8 else { return false }
        for i in 0 ..< 8 where b[i] != magic[i] { return false }
        return true
    }

    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(KafkaDecodingError) -> [UInt8] {
        guard input.count >= headerSize else { throw corrupt("snappy.xerial", "truncated header", offset: input.count) }
        var out: [UInt8] = []
        var p = headerSize
        while p < input.count {
            guard input.count - p >= 4 else { throw corrupt("snappy.xerial", "truncated chunk length", offset: p) }
            let chunk = Int(input[p]) << 24 | Int(input[p + 1]) << 16 | Int(input[p + 2]) << 8 | Int(input[p + 3])
            p += 4
            guard chunk <= input.count - p else { throw corrupt("snappy.xerial", "chunk past end of input", offset: p - 4) }
            let block = UnsafeRawBufferPointer(rebasing: input[p ..< p + chunk])
            let (n, h) = try Snappy.declaredLength(block, base: p)
            guard n <= limit - out.count else { throw limitExceeded("snappy", limit, offset: p) }
            guard Snappy.plausible(declared: n, elementBytes: chunk - h) else {
                throw corrupt("snappy.xerial", "declared length \(n) impossible for a \(chunk)-byte chunk", offset: p)
            }
            let at = out.count
            extend(&out, by: n)
            try withUnsafeMutableBytesTyped(&out) { (o) throws(KafkaDecodingError) in
                try Snappy.decodeElements(UnsafeRawBufferPointer(rebasing: block[h...]),
                                          into: UnsafeMutableRawBufferPointer(rebasing: o[at ..< at + n]), base: p + h)
            }
            p += chunk
        }
        return out
    }
}
