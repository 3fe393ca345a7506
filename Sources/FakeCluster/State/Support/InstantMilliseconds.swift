/// FakeCluster's clock is `Instant` (from KafkaProtocol): nanoseconds since the run began.
/// FakeCluster never reads a real clock; every operation that cares about time takes one.
extension Instant {
    /// Kafka timeouts arrive as Int32/Int64 milliseconds; negative means "none" and clamps to 0.
    /// Saturates at `.max` (as `+ Interval.milliseconds(ms)` does).
    public func adding(milliseconds ms: Int64) -> Instant {
        let delta = UInt64(max(0, ms)).multipliedReportingOverflow(by: 1_000_000)
        if delta.overflow { return Instant(nanoseconds: .max) }
        let sum = nanoseconds.addingReportingOverflow(delta.partialValue)
        return Instant(nanoseconds: sum.overflow ? .max : sum.partialValue)
    }

    /// Whole milliseconds, as Kafka timestamps and durations are expressed.
    public var milliseconds: Int64 { Int64(nanoseconds / 1_000_000) }
}

/// The earlier of two optional deadlines; nil means "no deadline".
func earliest(_ a: Instant?, _ b: Instant?) -> Instant? {
    switch (a, b) {
    case let (x?, y?): return min(x, y)
    case let (x?, nil): return x
    case let (nil, y?): return y
    case (nil, nil): return nil
    }
}
