import CLZ4

/// lz4 frame format through liblz4's LZ4F API, plus the KAFKA-3160 header checksum: Kafka
/// before 0.10 computed the frame descriptor's checksum over the 4-byte magic as well,
/// and magic 0 messages still carry (and 0.8/0.9 brokers still expect) that variant.
extension CompressionContexts {
    func lz4Compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], legacyHeaderChecksum: Bool) throws(KafkaEncodingError) {
        let c: OpaquePointer
        if let existing = lz4Compression {
            c = existing
        } else {
            var made: OpaquePointer?
            let rc = LZ4F_createCompressionContext(&made, UInt32(LZ4F_VERSION))
            guard LZ4F_isError(rc) == 0, let made else { throw lz4EncodeError("cannot create context") }
            lz4Compression = made
            c = made
        }
        // 64 KiB independent blocks, no content size or checksum: the frame every Kafka
        // reader back to 0.8 accepts (the old Java reader refused dependent blocks).
        var prefs = LZ4F_preferences_t()
        prefs.frameInfo.blockSizeID = LZ4F_max64KB
        prefs.frameInfo.blockMode = LZ4F_blockIndependent
        prefs.compressionLevel = lz4Level
        let bound = LZ4F_compressFrameBound(input.count, &prefs)
        guard LZ4F_isError(bound) == 0 else { throw lz4EncodeError("input too large") }
        let start = output.count
        try compressThroughScratch(bound: bound, into: &output) { (dst) throws(KafkaEncodingError) -> Int in
            let written: Int = {
                let h = LZ4F_compressBegin(c, dst, bound, &prefs)
                if LZ4F_isError(h) != 0 { return h }
                let u = LZ4F_compressUpdate(c, dst + h, bound - h, input.baseAddress, input.count, nil)
                if LZ4F_isError(u) != 0 { return u }
                let e = LZ4F_compressEnd(c, dst + h + u, bound - h - u, nil)
                if LZ4F_isError(e) != 0 { return e }
                return h + u + e
            }()
            guard LZ4F_isError(written) == 0 else { throw lz4EncodeError(String(cString: LZ4F_getErrorName(written))) }
            return written
        }
        if legacyHeaderChecksum {
            output.withUnsafeMutableBytes { o in
                let frame = UnsafeMutableRawBufferPointer(rebasing: o[start...])
                if let hc = LZ4FrameHeader.checksumIndex(UnsafeRawBufferPointer(frame)) {
                    frame[hc] = LZ4FrameHeader.checksum(UnsafeRawBufferPointer(rebasing: frame[0 ..< hc]), legacy: true)
                }
            }
        }
    }

    func lz4Decompress(_ input: UnsafeRawBufferPointer, limit: Int, legacyHeaderChecksum: Bool) throws(KafkaDecodingError) -> [UInt8] {
        guard let hc = LZ4FrameHeader.checksumIndex(input) else { throw corrupt("lz4", "not an lz4 frame") }
        if legacyHeaderChecksum {
            let desc = UnsafeRawBufferPointer(rebasing: input[0 ..< hc])
            if input[hc] == LZ4FrameHeader.checksum(desc, legacy: true) {
                // Legacy messages are rare: a corrected copy keeps the main path simple.
                var fixed = [UInt8](input)
                fixed[hc] = LZ4FrameHeader.checksum(desc, legacy: false)
                return try withUnsafeBytesTyped(fixed) { (p) throws(KafkaDecodingError) in
                    try lz4DecompressFrames(p, limit: limit)
                }
            }
        }
        return try lz4DecompressFrames(input, limit: limit)
    }

    /// Decompresses one or more concatenated frames.
    private func lz4DecompressFrames(_ input: UnsafeRawBufferPointer, limit: Int) throws(KafkaDecodingError) -> [UInt8] {
        let d: OpaquePointer
        if let existing = lz4Decompression {
            d = existing
            LZ4F_resetDecompressionContext(d)
        } else {
            var made: OpaquePointer?
            let rc = LZ4F_createDecompressionContext(&made, UInt32(LZ4F_VERSION))
            guard LZ4F_isError(rc) == 0, let made else { throw corrupt("lz4", "cannot create context") }
            lz4Decompression = made
            d = made
        }
        let hardCap = limit == Int.max ? limit : limit + 1
        var out = [UInt8](repeating: 0, count: initialOutputCapacity(inputCount: input.count, limit: hardCap))
        var produced = 0
        var inPos = 0
        var atFrameStart = true
        while true {
            if atFrameStart {
                if inPos == input.count { break }
                // Fail fast when a frame declares a size above what is left of the limit.
                let rest = UnsafeRawBufferPointer(rebasing: input[inPos...])
                if let size = LZ4FrameHeader.contentSize(rest), size > UInt64(limit - produced) {
                    throw limitExceeded("lz4", limit, offset: inPos)
                }
                atFrameStart = false
            } else if inPos == input.count {
                throw corrupt("lz4", "truncated frame", offset: inPos)
            }
            if produced == out.count {
                if out.count >= hardCap { throw limitExceeded("lz4", limit, offset: inPos) }
                out.append(contentsOf: repeatElement(0, count: grownCapacity(out.count, limit: hardCap) - out.count))
            }
            var dstSize = out.count - produced
            var srcSize = input.count - inPos
            let at = produced
            let from = inPos
            let rc: Int = out.withUnsafeMutableBytes { o in
                LZ4F_decompress(d, o.baseAddress! + at, &dstSize, input.baseAddress! + from, &srcSize, nil)
            }
            if LZ4F_isError(rc) != 0 {
                throw corrupt("lz4", String(cString: LZ4F_getErrorName(rc)), offset: inPos)
            }
            produced += dstSize
            inPos += srcSize
            if produced > limit { throw limitExceeded("lz4", limit, offset: inPos) }
            if rc == 0 { atFrameStart = true }
            // No progress with input left and room to write means the frame is cut short.
            if dstSize == 0 && srcSize == 0 && produced < out.count && inPos == input.count && rc != 0 {
                throw corrupt("lz4", "truncated frame", offset: inPos)
            }
        }
        return Array(out[0 ..< produced])
    }
}

/// Facts about an lz4 frame header (magic, FLG, BD, optional content size and dictionary
/// id, then the header checksum byte).
enum LZ4FrameHeader {
    static let magic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]

    /// Index of the header checksum byte, or nil when this is not a complete frame header.
    static func checksumIndex(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 7, b[0] == 0x04, b[1] == 0x22, b[2] == 0x4D, b[3] == 0x18 else { return nil }
        let flg = b[4]
        var i = 6
        if flg & 0x08 != 0 { i += 8 }
        if flg & 0x01 != 0 { i += 4 }
        return i < b.count ? i : nil
    }

    /// The content size the header declares, if any.
    static func contentSize(_ b: UnsafeRawBufferPointer) -> UInt64? {
        guard checksumIndex(b) != nil, b[4] & 0x08 != 0 else { return nil }
        var v: UInt64 = 0
        for k in 0 ..< 8 { v |= UInt64(b[6 + k]) &<< (8 * UInt64(k)) }
        return v
    }

    /// The checksum byte for the header bytes before it (`upToChecksum` starts at the
    /// magic). The correct one hashes the descriptor only; the legacy one includes the
    /// magic (KAFKA-3160).
    static func checksum(_ upToChecksum: UnsafeRawBufferPointer, legacy: Bool) -> UInt8 {
        let part = legacy ? upToChecksum : UnsafeRawBufferPointer(rebasing: upToChecksum[4...])
        return UInt8(truncatingIfNeeded: XXH32.hash(part) &>> 8)
    }
}

private func lz4EncodeError(_ why: String) -> KafkaEncodingError {
    KafkaEncodingError(message: "lz4", field: "", kind: .invalidValue(why))
}
