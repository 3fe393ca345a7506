/// Splits a byte stream into Kafka frames (a 4-byte big-endian size, then that many bytes).
///
/// Bytes arrive in arbitrary pieces; complete frames come out whole. A size below zero or
/// above `maxFrameSize` is a protocol violation: the connection must be closed, so the
/// splitter reports it once and refuses further input. Memory is bounded by the largest
/// allowed frame plus one network read.
public struct FrameSplitter: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        /// The peer announced a frame larger than allowed (or negative).
        case frameSizeOutOfRange(size: Int32, max: Int)
    }

    public let maxFrameSize: Int
    /// Frames at least this large are handed over without a copy when they fill the buffer.
    static let handOverSize = 64 * 1024
    /// The most storage kept between frames (see `keep`): a large frame's array once its
    /// bytes are decoded, for the next one to arrive in.
    static let keptLimit = 4 * 1024 * 1024
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failed: Failure?

    /// `maxFrameSize` defaults to 100 MiB, Kafka's `socket.request.max.bytes`.
    public init(maxFrameSize: Int = 100 * 1024 * 1024) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0 ..< readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
        // Room for the whole frame at once, so a large frame is not regrown by doubling (and
        // its storage can be handed over whole when it completes). Only for a size the
        // frame limit allows: anything else fails in `nextFrame`.
        let i = readIndex
        if buffer.count - i >= 4 {
            let size = Int(Int32(bitPattern: UInt32(buffer[i]) << 24 | UInt32(buffer[i + 1]) << 16 | UInt32(buffer[i + 2]) << 8 | UInt32(buffer[i + 3])))
            if size >= 0, size <= maxFrameSize, buffer.capacity < i + 4 + size { buffer.reserveCapacity(i + 4 + size) }
        }
    }

    /// Takes back the storage of a frame `nextFrame` handed over, once the caller is done
    /// with its bytes: the next large frame arrives in it. A fresh multi-megabyte array per
    /// fetch response came from mmap or a trimmed heap, and the kernel faulted in (and
    /// zeroed) every page of it again for every response. Kept only while nothing is
    /// buffered and up to `keptLimit`; `frame` is left empty either way.
    public mutating func keep(_ frame: inout [UInt8]) {
        defer { frame = [] }
        guard buffer.isEmpty, frame.capacity >= Self.handOverSize, frame.capacity <= Self.keptLimit,
              buffer.capacity < frame.capacity else { return }
        frame.removeAll(keepingCapacity: true)
        swap(&buffer, &frame)
        readIndex = 0
    }

    /// Storage held for frames to come (for tests).
    public var capacity: Int { buffer.capacity }

    /// The next complete frame without its size prefix, or nil until more bytes arrive.
    public mutating func nextFrame() throws(Failure) -> [UInt8]? {
        if let failed { throw failed }
        guard buffer.count - readIndex >= 4 else { return nil }
        let i = readIndex
        let raw = UInt32(buffer[i]) << 24 | UInt32(buffer[i + 1]) << 16 | UInt32(buffer[i + 2]) << 8 | UInt32(buffer[i + 3])
        let size = Int32(bitPattern: raw)
        guard size >= 0, Int(size) <= maxFrameSize else {
            let f = Failure.frameSizeOutOfRange(size: size, max: maxFrameSize)
            failed = f
            throw f
        }
        let n = Int(size)
        guard buffer.count - i - 4 >= n else { return nil }
        if i == 0 && 4 + n == buffer.count && n >= Self.handOverSize {
            // The buffer holds exactly this frame: hand its storage over (dropping the size
            // prefix in place) rather than copying a large frame and keeping its capacity.
            var frame: [UInt8] = []
            swap(&frame, &buffer)
            frame.removeSubrange(0 ..< 4)
            return frame
        }
        let frame = Array(buffer[(i + 4) ..< (i + 4 + n)])
        readIndex = i + 4 + n
        if readIndex == buffer.count {
            // Keep the storage for the next frames, unless a frame grew it past the limit.
            if buffer.capacity > Self.keptLimit { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
            readIndex = 0
        }
        return frame
    }
}
