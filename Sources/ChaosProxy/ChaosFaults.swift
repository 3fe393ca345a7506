/// What a `ChaosProxy` does to the traffic it carries. Set at start and changed at any
/// time with `ChaosProxy.setFaults`: shaping (latency, jitter, bandwidth, slicing) and
/// stalls apply to every connection at once; the reset threshold and the black hole are
/// decided when a connection is accepted, and refusals apply to connections accepted
/// while they are on.
public struct ChaosFaults: Sendable, Equatable {
    /// Which bytes count towards `resetAfterBytes`.
    public enum Direction: Sendable, Equatable {
        /// Client to upstream only.
        case toUpstream
        /// Upstream to client only.
        case toClient
        /// Both directions together (Tools/cut-proxy.py's count).
        case both
    }

    /// Added to every chunk read, in each direction.
    public var latency: Duration
    /// Up to this much more per chunk, drawn uniformly from the proxy's generator. Chunks
    /// never overtake each other: a later chunk waits for an earlier one's time.
    public var jitter: Duration
    /// Each direction of each connection carries at most this many bytes a second; nil: no limit.
    public var bytesPerSecond: Int?
    /// Every byte is written (and flushed) on its own, so the peer sees frames in pieces.
    public var singleByteWrites: Bool
    /// Each connection accepted while set is reset (an RST, SO_LINGER 0, on both sides)
    /// once it has carried a number of bytes drawn from this range; the chunk that crosses
    /// it is forwarded only up to the threshold, the bytes still queued are lost. Setting it
    /// to nil spares the connections still open.
    public var resetAfterBytes: ClosedRange<Int>?
    /// The bytes `resetAfterBytes` counts.
    public var resetCounts: Direction
    /// No connection forwards anything while set (bytes are held, nothing is answered);
    /// held bytes go on once it is lifted, as after a healed partition.
    public var stall: Bool
    /// Connections accepted while set are never joined upstream: their bytes are read and
    /// dropped and nothing is ever answered, even after the fault is lifted.
    public var blackHole: Bool
    /// Connections accepted while set are reset at once (an RST right after the accept).
    public var refuseConnections: Bool

    public init(latency: Duration = .zero, jitter: Duration = .zero, bytesPerSecond: Int? = nil, singleByteWrites: Bool = false,
                resetAfterBytes: ClosedRange<Int>? = nil, resetCounts: Direction = .both, stall: Bool = false,
                blackHole: Bool = false, refuseConnections: Bool = false) {
        self.latency = latency
        self.jitter = jitter
        self.bytesPerSecond = bytesPerSecond
        self.singleByteWrites = singleByteWrites
        self.resetAfterBytes = resetAfterBytes
        self.resetCounts = resetCounts
        self.stall = stall
        self.blackHole = blackHole
        self.refuseConnections = refuseConnections
    }

    /// A transparent proxy.
    public static let none = ChaosFaults()

    /// Whether `direction`'s bytes count towards the reset threshold.
    func counts(_ direction: Direction) -> Bool { resetCounts == .both || resetCounts == direction }
}

/// What a `ChaosProxy` has done since it started.
public struct ChaosStats: Sendable, Equatable {
    /// Every connection accepted, refused and black-holed ones included.
    public var accepted = 0
    /// Connections reset at once because refusals were on.
    public var refused = 0
    /// Connections accepted into the black hole.
    public var blackHoled = 0
    /// Connections reset after their byte threshold.
    public var resets = 0
    /// Connections whose upstream could not be reached (reset at once).
    public var upstreamFailures = 0
    /// Bytes written to the upstream and to the clients.
    public var bytesToUpstream = 0
    public var bytesToClient = 0

    public init() {}
}
