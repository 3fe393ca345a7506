/// Why a begin, commit or abort of a transaction failed. Misuse (no transaction, begin
/// twice, a producer without a transactional id) is reported at the call and changes
/// nothing; `.mustAbort` leaves the transaction open for the abort it asks for; `.fatal`
/// means the producer is unusable (fenced by a newer instance, not authorized, or the
/// coordinator says our transaction state is impossible): close the client.
public indirect enum TransactionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The producer has no transactional id.
    case notTransactional
    /// begin while a transaction is open.
    case alreadyInTransaction
    /// commit or abort with no transaction open.
    case noTransaction
    /// A commit or abort of this transaction is already running.
    case endInProgress
    /// Offsets of the engine's group asked for while it has no generation (not joined, or
    /// between generations).
    case notInGroup
    /// A record of the transaction failed (`cause`); commit is refused: abort.
    case mustAbort(cause: ProduceError)
    /// The commit was not confirmed, and did not happen as far as the producer can tell: its
    /// EndTxn was fenced (`cause`; after an unanswered attempt, or at once), and the
    /// coordinator then granted the producer a new epoch for the same id (KIP-588), which it
    /// does for a transaction it aborted on its timeout. The transaction is over and the
    /// producer goes on (begin the next one); treat its records and offsets as not committed.
    case commitUncertain(cause: ProduceError)
    /// The producer stopped for good; every later call fails with this too.
    case fatal(ProduceError)
    /// The producer's configuration does not validate.
    case invalidConfiguration(ProducerConfigError)
    case clientClosed
    /// The calling task was cancelled while it waited. A commit or abort already under way
    /// still finishes in the background; its outcome is seen by the next call.
    case cancelled

    /// The producer was fenced: another instance with the same transactional id started
    /// (PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH from brokers before KIP-588). With
    /// InitProducerId v3+ a fence inside a transaction first makes it must-abort; the abort
    /// asks the coordinator for a new epoch and fails with this only when it refuses.
    public var isFenced: Bool {
        guard case .fatal(let e) = self else { return false }
        return e.isFenced
    }

    public var description: String {
        switch self {
        case .notTransactional: return "the producer has no transactional id"
        case .alreadyInTransaction: return "a transaction is already open"
        case .noTransaction: return "no transaction is open"
        case .endInProgress: return "the transaction is already being committed or aborted"
        case .notInGroup: return "not a member of the group (no generation): no offsets to send"
        case .mustAbort(let c): return "the transaction cannot commit, abort it: \(c)"
        case .commitUncertain(let c):
            return "the commit was not confirmed (\(c)); the coordinator had aborted the transaction (timeout) and the producer recovered: treat it as not committed"
        case .fatal(let e): return "transactional producer failed: \(e)"
        case .invalidConfiguration(let e): return "\(e)"
        case .clientClosed: return "client closed"
        case .cancelled: return "cancelled while waiting"
        }
    }
}

extension ProduceError {
    /// Fenced by a newer producer instance with the same transactional id.
    public var isFenced: Bool {
        switch self {
        case .fatal(let e): return e.isFenced
        case .broker(let code, _): return code == .producerFenced || code == .invalidProducerEpoch
        default: return false
        }
    }
}
