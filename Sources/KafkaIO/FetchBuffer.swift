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
        state.withLockedValue { s in
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

    /// Waits until something is pushed, the buffer closes, or `wake(id)` is called.
    func wait(id: UInt64) async {
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
