/// The transaction coordinator's state: transactional id → producer id/epoch and the
/// transaction's state machine, plus producer id allocation for idempotent producers.
///
/// It does not own logs or groups. Ending a transaction (by EndTxn, by InitProducerId
/// fencing an open one, or by timeout) moves it to PrepareCommit/PrepareAbort and returns
/// a `Completion` naming the markers to write and the groups whose transactional offsets
/// to settle; the caller applies them and calls `markersWritten` to reach
/// CompleteCommit/CompleteAbort. Until then the id answers CONCURRENT_TRANSACTIONS, which
/// a test can exploit by delaying the call.
struct TransactionCoordinator: Sendable, Equatable {
    enum State: String, Sendable, Equatable {
        case empty = "Empty", ongoing = "Ongoing", prepareCommit = "PrepareCommit", prepareAbort = "PrepareAbort"
        case completeCommit = "CompleteCommit", completeAbort = "CompleteAbort", dead = "Dead"
    }

    struct Transaction: Equatable, Sendable {
        var transactionalId: String
        var producerId: Int64
        var producerEpoch: Int16
        /// The id/epoch before the last bump, so a retried InitProducerId is recognised.
        var previousProducerId: Int64 = -1
        var previousProducerEpoch: Int16 = -1
        /// The id/epoch the producer held when its transaction was aborted on timeout (the
        /// abort bumps the epoch, fencing it): KIP-588 lets that producer ask to go on with
        /// InitProducerId naming this pair, until another instance registers the id.
        var timedOutProducerId: Int64 = -1
        var timedOutProducerEpoch: Int16 = -1
        /// The pair the last EndTxn v5 bumped from (transaction version 2), so that EndTxn's
        /// retry is recognised; any other bump forgets it (a newer instance fences the retry).
        var endedProducerId: Int64 = -1
        var endedProducerEpoch: Int16 = -1
        var timeoutMs: Int32
        var state: State
        /// Ordered, no duplicates.
        var partitions: [TopicPartition] = []
        var groups: [String] = []
        var startedAt: Instant?
        var lastUpdate: Instant
    }

    /// What the caller must do to finish a transaction: write a marker into each
    /// partition's log, and commit or discard the producer's pending offsets in each group.
    struct Completion: Equatable, Sendable {
        var transactionalId: String
        var producerId: Int64
        /// The epoch the markers carry (bumped when the coordinator fences the producer).
        var producerEpoch: Int16
        var coordinatorEpoch: Int32
        var commit: Bool
        var partitions: [TopicPartition]
        var groups: [String]
    }

    struct ProducerIdAndEpoch: Equatable, Sendable {
        var producerId: Int64
        var producerEpoch: Int16
    }

    enum InitResult: Equatable, Sendable {
        case success(ProducerIdAndEpoch)
        /// The transaction was open: it is being aborted (markers in the completion); retry.
        case abortingOngoing(Completion)
        case failure(KafkaErrorCode)
    }

    private(set) var transactions: [String: Transaction] = [:]
    private(set) var nextProducerId: Int64
    /// Bumped on every takeover (a broker stopping or restarting moves the id, or a test
    /// moves it), carried in markers: markers written by a new coordinator carry a higher
    /// epoch than any its predecessor wrote. One counter for the whole cluster (Kafka keeps
    /// one per __transaction_state partition; only its growth is observable here).
    var coordinatorEpoch: Int32 = 0
    /// Transactional ids whose new coordinator is still loading the transaction log, and
    /// until when: it answers COORDINATOR_LOAD_IN_PROGRESS meanwhile and neither times
    /// out transactions nor writes markers. Looked up only.
    private(set) var loadingUntil: [String: Instant] = [:]
    var maxTransactionTimeoutMs: Int32

    init(firstProducerId: Int64 = 1000, maxTransactionTimeoutMs: Int32 = 900_000) {
        nextProducerId = firstProducerId
        self.maxTransactionTimeoutMs = maxTransactionTimeoutMs
    }

    func transaction(_ id: String) -> Transaction? { transactions[id] }
    var transactionalIds: [String] { transactions.keys.sorted() }

    private mutating func allocateProducerId() -> Int64 {
        defer { nextProducerId += 1 }
        return nextProducerId
    }

    // MARK: InitProducerId

    /// InitProducerId. Without a transactional id: a fresh id at epoch 0 (idempotent
    /// producer). With one: a new id for an unknown transactional id; otherwise an epoch
    /// bump (a new producer id when the epoch would overflow), aborting an open
    /// transaction first. `expected` is the KIP-360 (producerId, epoch) a producer sends to
    /// bump its own epoch; it must be the current pair (or the previous one, as a retry).
    mutating func initProducerId(transactionalId: String?, timeoutMs: Int32,
                                 expected: ProducerIdAndEpoch? = nil, now: Instant) -> InitResult {
        guard let tid = transactionalId else {
            return .success(ProducerIdAndEpoch(producerId: allocateProducerId(), producerEpoch: 0))
        }
        guard !tid.isEmpty else { return .failure(.invalidRequest) }
        guard timeoutMs > 0, timeoutMs <= maxTransactionTimeoutMs else { return .failure(.invalidTransactionTimeout) }
        guard var txn = transactions[tid], txn.state != .dead else {
            let pid = allocateProducerId()
            transactions[tid] = Transaction(transactionalId: tid, producerId: pid, producerEpoch: 0,
                                            timeoutMs: timeoutMs, state: .empty, lastUpdate: now)
            return .success(ProducerIdAndEpoch(producerId: pid, producerEpoch: 0))
        }
        if let expected, expected.producerId >= 0, expected.producerId == txn.timedOutProducerId,
           expected.producerEpoch == txn.timedOutProducerEpoch {
            // KIP-588: the producer whose transaction timed out asks to go on. Granted once the
            // abort's markers are written, with a further bump; a retry of this call (its
            // answer lost) names the same pair and is recognised as a KIP-360 retry.
            switch txn.state {
            case .prepareAbort, .prepareCommit: return .failure(.concurrentTransactions)
            case .ongoing: return .failure(.producerFenced)  // cannot happen: nobody holds the bumped epoch
            case .empty, .completeCommit, .completeAbort, .dead:
                bumpEpoch(&txn, previous: .remember)
                txn.previousProducerId = expected.producerId
                txn.previousProducerEpoch = expected.producerEpoch
                txn.timeoutMs = timeoutMs
                txn.state = .empty
                txn.lastUpdate = now
                transactions[tid] = txn
                return .success(ProducerIdAndEpoch(producerId: txn.producerId, producerEpoch: txn.producerEpoch))
            }
        }
        if let expected, expected.producerId >= 0 {
            let current = expected.producerId == txn.producerId && expected.producerEpoch == txn.producerEpoch
            let retried = expected.producerId == txn.previousProducerId && expected.producerEpoch == txn.previousProducerEpoch
            if retried, txn.state != .ongoing, txn.state != .prepareAbort, txn.state != .prepareCommit {
                return .success(ProducerIdAndEpoch(producerId: txn.producerId, producerEpoch: txn.producerEpoch))
            }
            if !current { return .failure(.producerFenced) }
        }
        switch txn.state {
        case .prepareCommit, .prepareAbort:
            return .failure(.concurrentTransactions)
        case .ongoing:
            // Fence the old producer by bumping the epoch, and abort with the new epoch.
            bumpEpoch(&txn, previous: .keep)
            txn.timeoutMs = timeoutMs
            let completion = prepareEnd(&txn, commit: false, now: now)
            transactions[tid] = txn
            return .abortingOngoing(completion)
        case .empty, .completeCommit, .completeAbort, .dead:
            // A KIP-360 bump remembers the old pair so a retry is recognised; a plain
            // InitProducerId (a new producer instance) forgets it, fencing the old one.
            bumpEpoch(&txn, previous: expected.map { $0.producerId >= 0 } == true ? .remember : .forget)
            txn.timeoutMs = timeoutMs
            txn.state = .empty
            txn.lastUpdate = now
            transactions[tid] = txn
            return .success(ProducerIdAndEpoch(producerId: txn.producerId, producerEpoch: txn.producerEpoch))
        }
    }

    private enum PreviousPair { case remember, forget, keep }

    /// Epochs are Int16; at the top Kafka moves to a fresh producer id at epoch 0.
    /// `previous` says what becomes of the (previous id, epoch) pair used to recognise
    /// retried KIP-360 bumps; fencing bumps (timeouts, InitProducerId during a
    /// transaction) leave it alone.
    private mutating func bumpEpoch(_ txn: inout Transaction, previous: PreviousPair) {
        // Any bump but the timeout's own ends the timed-out producer's claim (KIP-588).
        txn.timedOutProducerId = -1
        txn.timedOutProducerEpoch = -1
        txn.endedProducerId = -1
        txn.endedProducerEpoch = -1
        switch previous {
        case .remember:
            txn.previousProducerId = txn.producerId
            txn.previousProducerEpoch = txn.producerEpoch
        case .forget:
            txn.previousProducerId = txn.producerId
            txn.previousProducerEpoch = -1
        case .keep:
            break
        }
        if txn.producerEpoch >= Int16.max - 1 {
            txn.producerId = allocateProducerId()
            txn.producerEpoch = 0
        } else {
            txn.producerEpoch += 1
        }
    }

    // MARK: transaction membership

    /// Common checks of AddPartitionsToTxn, AddOffsetsToTxn and EndTxn.
    private func validate(_ tid: String, producerId: Int64, producerEpoch: Int16) -> Result<Transaction, KafkaErrorCode> {
        guard let txn = transactions[tid], txn.state != .dead else { return .failure(.invalidProducerIdMapping) }
        guard txn.producerId == producerId else { return .failure(.invalidProducerIdMapping) }
        guard txn.producerEpoch == producerEpoch else { return .failure(.producerFenced) }
        return .success(txn)
    }

    /// The id/epoch check alone, for TxnOffsetCommit (which names its transactional id):
    /// NONE, INVALID_PRODUCER_ID_MAPPING or PRODUCER_FENCED.
    func check(transactionalId tid: String, producerId: Int64, producerEpoch: Int16) -> KafkaErrorCode {
        switch validate(tid, producerId: producerId, producerEpoch: producerEpoch) {
        case .success: return .noError
        case .failure(let e): return e
        }
    }

    /// AddPartitionsToTxn for partitions the caller has checked exist. Starts the
    /// transaction (and its timeout) if it was not ongoing.
    mutating func addPartitions(transactionalId tid: String, producerId: Int64, producerEpoch: Int16,
                                _ partitions: [TopicPartition], now: Instant) -> KafkaErrorCode {
        switch validate(tid, producerId: producerId, producerEpoch: producerEpoch) {
        case .failure(let e): return e
        case .success(var txn):
            if txn.state == .prepareCommit || txn.state == .prepareAbort { return .concurrentTransactions }
            begin(&txn, now: now)
            for p in partitions where !txn.partitions.contains(p) { txn.partitions.append(p) }
            txn.partitions.sort()
            transactions[tid] = txn
            return .noError
        }
    }

    /// AddOffsetsToTxn: the group's offsets join the transaction (the caller adds the
    /// group's __consumer_offsets partition conceptually; here the group id is kept).
    mutating func addOffsets(transactionalId tid: String, producerId: Int64, producerEpoch: Int16,
                             groupId: String, now: Instant) -> KafkaErrorCode {
        switch validate(tid, producerId: producerId, producerEpoch: producerEpoch) {
        case .failure(let e): return e
        case .success(var txn):
            if txn.state == .prepareCommit || txn.state == .prepareAbort { return .concurrentTransactions }
            begin(&txn, now: now)
            if !txn.groups.contains(groupId) { txn.groups.append(groupId); txn.groups.sort() }
            transactions[tid] = txn
            return .noError
        }
    }

    private func begin(_ txn: inout Transaction, now: Instant) {
        if txn.state != .ongoing {
            txn.state = .ongoing
            txn.partitions = []
            txn.groups = []
            txn.startedAt = now
        }
        txn.lastUpdate = now
    }

    /// Whether `producerId` may write to `partition` in its open transaction (KIP-890 style
    /// verification for the produce path, if the handler wants it).
    func isPartitionInTransaction(producerId: Int64, producerEpoch: Int16, _ partition: TopicPartition) -> Bool {
        transactionalIds.contains { id in
            let t = transactions[id]!
            return t.producerId == producerId && t.producerEpoch == producerEpoch && t.state == .ongoing
                && t.partitions.contains(partition)
        }
    }

    /// The produce path's check of a transactional batch (KIP-890 verification): NONE
    /// when the partition is in `producerId`'s ongoing transaction at this epoch;
    /// INVALID_PRODUCER_EPOCH when the coordinator holds a newer epoch for the producer id
    /// (the producer was fenced: a newer instance, or a timeout abort; Kafka's produce path
    /// answers the coordinator's PRODUCER_FENCED with this code, which every client knows);
    /// else INVALID_TXN_STATE (the partition was never added).
    func verifyProduce(producerId: Int64, producerEpoch: Int16, _ partition: TopicPartition) -> KafkaErrorCode {
        var newer = false
        for id in transactionalIds {
            let t = transactions[id]!
            guard t.producerId == producerId else { continue }
            if t.producerEpoch > producerEpoch { newer = true; continue }
            if t.producerEpoch == producerEpoch, t.state == .ongoing, t.partitions.contains(partition) { return .noError }
        }
        return newer ? .invalidProducerEpoch : .invalidTxnState
    }

    // MARK: ending

    enum EndResult: Equatable, Sendable {
        /// Markers must now be written (then call `markersWritten`).
        case ending(Completion)
        /// Already finished the same way (a retry): nothing to do.
        case alreadyComplete
        case failure(KafkaErrorCode)
    }

    mutating func endTransaction(transactionalId tid: String, producerId: Int64, producerEpoch: Int16,
                                 commit: Bool, now: Instant) -> EndResult {
        switch validate(tid, producerId: producerId, producerEpoch: producerEpoch) {
        case .failure(let e):
            // A producer retrying EndTxn after the coordinator bumped for a timeout is fenced.
            return .failure(e)
        case .success(var txn):
            switch txn.state {
            case .ongoing:
                let c = prepareEnd(&txn, commit: commit, now: now)
                transactions[tid] = txn
                return .ending(c)
            case .prepareCommit:
                return .failure(commit ? .concurrentTransactions : .invalidTxnState)
            case .prepareAbort:
                return .failure(commit ? .invalidTxnState : .concurrentTransactions)
            case .completeCommit:
                return commit ? .alreadyComplete : .failure(.invalidTxnState)
            case .completeAbort:
                return commit ? .failure(.invalidTxnState) : .alreadyComplete
            case .empty, .dead:
                return .failure(.invalidTxnState)
            }
        }
    }

    // MARK: transaction version 2 (KIP-890 part 2)

    enum EndResultV2: Equatable, Sendable {
        /// Markers must now be written (then call `markersWritten`); the producer goes on
        /// with the returned pair.
        case ending(Completion, ProducerIdAndEpoch)
        /// Nothing to write: a retry of an EndTxn already done, or an abort of a transaction
        /// the coordinator never saw begin (the epoch is bumped all the same).
        case done(ProducerIdAndEpoch)
        case failure(KafkaErrorCode)
    }

    /// EndTxn v5+ under transaction.version 2: every end bumps the epoch (a new producer id
    /// when the epoch would overflow) and answers the new pair, which the producer adopts;
    /// the markers carry the bumped epoch (or Int16.max on the old id after an overflow), so
    /// the old epoch's late writes are fenced on every partition. A request naming the pair
    /// the last EndTxn bumped from (kept apart from InitProducerId's previous pair, and
    /// forgotten by any other bump) is a retry of that EndTxn: answered with the current pair
    /// once the markers are written (CONCURRENT_TRANSACTIONS before), INVALID_TXN_STATE for
    /// the other outcome, PRODUCER_FENCED for a commit of a transaction the coordinator aborted
    /// itself (a timeout bumps the epoch too) or when a newer transaction began. An abort
    /// with nothing begun is allowed (the producer cannot know whether its Produce v12 added
    /// a partition) and only bumps the epoch.
    mutating func endTransactionV2(transactionalId tid: String, producerId: Int64, producerEpoch: Int16,
                                   commit: Bool, now: Instant) -> EndResultV2 {
        guard var txn = transactions[tid], txn.state != .dead else { return .failure(.invalidProducerIdMapping) }
        let current = txn.producerId == producerId && txn.producerEpoch == producerEpoch
        let retry = !current && txn.endedProducerEpoch >= 0 && txn.endedProducerId == producerId
            && txn.endedProducerEpoch == producerEpoch
        let pair = ProducerIdAndEpoch(producerId: txn.producerId, producerEpoch: txn.producerEpoch)
        if !current && !retry {
            let known = txn.producerId == producerId || txn.previousProducerId == producerId || txn.endedProducerId == producerId
            return .failure(known ? .producerFenced : .invalidProducerIdMapping)
        }
        if retry {
            switch txn.state {
            case .prepareCommit: return .failure(commit ? .concurrentTransactions : .invalidTxnState)
            case .prepareAbort: return .failure(commit ? .producerFenced : .concurrentTransactions)
            case .completeCommit: return commit ? .done(pair) : .failure(.invalidTxnState)
            case .completeAbort: return commit ? .failure(.producerFenced) : .done(pair)
            case .empty, .ongoing, .dead: return .failure(.producerFenced)
            }
        }
        switch txn.state {
        case .ongoing:
            let old = pair
            bumpEpoch(&txn, previous: .keep)
            txn.endedProducerId = old.producerId
            txn.endedProducerEpoch = old.producerEpoch
            var c = prepareEnd(&txn, commit: commit, now: now)
            c.producerId = old.producerId
            c.producerEpoch = txn.producerId == old.producerId ? txn.producerEpoch : Int16.max
            transactions[tid] = txn
            return .ending(c, ProducerIdAndEpoch(producerId: txn.producerId, producerEpoch: txn.producerEpoch))
        case .prepareCommit, .prepareAbort:
            return .failure(.concurrentTransactions)
        case .empty, .completeCommit, .completeAbort:
            guard !commit else { return .failure(.invalidTxnState) }
            bumpEpoch(&txn, previous: .keep)
            txn.endedProducerId = pair.producerId
            txn.endedProducerEpoch = pair.producerEpoch
            txn.state = .completeAbort
            txn.lastUpdate = now
            transactions[tid] = txn
            return .done(ProducerIdAndEpoch(producerId: txn.producerId, producerEpoch: txn.producerEpoch))
        case .dead:
            return .failure(.invalidProducerIdMapping)
        }
    }

    private func prepareEnd(_ txn: inout Transaction, commit: Bool, now: Instant) -> Completion {
        txn.state = commit ? .prepareCommit : .prepareAbort
        txn.lastUpdate = now
        return Completion(transactionalId: txn.transactionalId, producerId: txn.producerId,
                          producerEpoch: txn.producerEpoch, coordinatorEpoch: coordinatorEpoch, commit: commit,
                          partitions: txn.partitions, groups: txn.groups)
    }

    /// The caller has written every marker of the prepared transaction.
    mutating func markersWritten(transactionalId tid: String, now: Instant) {
        guard var txn = transactions[tid] else { return }
        switch txn.state {
        case .prepareCommit: txn.state = .completeCommit
        case .prepareAbort: txn.state = .completeAbort
        default: return
        }
        txn.partitions = []
        txn.groups = []
        txn.startedAt = nil
        txn.lastUpdate = now
        transactions[tid] = txn
    }

    // MARK: time

    /// Aborts ongoing transactions whose timeout passed, bumping the epoch so the producer
    /// is fenced, and remembers the pair it held so it may recover with InitProducerId
    /// (KIP-588 behaviour). Ordered by transactional id. An id whose coordinator is still
    /// loading waits for the load to end. Real Kafka keeps the fenced epoch differently (its
    /// `lastProducerEpoch`); what is modelled is the client-visible answer.
    mutating func expireTransactions(now: Instant) -> [Completion] {
        var out: [Completion] = []
        for tid in transactionalIds {
            var txn = transactions[tid]!
            guard txn.state == .ongoing, let start = txn.startedAt,
                  start.adding(milliseconds: Int64(txn.timeoutMs)) <= now, !isLoading(tid, now: now) else { continue }
            let (pid, epoch) = (txn.producerId, txn.producerEpoch)
            bumpEpoch(&txn, previous: .keep)
            txn.timedOutProducerId = pid
            txn.timedOutProducerEpoch = epoch
            out.append(prepareEnd(&txn, commit: false, now: now))
            transactions[tid] = txn
        }
        return out
    }

    var nextDeadline: Instant? {
        transactionalIds.reduce(nil) { acc, tid in
            let t = transactions[tid]!
            guard t.state == .ongoing, let s = t.startedAt else { return acc }
            let due = s.adding(milliseconds: Int64(t.timeoutMs))
            // A loading coordinator times the transaction out once it has loaded.
            return earliest(acc, loadingUntil[tid].map { max(due, $0) } ?? due)
        }
    }

    /// Test control: the coordinator moved to another broker.
    mutating func moved() { coordinatorEpoch += 1 }

    // MARK: failover

    /// A new broker takes over `ids` (in the order given, which callers keep sorted): the
    /// log is kept — producer id, epoch, state, partitions, groups, start and timeout — the
    /// coordinator epoch bumps once, and with `loadMs` > 0 the ids load until
    /// `now + loadMs`. Returns the new coordinator epoch.
    @discardableResult
    mutating func takeOver(_ ids: [String], loadMs: Int64, now: Instant) -> Int32 {
        coordinatorEpoch += 1
        if loadMs > 0 {
            let until = now.adding(milliseconds: loadMs)
            for id in ids { loadingUntil[id] = until }
        }
        return coordinatorEpoch
    }

    /// Whether `id`'s coordinator is still loading it at `now`.
    func isLoading(_ id: String, now: Instant) -> Bool {
        loadingUntil[id].map { now < $0 } ?? false
    }

    /// When `id`'s load window ends (nil: not loading, or it ended before `now`).
    func loadEnd(_ id: String, now: Instant) -> Instant? {
        loadingUntil[id].flatMap { now < $0 ? $0 : nil }
    }

    /// Forgets load windows that ended.
    mutating func finishLoads(now: Instant) {
        for id in loadingUntil.keys.sorted() where loadingUntil[id]! <= now { loadingUntil[id] = nil }
    }

    /// The earliest load window still running (the cluster ticks then to write held markers).
    var nextLoadEnd: Instant? { loadingUntil.values.min() }

    /// A prepared transaction's markers as its coordinator (now at `coordinatorEpoch`) must
    /// write them; nil when `id` is not in PrepareCommit/PrepareAbort.
    func preparedCompletion(_ id: String) -> Completion? {
        guard let t = transactions[id], t.state == .prepareCommit || t.state == .prepareAbort else { return nil }
        return Completion(transactionalId: id, producerId: t.producerId, producerEpoch: t.producerEpoch,
                          coordinatorEpoch: coordinatorEpoch, commit: t.state == .prepareCommit,
                          partitions: t.partitions, groups: t.groups)
    }
}
