import KafkaProtocol

/// Consumed offsets committed inside the open transaction: AddOffsetsToTxn to the
/// transaction coordinator (once per group per transaction), then TxnOffsetCommit to the
/// group's coordinator with the member's generation and id (KIP-447), one job at a time in
/// the order asked. Commit waits until every job is answered. A refusal that fences the
/// member (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) or a group the id may
/// not use makes the transaction "must abort": its offsets can never count, and neither may
/// the records produced from what was consumed.
extension ProducerStateMachine {
    mutating func sendOffsetsToTransaction(_ offsets: TransactionOffsets, _ promise: PromiseID) {
        if txn == nil { return transactionDone(promise, .notTransactional) }
        if closed { return transactionDone(promise, .clientClosed) }
        if let fatalError { return transactionDone(promise, .fatal(fatalError)) }
        switch txn!.phase {
        case .idle: return transactionDone(promise, .noTransaction)
        case .ending: return transactionDone(promise, .endInProgress)
        case .open: break
        }
        if let cause = txn!.abortCause { return transactionDone(promise, .mustAbort(cause: cause)) }
        guard !offsets.offsets.isEmpty else { return transactionDone(promise, nil) }
        txn!.offsetJobs.append(TransactionManager.OffsetsJob(offsets: offsets, promise: promise))
        dirty = true
    }

    /// Whether offsets are still on their way into the transaction.
    var offsetsPending: Bool { !(txn?.offsetJobs.isEmpty ?? true) }

    /// Sends the next step of the first job, or answers the jobs that can no longer go: the
    /// transaction must abort or is aborting.
    mutating func advanceOffsets() {
        guard let t = txn, let job = t.offsetJobs.first, t.offsetsTicket == nil, t.offsetsRetryAt == nil else { return }
        let aborting: Bool
        if case .ending(false, _) = t.phase { aborting = true } else { aborting = false }
        if let cause = t.abortCause ?? (aborting ? ProduceError.transactionAborted : nil) {
            let jobs = t.offsetJobs
            txn!.offsetJobs = []
            for j in jobs { transactionDone(j.promise, .mustAbort(cause: cause)) }
            return
        }
        guard idState == .ready else { return }
        let ticket = nextTicket
        nextTicket += 1
        txn!.offsetsTicket = ticket
        let v2 = t.v2 == true
        // Under transaction version 2 TxnOffsetCommit v5 adds the group itself.
        if !v2 && !job.groupAdded && !t.groupsAdded.contains(job.offsets.groupId) {
            var r = AddOffsetsToTxnRequest()
            r.transactionalId = t.transactionalId
            r.producerId = producerId
            r.producerEpoch = producerEpoch
            r.groupId = job.offsets.groupId
            // v4 is KIP-890's epoch-bumping form, which this producer does not follow yet.
            outputs.append(.send(ComponentRequest(tag: ticket, r, to: t.target, pin: 0 ... 3)))
            return
        }
        var r = TxnOffsetCommitRequest()
        r.transactionalId = t.transactionalId
        r.groupId = job.offsets.groupId
        r.producerId = producerId
        r.producerEpoch = producerEpoch
        r.generationId = job.offsets.generationId
        r.memberId = job.offsets.memberId
        r.groupInstanceId = job.offsets.instanceId
        for (tp, position) in job.offsets.offsets.sorted(by: { $0.key < $1.key }) {
            if r.topics.last?.name != tp.topic {
                var topic = TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic()
                topic.name = tp.topic
                r.topics.append(topic)
            }
            var p = TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition()
            p.partitionIndex = tp.partition
            p.committedOffset = position.offset
            p.committedLeaderEpoch = position.leaderEpoch
            p.committedMetadata = position.metadata
            r.topics[r.topics.count - 1].partitions.append(p)
        }
        // Sent, it may have added the group: the transaction now needs its EndTxn.
        if v2 { txn!.groupsAdded.insert(job.offsets.groupId) }
        // v5 adds the group to the transaction, which only a v2 transaction may rely on; the
        // old path stays at v4 (Kafka refuses v5 within a transaction without the feature).
        outputs.append(.send(ComponentRequest(tag: ticket, r, to: .groupCoordinator(job.offsets.groupId), pin: v2 ? 5 ... 5 : 0 ... 4)))
    }

    mutating func offsetsAnswered(_ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        txn!.offsetsTicket = nil
        dirty = true
        guard let job = txn!.offsetJobs.first else { return }
        var codes: [KafkaErrorCode] = []
        let isAdd: Bool
        if case .success = result { txn!.offsetsFailingSince = nil }
        switch result {
        case .success(let r as AddOffsetsToTxnResponse):
            isAdd = true
            codes = [KafkaErrorCode(r.errorCode)]
        case .success(let r as TxnOffsetCommitResponse):
            isAdd = false
            var answered = Set<TopicPartition>()
            for t in r.topics {
                for p in t.partitions {
                    answered.insert(TopicPartition(t.name, p.partitionIndex))
                    codes.append(KafkaErrorCode(p.errorCode))
                }
            }
            // A partition missing from the answer was not written: ask again.
            if job.offsets.offsets.keys.contains(where: { !answered.contains($0) }) { codes.append(.operationNotAttempted) }
        case .failure(.clientClosed):
            return
        case .failure(let e):
            if Self.unanswered(e) {
                if TransactionManager.exhausted(&txn!.offsetsFailingSince, timeout: txn!.timeout, now: now) {
                    // Unreachable for the transaction timeout: these offsets cannot join.
                    txn!.offsetJobs.removeFirst()
                    transactionRecordFailed(.request(e))
                    return transactionDone(job.promise, .mustAbort(cause: txn!.abortCause ?? .request(e)))
                }
            } else if giveUp(on: e, after: txn!.offsetsFailures) {
                return
            }
            return retryOffsets(now: now)
        case .success:
            return retryOffsets(now: now)
        }
        if let fatal = codes.first(where: TransactionManager.isFatal) {
            let what = isAdd ? "AddOffsetsToTxn" : "TxnOffsetCommit"
            guard transactionFenced(fatal, message: what) else { return fail(fatally: .broker(fatal, message: nil)) }
            // KIP-588: must abort; the abort settles the fence.
            txn!.offsetJobs.removeFirst()
            return transactionDone(job.promise, .mustAbort(cause: txn!.abortCause ?? .broker(fatal, message: what)))
        }
        if let refused = codes.first(where: { $0 != .noError && !Self.offsetsRetriable($0) }) {
            // The group moved on without this member (a zombie), or the id may not use the
            // group: nothing of this transaction may count.
            txn!.offsetJobs.removeFirst()
            let cause = ProduceError.broker(refused, message: isAdd ? "AddOffsetsToTxn refused" : "TxnOffsetCommit refused")
            transactionRecordFailed(cause)
            return transactionDone(job.promise, .mustAbort(cause: txn!.abortCause ?? cause))
        }
        if codes.contains(where: { $0 != .noError }) {
            if codes.contains(where: CoordinatorCache.meansMoved) {
                outputs.append(.coordinatorMoved(isAdd ? txn!.coordinatorKey : CoordinatorKey(.group, job.offsets.groupId)))
            }
            return retryOffsets(now: now)
        }
        txn!.offsetsFailures = 0
        if isAdd {
            txn!.groupsAdded.insert(job.offsets.groupId)
            txn!.offsetJobs[0].groupAdded = true
        } else {
            txn!.offsetJobs.removeFirst()
            txn!.offsetsWritten[job.offsets.groupId, default: [:]].merge(job.offsets.offsets) { _, new in new }
            transactionDone(job.promise, nil)
        }
    }

    /// Errors after which the same step is asked again: those of every transactional
    /// request, plus a timed-out or still-unstable offset write.
    static func offsetsRetriable(_ code: KafkaErrorCode) -> Bool {
        TransactionManager.isRetriable(code) || code == .requestTimedOut || code == .unstableOffsetCommit
    }

    private mutating func retryOffsets(now: Instant) {
        txn!.offsetsRetryAt = now + backoff.delay(attempt: txn!.offsetsFailures, using: &rng)
        txn!.offsetsFailures += 1
    }

    /// The producer stopped: offsets waiting to go are answered with `error`.
    mutating func failOffsetJobs(_ error: TransactionError) {
        guard txn != nil else { return }
        let jobs = txn!.offsetJobs
        txn!.offsetJobs = []
        txn!.offsetsTicket = nil
        for j in jobs { transactionDone(j.promise, error) }
    }

    /// A group transact session's member gave up partitions, or lost them, while this
    /// transaction was open: what it consumed of them may already be another member's to
    /// process, so the transaction aborts rather than risk committing their offsets ("if we
    /// might have to abort, abort"). An EndTxn already sent is past recall: the coordinator
    /// fences offsets of an ended generation and a new owner waits for stable offsets.
    /// With no transaction open, records polled before the rebalance may still be in the
    /// user's hand, to be produced in the next transaction: that one must abort too (a lost
    /// partition does not wait for the hand, and a revoked one's offsets would no longer be
    /// sent while its copies would).
    mutating func abortForRebalance() {
        guard let t = txn, t.endTicket == nil else { return }
        switch t.phase {
        case .idle:
            txn!.rebalancedWhileIdle = true
            return
        case .ending(commit: false, _): return
        case .open, .ending(commit: true, _):
            transactionRecordFailed(.broker(.rebalanceInProgress, message: "partitions were revoked or lost during the transaction"))
        }
    }
}
