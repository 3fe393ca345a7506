import KafkaProtocol

/// The engine's consumer inputs: the fetcher (a component, Fetcher+Component.swift) runs
/// after each of them.
extension ClientEngine {
    /// Consumes these partitions from these offsets (an assigned partition moves, as with `seek`).
    mutating func assign(_ partitions: [TopicPartition: StartOffset], now: Instant) {
        fetcher.assign(partitions)
        runComponent(.fetcher, now: now)
    }

    mutating func unassign(_ partitions: [TopicPartition], now: Instant) {
        fetcher.unassign(partitions)
        runComponent(.fetcher, now: now)
    }

    /// Consumes topics by name and by pattern; replaces the previous subscription.
    mutating func subscribe(_ subscription: TopicSubscription, now: Instant) {
        let md = metadata
        fetcher.subscribe(subscription, metadata: md)
        runComponent(.fetcher, now: now)
    }

    mutating func seek(_ tp: TopicPartition, to start: StartOffset, now: Instant) {
        fetcher.seek(tp, to: start)
        runComponent(.fetcher, now: now)
    }

    /// Resumes a partition stopped by a bad batch, after that batch.
    mutating func skip(_ tp: TopicPartition, now: Instant) {
        fetcher.skip(tp)
        runComponent(.fetcher, now: now)
    }

    /// The user could not decode a batch at `offset`: stop the partition there.
    mutating func stopPartition(_ tp: TopicPartition, at offset: Int64, error: ConsumerPartitionError, skipTo: Int64, now: Instant) {
        fetcher.stop(tp, at: offset, error: error, skipTo: skipTo)
        runComponent(.fetcher, now: now)
    }

    mutating func pause(_ partitions: [TopicPartition], now: Instant) {
        fetcher.pause(partitions)
        group?.notePaused(partitions, true)
        runComponent(.fetcher, now: now)
    }

    mutating func resume(_ partitions: [TopicPartition], now: Instant) {
        fetcher.resume(partitions)
        group?.notePaused(partitions, false)
        runComponent(.fetcher, now: now)
    }

    /// The user polled `bytes` of fetched records: room for more fetches.
    mutating func fetchConsumed(bytes: Int, now: Instant) {
        fetcher.consumed(bytes: bytes)
        runComponent(.fetcher, now: now)
    }

    /// What the fetcher fetches, read-only: each assigned partition and its next offset
    /// (-1 while it is still looking the offset up).
    public var fetchPositions: [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for tp in fetcher.assigned { out[tp] = fetcher.position(of: tp)?.offset ?? -1 }
        return out
    }

    /// The fetcher's state, read-only (positions, assignment, buffered bytes).
    public var fetchState: Fetcher { fetcher }
}
