/// A read-only look at the transaction coordinator's state for one transactional id, for
/// tests and the simulation's end-of-run checks (no transaction left open).
public struct FakeTransactionSnapshot: Sendable, Equatable {
    public var transactionalId: String
    /// Kafka's state name: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
    /// CompleteAbort, Dead.
    public var state: String
    public var producerId: Int64
    public var producerEpoch: Int16
    public var timeoutMs: Int32
    /// The partitions in the open transaction, ordered.
    public var partitions: [TopicPartition]
    /// When the open transaction started (its timeout counts from here); nil when none is open.
    public var startedAt: Instant?
    /// A broker that took the id over loads it until then (COORDINATOR_LOAD_IN_PROGRESS,
    /// no timeout abort before); a window that ended shows until the cluster's next tick.
    public var loadingUntil: Instant? = nil

    public init(transactionalId: String, state: String, producerId: Int64, producerEpoch: Int16, timeoutMs: Int32,
                partitions: [TopicPartition], startedAt: Instant?) {
        self.transactionalId = transactionalId
        self.state = state
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.timeoutMs = timeoutMs
        self.partitions = partitions
        self.startedAt = startedAt
    }

    /// A transaction is open or still being ended (its markers not all written).
    public var isOpen: Bool { state == "Ongoing" || state == "PrepareCommit" || state == "PrepareAbort" }
}

extension FakeCluster {
    /// The coordinator's state for `transactionalId`; nil when it never saw the id.
    public func describeTransaction(_ transactionalId: String) -> FakeTransactionSnapshot? {
        guard let t = state.transactions.transaction(transactionalId) else { return nil }
        var s = FakeTransactionSnapshot(transactionalId: t.transactionalId, state: t.state.rawValue, producerId: t.producerId,
                                        producerEpoch: t.producerEpoch, timeoutMs: t.timeoutMs, partitions: t.partitions,
                                        startedAt: t.startedAt)
        s.loadingUntil = state.transactions.loadingUntil[transactionalId]
        return s
    }
}
