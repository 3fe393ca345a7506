import ArgumentParser
import KafkaProtocol

/// `kgo bench-codec`: throughput of the record batch codec per compression codec, and of
/// CRC-32C (instruction and table paths) next to memcpy of the same buffer.
struct BenchCodec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-codec",
        abstract: "Benchmark record batch encode/decode per codec and CRC-32C throughput."
    )

    @Option(help: "Uncompressed size of the benchmark batch in bytes.")
    var batchBytes: Int = 1 << 20

    @Option(help: "Size of each record's value in bytes.")
    var recordBytes: Int = 100

    @Option(help: "Minimum seconds spent measuring each figure.")
    var seconds: Double = 1.0

    func run() throws {
        let records = makeRecords()
        let ctx = CompressionContexts()
        print("records: \(records.count) x \(recordBytes)-byte values (+8-byte keys), batch ~\(batchBytes >> 10) KiB uncompressed")
        print("codec   encoded-bytes   encode rec/s   encode MB/s   decode rec/s   decode MB/s   codec-only decompress MB/s")
        let payloadBytes = Double(records.reduce(0) { $0 + ($1.value?.count ?? 0) + ($1.key?.count ?? 0) })
        for codec in CompressionCodec.allCases {
            let options = RecordBatchOptions(codec: codec)
            let encoded = try RecordBatchEncoder.encode(records, options: options, contexts: ctx)
            let encodeTime = try measure {
                var w = ByteWriter(capacity: encoded.count + 1024)
                try RecordBatchEncoder.encode(records, options: options, contexts: ctx, into: &w)
                return w.count
            }
            let decodeTime = try measure {
                var reader = RecordsReader(encoded, contexts: ctx)
                var n = 0
                while let b = try reader.next() {
                    for r in b.records { n &+= r.value?.count ?? 0 }
                }
                return n
            }
            // The codec alone on the batch's payload (after the 61-byte header).
            let payload = Array(encoded[61...])
            var plainSize = Double(payload.count)
            var rawTime = Double.nan
            if codec != .none {
                plainSize = Double(try ctx.decompress(codec, payload).count)
                rawTime = try measure { try ctx.decompress(codec, payload).count }
            }
            let count = Double(records.count)
            print(pad(codec.description, 8) + pad("\(encoded.count)", 15)
                + pad(fmt(count / encodeTime), 15) + pad(fmt(payloadBytes / encodeTime / 1e6), 14)
                + pad(fmt(count / decodeTime), 15) + pad(fmt(payloadBytes / decodeTime / 1e6), 14)
                + (codec == .none ? "-" : fmt(plainSize / rawTime / 1e6) + " out, " + fmt(Double(payload.count) / rawTime / 1e6) + " in"))
        }

        var g = SplitMix(seed: 1)
        let buffer = (0 ..< batchBytes).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        var copy = [UInt8](repeating: 0, count: batchBytes)
        let mb = Double(batchBytes) / 1e6
        print("\nCRC-32C over \(batchBytes >> 10) KiB (hardware available: \(CRC32C.hardwareAvailable))")
        if CRC32C.hardwareAvailable {
            let t = try measure { Int(buffer.withUnsafeBytes { CRC32C.hardware(0, $0) }) }
            print("  hardware (crc32 instruction): \(fmt(mb / t)) MB/s")
        }
        let ts = try measure { Int(buffer.withUnsafeBytes { CRC32C.software(0, $0) }) }
        print("  software (slicing-by-8):      \(fmt(mb / ts)) MB/s")
        let tc = try measure { Int(buffer.withUnsafeBytes { CRC32.checksum($0) }) }
        print("  CRC-32 IEEE (zlib):           \(fmt(mb / tc)) MB/s")
        let tm = try measure {
            buffer.withUnsafeBytes { src in copy.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
            return Int(copy[batchBytes / 2])
        }
        print("  memcpy of the same buffer:    \(fmt(mb / tm)) MB/s")
    }

    /// Records of `recordBytes` text-like bytes (compressible about as well as JSON logs).
    func makeRecords() -> [EncodableRecord] {
        var g = SplitMix(seed: 7)
        let words: [[UInt8]] = ["user", "id", "event", "click", "view", "\"ts\":", "{", "}", "ok", "error", "session"].map { Array($0.utf8) }
        var out: [EncodableRecord] = []
        var total = 0
        var i: UInt64 = 0
        while total < batchBytes {
            var v: [UInt8] = []
            v.reserveCapacity(recordBytes)
            while v.count < recordBytes {
                let r = g.next()
                if r % 5 == 0 {
                    v.append(UInt8(48 + r % 10))
                } else {
                    v.append(contentsOf: words[Int(r % UInt64(words.count))])
                    v.append(32)
                }
            }
            v.removeLast(v.count - recordBytes)
            var key: [UInt8] = []
            for s in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: i >> UInt64(s))) }
            out.append(EncodableRecord(key: key, value: v, timestamp: 1_700_000_000_000 + Int64(i)))
            total += recordBytes + 8
            i += 1
        }
        return out
    }

    func measure(_ body: () throws -> Int) throws -> Double {
        try secondsPerCall(atLeast: seconds, body)
    }

    func fmt(_ v: Double) -> String {
        if v >= 1e6 {
            let hundredths = Int(v / 1e4)
            let frac = hundredths % 100
            return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)M"
        }
        return String(Int(v))
    }

    func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
