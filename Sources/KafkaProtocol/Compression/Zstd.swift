import CZstd

/// zstd through libzstd. Decompression streams into a growing buffer so the output can be
/// bounded; a frame that declares a content size above the limit is refused before any
/// work is done.
extension CompressionContexts {
    func zstdCompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(KafkaEncodingError) {
        let c: OpaquePointer
        if let existing = zstdCompression {
            c = existing
        } else {
            guard let made = ZSTD_createCCtx() else { throw zstdEncodeError("cannot create context") }
            zstdCompression = made
            c = made
        }
        ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters)
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, zstdLevel)
        let bound = ZSTD_compressBound(input.count)
        guard ZSTD_isError(bound) == 0 else { throw zstdEncodeError("input too large") }
        try compressThroughScratch(bound: bound, into: &output) { (dst) throws(KafkaEncodingError) -> Int in
            let n = ZSTD_compress2(c, dst, bound, input.baseAddress, input.count)
            guard ZSTD_isError(n) == 0 else { throw zstdEncodeError(String(cString: ZSTD_getErrorName(n))) }
            return n
        }
    }

    func zstdDecompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(KafkaDecodingError) -> [UInt8] {
        guard input.count > 0 else { throw corrupt("zstd", "empty input") }
        let d: OpaquePointer
        if let existing = zstdDecompression {
            d = existing
        } else {
            guard let made = ZSTD_createDCtx() else { throw corrupt("zstd", "cannot create context") }
            zstdDecompression = made
            d = made
        }
        ZSTD_DCtx_reset(d, ZSTD_reset_session_only)
        // Bound the window too: a frame may demand a huge window allocation up front.
        ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 27)

        let hardCap = limit == Int.max ? limit : limit + 1
        var capacity = initialOutputCapacity(inputCount: input.count, limit: hardCap)
        let declared = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        // ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are the two largest UInt64 values.
        if declared < UInt64.max - 1 {
            if declared > UInt64(limit) { throw limitExceeded("zstd", limit) }
            // Trust the declared size only as far as the input could plausibly expand; a
            // corrupt frame claiming 200 MB should not allocate it up front.
            let (plausible, o) = input.count.multipliedReportingOverflow(by: 64)
            capacity = max(1, min(Int(declared), o ? Int(declared) : max(plausible, 1 << 20)))
        } else if declared == UInt64.max - 1 {
            throw corrupt("zstd", "not a zstd frame")
        }
        var out = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var inPos = 0
        var lastHint = 1
        while true {
            if inPos == input.count && lastHint == 0 { break }
            if produced == out.count {
                if out.count >= hardCap { throw limitExceeded("zstd", limit, offset: inPos) }
                out.append(contentsOf: repeatElement(0, count: grownCapacity(out.count, limit: hardCap) - out.count))
            }
            var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: inPos)
            let room = out.count
            let (hint, newPos): (Int, Int) = out.withUnsafeMutableBytes { o in
                var outBuf = ZSTD_outBuffer(dst: o.baseAddress, size: room, pos: produced)
                let h = ZSTD_decompressStream(d, &outBuf, &inBuf)
                return (h, outBuf.pos)
            }
            if ZSTD_isError(hint) != 0 {
                throw corrupt("zstd", String(cString: ZSTD_getErrorName(hint)), offset: inBuf.pos)
            }
            let progressed = newPos != produced || inBuf.pos != inPos
            produced = newPos
            inPos = inBuf.pos
            lastHint = hint
            if produced > limit { throw limitExceeded("zstd", limit, offset: inPos) }
            if inPos == input.count && hint != 0 && produced < out.count && !progressed {
                throw corrupt("zstd", "truncated frame", offset: inPos)
            }
        }
        out.removeLast(out.count - produced)
        return out
    }
}

private func zstdEncodeError(_ why: String) -> KafkaEncodingError {
    KafkaEncodingError(message: "zstd", field: "", kind: .invalidValue(why))
}
