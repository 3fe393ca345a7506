import KafkaProtocol
import KafkaStateMachines
import NIOConcurrencyHelpers

/// Fetched partitions delivered by the engine and not yet polled. The engine's loop
/// pushes; pollers take, from any task. Paused partitions stay here until resumed.
///
/// Data stays as fetched (compressed when the batches are) until taken: a take decodes
/// batches in arrival order until a byte budget is spent, so decoded memory is bounded by
/// what one poll hands out, whatever the codec. A partition's fetched bytes go back to the
/// engine (backpressure) once all of them were handed out.
final class FetchBuffer: Sendable {
    /// What one take hands out.
    struct Taken {
        var partitions: [PolledPartition]
        var dataLoss: [DataLoss]
        var closed: Bool
        /// Fetched bytes fully handed out (or dropped with a stopped partition): the engine
        /// may fetch that much more.
        var released: Int
        /// Corrupt batches found while decoding, after the engine had moved on: each partition
        /// must stop at its bad batch.
        var stops: [(TopicPartition, offset: Int64, error: ConsumerPartitionError, skipTo: Int64)]
        var isEmpty: Bool { partitions.isEmpty && dataLoss.isEmpty }
    }

    /// How takes decode.
    struct Decoding {
        var budget: Int
        var verifyCRC: Bool
        var keepControlRecords: Bool
        var decompressionLimit: DecompressionLimit
    }

    /// Decompression state, used only under the buffer's lock.
    private struct Contexts: @unchecked Sendable { let value = CompressionContexts() }
    private let contexts = Contexts()

    private struct State {
        var items: [FetchedPartitionReader] = []
        /// Partitions whose data a take found corrupt: nothing more of theirs is handed out
        /// until the stop reaches the engine (which drops their data).
        var blocked: Set<TopicPartition> = []
        var dataLoss: [DataLoss] = []
        var paused: Set<TopicPartition> = []
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Wakes that came before their waiter registered (a timer racing the poll).
        var earlyWakes: Set<UInt64> = []
        var closed = false
        /// Group consuming: positions after what the last take handed out (the user may still
        /// be working on it), and after what earlier takes handed out (finished: the user took
        /// more, or waited for more, since). Only `consumed` is committed, with the leader
        /// epoch of the last batch handed out (KIP-320: whoever resumes there can validate it).
        var inHand: [TopicPartition: CommitPosition] = [:]
        var consumed: [TopicPartition: CommitPosition] = [:]
        var changed: Set<TopicPartition> = []
        /// Called (outside the lock) once what was in hand is finished.
        var onFinished: (@Sendable () -> Void)?
        var tracking = false
    }
    private let state = NIOLockedValueBox(State())

    func push(_ batch: FetchBatch) {
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            for p in batch.partitions { s.items.append(FetchedPartitionReader(p)) }
            s.dataLoss.append(contentsOf: batch.dataLoss)
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in waiters { w.resume() }
    }

    /// Decodes what is not paused, in arrival order, until `decoding.budget` bytes were
    /// decoded (one batch at least), and takes the data losses reported. A partition read
    /// only in part keeps the rest here for the next take, and nothing after it is decoded
    /// (so each partition's records come in offset order).
    func take(_ decoding: Decoding) -> Taken {
        var finished: (@Sendable () -> Void)?
        defer { finished?() }
        return state.withLockedValue { s in
            finished = Self.finishInHand(&s)
            var byPartition: [TopicPartition: PolledPartition] = [:]
            var released = 0
            var stops: [(TopicPartition, offset: Int64, error: ConsumerPartitionError, skipTo: Int64)] = []
            var spent = 0
            var done: [Int] = []
            var i = 0
            while i < s.items.count {
                let tp = s.items[i].fetched.topicPartition
                if s.paused.contains(tp) || s.blocked.contains(tp) { i += 1; continue }
                if spent >= decoding.budget && !byPartition.isEmpty { break }
                let piece = s.items[i].next(budget: max(1, decoding.budget - spent), contexts: contexts.value, verifyCRC: decoding.verifyCRC,
                                            keepControlRecords: decoding.keepControlRecords, decompressionLimit: decoding.decompressionLimit)
                spent += piece.decodedBytes
                let f = s.items[i].fetched
                var p = byPartition[tp] ?? PolledPartition(topic: tp.topic, partition: tp.partition, records: [])
                if p.records.isEmpty { p.records = piece.records } else { p.records.append(contentsOf: piece.records) }
                p.highWatermark = max(p.highWatermark, f.highWatermark)
                p.nextOffset = piece.nextOffset
                p.atEnd = piece.finished && f.atEnd
                if let e = piece.error {
                    p.error = e
                    if f.error == nil, case .corruptBatch(let offset, _) = e {
                        s.blocked.insert(tp)
                        stops.append((tp, offset, e, piece.skipTo ?? (offset == .max ? .max : offset + 1)))
                    }
                }
                byPartition[tp] = p
                if s.tracking, piece.nextOffset > (s.inHand[tp]?.offset ?? -1) {
                    s.inHand[tp] = CommitPosition(offset: piece.nextOffset, leaderEpoch: piece.lastEpoch)
                }
                guard piece.finished else { break }
                released += f.records.count
                done.append(i)
                i += 1
            }
            if !done.isEmpty {
                // One pass: a take may finish many small partitions.
                var kept: [FetchedPartitionReader] = []
                kept.reserveCapacity(s.items.count - done.count)
                var d = 0
                for (k, item) in s.items.enumerated() {
                    if d < done.count && done[d] == k { d += 1 } else { kept.append(item) }
                }
                s.items = kept
            }
            let loss = s.dataLoss
            s.dataLoss = []
            let partitions = byPartition.keys.sorted().map { byPartition[$0]! }
            return Taken(partitions: partitions, dataLoss: loss, closed: s.closed, released: released, stops: stops)
        }
    }

    /// Forgets buffered data of these partitions (seek, unassign, a stop); returns its bytes.
    @discardableResult
    func drop(_ partitions: Set<TopicPartition>) -> Int {
        state.withLockedValue { s in
            var bytes = 0
            s.items.removeAll { p in
                guard partitions.contains(p.fetched.topicPartition) else { return false }
                bytes += p.fetched.records.count
                return true
            }
            s.blocked.subtract(partitions)
            return bytes
        }
    }

    func setPaused(_ partitions: [TopicPartition], _ paused: Bool) {
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            if paused { s.paused.formUnion(partitions) } else { s.paused.subtract(partitions) }
            guard !paused else { return [] }
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in waiters { w.resume() }
    }

    var hasData: Bool {
        state.withLockedValue { s in !s.dataLoss.isEmpty || s.items.contains { Self.readable($0, s) } }
    }

    private static func readable(_ item: FetchedPartitionReader, _ s: State) -> Bool {
        let tp = item.fetched.topicPartition
        return !s.paused.contains(tp) && !s.blocked.contains(tp)
    }

    /// What the last take handed out is finished: it counts as consumed.
    private static func finishInHand(_ s: inout State) -> (@Sendable () -> Void)? {
        guard !s.inHand.isEmpty else { return nil }
        for (tp, o) in s.inHand where o.offset > (s.consumed[tp]?.offset ?? -1) {
            s.consumed[tp] = o
            s.changed.insert(tp)
        }
        s.inHand = [:]
        let f = s.onFinished
        s.onFinished = nil
        return f
    }

    /// Everything taken counts as consumed (the user is leaving: it is done with it).
    func finishAll() {
        var finished: (@Sendable () -> Void)?
        state.withLockedValue { s in finished = Self.finishInHand(&s) }
        finished?()
    }

    /// Starts (or stops) tracking consumed positions, for a group consumer.
    func trackPositions(_ on: Bool) {
        state.withLockedValue { s in
            s.tracking = on
            if !on { s.inHand = [:]; s.consumed = [:]; s.changed = [] }
        }
    }

    /// Consumed positions that changed since the last call.
    func takeConsumedChanges() -> [TopicPartition: CommitPosition] {
        state.withLockedValue { s in
            var out: [TopicPartition: CommitPosition] = [:]
            for tp in s.changed { out[tp] = s.consumed[tp] }
            s.changed = []
            return out
        }
    }

    /// The consumed positions of these partitions, which are then forgotten (given up).
    func releasePositions(_ partitions: [TopicPartition]) -> [TopicPartition: CommitPosition] {
        state.withLockedValue { s in
            var out: [TopicPartition: CommitPosition] = [:]
            for tp in partitions {
                if let o = s.consumed.removeValue(forKey: tp) { out[tp] = o }
                s.changed.remove(tp)
                s.inHand[tp] = nil
            }
            return out
        }
    }

    /// Whether the user may still be working on records of these partitions; if so,
    /// `whenFinished` runs once that work is finished (the next take or wait).
    func isInHand(_ partitions: [TopicPartition], whenFinished: @escaping @Sendable () -> Void) -> Bool {
        state.withLockedValue { s in
            guard partitions.contains(where: { s.inHand[$0] != nil }) else { return false }
            let previous = s.onFinished
            if let previous {
                s.onFinished = { @Sendable in previous(); whenFinished() }
            } else {
                s.onFinished = whenFinished
            }
            return true
        }
    }

    /// Waits until something is pushed, the buffer closes, or `wake(id)` is called. Waiting
    /// means the user finished what it took.
    func wait(id: UInt64) async {
        var finished: (@Sendable () -> Void)?
        state.withLockedValue { s in finished = Self.finishInHand(&s) }
        finished?()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLockedValue { s -> Bool in
                if s.earlyWakes.remove(id) != nil { return true }
                if s.closed || !s.dataLoss.isEmpty || s.items.contains(where: { Self.readable($0, s) }) { return true }
                s.waiters[id] = c
                return false
            }
            if resumeNow { c.resume() }
        }
    }

    func makeWaiterId() -> UInt64 {
        state.withLockedValue { s in
            s.nextWaiter += 1
            return s.nextWaiter
        }
    }

    /// Wakes one waiter (its poll timed out).
    func wake(_ id: UInt64) {
        let w = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiters.removeValue(forKey: id) else {
                s.earlyWakes.insert(id)
                return nil
            }
            return w
        }
        w?.resume()
    }

    /// The poll with this waiter id returned; a late timer wake must not linger.
    func forget(_ id: UInt64) {
        state.withLockedValue { _ = $0.earlyWakes.remove(id) }
    }

    func close() {
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.closed = true
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in waiters { w.resume() }
    }
}
