/// A point on the fake cluster's virtual clock: nanoseconds since the run began.
/// FakeCluster never reads a real clock; every operation that cares about time takes one
/// of these. (KafkaProtocol has no instant type yet; swap for the shared one when it lands.)
public struct VirtualInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = VirtualInstant(nanoseconds: 0)

    public static func milliseconds(_ ms: Int64) -> VirtualInstant {
        VirtualInstant(nanoseconds: UInt64(max(0, ms)) &* 1_000_000)
    }

    /// Kafka timeouts arrive as Int32/Int64 milliseconds; negative means "none" and clamps to 0.
    public func adding(milliseconds ms: Int64) -> VirtualInstant {
        let delta = UInt64(max(0, ms)).multipliedReportingOverflow(by: 1_000_000)
        if delta.overflow { return VirtualInstant(nanoseconds: .max) }
        let sum = nanoseconds.addingReportingOverflow(delta.partialValue)
        return VirtualInstant(nanoseconds: sum.overflow ? .max : sum.partialValue)
    }

    /// Whole milliseconds, as Kafka timestamps and durations are expressed.
    public var milliseconds: Int64 { Int64(nanoseconds / 1_000_000) }

    public static func < (a: VirtualInstant, b: VirtualInstant) -> Bool { a.nanoseconds < b.nanoseconds }

    public var description: String { "t+\(nanoseconds)ns" }
}

/// The earlier of two optional deadlines; nil means "no deadline".
func earliest(_ a: VirtualInstant?, _ b: VirtualInstant?) -> VirtualInstant? {
    switch (a, b) {
    case let (x?, y?): return min(x, y)
    case let (x?, nil): return x
    case let (nil, y?): return y
    case (nil, nil): return nil
    }
}
