import FakeCluster
import KafkaStateMachines

/// The consumer's part of a run: `.fetched` actions go to the workloads, their inputs go
/// to the engine's fetcher, and the end waits for consumers to catch up before checking.
extension Simulation {
    mutating func fetched(_ batch: FetchBatch) {
        for i in workloads.indices {
            var ctx = lendContext()
            workloads[i].fetched(batch, &ctx)
            absorb(&ctx, from: i)
        }
    }

    /// Applies a workload's consumer inputs to the engine (called from `absorb`).
    mutating func applyConsumerInputs(_ inputs: [SimConsumerInput]) {
        guard !inputs.isEmpty else { return }
        for input in inputs {
            switch input {
            case .assign(let a):
                feed(.assign(a))
            case .consumed(let bytes):
                feed(.fetchConsumed(bytes))
            }
        }
        drainEngine()
    }

    /// Every consumer has reached the end of every partition (the run may stop).
    func consumersCaughtUp() -> Bool {
        let writersDone = writers.allSatisfy { $0.producers.allSatisfy { $0.open.isEmpty } }
        for w in workloads {
            guard let c = w as? ConsumerWorkload else { continue }
            for p in 0 ..< c.partitions {
                guard let o = cluster.offsets(.init(c.topic, p)) else { continue }
                let end = c.isolation == .readCommitted ? o.lastStable : o.highWatermark
                if (c.position[p] ?? 0) < end { return false }
                // A transaction the writer ended has its markers written a moment later (the
                // coordinator's prepare window); until then the last stable offset holds back.
                if c.isolation == .readCommitted, writersDone, o.lastStable < o.highWatermark { return false }
            }
        }
        // Open transactions keep the last stable offset back: writers finish first.
        return writersDone
    }

    mutating func checkConsumers() {
        for w in workloads {
            guard let c = w as? ConsumerWorkload else { continue }
            let writer = writers.first { $0.topic == c.topic }
            ConsumerChecker.check(c, writer: writer, cluster: &cluster, now: now, into: &violations)
        }
    }
}
