/// A request frame as the engine hands it to the driver: `head`, with long byte fields
/// (a produce request's record batches) spliced in at their offsets rather than copied
/// into it. The driver copies each run once, straight into its send buffer: a batch goes
/// from the producer's array to the socket buffer without a frame-sized copy between.
public struct OutboundFrame: Sendable, Equatable {
    /// One spliced field: its bytes and where they go in `head` (before `head[at]`).
    public struct Splice: Sendable, Equatable {
        public var at: Int
        public var bytes: [UInt8]

        @inlinable public init(at: Int, bytes: [UInt8]) {
            self.at = at
            self.bytes = bytes
        }
    }

    public private(set) var head: [UInt8]
    public private(set) var splices: [Splice]
    /// The frame's bytes in all.
    public let count: Int

    public init(_ bytes: [UInt8]) {
        head = bytes
        splices = []
        count = bytes.count
    }

    init(head: [UInt8], splices: [Splice]) {
        self.head = head
        self.splices = splices
        var n = head.count
        for s in splices { n += s.bytes.count }
        count = n
    }

    /// The frame as one array (a copy only when something is spliced).
    public var bytes: [UInt8] {
        if splices.isEmpty { return head }
        var all: [UInt8] = []
        all.reserveCapacity(count)
        forEachRun { all.append(contentsOf: $0) }
        return all
    }

    /// Calls `body` with the frame's runs, in order.
    public func forEachRun(_ body: (UnsafeRawBufferPointer) -> Void) {
        head.withUnsafeBytes { h in
            var from = 0
            for s in splices {
                if s.at > from { body(UnsafeRawBufferPointer(rebasing: h[from ..< s.at])) }
                s.bytes.withUnsafeBytes { body($0) }
                from = s.at
            }
            if from < h.count { body(UnsafeRawBufferPointer(rebasing: h[from...])) }
        }
    }
}
