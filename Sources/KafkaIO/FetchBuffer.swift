import KafkaProtocol
import KafkaStateMachines
import NIOConcurrencyHelpers

/// Fetched partitions delivered by the engine and not yet polled. The engine's loop
/// pushes; pollers take, from any task. Paused partitions stay here until resumed.
final class FetchBuffer: Sendable {
    private struct State {
        var items: [FetchedPartition] = []
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
            s.items.append(contentsOf: batch.partitions)
            s.dataLoss.append(contentsOf: batch.dataLoss)
            let w = Array(s.waiters.values)
            s.waiters = [:]
            return w
        }
        for w in waiters { w.resume() }
    }

    /// Everything not paused, and the data losses reported, in arrival order.
    func take() -> (partitions: [FetchedPartition], dataLoss: [DataLoss], closed: Bool) {
        var finished: (@Sendable () -> Void)?
        defer { finished?() }
        return state.withLockedValue { s in
            finished = Self.finishInHand(&s)
            var out: [FetchedPartition] = []
            if s.paused.isEmpty {
                out = s.items
                s.items = []
            } else {
                var keep: [FetchedPartition] = []
                for p in s.items { if s.paused.contains(p.topicPartition) { keep.append(p) } else { out.append(p) } }
                s.items = keep
            }
            let loss = s.dataLoss
            s.dataLoss = []
            if s.tracking {
                for p in out where p.nextOffset > (s.inHand[p.topicPartition]?.offset ?? -1) {
                    s.inHand[p.topicPartition] = CommitPosition(offset: p.nextOffset, leaderEpoch: p.lastEpoch)
                }
            }
            return (out, loss, s.closed)
        }
    }

    /// Forgets buffered data of these partitions (seek, unassign, a stop); returns its bytes.
    @discardableResult
    func drop(_ partitions: Set<TopicPartition>) -> Int {
        state.withLockedValue { s in
            var bytes = 0
            s.items.removeAll { p in
                guard partitions.contains(p.topicPartition) else { return false }
                bytes += p.records.count
                return true
            }
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
        state.withLockedValue { s in !s.dataLoss.isEmpty || s.items.contains { !s.paused.contains($0.topicPartition) } }
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
                if s.closed || !s.dataLoss.isEmpty || s.items.contains(where: { !s.paused.contains($0.topicPartition) }) { return true }
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
