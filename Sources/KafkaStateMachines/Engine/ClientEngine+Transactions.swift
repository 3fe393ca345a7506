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
            actions.append(.producer(.transactionDone(promise, .notInGroup)))
            return
        }
        producer!.sendOffsetsToTransaction(o, promise)
        runComponent(.producer, now: now)
    }

    mutating func transactionEnded(committed: Bool, offsets: [String: [TopicPartition: CommitPosition]], now: Instant) {
        guard let g = group, g.config.transactional else { return }
        group!.transactionEnded(committed: committed, offsets: offsets[g.config.groupId] ?? [:])
        runComponent(.group, now: now)
    }

    mutating func transactionRebalanced(now: Instant) {
        guard producer?.txn != nil else { return }
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
