/// A Kafka UUID (topic ids, directory ids): 16 bytes, written as two big-endian 64-bit
/// halves. Shown as Kafka shows it: URL-safe base64 without padding (22 characters).
public struct KafkaUUID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The all-zero UUID Kafka uses for "no id".
    public static let zero = KafkaUUID(high: 0, low: 0)

    public var bytes: [UInt8] {
        var w = ByteWriter(capacity: 16)
        w.writeUUID(self)
        return w.bytes
    }

    public static func < (a: KafkaUUID, b: KafkaUUID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    public var description: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let b = bytes
        var out: [UInt8] = []
        out.reserveCapacity(22)
        var i = 0
        while i < 16 {
            let n = min(3, 16 - i)
            var chunk: UInt32 = 0
            for j in 0 ..< 3 { chunk = chunk << 8 | (j < n ? UInt32(b[i + j]) : 0) }
            let chars = n + 1
            for j in 0 ..< chars { out.append(alphabet[Int((chunk >> UInt32(18 - 6 * j)) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
