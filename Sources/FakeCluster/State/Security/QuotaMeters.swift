/// Byte-rate quota metering as a Kafka broker does it (KIP-13): each broker measures, per
/// quota kind and per client group sharing a quota (QuotaStore.limit), the bytes over a
/// sliding window of samples on the cluster's virtual clock, and a client over its rate
/// is throttled for as long as it takes the rate to come back down to the quota.
struct QuotaMeters: Sendable, Equatable {
    enum Kind: String, Sendable, Hashable {
        /// Produce request bytes against producer_byte_rate.
        case produce = "producer_byte_rate"
        /// Fetch response bytes against consumer_byte_rate.
        case fetch = "consumer_byte_rate"
    }

    struct Key: Sendable, Hashable {
        var broker: Int32
        var kind: Kind
        /// The names the quota is shared by ("" for a level without that part).
        var user: String
        var clientId: String
    }

    private var rates: [Key: WindowedRate] = [:]

    /// Records `bytes` a client moved through `broker` at `nowMs` and returns how long
    /// (milliseconds) to throttle it, 0 when it is within its quota or has none. Kafka
    /// records first and then checks the rate including this request.
    mutating func record(_ kind: Kind, broker: Int32, user: String, clientId: String, bytes: Int, nowMs: Int64,
                         quotas: QuotaStore) -> Int32 {
        guard let limit = quotas.limit(kind.rawValue, user: user, clientId: clientId) else { return 0 }
        let key = Key(broker: broker, kind: kind, user: limit.user, clientId: limit.clientId)
        rates[key, default: WindowedRate()].record(Double(bytes), at: nowMs)
        let (rate, windowMs) = rates[key]!.measure(at: nowMs)
        guard rate > limit.value else { return 0 }
        // The delay X that brings the observed rate O over window W down to the quota T:
        // O * W / (W + X) = T, so X = (O - T) / T * W. Kafka does not bound it for byte rates.
        let ms = ((rate - limit.value) / limit.value * Double(windowMs)).rounded()
        return ms >= Double(Int32.max) ? Int32.max : Int32(ms)
    }

    /// Takes back bytes recorded for a response that was not sent after all (a throttled
    /// fetch answers empty, so what it would have carried does not count).
    mutating func unrecord(_ kind: Kind, broker: Int32, user: String, clientId: String, bytes: Int, nowMs: Int64,
                           quotas: QuotaStore) {
        guard let limit = quotas.limit(kind.rawValue, user: user, clientId: clientId) else { return }
        let key = Key(broker: broker, kind: kind, user: limit.user, clientId: limit.clientId)
        rates[key]?.record(-Double(bytes), at: nowMs)
    }

    /// A stopped broker forgets its measurements (they are in its memory only).
    mutating func forget(broker: Int32) {
        rates = rates.filter { $0.key.broker != broker }
    }
}

/// Kafka's sampled rate with its quota defaults (quota.window.num = 11 samples of
/// quota.window.size.seconds = 1): a sample opens when the current one is a window old,
/// aligned to the window grid that the previous sample started; samples older than all
/// the windows together are emptied when measured; the rate divides the samples' sum by
/// the time since the oldest sample began, counted as at least ten whole windows (so a
/// first burst is not measured over a few milliseconds).
struct WindowedRate: Sendable, Equatable {
    static let samples = 11
    static let windowMs: Int64 = 1000

    private struct Sample: Sendable, Equatable {
        var start: Int64
        var total: Double
    }

    private var samples: [Sample] = []
    private var current = 0

    mutating func record(_ value: Double, at now: Int64) {
        if samples.isEmpty { samples.append(Sample(start: now, total: 0)) }
        if now - samples[current].start >= Self.windowMs {
            let end = samples[current].start + Self.windowMs
            let start = now - (now - end) % Self.windowMs
            current = (current + 1) % Self.samples
            if current == samples.count {
                samples.append(Sample(start: start, total: 0))
            } else {
                samples[current] = Sample(start: start, total: 0)
            }
        }
        samples[current].total += value
    }

    /// Bytes per second, and the window (milliseconds) it was measured over.
    mutating func measure(at now: Int64) -> (rate: Double, windowMs: Int64) {
        let expiry = Int64(Self.samples) * Self.windowMs
        for i in samples.indices where now - samples[i].start >= expiry { samples[i] = Sample(start: now, total: 0) }
        if samples.isEmpty { samples.append(Sample(start: now, total: 0)) }
        var elapsed = now - samples.map(\.start).min()!
        let full = elapsed / Self.windowMs, least = Int64(Self.samples - 1)
        if full < least { elapsed += (least - full) * Self.windowMs }
        elapsed = max(elapsed, 1)
        let total = samples.reduce(0) { $0 + $1.total }
        return (total / (Double(elapsed) / 1000), elapsed)
    }
}
