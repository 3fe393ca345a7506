import CLZ4
import CZlib
import CZstd

/// Reusable compression state (zlib streams, LZ4F and zstd contexts), created on first use
/// and kept for the next batch: creating a zstd context costs more than compressing a
/// small batch. One holder belongs to one caller (a producer's partition encoder, a fetch
/// decoder); it is not shared between threads, which is why it is not `Sendable`. There is
/// no global pool.
public final class CompressionContexts {
    /// gzip level, 1...9 (zlib's default is 6).
    public var gzipLevel: Int32
    /// lz4 level: 0 is the fast default, 3...12 use the high-compression encoder.
    public var lz4Level: Int32
    /// zstd level (libzstd's default is 3).
    public var zstdLevel: Int32

    var deflateStream: UnsafeMutablePointer<z_stream>?
    var inflateStream: UnsafeMutablePointer<z_stream>?
    var lz4Compression: OpaquePointer?
    var lz4Decompression: OpaquePointer?
    var zstdCompression: OpaquePointer?
    var zstdDecompression: OpaquePointer?
    /// Scratch for the snappy encoder's hash table, reused across calls.
    var snappyTable: [UInt16] = []
    /// Output scratch for the zstd and lz4 encoders: they write up to their bound here and
    /// only what they produced is appended to the caller's bytes. (Growing the output by
    /// the bound, zero-filled, touched a batch's worth of fresh memory per batch for a
    /// result a fraction of its size.)
    var compressedScratch: [UInt8] = []

    public init(gzipLevel: Int32 = 6, lz4Level: Int32 = 0, zstdLevel: Int32 = 3) {
        self.gzipLevel = gzipLevel
        self.lz4Level = lz4Level
        self.zstdLevel = zstdLevel
    }

    deinit {
        if let s = deflateStream {
            deflateEnd(s)
            s.deallocate()
        }
        if let s = inflateStream {
            inflateEnd(s)
            s.deallocate()
        }
        if let c = lz4Compression { LZ4F_freeCompressionContext(c) }
        if let c = lz4Decompression { LZ4F_freeDecompressionContext(c) }
        if let c = zstdCompression { ZSTD_freeCCtx(c) }
        if let c = zstdDecompression { ZSTD_freeDCtx(c) }
    }

    /// Runs `body` on a scratch buffer of at least `bound` bytes; `body` returns how many
    /// it wrote (or an error), and those are appended to `output`.
    func compressThroughScratch(bound: Int, into output: inout [UInt8],
                                _ body: (UnsafeMutableRawPointer) throws(KafkaEncodingError) -> Int) throws(KafkaEncodingError) {
        if compressedScratch.count < bound {
            compressedScratch = [UInt8](repeating: 0, count: max(bound, compressedScratch.count * 2))
        }
        let result: Result<Int, KafkaEncodingError> = compressedScratch.withUnsafeMutableBytes { s in
            do throws(KafkaEncodingError) { return .success(try body(s.baseAddress!)) } catch { return .failure(error) }
        }
        let n = try result.get()
        compressedScratch.withUnsafeBytes { s in output.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[..<n])) }
    }

    // MARK: dispatch

    /// Appends the compressed form of `input` to `output`. `legacyLZ4HeaderChecksum`
    /// writes the lz4 frame with the header checksum Kafka 0.8/0.9 expect in magic 0
    /// messages (KAFKA-3160).
    public func compress(_ codec: CompressionCodec, _ input: UnsafeRawBufferPointer, into output: inout [UInt8],
                         legacyLZ4HeaderChecksum: Bool = false) throws(KafkaEncodingError) {
        switch codec {
        case .none: output.append(contentsOf: input)
        case .gzip: try gzipCompress(input, into: &output)
        case .snappy: Snappy.compress(input, into: &output, table: &snappyTable)
        case .lz4: try lz4Compress(input, into: &output, legacyHeaderChecksum: legacyLZ4HeaderChecksum)
        case .zstd: try zstdCompress(input, into: &output)
        }
    }

    public func compress(_ codec: CompressionCodec, _ input: [UInt8], legacyLZ4HeaderChecksum: Bool = false) throws(KafkaEncodingError) -> [UInt8] {
        var out: [UInt8] = []
        try withUnsafeBytesTyped(input) { (p) throws(KafkaEncodingError) in
            try compress(codec, p, into: &out, legacyLZ4HeaderChecksum: legacyLZ4HeaderChecksum)
        }
        return out
    }

    /// Decompresses `input`, producing at most `limit.maxOutputBytes` bytes. Snappy input
    /// may be raw or xerial-framed; gzip input may hold several members; lz4 input with the
    /// KAFKA-3160 header checksum is accepted when `legacyLZ4HeaderChecksum` is set.
    /// Error offsets are relative to the start of `input`.
    public func decompress(_ codec: CompressionCodec, _ input: UnsafeRawBufferPointer, limit: DecompressionLimit = .default,
                           legacyLZ4HeaderChecksum: Bool = false) throws(KafkaDecodingError) -> [UInt8] {
        switch codec {
        case .none:
            guard input.count <= limit.maxOutputBytes else { throw limitExceeded("none", limit.maxOutputBytes) }
            return [UInt8](input)
        case .gzip: return try gzipDecompress(input, limit: limit.maxOutputBytes)
        case .snappy: return try Snappy.decompressAutodetect(input, limit: limit.maxOutputBytes)
        case .lz4: return try lz4Decompress(input, limit: limit.maxOutputBytes, legacyHeaderChecksum: legacyLZ4HeaderChecksum)
        case .zstd: return try zstdDecompress(input, limit: limit.maxOutputBytes)
        }
    }

    public func decompress(_ codec: CompressionCodec, _ input: [UInt8], limit: DecompressionLimit = .default,
                           legacyLZ4HeaderChecksum: Bool = false) throws(KafkaDecodingError) -> [UInt8] {
        try withUnsafeBytesTyped(input) { (p) throws(KafkaDecodingError) in
            try decompress(codec, p, limit: limit, legacyLZ4HeaderChecksum: legacyLZ4HeaderChecksum)
        }
    }
}

/// Zero-extends `output` by `n` bytes so a C encoder can write into the tail; the caller
/// trims what was not used.
@inline(__always)
func extend(_ output: inout [UInt8], by n: Int) {
    output.append(contentsOf: repeatElement(0, count: n))
}
