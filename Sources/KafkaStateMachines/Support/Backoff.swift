/// Exponential backoff with jitter (KIP-580): attempt n waits `initial * 2^n`, capped at
/// `max`, scaled by a uniform factor in [1 - jitter, 1 + jitter] drawn from the engine's
/// seeded generator, so spread-out retries still replay exactly from the seed.
public struct BackoffPolicy: Sendable, Equatable {
    /// The engine's form of `initial` and `max`.
    package var initialInterval: Interval
    package var maxInterval: Interval
    /// The relative jitter, 0 ... 1 (KIP-580 uses 0.2).
    public var jitter: Double

    public init(initial: Duration = .milliseconds(100), max: Duration = .milliseconds(1000), jitter: Double = 0.2) {
        self.init(initialInterval: Interval(initial), maxInterval: Interval(max), jitter: jitter)
    }

    package init(initialInterval: Interval, maxInterval: Interval, jitter: Double) {
        self.initialInterval = initialInterval
        self.maxInterval = maxInterval
        self.jitter = Swift.min(Swift.max(jitter, 0), 1)
    }

    /// The wait before the first retry.
    public var initial: Duration {
        get { .nanoseconds(Int64(clamping: initialInterval.nanoseconds)) }
        set { initialInterval = Interval(newValue) }
    }

    /// The longest wait.
    public var max: Duration {
        get { .nanoseconds(Int64(clamping: maxInterval.nanoseconds)) }
        set { maxInterval = Interval(newValue) }
    }

    /// The wait before retry number `attempt` (0 for the first retry).
    package func delay<G: RandomNumberGenerator>(attempt: Int, using rng: inout G) -> Interval {
        let shift = UInt64(Swift.min(Swift.max(attempt, 0), 62))
        let (grown, overflow) = initialInterval.nanoseconds.multipliedReportingOverflow(by: UInt64(1) << shift)
        let base = overflow ? maxInterval.nanoseconds : Swift.min(grown, maxInterval.nanoseconds)
        guard jitter > 0, base > 0 else { return Interval(nanoseconds: base) }
        // 53 bits of the draw give a uniform double in [0, 1).
        let unit = Double(rng.next() >> 11) / Double(UInt64(1) << 53)
        let factor = 1 - jitter + 2 * jitter * unit
        return Interval(nanoseconds: UInt64(Double(base) * factor))
    }
}
