import KafkaProtocol

/// The transactional producer's behaviour (state in TransactionManager.swift): begin,
/// commit and abort; AddPartitionsToTxn before a partition's first batch of a transaction
/// goes out; EndTxn once the transaction's records are settled; record failures turning the
/// transaction into "must abort". Requests go to the transaction coordinator
/// (`.transactionCoordinator(id)`): the core finds it and retries answers whose top-level
/// code says it moved or is loading; per-partition codes and CONCURRENT_TRANSACTIONS are
/// retried here with backoff.
extension ProducerStateMachine {
    // MARK: user calls

    mutating func beginTransaction(_ promise: PromiseID) {
        if let refusal = transactionCallRefusal() { return transactionDone(promise, refusal) }
        switch txn!.phase {
        case .open: transactionDone(promise, .alreadyInTransaction)
        case .ending: transactionDone(promise, .endInProgress)
        case .idle:
            txn!.phase = .open
            txn!.abortCause = nil
            if txn!.rebalancedWhileIdle {
                txn!.rebalancedWhileIdle = false
                txn!.abortCause = .broker(.rebalanceInProgress, message: "partitions were revoked or lost since the last transaction: records polled before may be another member's now")
            }
            // The first begin waits for InitProducerId, so fencing and authorization show at
            // the call rather than at the first record.
            if idState == .ready {
                transactionDone(promise, nil)
            } else {
                txn!.beginWaiters.append(promise)
                dirty = true
            }
        }
    }

    mutating func endTransaction(commit: Bool, _ promise: PromiseID) {
        if let refusal = transactionCallRefusal() { return transactionDone(promise, refusal) }
        switch txn!.phase {
        case .idle: transactionDone(promise, .noTransaction)
        case .ending: transactionDone(promise, .endInProgress)
        case .open:
            if commit, let cause = txn!.abortCause { return transactionDone(promise, .mustAbort(cause: cause)) }
            txn!.phase = .ending(commit: commit, promise)
            if !commit {
                dropUnsent(.transactionAborted)
                // Offsets not yet on their way will never be: answer them now.
                let queued = txn!.offsetsTicket == nil ? txn!.offsetJobs : Array(txn!.offsetJobs.dropFirst())
                txn!.offsetJobs.removeLast(queued.count)
                for j in queued { transactionDone(j.promise, .mustAbort(cause: .transactionAborted)) }
            }
            dirty = true
        }
    }

    private func transactionCallRefusal() -> TransactionError? {
        if txn == nil { return .notTransactional }
        if closed { return .clientClosed }
        if let fatalError { return .fatal(fatalError) }
        return nil
    }

    /// Why a record cannot join now; nil when a transaction is open and healthy.
    func transactionRecordRefusal() -> ProduceError? {
        switch txn?.phase {
        case nil: return nil
        case .open?:
            if let cause = txn!.abortCause { return .transactionMustAbort(cause: cause) }
            return nil
        case .idle?, .ending?:
            return .notInTransaction
        }
    }

    /// An abort drops what never left: waiting records and batches without a sequence (a
    /// batch with one was sent at least once and may be written, so it is settled first:
    /// the broker's sequence numbers must stay in step for the next transaction). So does a
    /// transaction that must abort (`pump`), failing them with `.transactionMustAbort`.
    mutating func dropUnsent(_ error: ProduceError) {
        for name in topicNames {
            failWaiting(name, error)
            for p in topics[name]!.partitions.indices {
                let q = topics[name]!.partitions[p]
                var keep = q.batches.count
                while keep > q.sentCount, q.batches[keep - 1].sequence < 0 { keep -= 1 }
                guard keep < q.batches.count else { continue }
                let dropped = q.batches[keep...]
                topics[name]!.partitions[p].batches.removeLast(dropped.count)
                for b in dropped { report(name, Int32(p), b, error: error) }
            }
        }
        completeFlushesIfDone()
    }

    mutating func transactionDone(_ promise: PromiseID, _ error: TransactionError?) {
        outputs.append(.action(.producer(.transactionDone(promise, error))))
    }

    // MARK: failures

    /// A record of the transaction failed: the transaction can only abort now. A commit
    /// that was flushing is answered with that at once (nothing was committed).
    mutating func transactionRecordFailed(_ error: ProduceError) {
        guard txn != nil, txn!.abortCause == nil else { return }
        switch error {
        case .transactionAborted, .clientClosed, .fatal: return
        default: break
        }
        // `pump` fails what was not sent yet (see there).
        dirty = true
        switch txn!.phase {
        case .idle: return
        case .open, .ending(commit: false, _):
            txn!.abortCause = error
        case .ending(commit: true, let promise):
            txn!.abortCause = error
            txn!.phase = .open
            transactionDone(promise, .mustAbort(cause: error))
        }
    }

    /// A record refused at the call while a transaction is open (too large, a partition that
    /// does not exist, the buffer full) is a record of the transaction that failed too:
    /// without this a commit right after it would commit the transaction without the record,
    /// though its refusal reaches a callback user only after the commit was asked for.
    /// Refusals because of the transaction's own state (none open, ending, must abort) change
    /// nothing.
    mutating func transactionRecordRefused(_ error: ProduceError) {
        guard txn != nil else { return }
        switch error {
        case .notInTransaction, .transactionMustAbort: return
        default: transactionRecordFailed(error)
        }
    }

    /// The producer stopped (fatal error or close): every waiting begin, commit and abort
    /// is answered with `error`.
    mutating func failTransactionWaiters(_ error: TransactionError) {
        guard txn != nil else { return }
        for p in txn!.beginWaiters { transactionDone(p, error) }
        txn!.beginWaiters = []
        failOffsetJobs(error)
        if case .ending(_, let p) = txn!.phase { transactionDone(p, error) }
        txn!.phase = .idle
    }

    /// InitProducerId answered: begins waiting for it are answered; a recovery (KIP-588,
    /// `TransactionManager.fencedBy`) was granted: the fenced transaction is over (the
    /// coordinator aborted it), the abort succeeded; a commit settled so was not confirmed.
    mutating func producerIdReadyForTransactions() {
        guard txn != nil else { return }
        for p in txn!.beginWaiters { transactionDone(p, nil) }
        txn!.beginWaiters = []
        if txn!.recovering, case .ending(let commit, let promise) = txn!.phase {
            let cause = ProduceError.broker(txn!.fencedBy ?? .producerFenced,
                                            message: txn!.endUncertain ? "EndTxn retry fenced after an unanswered attempt" : "EndTxn fenced")
            ended(committed: false)
            transactionDone(promise, commit ? .commitUncertain(cause: cause) : nil)
        }
    }

    var transactionWantsProducerId: Bool { !(txn?.beginWaiters.isEmpty ?? true) || txn?.recovering == true }

    /// A fence (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH) inside the transaction. With a
    /// coordinator speaking InitProducerId v3+ the transaction must abort and the abort
    /// settles whether it was timed out or replaced (KIP-588, `fencedBy`): true. False when
    /// it cannot be settled so (no transaction, an older coordinator): the caller fails the
    /// producer, as before KIP-588.
    mutating func transactionFenced(_ code: KafkaErrorCode, message: String?) -> Bool {
        guard txn != nil, TransactionManager.isFence(code), epochRecoverable, txn!.phase != .idle else { return false }
        if txn!.fencedBy == nil { txn!.fencedBy = code }
        transactionRecordFailed(.broker(code, message: message))
        dirty = true
        return true
    }

    /// A request that got no answer (connection lost, timed out; the core's own retries of
    /// such spent): it may or may not have reached the broker.
    static func unanswered(_ e: KafkaClientError) -> Bool {
        if case .retriesExhausted(_, let last) = e { return last.isConnectionLoss }
        return e.isConnectionLoss
    }

    // MARK: transaction version 2 (KIP-890 part 2)

    /// Whether a transaction may follow KIP-890 part 2: every broker whose ApiVersions we
    /// hold has the finalized feature transaction.version >= 2 and serves Produce v12 and
    /// EndTxn v5 (and TxnOffsetCommit v5 when it serves TxnOffsetCommit at all). One broker
    /// without it (a cluster mid-upgrade, a 4.x broker with the feature off) keeps the old
    /// path: AddPartitionsToTxn / AddOffsetsToTxn, Produce < v12, TxnOffsetCommit <= v4,
    /// EndTxn <= v4. No broker known yet: the old path.
    static func transactionV2Available(_ versions: [BrokerID: BrokerVersions]) -> Bool {
        guard !versions.isEmpty else { return false }
        return versions.values.allSatisfy { v in
            v.transactionVersion >= 2 && (v.range(for: .produce)?.upperBound ?? 0) >= 12
                && (v.range(for: .endTxn)?.upperBound ?? 0) >= 5
                && (v.range(for: .txnOffsetCommit).map { $0.upperBound >= 5 } ?? true)
        }
    }

    /// Fixes the open transaction's path the first time it may send (the producer id is in,
    /// so the coordinator's broker at least has answered ApiVersions). Per transaction: a
    /// broker that gains or loses the feature changes the next one, never one half done.
    mutating func decideTransactionVersion(_ versions: [BrokerID: BrokerVersions]) {
        guard let t = txn, t.v2 == nil, t.phase != .idle, idState == .ready else { return }
        txn!.v2 = Self.transactionV2Available(versions)
    }

    /// EndTxn v5 answered with the producer id and epoch the coordinator bumped to: later
    /// transactions write with them, every partition's sequences from 0.
    private mutating func adoptEndTxnEpoch(_ r: EndTxnResponse) {
        guard r.producerId >= 0, r.producerEpoch >= 0 else { return }
        producerId = r.producerId
        producerEpoch = r.producerEpoch
        resetSequences()
    }

    // MARK: sending

    /// One AddPartitionsToTxn for every partition with a batch to send that the
    /// coordinator does not have yet, unless one is in flight or backing off (then they
    /// ride in the next). None while the transaction must abort or is aborting.
    mutating func requestPartitions(_ wanted: [TopicPartition]) {
        guard !wanted.isEmpty, txn!.addTicket == nil, txn!.addRetryAt == nil, txn!.abortCause == nil, idState == .ready else { return }
        switch txn!.phase {
        case .open, .ending(commit: true, _): break
        case .idle, .ending(commit: false, _): return
        }
        var r = AddPartitionsToTxnRequest()
        r.v3AndBelowTransactionalId = txn!.transactionalId
        r.v3AndBelowProducerId = producerId
        r.v3AndBelowProducerEpoch = producerEpoch
        for tp in wanted {
            if r.v3AndBelowTopics.last?.name == tp.topic {
                r.v3AndBelowTopics[r.v3AndBelowTopics.count - 1].partitions.append(tp.partition)
            } else {
                var t = AddPartitionsToTxnRequest.AddPartitionsToTxnTopic()
                t.name = tp.topic
                t.partitions = [tp.partition]
                r.v3AndBelowTopics.append(t)
            }
        }
        let ticket = nextTicket
        nextTicket += 1
        txn!.addTicket = ticket
        txn!.adding = wanted
        // v4+ is the broker-to-broker batched form (KIP-890); clients speak v0-v3.
        outputs.append(.send(ComponentRequest(tag: ticket, r, to: txn!.target, pin: 0 ... 3)))
    }

    /// Ends the transaction once its records are settled (delivered, or failed — a failure
    /// turned a commit into "must abort" already) and no AddPartitionsToTxn is out: EndTxn,
    /// or nothing to tell the coordinator when no partition was added.
    mutating func finishTransactionIfReady() {
        advanceOffsets()
        guard let t = txn, case .ending(let commit, let promise) = t.phase, !t.recovering, t.endTicket == nil, t.endRetryAt == nil,
              t.addTicket == nil, t.offsetJobs.isEmpty, t.offsetsTicket == nil, bufferedRecords == 0 else { return }
        if t.fencedBy != nil {
            // KIP-588: EndTxn would be fenced too. InitProducerId naming our id and epoch
            // (v3+, `requestProducerId`) settles it: `producerIdAnswered`.
            txn!.recovering = true
            idState = .none
            idRetryAt = nil
            idFailures = 0
            return
        }
        guard t.coordinatorKnows else {
            ended(committed: commit)
            return transactionDone(promise, nil)
        }
        var r = EndTxnRequest()
        r.transactionalId = t.transactionalId
        r.producerId = producerId
        r.producerEpoch = producerEpoch
        r.committed = commit
        let ticket = nextTicket
        nextTicket += 1
        txn!.endTicket = ticket
        // v5 (KIP-890 part 2) bumps the epoch every transaction: only on that path.
        // No retry by the core: an attempt lost with its connection must be known here
        // (`endUncertain`), for a fenced retry to be settled rather than taken for a zombie.
        outputs.append(.send(ComponentRequest(tag: ticket, r, to: t.target, pin: t.v2 == true ? 5 ... 5 : 0 ... 4, maxRetries: 0)))
    }

    // MARK: answers

    /// The transaction is over: the engine tells a group member whose offsets it carried
    /// (committed: they are its committed offsets; aborted: it rewinds to what was committed).
    private mutating func ended(committed: Bool) {
        let written = txn!.offsetsWritten
        txn!.ended()
        outputs.append(.input(.transactionEnded(committed: committed, offsets: written)))
    }

    mutating func transactionAnswered(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        dirty = true
        if tag == txn!.offsetsTicket { return offsetsAnswered(result, now: now) }
        if tag == txn!.addTicket {
            addPartitionsAnswered(result, now: now)
        } else {
            endAnswered(result, now: now)
        }
    }

    private mutating func addPartitionsAnswered(_ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        let asked = txn!.adding
        txn!.addTicket = nil
        txn!.adding = []
        if case .success = result { txn!.addFailingSince = nil }
        switch result {
        case .success(let r as AddPartitionsToTxnResponse):
            var codes: [TopicPartition: KafkaErrorCode] = [:]
            for t in r.resultsByTopicV3AndBelow {
                for p in t.resultsByPartition { codes[TopicPartition(t.name, p.partitionIndex)] = KafkaErrorCode(p.partitionErrorCode) }
            }
            var retry = false
            var moved = false
            var fatalCode: KafkaErrorCode? = nil
            var abortCode: KafkaErrorCode? = nil
            for tp in asked {
                // A partition missing from the answer was not added: ask again.
                let code = codes[tp] ?? .operationNotAttempted
                if code == .noError {
                    txn!.added.insert(tp)
                } else if TransactionManager.isFatal(code) {
                    fatalCode = fatalCode ?? code
                } else if TransactionManager.isRetriable(code) {
                    retry = true
                    if CoordinatorCache.meansMoved(code) { moved = true }
                } else {
                    // TOPIC_AUTHORIZATION_FAILED and the like: the records cannot join.
                    abortCode = abortCode ?? code
                }
            }
            if let fatalCode, !transactionFenced(fatalCode, message: "AddPartitionsToTxn") {
                return fail(fatally: .broker(fatalCode, message: nil))
            }
            if let abortCode { transactionRecordFailed(.broker(abortCode, message: nil)) }
            if moved { outputs.append(.coordinatorMoved(txn!.coordinatorKey)) }
            if retry { retryAddPartitions(now: now) } else { txn!.addFailures = 0 }
        case .success:
            retryAddPartitions(now: now)
        case .failure(.clientClosed):
            return
        case .failure(let e):
            if Self.unanswered(e) {
                if TransactionManager.exhausted(&txn!.addFailingSince, timeout: txn!.timeout, now: now) {
                    // Unreachable for the transaction timeout: the coordinator aborts it by now.
                    return transactionRecordFailed(.request(e))
                }
            } else if giveUp(on: e, after: txn!.addFailures) {
                return
            }
            retryAddPartitions(now: now)
        }
    }

    private mutating func retryAddPartitions(now: Instant) {
        txn!.addRetryAt = now + backoff.delay(attempt: txn!.addFailures, using: &rng)
        txn!.addFailures += 1
    }

    private mutating func endAnswered(_ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        txn!.endTicket = nil
        guard case .ending(_, let promise) = txn!.phase else { return }
        if case .success = result { txn!.endFailingSince = nil }
        switch result {
        case .success(let r as EndTxnResponse):
            let code = KafkaErrorCode(r.errorCode)
            if TransactionManager.isFence(code), epochRecoverable {
                // The epoch is fenced: the coordinator aborted the transaction on its timeout
                // before this EndTxn (or an earlier, unanswered attempt) reached it, or
                // another instance took the id. InitProducerId settles which
                // (`finishTransactionIfReady`); a commit is never reported done on this path.
                // Found by the txn-timeout-random sweep: fatal here, a producer with no
                // zombie died of its own transaction's timeout (26 of 100 seeds).
                txn!.fencedBy = code
                return
            }
            if code == .noError {
                let bump = txn!.bumpAfterAbort
                let v2 = txn!.v2 == true
                ended(committed: { if case .ending(let c, _) = txn!.phase { return c } else { return false } }())
                // KIP-890 part 2: the coordinator bumped the epoch; it also settles any
                // uncertain sequence numbers, so no KIP-360 bump follows.
                if v2 { adoptEndTxnEpoch(r) }
                transactionDone(promise, nil)
                // Sequence numbers uncertain (see bumpAfterAbort): a KIP-360 InitProducerId
                // naming our id and epoch, before the next transaction sends anything (a
                // begin waits for it).
                if bump && !v2 { bumpPending = true }
            } else if code == .transactionAbortable, txn!.isCommitting {
                // KIP-890: the commit cannot go through, the transaction can still abort:
                // it must abort now, and the commit is answered so.
                transactionRecordFailed(.broker(code, message: "EndTxn commit refused"))
            } else if TransactionManager.isRetriable(code) && !TransactionManager.isFatal(code) {
                if CoordinatorCache.meansMoved(code) { outputs.append(.coordinatorMoved(txn!.coordinatorKey)) }
                retryEnd(now: now)
            } else {
                fail(fatally: .broker(code, message: nil))
            }
        case .success:
            retryEnd(now: now)
        case .failure(.clientClosed):
            return
        case .failure(let e):
            if Self.unanswered(e) {
                txn!.endUncertain = true
                // Past the transaction timeout the coordinator has aborted the transaction
                // and bumped the epoch unless the commit got there first, so a retry that
                // gets through is answered (success, or a fence the recovery settles). Give
                // the coordinator that long again (10 s at least) before giving up: found by
                // a fresh sweep window (txn-timeout-random, seed 2154062228042: EndTxn delayed
                // past a 1 s timeout, then its connection reset, ended the producer).
                if TransactionManager.exhausted(&txn!.endFailingSince, timeout: txn!.timeout + max(txn!.timeout, .seconds(10)), now: now) {
                    // Whether it ended is unknown: the producer cannot go on.
                    return fail(fatally: .request(e))
                }
            } else if giveUp(on: e, after: txn!.endFailures) {
                return
            }
            // Whether the coordinator got it or not, asking again is safe: it answers a
            // repeated EndTxn of a finished transaction with success, and one it is still
            // finishing with CONCURRENT_TRANSACTIONS (retried).
            retryEnd(now: now)
        }
    }

    /// A coordinator that keeps answering what cannot be read (or a request that keeps
    /// failing for a reason that is not the path's) ends the producer after a few tries,
    /// with the error, rather than leaving the call waiting forever. Whether such a commit
    /// happened is unknown: the fatal error says so; nothing is reported committed.
    /// Connection losses and timeouts are retried up to the transaction timeout instead
    /// (`TransactionManager.exhausted`).
    mutating func giveUp(on error: KafkaClientError, after failures: Int) -> Bool {
        guard !error.isRetriable, failures >= 2 else { return false }
        fail(fatally: .request(error))
        return true
    }

    private mutating func retryEnd(now: Instant) {
        txn!.endRetryAt = now + backoff.delay(attempt: txn!.endFailures, using: &rng)
        txn!.endFailures += 1
    }
}
