import KafkaStateMachines
import NIOConcurrencyHelpers

/// What a transactional producer's call asks of the engine.
enum TransactionCommand: Sendable {
    case begin, commit, abort
    /// The group member's consumed positions into the open transaction (KafkaTransactSession).
    case sendGroupOffsets
}

/// The transactional producer (`producer.transactionalId` set):
///
///     try await client.beginTransaction()
///     await client.produce(KafkaRecord(topic: "out", value: v)) { _ in }   // any produce form
///     try await client.commitTransaction()       // or abortTransaction()
///
/// Records produced outside a transaction fail with `.notInTransaction`. A record of the
/// transaction that fails makes commit throw `.mustAbort`: abort, then begin again. So does
/// a transaction the coordinator aborted on its timeout (it fenced our epoch): the abort
/// then asks for a new epoch (KIP-588) and the client goes on; only if the coordinator
/// refuses (another instance has the id) does the abort throw `.fatal`. A commit whose
/// EndTxn was fenced that way throws `.commitUncertain`: the transaction is over, not
/// committed as far as the client can tell; begin the next one. A `.fatal` error (fenced
/// by another instance with the same transactional id, not authorized) means this client
/// can no longer produce: close it.
extension KafkaClient {
    /// Opens a transaction. The first one also registers the transactional id with its
    /// coordinator (InitProducerId), fencing any older producer with the same id and
    /// aborting what it left open.
    public func beginTransaction() async throws(TransactionError) {
        try await transactionCall(.begin)
    }

    /// Sends every record produced in the transaction, then commits it. Returns once the
    /// coordinator has it committed (read_committed consumers see the records as soon as
    /// the partitions' markers are written).
    public func commitTransaction() async throws(TransactionError) {
        try await transactionCall(.commit)
    }

    /// Drops the transaction's records not yet sent (their completions fail with
    /// `.transactionAborted`), waits for those already sent, then aborts the transaction.
    public func abortTransaction() async throws(TransactionError) {
        try await transactionCall(.abort)
    }

    /// Cancelling the calling task throws `.cancelled` at once; a call that already reached
    /// the engine still completes there (a commit cannot be taken back), and a later call
    /// sees its effect (`.endInProgress` until it is done).
    func transactionCall(_ command: TransactionCommand) async throws(TransactionError) {
        let waiter = NIOLockedValueBox<(continuation: CheckedContinuation<TransactionError?, Never>?, finished: Bool)>((nil, false))
        @Sendable func finish(_ error: TransactionError?) {
            let c: CheckedContinuation<TransactionError?, Never>? = waiter.withLockedValue { s in
                defer { s.continuation = nil; s.finished = true }
                return s.continuation
            }
            c?.resume(returning: error)
        }
        let error = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<TransactionError?, Never>) in
                let cancelled = waiter.withLockedValue { s -> Bool in
                    if s.finished { return true }
                    s.continuation = c
                    return false
                }
                if cancelled {
                    c.resume(returning: .cancelled)
                } else {
                    submit(.transaction(command, { finish($0) }))
                }
            }
        } onCancel: {
            finish(.cancelled)
        }
        if let error { throw error }
    }
}
