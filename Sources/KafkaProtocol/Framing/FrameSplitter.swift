/// Splits a byte stream into Kafka frames (a 4-byte big-endian size, then that many bytes).
///
/// Bytes arrive in arbitrary pieces; complete frames come out whole. A size below zero or
/// above `maxFrameSize` is a protocol violation: the connection must be closed, so the
/// splitter reports it once and refuses further input. Memory is bounded by the largest
/// allowed frame plus one network read (and `keptLimit` of storage kept for the next one).
///
/// A large frame (`handOverSize` and up) still incomplete when `nextFrame` looks at it is
/// received from then on straight into an array of its own, without its size prefix, and
/// that array is handed over whole when the frame completes: no copy out of the buffer and
/// no shift to drop the prefix, whatever arrives after it in the same read.
public struct FrameSplitter: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        /// The peer announced a frame larger than allowed (or negative).
        case frameSizeOutOfRange(size: Int32, max: Int)
    }

    public let maxFrameSize: Int
    /// Frames at least this large are received into an array of their own and handed over.
    static let handOverSize = 64 * 1024
    /// The most storage kept between frames (see `keep`): a large frame's array once its
    /// bytes are decoded, for the next one to arrive in.
    static let keptLimit = 4 * 1024 * 1024
    /// Small frames and every frame's size prefix.
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// The body of the large frame being received (see above); `largeSize` is its size, -1
    /// while there is none. Bytes after it wait in `buffer` until it has been handed over.
    private var large: [UInt8] = []
    private var largeSize = -1
    /// Storage given back through `keep`, for the next large frame.
    private var spare: [UInt8] = []
    private var failed: Failure?

    /// `maxFrameSize` defaults to 100 MiB, Kafka's `socket.request.max.bytes`.
    public init(maxFrameSize: Int = 100 * 1024 * 1024) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex + (largeSize >= 0 ? 4 + large.count : 0) }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { append(buffer: $0) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { append(buffer: $0) } }
    }

    /// Bytes lent in place (a socket read's buffer): copied once, into the frame they belong to.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(buffer: bytes.assumingMemoryBound(to: UInt8.self))
    }

    private mutating func append(buffer bytes: UnsafeBufferPointer<UInt8>) {
        var rest = bytes
        if largeSize >= 0 {
            let take = min(largeSize - large.count, rest.count)
            large.append(contentsOf: UnsafeBufferPointer(rebasing: rest[..<take]))
            rest = UnsafeBufferPointer(rebasing: rest[take...])
            if rest.isEmpty { return }
        }
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0 ..< readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: rest)
        // Room for a small frame at once, so it is not regrown by doubling. Only for a size
        // the frame limit allows: anything else fails in `nextFrame`.
        let i = readIndex
        if buffer.count - i >= 4 {
            let size = Self.size(buffer, at: i)
            if size >= 0, Int(size) < Self.handOverSize, buffer.capacity < i + 4 + Int(size) { buffer.reserveCapacity(i + 4 + Int(size)) }
        }
    }

    /// Takes back the storage of a frame `nextFrame` handed over, once the caller is done
    /// with its bytes: the next large frame arrives in it. A fresh multi-megabyte array per
    /// fetch response came from mmap or a trimmed heap, and the kernel faulted in (and
    /// zeroed) every page of it again for every response. Kept up to `keptLimit`, one
    /// array at a time (the larger); `frame` is left empty either way.
    public mutating func keep(_ frame: inout [UInt8]) {
        defer { frame = [] }
        guard frame.capacity >= Self.handOverSize, frame.capacity <= Self.keptLimit, spare.capacity < frame.capacity else { return }
        frame.removeAll(keepingCapacity: true)
        swap(&spare, &frame)
    }

    /// Storage held for frames to come (for tests).
    public var capacity: Int { buffer.capacity + large.capacity + spare.capacity }

    private static func size(_ b: [UInt8], at i: Int) -> Int32 {
        Int32(bitPattern: UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3]))
    }

    /// The next complete frame without its size prefix, or nil until more bytes arrive.
    public mutating func nextFrame() throws(Failure) -> [UInt8]? {
        if let failed { throw failed }
        if largeSize >= 0 {
            guard large.count == largeSize else { return nil }
            largeSize = -1
            var frame: [UInt8] = []
            swap(&frame, &large)
            return frame
        }
        guard buffer.count - readIndex >= 4 else { return nil }
        let i = readIndex
        let size = Self.size(buffer, at: i)
        guard size >= 0, Int(size) <= maxFrameSize else {
            let f = Failure.frameSizeOutOfRange(size: size, max: maxFrameSize)
            failed = f
            throw f
        }
        let n = Int(size)
        guard buffer.count - i - 4 >= n else {
            if n >= Self.handOverSize { receiveLarge(size: n) }
            return nil
        }
        if i == 0 && 4 + n == buffer.count && n >= Self.handOverSize {
            // A large frame that came whole in one piece, alone: hand the buffer over
            // (dropping the size prefix in place) rather than copying it out.
            var frame: [UInt8] = []
            swap(&frame, &buffer)
            frame.removeSubrange(0 ..< 4)
            return frame
        }
        let frame = Array(buffer[(i + 4) ..< (i + 4 + n)])
        readIndex = i + 4 + n
        if readIndex == buffer.count { resetBuffer() }
        return frame
    }

    /// The incomplete frame at `readIndex` (all that is buffered) goes on in `large`.
    private mutating func receiveLarge(size n: Int) {
        swap(&large, &spare)
        large.removeAll(keepingCapacity: true)
        large.reserveCapacity(n)
        large.append(contentsOf: buffer[(readIndex + 4)...])
        largeSize = n
        resetBuffer()
    }

    /// Everything in `buffer` was read: keep its storage for the next frames, unless a frame
    /// grew it past the limit.
    private mutating func resetBuffer() {
        if buffer.capacity > Self.keptLimit { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
        readIndex = 0
    }
}
