/// A point on a monotonic clock, in nanoseconds: the driver's clock for the engine, the
/// virtual clock for FakeCluster. Neither reads a clock: every input carries `now`, so a run
/// replays from its inputs alone.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public static let zero = Instant(nanoseconds: 0)
    public static func milliseconds(_ ms: UInt64) -> Instant { Instant(nanoseconds: ms &* 1_000_000) }
    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }
    public var description: String { "t+\(nanoseconds / 1_000_000)ms" }

    /// Saturates instead of trapping: a huge configured timeout means "never".
    public static func + (a: Instant, d: Interval) -> Instant {
        let (v, o) = a.nanoseconds.addingReportingOverflow(d.nanoseconds)
        return Instant(nanoseconds: o ? .max : v)
    }
    /// The time from `b` to `a`, zero when `b` is later.
    public static func - (a: Instant, b: Instant) -> Interval {
        Interval(nanoseconds: a.nanoseconds >= b.nanoseconds ? a.nanoseconds - b.nanoseconds : 0)
    }
}

/// A non-negative length of time in nanoseconds (named apart from `Swift.Duration`, whose
/// two-word representation is awkward for the arithmetic here).
public struct Interval: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public static let zero = Interval(nanoseconds: 0)
    public static func milliseconds<I: BinaryInteger>(_ ms: I) -> Interval {
        ms <= 0 ? .zero : Interval(nanoseconds: UInt64(ms).multipliedReportingOverflow(by: 1_000_000).overflow ? .max : UInt64(ms) * 1_000_000)
    }
    public static func seconds<I: BinaryInteger>(_ s: I) -> Interval { .milliseconds(Int64(s) * 1000) }
    public var milliseconds: UInt64 { nanoseconds / 1_000_000 }
    public static func < (a: Interval, b: Interval) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: Interval, b: Interval) -> Interval {
        let (v, o) = a.nanoseconds.addingReportingOverflow(b.nanoseconds)
        return Interval(nanoseconds: o ? .max : v)
    }
    public var description: String { "\(milliseconds)ms" }
}

extension Interval {
    /// A `Duration` in the engine's unit: negative is zero, too long saturates.
    public init(_ d: Duration) {
        let (s, atto) = d.components
        guard s >= 0 else { self = .zero; return }
        let ns = UInt64(clamping: s).multipliedReportingOverflow(by: 1_000_000_000)
        self.init(nanoseconds: ns.overflow ? .max : ns.partialValue &+ UInt64(atto / 1_000_000_000))
    }
}
