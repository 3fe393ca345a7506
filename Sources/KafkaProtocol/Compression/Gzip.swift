import CZlib

/// gzip through zlib: real gzip members on encode (windowBits 15+16); on decode zlib's
/// auto-detection (15+32) and any number of concatenated members, as Java's
/// GZIPInputStream reads them.
extension CompressionContexts {
    func gzipCompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(KafkaEncodingError) {
        guard input.count <= Int(UInt32.max) else {
            throw KafkaEncodingError(message: "gzip", field: "", kind: .valueTooLong(input.count))
        }
        let s: UnsafeMutablePointer<z_stream>
        if let existing = deflateStream {
            s = existing
            guard deflateReset(s) == Z_OK else { throw gzipEncodeError("deflateReset failed") }
        } else {
            s = .allocate(capacity: 1)
            s.initialize(to: z_stream())
            let rc = deflateInit2_(s, gzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard rc == Z_OK else {
                s.deallocate()
                throw gzipEncodeError("deflateInit2 failed (\(rc))")
            }
            deflateStream = s
        }
        let bound = Int(deflateBound(s, uLong(input.count))) + 32
        let start = output.count
        extend(&output, by: bound)
        let rc: Int32 = output.withUnsafeMutableBytes { out in
            s.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            s.pointee.avail_in = uInt(input.count)
            s.pointee.next_out = out.baseAddress!.advanced(by: start).assumingMemoryBound(to: Bytef.self)
            s.pointee.avail_out = uInt(bound)
            let rc = deflate(s, Z_FINISH)
            s.pointee.next_in = nil
            s.pointee.next_out = nil
            return rc
        }
        guard rc == Z_STREAM_END else { throw gzipEncodeError("deflate did not finish (\(rc))") }
        output.removeLast(Int(s.pointee.avail_out))
    }

    func gzipDecompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(KafkaDecodingError) -> [UInt8] {
        guard input.count <= Int(UInt32.max) else { throw corrupt("gzip", "input longer than 4 GiB") }
        guard input.count > 0 else { throw corrupt("gzip", "empty input") }
        let s: UnsafeMutablePointer<z_stream>
        if let existing = inflateStream {
            s = existing
            guard inflateReset(s) == Z_OK else { throw corrupt("gzip", "inflateReset failed") }
        } else {
            s = .allocate(capacity: 1)
            s.initialize(to: z_stream())
            let rc = inflateInit2_(s, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard rc == Z_OK else {
                s.deallocate()
                throw corrupt("gzip", "inflateInit2 failed (\(rc))")
            }
            inflateStream = s
        }
        defer {
            s.pointee.next_in = nil
            s.pointee.next_out = nil
        }
        // One byte past the limit tells "exactly the limit" from "more than the limit".
        let hardCap = limit == Int.max ? limit : limit + 1
        var out = [UInt8](repeating: 0, count: initialOutputCapacity(inputCount: input.count, limit: hardCap))
        var produced = 0
        let base = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        s.pointee.next_in = UnsafeMutablePointer(mutating: base)
        s.pointee.avail_in = uInt(input.count)
        while true {
            if produced == out.count {
                if out.count >= hardCap { throw limitExceeded("gzip", limit) }
                out.append(contentsOf: repeatElement(0, count: grownCapacity(out.count, limit: hardCap) - out.count))
            }
            let room = min(out.count - produced, Int(UInt32.max))
            let rc: Int32 = out.withUnsafeMutableBytes { o in
                s.pointee.next_out = o.baseAddress!.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                s.pointee.avail_out = uInt(room)
                return inflate(s, Z_NO_FLUSH)
            }
            produced += room - Int(s.pointee.avail_out)
            if produced > limit { throw limitExceeded("gzip", limit) }
            let consumed = input.count - Int(s.pointee.avail_in)
            switch rc {
            case Z_STREAM_END:
                // Another member follows only if its magic does; anything else after a
                // complete member is ignored, as Java's reader does.
                if s.pointee.avail_in >= 2 && base[consumed] == 0x1F && base[consumed + 1] == 0x8B {
                    guard inflateReset(s) == Z_OK else { throw corrupt("gzip", "inflateReset failed", offset: consumed) }
                    continue
                }
                out.removeLast(out.count - produced)
                return out
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                if s.pointee.avail_out == 0 { continue }
                throw corrupt("gzip", "truncated stream", offset: consumed)
            default:
                let msg = s.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw corrupt("gzip", msg, offset: consumed)
            }
        }
    }
}

private func gzipEncodeError(_ why: String) -> KafkaEncodingError {
    KafkaEncodingError(message: "gzip", field: "", kind: .invalidValue(why))
}
