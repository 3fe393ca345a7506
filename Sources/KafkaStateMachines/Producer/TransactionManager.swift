/// The transactional state of a producer with a transactional id (KIP-98): which
/// transaction is open, which partitions the coordinator has in it, and the one
/// AddPartitionsToTxn and the one EndTxn that may be outstanding. The producer owns it and
/// consults it before sending (ProducerStateMachine+Transactions.swift): a batch goes only
/// to a partition the coordinator has added, so this is a part of the producer component
/// rather than a component of its own (a gate per batch through engine inputs would be a
/// round trip per partition for nothing). Pure: it holds no clock.
struct TransactionManager {
    let transactionalId: String
    let timeout: Interval

    enum Phase: Equatable {
        /// No transaction open.
        case idle
        /// Begun: records are taken.
        case open
        /// Commit or abort asked (the promise answers it): records are flushed (commit) or
        /// dropped and the sent ones awaited (abort), then EndTxn goes.
        case ending(commit: Bool, PromiseID)
    }
    var phase = Phase.idle
    /// Whether the open transaction follows KIP-890 part 2 (transaction version 2: Produce
    /// v12 and TxnOffsetCommit v5 add partitions and groups on the broker, EndTxn v5 bumps
    /// the epoch). Decided when the transaction first has something to send, from the
    /// brokers' ApiVersions (`ProducerStateMachine.transactionV2Available`); nil before.
    var v2: Bool? = nil
    /// The first failure of the open transaction (a record, offsets the group refused, a
    /// rebalance under a group transact session): it can only abort now.
    var abortCause: ProduceError? = nil
    /// Begins waiting for the producer id.
    var beginWaiters: [PromiseID] = []

    /// Partitions the coordinator has in the open transaction (membership only: never walked).
    /// Under transaction version 2: partitions a Produce v12 went to (it may have added them).
    var added: Set<TopicPartition> = []
    /// Whether anything was added, so EndTxn is needed (an empty transaction ends locally:
    /// the coordinator would answer INVALID_TXN_STATE).
    var coordinatorKnows: Bool { !added.isEmpty || !groupsAdded.isEmpty }

    /// The AddPartitionsToTxn in flight and its partitions (produce order of discovery).
    var addTicket: UInt64? = nil
    var adding: [TopicPartition] = []
    var addRetryAt: Instant? = nil
    var addFailures = 0

    /// A group transact session's member gave up or lost partitions while no transaction was
    /// open: records it polled before may be in hand and about to be copied, though another
    /// member may own them now. The next transaction begins as must-abort.
    var rebalancedWhileIdle = false

    /// A batch failed after an earlier attempt of it may have been written: its sequence
    /// numbers are uncertain, so the producer bumps its epoch (KIP-360) after the abort.
    var bumpAfterAbort = false

    /// KIP-588: the coordinator fenced our epoch inside this transaction (PRODUCER_FENCED or
    /// INVALID_PRODUCER_EPOCH on AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit or a
    /// Produce; or on EndTxn). Most likely the
    /// coordinator aborted the transaction on its timeout and bumped the epoch; or another
    /// instance took the id. The transaction must abort, and the abort sends InitProducerId
    /// (v3+) naming our id and epoch instead of EndTxn: granted, the transaction was the
    /// timed-out one and the producer goes on at the new epoch; refused, a newer instance
    /// exists (fatal). Set only when the brokers speak InitProducerId v3+; below that a
    /// fence is fatal at once.
    var fencedBy: KafkaErrorCode? = nil
    /// That InitProducerId is asked; the ending promise waits for it.
    var recovering = false

    var endTicket: UInt64? = nil
    var endRetryAt: Instant? = nil
    var endFailures = 0
    /// An EndTxn of this ending went out and no answer came (connection lost, timed out):
    /// the coordinator may have acted on it (said in the `.commitUncertain` cause). A fenced
    /// EndTxn, retry or not, is settled by the recovery above; a commit so settled is
    /// reported `.commitUncertain`, never as committed.
    var endUncertain = false

    /// When the request kind's current run of unanswered attempts (connection lost, timed
    /// out) began: retried up to the transaction timeout (the coordinator aborts the
    /// transaction by then anyway), then AddPartitionsToTxn and the offsets make the
    /// transaction must-abort, EndTxn ends the producer.
    var addFailingSince: Instant? = nil
    var offsetsFailingSince: Instant? = nil
    var endFailingSince: Instant? = nil

    /// Offsets sent into the transaction, in the order asked; the first is being worked on:
    /// AddOffsetsToTxn (once per group per transaction), then TxnOffsetCommit to the group's
    /// coordinator. Commit waits for them.
    var offsetJobs: [OffsetsJob] = []
    var offsetsTicket: UInt64? = nil
    var offsetsRetryAt: Instant? = nil
    var offsetsFailures = 0
    /// Groups the coordinator has in the open transaction (AddOffsetsToTxn answered; under
    /// transaction version 2, a TxnOffsetCommit v5 sent).
    var groupsAdded: Set<String> = []
    /// Offsets of the open transaction whose TxnOffsetCommit was accepted, by group; told to
    /// the group member when the transaction ends (committed: they are its committed offsets).
    var offsetsWritten: [String: [TopicPartition: CommitPosition]] = [:]

    struct OffsetsJob {
        var offsets: TransactionOffsets
        var promise: PromiseID
        /// AddOffsetsToTxn answered: TxnOffsetCommit is next.
        var groupAdded = false
    }

    init(transactionalId: String, timeout: Interval) {
        self.transactionalId = transactionalId
        self.timeout = timeout
    }

    var target: RequestTarget { .transactionCoordinator(transactionalId) }
    var coordinatorKey: CoordinatorKey { CoordinatorKey(.transaction, transactionalId) }

    var isCommitting: Bool {
        if case .ending(true, _) = phase { return true }
        return false
    }

    var isEnding: Bool {
        if case .ending = phase { return true }
        return false
    }

    /// Whether a request with this tag is ours.
    func owns(_ tag: UInt64) -> Bool { tag == addTicket || tag == endTicket || tag == offsetsTicket }

    /// The earliest retry due, for the producer's deadline.
    var nextRetry: Instant? {
        [addRetryAt, endRetryAt, offsetsRetryAt].compactMap { $0 }.min()
    }

    /// Retries whose time has come may go.
    mutating func tick(now: Instant) {
        if let r = addRetryAt, now >= r { addRetryAt = nil }
        if let r = endRetryAt, now >= r { endRetryAt = nil }
        if let r = offsetsRetryAt, now >= r { offsetsRetryAt = nil }
    }

    /// The transaction ended (EndTxn answered, or nothing to tell the coordinator).
    mutating func ended() {
        phase = .idle
        abortCause = nil
        v2 = nil
        added = []
        groupsAdded = []
        offsetsWritten = [:]
        endFailures = 0
        addFailures = 0
        offsetsFailures = 0
        bumpAfterAbort = false
        fencedBy = nil
        recovering = false
        endUncertain = false
        addFailingSince = nil
        offsetsFailingSince = nil
        endFailingSince = nil
    }

    /// Codes by which a coordinator or a partition leader says our epoch is no longer the
    /// producer's: recoverable inside a transaction with KIP-588 (see `fencedBy`).
    static func isFence(_ code: KafkaErrorCode) -> Bool {
        code == .producerFenced || code == .invalidProducerEpoch
    }

    /// Whether unanswered attempts begun at `since` have now been retried for `timeout`
    /// (and records `now` as the start of the run when none is).
    static func exhausted(_ since: inout Instant?, timeout: Interval, now: Instant) -> Bool {
        guard let s = since else {
            since = now
            return false
        }
        return now >= s + timeout
    }

    /// Errors that end the producer: a newer instance fenced us, we may not use the id, or
    /// the coordinator has no transaction state matching ours.
    static func isFatal(_ code: KafkaErrorCode) -> Bool {
        code == .producerFenced || code == .invalidProducerEpoch || code == .transactionalIdAuthorizationFailed
            || code == .invalidTxnState || code == .invalidProducerIdMapping || code == .clusterAuthorizationFailed
            || code == .unsupportedForMessageFormat || code == .unsupportedVersion
    }

    /// Errors after which the same request is sent again after backoff: the coordinator is
    /// moving, loading, or still finishing the previous transaction's markers.
    static func isRetriable(_ code: KafkaErrorCode) -> Bool {
        code == .concurrentTransactions || code == .coordinatorLoadInProgress || CoordinatorCache.meansMoved(code)
            || code == .operationNotAttempted || code == .unknownTopicOrPartition || code.isRetriable
    }
}

/// Consumed offsets to commit inside the open transaction (KIP-98's sendOffsetsToTransaction),
/// with the group member's identity so the group coordinator fences a zombie (KIP-447: a
/// member of an ended generation gets ILLEGAL_GENERATION and the transaction must abort).
/// A standalone producer without the member's identity sends generation -1 and no member id
/// (no fencing, as before KIP-447).
package struct TransactionOffsets: Sendable, Equatable {
    package var groupId: String
    package var generationId: Int32
    package var memberId: String
    package var instanceId: String?
    package var offsets: [TopicPartition: CommitPosition]

    package init(groupId: String, generationId: Int32 = -1, memberId: String = "", instanceId: String? = nil,
                 offsets: [TopicPartition: CommitPosition]) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.instanceId = instanceId
        self.offsets = offsets
    }
}
