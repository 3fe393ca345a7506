/// Snappy, in Swift: the raw block format (a varint of the uncompressed length, then
/// literal and copy elements), as Kafka's librdkafka-based producers write it. Reading also
/// accepts the xerial framing that the Java client writes (see `SnappyXerial.swift`).
public enum Snappy {
    // MARK: decompression

    /// Decompresses raw or xerial-framed snappy, whichever `input` is.
    public static func decompressAutodetect(_ input: UnsafeRawBufferPointer, limit: Int) throws(KafkaDecodingError) -> [UInt8] {
        if SnappyXerial.isFramed(input) { return try SnappyXerial.decompress(input, limit: limit) }
        return try decompressRaw(input, limit: limit)
    }

    /// The uncompressed length a raw block declares, and the size of that varint.
    static func declaredLength(_ src: UnsafeRawBufferPointer, base: Int = 0) throws(KafkaDecodingError) -> (length: Int, headerSize: Int) {
        var v: UInt64 = 0
        var i = 0
        while true {
            guard i < src.count else { throw corrupt("snappy", "truncated length", offset: base + i) }
            guard i < 5 else { throw corrupt("snappy", "length varint too long", offset: base) }
            let b = src[i]
            v |= UInt64(b & 0x7F) &<< (7 * UInt64(i))
            i += 1
            if b & 0x80 == 0 { break }
        }
        guard v <= UInt64(UInt32.max) else { throw corrupt("snappy", "length above 2^32-1", offset: base) }
        return (Int(v), i)
    }

    /// Decompresses one raw snappy block.
    public static func decompressRaw(_ input: UnsafeRawBufferPointer, limit: Int) throws(KafkaDecodingError) -> [UInt8] {
        let (n, h) = try declaredLength(input)
        // The declared length is checked before allocating: a 5-byte input may claim 4 GiB.
        guard n <= limit else { throw limitExceeded("snappy", limit) }
        guard plausible(declared: n, elementBytes: input.count - h) else {
            throw corrupt("snappy", "declared length \(n) impossible for \(input.count) input bytes")
        }
        var failure: KafkaDecodingError?
        let out = [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            do throws(KafkaDecodingError) {
                try decodeElements(UnsafeRawBufferPointer(rebasing: input[h...]), into: UnsafeMutableRawBufferPointer(buf), base: h)
                count = n
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return out
    }

    /// Decodes the elements of a raw block into `dst`, which must be filled exactly.
    /// `base` is added to error offsets. Every length and offset is checked against both
    /// buffers before any byte moves.
    static func decodeElements(_ srcBuf: UnsafeRawBufferPointer, into dstBuf: UnsafeMutableRawBufferPointer, base: Int) throws(KafkaDecodingError) {
        let end = srcBuf.count
        let n = dstBuf.count
        guard end > 0 else {
            guard n == 0 else { throw corrupt("snappy", "output shorter than declared (0 of \(n))", offset: base) }
            return
        }
        let src = srcBuf.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard n > 0 else { throw corrupt("snappy", "output longer than declared", offset: base) }
        let out = dstBuf.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var s = 0
        var d = 0
        while s < end {
            let tag = src[s]
            let at = s
            s &+= 1
            var length: Int
            var offset: Int
            switch tag & 3 {
            case 0:
                length = Int(tag >> 2)
                if length >= 60 {
                    let extra = length - 59
                    guard end - s >= extra else { throw corrupt("snappy", "truncated literal length", offset: base + at) }
                    length = 0
                    for k in 0 ..< extra { length |= Int(src[s + k]) << (8 * k) }
                    s += extra
                }
                length += 1
                guard length <= end - s else { throw corrupt("snappy", "literal past end of input", offset: base + at) }
                guard length <= n - d else { throw corrupt("snappy", "output longer than declared", offset: base + at) }
                if length <= 16 && end - s >= 16 && n - d >= 16 {
                    // Short literal with slack on both sides: two fixed 8-byte moves beat a
                    // memmove call; the bytes past `length` are overwritten by what follows.
                    copy16(from: UnsafeRawPointer(src + s), to: UnsafeMutableRawPointer(out + d))
                } else {
                    (out + d).update(from: src + s, count: length)
                }
                s += length
                d += length
                continue
            case 1:
                guard end - s >= 1 else { throw corrupt("snappy", "truncated copy", offset: base + at) }
                length = 4 + Int((tag >> 2) & 7)
                offset = Int(tag >> 5) << 8 | Int(src[s])
                s += 1
            case 2:
                guard end - s >= 2 else { throw corrupt("snappy", "truncated copy", offset: base + at) }
                length = 1 + Int(tag >> 2)
                offset = Int(src[s]) | Int(src[s + 1]) << 8
                s += 2
            default:
                guard end - s >= 4 else { throw corrupt("snappy", "truncated copy", offset: base + at) }
                length = 1 + Int(tag >> 2)
                offset = Int(src[s]) | Int(src[s + 1]) << 8 | Int(src[s + 2]) << 16 | Int(src[s + 3]) << 24
                s += 4
            }
            guard offset > 0, offset <= d else { throw corrupt("snappy", "copy offset \(offset) outside output", offset: base + at) }
            guard length <= n - d else { throw corrupt("snappy", "output longer than declared", offset: base + at) }
            if length <= 16 && offset >= 8 && n - d >= 16 {
                // Each 8-byte move reads bytes already final (offset >= 8), even when the
                // copy overlaps itself.
                copy8(from: UnsafeRawPointer(out + (d - offset)), to: UnsafeMutableRawPointer(out + d))
                copy8(from: UnsafeRawPointer(out + (d - offset + 8)), to: UnsafeMutableRawPointer(out + d + 8))
            } else if offset >= length {
                (out + d).update(from: out + (d - offset), count: length)
            } else if offset >= 8 {
                // Overlapping: the copy repeats the last `offset` bytes; chunks of that size
                // never overlap their own source.
                var done = 0
                while done < length {
                    let c = min(offset, length - done)
                    (out + d + done).update(from: out + d - offset + done, count: c)
                    done += c
                }
            } else {
                for k in 0 ..< length { out[d + k] = out[d - offset + k] }
            }
            d += length
        }
        guard d == n else { throw corrupt("snappy", "output shorter than declared (\(d) of \(n))", offset: base + end) }
    }

    @inline(__always)
    static func copy8(from: UnsafeRawPointer, to: UnsafeMutableRawPointer) {
        to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
    }

    @inline(__always)
    static func copy16(from: UnsafeRawPointer, to: UnsafeMutableRawPointer) {
        let a = from.loadUnaligned(as: UInt64.self)
        let b = (from + 8).loadUnaligned(as: UInt64.self)
        to.storeBytes(of: a, as: UInt64.self)
        (to + 8).storeBytes(of: b, as: UInt64.self)
    }

    /// A copy element of 3 bytes yields at most 64, so no valid block expands more than
    /// 64/3 times: a larger declared length is refused before allocating it.
    static func plausible(declared n: Int, elementBytes: Int) -> Bool {
        let (cap, o) = elementBytes.multipliedReportingOverflow(by: 22)
        return o || n <= cap
    }

    // MARK: compression

    /// The most bytes `compress` can write for `n` input bytes.
    public static func maxCompressedLength(_ n: Int) -> Int { 32 + n + n / 6 }

    /// Appends the raw snappy block for `input` to `output`. `table` is scratch reused
    /// between calls (the hash table of recent positions).
    public static func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], table: inout [UInt16]) {
        let n = input.count
        let start = output.count
        let bound = maxCompressedLength(n)
        extend(&output, by: bound)
        if table.count != tableSize { table = [UInt16](repeating: 0, count: tableSize) }
        let written: Int = output.withUnsafeMutableBufferPointer { o in
            table.withUnsafeMutableBufferPointer { t in
                let dst = o.baseAddress! + start
                var w = 0
                var v = UInt32(truncatingIfNeeded: n)
                while v >= 0x80 {
                    dst[w] = UInt8(truncatingIfNeeded: v) | 0x80
                    w += 1
                    v >>= 7
                }
                dst[w] = UInt8(v)
                w += 1
                guard let src = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return w }
                // Blocks of 64 KiB keep every copy offset within two bytes.
                var blockStart = 0
                while blockStart < n {
                    let len = min(blockSize, n - blockStart)
                    w = compressBlock(src + blockStart, len, dst, w, t)
                    blockStart += len
                }
                return w
            }
        }
        output.removeLast(bound - written)
    }

    static let blockSize = 1 << 16
    static let tableBits = 14
    static let tableSize = 1 << tableBits
    /// Inputs shorter than this are emitted as one literal (a match needs 4 bytes and the
    /// loop reads ahead).
    static let inputMargin = 15

    @inline(__always) static func load32(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt32 {
        UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self)
    }

    @inline(__always) static func hash(_ v: UInt32) -> Int {
        Int((v &* 0x1E35_A7BD) &>> UInt32(32 - tableBits))
    }

    /// Compresses `len` (<= 64 KiB) bytes at `src`, writing at `dst + w`; returns the new
    /// write position.
    static func compressBlock(_ src: UnsafePointer<UInt8>, _ len: Int, _ dst: UnsafeMutablePointer<UInt8>, _ w0: Int,
                              _ table: UnsafeMutableBufferPointer<UInt16>) -> Int {
        var w = w0
        if len < inputMargin {
            return emitLiteral(src, 0, len, dst, w)
        }
        table.update(repeating: 0)
        let ipLimit = len - inputMargin
        var nextEmit = 0
        var ip = 1
        outer: while true {
            // Find a 4-byte match, skipping faster through input that does not compress.
            var skip = 32
            var nextIp = ip
            var candidate = 0
            repeat {
                ip = nextIp
                nextIp = ip + (skip >> 5)
                skip += 1
                if nextIp > ipLimit { break outer }
                let h = hash(load32(src, ip))
                candidate = Int(table[h])
                table[h] = UInt16(truncatingIfNeeded: ip)
            } while load32(src, ip) != load32(src, candidate)

            w = emitLiteral(src, nextEmit, ip - nextEmit, dst, w)
            // Emit copies for as long as the next position matches too.
            repeat {
                let base = ip
                var matched = 4
                // Eight bytes at a time: the first differing byte is the lowest set byte
                // of the XOR (loads are little-endian).
                while base + matched + 8 <= len {
                    let x = UnsafeRawPointer(src + base + matched).loadUnaligned(as: UInt64.self)
                        ^ UnsafeRawPointer(src + candidate + matched).loadUnaligned(as: UInt64.self)
                    if x != 0 {
                        matched += UInt64(littleEndian: x).trailingZeroBitCount >> 3
                        break
                    }
                    matched += 8
                }
                if base + matched + 8 > len {
                    while base + matched < len && src[candidate + matched] == src[base + matched] { matched += 1 }
                }
                ip = base + matched
                w = emitCopy(base - candidate, matched, dst, w)
                nextEmit = ip
                if ip >= ipLimit { break outer }
                table[hash(load32(src, ip - 1))] = UInt16(truncatingIfNeeded: ip - 1)
                let h = hash(load32(src, ip))
                candidate = Int(table[h])
                table[h] = UInt16(truncatingIfNeeded: ip)
            } while load32(src, ip) == load32(src, candidate)
            ip += 1
        }
        if nextEmit < len { w = emitLiteral(src, nextEmit, len - nextEmit, dst, w) }
        return w
    }

    @inline(__always)
    static func emitLiteral(_ src: UnsafePointer<UInt8>, _ from: Int, _ len: Int, _ dst: UnsafeMutablePointer<UInt8>, _ w0: Int) -> Int {
        if len == 0 { return w0 }
        var w = w0
        let n = len - 1
        if n < 60 {
            dst[w] = UInt8(n << 2)
            w += 1
        } else {
            var bytes = 1
            while bytes < 4 && n >> (8 * bytes) != 0 { bytes += 1 }
            dst[w] = UInt8((59 + bytes) << 2)
            w += 1
            for k in 0 ..< bytes { dst[w + k] = UInt8(truncatingIfNeeded: n >> (8 * k)) }
            w += bytes
        }
        if len <= 16 {
            // Short literals: a byte loop avoids a memmove call per element.
            for k in 0 ..< len { dst[w + k] = src[from + k] }
        } else {
            (dst + w).update(from: src + from, count: len)
        }
        return w + len
    }

    @inline(__always)
    static func emitCopy(_ offset: Int, _ length: Int, _ dst: UnsafeMutablePointer<UInt8>, _ w0: Int) -> Int {
        var w = w0
        var len = length
        // A two-byte-offset copy carries at most 64 bytes; keep the last piece >= 4 so it
        // can use the short form when the offset allows.
        while len >= 68 {
            w = emitCopy2(offset, 64, dst, w)
            len -= 64
        }
        if len > 64 {
            w = emitCopy2(offset, 60, dst, w)
            len -= 60
        }
        if len >= 12 || offset >= 2048 {
            return emitCopy2(offset, len, dst, w)
        }
        dst[w] = UInt8(1 | ((len - 4) << 2) | ((offset >> 8) << 5))
        dst[w + 1] = UInt8(truncatingIfNeeded: offset)
        return w + 2
    }

    @inline(__always)
    static func emitCopy2(_ offset: Int, _ len: Int, _ dst: UnsafeMutablePointer<UInt8>, _ w: Int) -> Int {
        dst[w] = UInt8(2 | ((len - 1) << 2))
        dst[w + 1] = UInt8(truncatingIfNeeded: offset)
        dst[w + 2] = UInt8(truncatingIfNeeded: offset >> 8)
        return w + 3
    }
}
