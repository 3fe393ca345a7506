import Foundation
import KafkaIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `kgo bench produce --rate R`: records paced at R per second to partition 0 (topped up
/// every millisecond, as Tools/bench/rdprod-rate.c paces librdkafka), and the time from each
/// produce call to its acknowledgement. One partition, acknowledged in order, so record i
/// is the i-th offset of the run. The first second's records are not counted (warm-up).
final class ProduceLatency: @unchecked Sendable {
    private let sent: UnsafeMutableBufferPointer<UInt64>
    private let latencies: UnsafeMutableBufferPointer<UInt64>
    private let acked = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)
    private let baseOffset = Atomic<Int64>(-1)
    private let clockBase = ContinuousClock.now
    /// Records before this index (the first second) are left out of the percentiles: steady
    /// state, not the producer id and metadata fetched at the start.
    let warmUp: Int

    init(count: Int, warmUp: Int) {
        self.warmUp = warmUp
        sent = .allocate(capacity: count)
        sent.initialize(repeating: 0)
        latencies = .allocate(capacity: count)
        latencies.initialize(repeating: 0)
    }

    deinit {
        sent.deallocate()
        latencies.deallocate()
    }

    private func nanos() -> UInt64 {
        let d = ContinuousClock.now - clockBase
        return UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    /// Written before the produce call of record `i`, read after its acknowledgement (the
    /// client's hand-off orders the two).
    func willSend(_ i: Int) { sent[i] = nanos() }

    func completed(_ r: Result<ProducedRecord, ProduceError>) {
        guard case .success(let p) = r else { failed.wrappingAdd(1, ordering: .relaxed); return }
        let now = nanos()
        _ = baseOffset.compareExchange(expected: -1, desired: p.offset, ordering: .relaxed)
        let i = Int(p.offset - baseOffset.load(ordering: .relaxed))
        guard i >= 0, i < sent.count else { failed.wrappingAdd(1, ordering: .relaxed); return }
        let slot = acked.wrappingAdd(1, ordering: .relaxed).oldValue
        if i >= warmUp { latencies[slot] = now &- sent[i] } else { latencies[slot] = .max }
    }

    var counts: (acked: Int, failed: Int) { (acked.load(ordering: .relaxed), failed.load(ordering: .relaxed)) }

    /// p50, p99 and max in milliseconds.
    func percentiles() -> (p50: Double, p99: Double, max: Double) {
        let n = counts.acked
        guard n > 0 else { return (0, 0, 0) }
        let sorted = latencies[0 ..< n].filter { $0 != .max }.sorted()
        guard !sorted.isEmpty else { return (0, 0, 0) }
        let ms = { (v: UInt64) in Double(v) / 1e6 }
        let k = sorted.count
        return (ms(sorted[k / 2]), ms(sorted[k * 99 / 100]), ms(sorted[k - 1]))
    }

    /// Produces `count` records of `size` bytes to partition 0 of `topic` at `rate` per second,
    /// from a thread of its own that naps 1 ms between top-ups, as the librdkafka peer's loop
    /// does (a task's sleep on a loaded machine oversleeps, which would make the bursts, and
    /// so the lingering, larger than the peer's).
    func run(_ client: KafkaClient, topic: String, count: Int, size: Int, rate: Double) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                pace(client, topic: topic, count: count, size: size, rate: rate)
                done.resume()
            }
            thread.start()
        }
    }

    private func pace(_ client: KafkaClient, topic: String, count: Int, size: Int, rate: Double) {
        var payload = [UInt8](repeating: 0, count: size)
        for k in 0 ..< size { payload[k] = UInt8(ascii: "a") &+ UInt8((k * 7 + k / 13) % 26) }
        let done: ProduceCompletion = { [self] in completed($0) }
        let start = ContinuousClock.now
        var i = 0
        while i < count {
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let due = min(count, Int(seconds * rate) + 1)
            while i < due {
                let digits = Array(String(i).utf8.prefix(size))
                payload.replaceSubrange(0 ..< digits.count, with: digits)
                willSend(i)
                // The synchronous form: on a plain thread it waits for buffer room.
                client.produce(KafkaRecord(topic: topic, partition: 0, value: payload), completion: done)
                i += 1
            }
            var nap = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&nap, nil)
        }
    }
}
