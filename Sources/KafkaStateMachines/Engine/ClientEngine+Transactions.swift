/// The transactional producer's inputs: begin, commit and abort, each answered by one
/// `.producer(.transactionDone(promise, error))`. The work is the producer component's
/// (ProducerStateMachine+Transactions.swift); the producer is created here if no record
/// created it yet.
extension ClientEngine {
    mutating func beginTransaction(_ promise: PromiseID, now: Instant) {
        if let refusal = transactionalProducerUnavailable() {
            actions.append(.producer(.transactionDone(promise, refusal)))
            return
        }
        if rebalancedBeforeProducer {
            rebalancedBeforeProducer = false
            producer!.abortForRebalance()
        }
        producer!.beginTransaction(promise)
        runComponent(.producer, now: now)
    }

    mutating func endTransaction(commit: Bool, _ promise: PromiseID, now: Instant) {
        if let refusal = transactionalProducerUnavailable() {
            actions.append(.producer(.transactionDone(promise, refusal)))
            return
        }
        producer!.endTransaction(commit: commit, promise)
        runComponent(.producer, now: now)
    }

    /// Offsets into the open transaction; nil takes the group member's (a group transact session).
    mutating func sendOffsetsToTransaction(_ offsets: TransactionOffsets?, _ promise: PromiseID, now: Instant) {
        if let refusal = transactionalProducerUnavailable() {
            actions.append(.producer(.transactionDone(promise, refusal)))
            return
        }
        guard let o = offsets ?? group?.transactionOffsets else {
            // A cooperative rejoin keeps the member's partitions: rather than fail (and make
            // every transaction of the rejoin abort), the offsets wait for the generation it
            // is joining. Losing the partitions ends the wait (`releaseOffsetsAwaitingGeneration`).
            if offsets == nil, transactionOpen, group?.awaitsGeneration == true {
                offsetsAwaitingGeneration.append(promise)
                return
            }
            actions.append(.producer(.transactionDone(promise, .notInGroup)))
            return
        }
        producer!.sendOffsetsToTransaction(o, promise)
        runComponent(.producer, now: now)
    }

    /// After the group member ran: offsets that waited for a generation go now, or fail if
    /// the member no longer waits for one (it left, failed, or lost its partitions).
    mutating func releaseOffsetsAwaitingGeneration(now: Instant) {
        guard !offsetsAwaitingGeneration.isEmpty, group?.awaitsGeneration != true else { return }
        let waiting = offsetsAwaitingGeneration
        offsetsAwaitingGeneration = []
        for p in waiting { sendOffsetsToTransaction(nil, p, now: now) }
    }

    mutating func transactionEnded(committed: Bool, offsets: [String: [TopicPartition: CommitPosition]], now: Instant) {
        guard let g = group, g.config.transactional else { return }
        group!.transactionEnded(committed: committed, offsets: offsets[g.config.groupId] ?? [:])
        runComponent(.group, now: now)
    }

    /// A group transact session's member gave up or lost partitions: the open transaction,
    /// or with none open the next one, must abort. Before the first transaction the producer
    /// may not exist yet: the engine remembers it for the first begin.
    mutating func transactionRebalanced(now: Instant) {
        guard producer?.txn != nil else {
            rebalancedBeforeProducer = true
            return
        }
        producer!.abortForRebalance()
        runComponent(.producer, now: now)
    }

    private mutating func transactionalProducerUnavailable() -> TransactionError? {
        if config.producer.transactionalId == nil { return .notTransactional }
        switch producerUnavailable() {
        case nil: return nil
        case .invalidConfiguration(let e)?: return .invalidConfiguration(e)
        case .clientClosed?: return .clientClosed
        case let other?: return .fatal(other)
        }
    }

    /// Whether the open transaction follows KIP-890 part 2 (transaction version 2); nil when
    /// none is open or it has sent nothing yet (tests and diagnostics).
    public var transactionV2: Bool? { producer?.txn?.v2 }

    /// Whether the producer's transaction is open (tests and the driver's diagnostics).
    public var transactionOpen: Bool {
        guard let p = producer?.txn?.phase else { return false }
        return p != .idle
    }
}
