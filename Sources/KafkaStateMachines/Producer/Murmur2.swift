/// Kafka's key hash: 32-bit MurmurHash2 with seed 0x9747b28c, as the Java client and
/// librdkafka's `murmur2` partitioner compute it, so a key lands on the same partition.
package enum Murmur2 {
    public static func hash(_ data: [UInt8]) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let length = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        var i = 0
        while i + 4 <= length {
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k &*= m
            k ^= k >> 24
            k &*= m
            h &*= m
            h ^= k
            i += 4
        }
        let rest = length & 3
        if rest == 3 { h ^= UInt32(data[i + 2]) << 16 }
        if rest >= 2 { h ^= UInt32(data[i + 1]) << 8 }
        if rest >= 1 {
            h ^= UInt32(data[i])
            h &*= m
        }
        h ^= h >> 13
        h &*= m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition Java's default partitioner picks: the hash with its sign bit cleared,
    /// modulo the partition count.
    public static func partition(forKey key: [UInt8], partitions: Int) -> Int32 {
        Int32((Int(hash(key)) & 0x7fff_ffff) % partitions)
    }
}
