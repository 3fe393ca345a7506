import CoreMetrics
import Synchronization

/// A swift-metrics backend for `kgo bench --hooks metrics`: it does what a real one
/// (swift-prometheus) does per update, so the benchmark prices the adapter honestly, where
/// swift-metrics' no-op backend would price only the calls. Counters and gauges are atomics,
/// timers are histograms (Prometheus' default buckets, a count and a sum) under a lock, and
/// the handles live in a registry by label and dimensions, made once each. Nothing is
/// exported: the totals are read back to check the adapter counted every record.
final class BenchMetricsFactory: MetricsFactory {
    private struct Key: Hashable {
        var label: String
        var dimensions: [String]
        init(_ label: String, _ dimensions: [(String, String)]) {
            self.label = label
            self.dimensions = dimensions.flatMap { [$0.0, $0.1] }
        }
    }
    private struct Registry {
        var counters: [Key: BenchCounter] = [:]
        var meters: [Key: BenchMeter] = [:]
        var timers: [Key: BenchHistogram] = [:]
    }
    private let registry = Mutex(Registry())

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        handle(\.counters, label, dimensions, BenchCounter.init)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        handle(\.meters, label, dimensions, BenchMeter.init)
    }

    /// Recorders are timers' histograms over plain values (the adapter makes none).
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        handle(\.timers, label, dimensions, BenchHistogram.init)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        handle(\.timers, label, dimensions, BenchHistogram.init)
    }

    /// The handle registered under `label` and `dimensions` in `table`, made on first use.
    private func handle<H: Sendable>(_ table: WritableKeyPath<Registry, [Key: H]> & Sendable, _ label: String,
                                     _ dimensions: [(String, String)], _ make: () -> H) -> H {
        let key = Key(label, dimensions)
        return registry.withLock { r in
            if let h = r[keyPath: table][key] { return h }
            let h = make()
            r[keyPath: table][key] = h
            return h
        }
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    /// The value of counter `label` summed over all its dimensions (0 if never made).
    func counterTotal(_ label: String) -> Int64 {
        registry.withLock { r in r.counters.filter { $0.key.label == label }.values.reduce(0) { $0 + $1.value } }
    }

    /// The value of counter `label` with exactly these dimensions, if it was made.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64? {
        registry.withLock { r in r.counters[Key(label, dimensions)]?.value }
    }

    /// Gauge `label` (no dimensions), if it was made.
    func meter(_ label: String) -> Double? {
        registry.withLock { r in r.meters[Key(label, [])]?.value }
    }

    /// How many values timer `label` recorded over all its dimensions.
    func timerCount(_ label: String) -> Int {
        registry.withLock { r in r.timers.filter { $0.key.label == label }.values.reduce(0) { $0 + $1.snapshot.count } }
    }
}

final class BenchCounter: CounterHandler {
    private let total = Atomic<Int64>(0)
    func increment(by amount: Int64) { total.wrappingAdd(amount, ordering: .relaxed) }
    func reset() { total.store(0, ordering: .relaxed) }
    var value: Int64 { total.load(ordering: .relaxed) }
}

/// A gauge: a Double kept as its bit pattern, updated by compare-and-exchange.
final class BenchMeter: MeterHandler {
    private let bits = Atomic<UInt64>(0.0.bitPattern)
    func set(_ value: Int64) { set(Double(value)) }
    func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
    func increment(by amount: Double) { update { $0 + amount } }
    func decrement(by amount: Double) { update { $0 - amount } }
    var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

    private func update(_ f: (Double) -> Double) {
        var old = bits.load(ordering: .relaxed)
        while true {
            let (done, seen) = bits.compareExchange(expected: old, desired: f(Double(bitPattern: old)).bitPattern, ordering: .relaxed)
            if done { return }
            old = seen
        }
    }
}

/// A Prometheus-style histogram: cumulative buckets in seconds, a count and a sum.
final class BenchHistogram: TimerHandler, RecorderHandler {
    /// Prometheus' default buckets, in seconds.
    static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    struct State {
        var buckets = [Int](repeating: 0, count: BenchHistogram.bounds.count + 1)
        var count = 0
        var sum = 0.0
    }
    private let state = Mutex(State())

    func recordNanoseconds(_ duration: Int64) { record(Double(duration) / 1e9) }
    func record(_ value: Int64) { record(Double(value)) }
    func record(_ value: Double) {
        let bucket = Self.bounds.firstIndex { value <= $0 } ?? Self.bounds.count
        state.withLock { s in
            s.buckets[bucket] += 1
            s.count += 1
            s.sum += value
        }
    }

    var snapshot: State { state.withLock { $0 } }
}
