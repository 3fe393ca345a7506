extension ProducerStateMachine {
    /// What one partition's answer asks for.
    enum Verdict {
        case delivered(baseOffset: Int64, logAppendTime: Int64)
        /// Try again (after backoff); `refresh` when our idea of the leader may be stale.
        case retry(ProduceError, refresh: Bool)
        /// The broker did not write the batch and never will: fail it, keep the others going.
        case failBatch(ProduceError)
        case split(ProduceError)
        /// KIP-467: the broker refused these records of the batch (index, its message) and
        /// wrote none of it: they fail, the others go again.
        case rejectRecords(KafkaErrorCode, [(index: Int, message: String?)], message: String?)
        /// The broker's producer state no longer matches ours: bump the epoch (KIP-360).
        case bumpEpoch(dataLoss: Bool)
        case fatal(ProduceError)
    }

    /// The answer to a Produce request (`.failure`: it never got one).
    mutating func produceAnswered(_ ticket: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>,
                                  metadata: MetadataCache, now: Instant) {
        guard let req = sent.removeValue(forKey: ticket) else { return }
        inFlightPerBroker[req.broker, default: 1] -= 1
        dirty = true
        let response: ProduceResponse?
        switch result {
        case .success(let r):
            response = r as? ProduceResponse
            // An answer came through: allow one more in flight, up to the configured limit.
            if let limit = recovering[req.broker] {
                recovering[req.broker] = limit + 1 >= config.maxInFlightPerBroker ? nil : limit + 1
            }
        case .failure(let error):
            response = nil
            if error.isConnectionLoss { recovering[req.broker] = 1 }
        }
        if case .failure(.unsupportedVersion(.produce, let range?)) = result, range.upperBound < 3, idempotent, idempotenceMayFallBack {
            // The leader takes legacy message sets only (not upgraded yet, or downgraded):
            // without idempotence until every leader can take it again.
            suspendIdempotence(reason: "broker \(req.broker) takes Produce v\(range.lowerBound)-v\(range.upperBound) only (before Kafka 0.11)", now: now)
        }
        for part in req.parts {
            guard topics[part.topic] != nil, Int(part.partition) < topics[part.topic]!.partitions.count else { continue }
            let p = Int(part.partition)
            if topics[part.topic]!.partitions[p].generation != part.generation {
                topics[part.topic]!.partitions[p].staleOutstanding -= 1
                continue
            }
            let verdict: Verdict
            if topics[part.topic]!.partitions[p].batches.first?.tokens.first != part.batch {
                // A counting answer is for the front batch unless the requests were
                // reordered on the way (they must not be). Whatever it says, it cannot be
                // applied in order: resend from the front with the same sequences.
                apply(.retry(.request(.protocolViolation("answer for \(part.topic)[\(part.partition)] out of order")), refresh: false),
                      topic: part.topic, partition: p, now: now)
                continue
            }
            switch result {
            case .failure(let error):
                verdict = Self.judge(error, broker: req.broker, legacyPossible: !idempotent, brokersWithoutZstd: &brokersWithoutZstd)
            case .success:
                if req.acksNone {
                    verdict = .delivered(baseOffset: -1, logAppendTime: -1)
                } else if let pr = response?.responses.first(where: { $0.name == part.topic })?.partitionResponses.first(where: { $0.index == part.partition }) {
                    verdict = Self.judge(pr)
                    applyLeaderHint(part.topic, p, pr.currentLeader)
                } else {
                    verdict = .retry(.request(.protocolViolation("no answer for \(part.topic)[\(part.partition)]")), refresh: false)
                }
            }
            apply(verdict, topic: part.topic, partition: p, now: now)
        }
        completeFlushesIfDone()
    }

    /// `legacyPossible`: the producer can write legacy message sets (not idempotent).
    static func judge(_ error: KafkaClientError, broker: Int32, legacyPossible: Bool = false,
                      brokersWithoutZstd: inout Set<Int32>) -> Verdict {
        switch error {
        case .clientClosed:
            return .failBatch(.clientClosed)
        case .unsupportedVersion(let key, let range) where key == .produce:
            if let range, range.upperBound >= 3, !brokersWithoutZstd.contains(broker) {
                // A zstd-pinned request to a broker below Produce v7: fall back to the next codec.
                brokersWithoutZstd.insert(broker)
                return .retry(.request(error), refresh: false)
            }
            if let range, range.upperBound < 3, legacyPossible {
                // Sealed as a v2 batch before the broker's versions were known (a broker
                // before 0.11, or one downgraded): the resend is a legacy message set.
                return .retry(.request(error), refresh: false)
            }
            return .failBatch(.request(error))
        case .saslAuthenticationFailed, .saslMechanismUnsupported, .encodingFailed, .unsupportedVersion:
            return .failBatch(.request(error))
        case .unroutable:
            return .retry(.request(error), refresh: true)
        default:
            // Connection trouble, timeouts, garbage: the batch may or may not be written;
            // retrying is safe with idempotence (the broker dedups by sequence).
            return .retry(.request(error), refresh: error.isRetriable)
        }
    }

    static func judge(_ pr: ProduceResponse.PartitionProduceResponse) -> Verdict {
        let code = KafkaErrorCode(pr.errorCode)
        if code != .noError, !pr.recordErrors.isEmpty {
            return .rejectRecords(code, pr.recordErrors.map { (Int($0.batchIndex), $0.batchIndexErrorMessage) }, message: pr.errorMessage)
        }
        switch code {
        case .noError, .duplicateSequenceNumber:
            return .delivered(baseOffset: pr.baseOffset, logAppendTime: pr.logAppendTimeMs)
        case .messageTooLarge, .recordListTooLarge:
            return .split(.broker(code, message: pr.errorMessage))
        case .outOfOrderSequenceNumber:
            return .bumpEpoch(dataLoss: true)
        case .unknownProducerId:
            return .bumpEpoch(dataLoss: false)
        case .invalidProducerEpoch, .producerFenced, .clusterAuthorizationFailed, .transactionalIdAuthorizationFailed,
             .invalidProducerIdMapping, .invalidTxnState:
            return .fatal(.broker(code, message: pr.errorMessage))
        default:
            if code.isRetriable || MetadataCache.isStale(code) {
                return .retry(.broker(code, message: pr.errorMessage), refresh: MetadataCache.isStale(code))
            }
            return .failBatch(.broker(code, message: pr.errorMessage))
        }
    }

    /// KIP-951: a NOT_LEADER answer may name the new leader and its epoch; move now rather
    /// than after the next metadata refresh (which keeps to the minimum metadata age).
    mutating func applyLeaderHint(_ topic: String, _ p: Int, _ hint: ProduceResponse.LeaderIdAndEpoch) {
        guard hint.leaderId >= 0, hint.leaderEpoch > topics[topic]!.partitions[p].leaderEpoch else { return }
        topics[topic]!.partitions[p].leader = hint.leaderId
        topics[topic]!.partitions[p].leaderEpoch = hint.leaderEpoch
    }

    mutating func apply(_ verdict: Verdict, topic: String, partition p: Int, now: Instant) {
        if txn != nil, case .bumpEpoch(let dataLoss) = verdict {
            // Inside a transaction the batch fails and the transaction must abort; once the
            // abort is done the epoch is bumped (KIP-360: InitProducerId naming our id and
            // epoch), so the next transaction's sequences start afresh.
            txn!.bumpAfterAbort = true
            return apply(.failBatch(.broker(dataLoss ? .outOfOrderSequenceNumber : .unknownProducerId, message: nil)),
                         topic: topic, partition: p, now: now)
        }
        if txn != nil, case .fatal(.broker(let code, let message)) = verdict, TransactionManager.isFence(code), epochRecoverable,
           txn!.phase != .idle {
            // The leader has a newer epoch for our id (the coordinator's timeout abort, or a
            // newer instance): the batch fails, the transaction must abort, and the abort
            // settles which it was (KIP-588, `TransactionManager.fencedBy`).
            if txn!.fencedBy == nil { txn!.fencedBy = code }
            return apply(.failBatch(.broker(code, message: message)), topic: topic, partition: p, now: now)
        }
        var q = topics[topic]!.partitions[p]
        guard q.sentCount > 0, !q.batches.isEmpty else { return }
        switch verdict {
        case .delivered(let offset, let appendTime):
            var b = q.batches.removeFirst()
            q.sentCount -= 1
            q.failures = 0
            q.backoffUntil = nil
            topics[topic]!.partitions[p] = q
            report(topic, Int32(p), b, baseOffset: offset, logAppendTime: appendTime, error: nil)
            spareBodies.keep(&b.bytes)
        case .retry(let error, let refresh):
            if topics[topic]!.deleted {
                q.rewind(resolvedOne: true)
                let b = q.batches.removeFirst()
                topics[topic]!.partitions[p] = q
                report(topic, Int32(p), b, error: .unknownTopic(topic))
                return
            }
            if let limit = config.recordRetries, q.batches[0].attempts > limit {
                // Out of retries. A batch whose answer never came may be in the log: the
                // later batches must not take its sequence (see failBatch), so bump.
                if case .request = error, q.batches[0].sequence >= 0 {
                    if txn != nil { txn!.bumpAfterAbort = true } else { bumpPending = true }
                }
                return apply(.failBatch(error), topic: topic, partition: p, now: now)
            }
            q.rewind(resolvedOne: true)
            let delay = backoff.delay(attempt: q.failures, using: &rng)
            q.backoffUntil = now + delay
            q.failures += 1
            topics[topic]!.partitions[p] = q
            outputs.append(.decision(.produceRetrying(TopicPartition(topic, Int32(p)), reason: error, delay: delay)))
            if refresh { askMetadata(now: now) }
        case .failBatch(let error):
            q.rewind(resolvedOne: true)
            let b = q.batches.removeFirst()
            // Never written: the partition's later batches take over its sequence numbers.
            if b.sequence >= 0 { q.renumber(from: 0, start: b.sequence) }
            // Unless an earlier attempt of it went out: that one may be in the log, and a
            // later batch renumbered onto its sequence would be taken by the broker for a
            // duplicate of it (acknowledged, never written). In a transaction (which this
            // failure makes abort) the epoch is bumped once the abort is done, so the next
            // transaction starts its sequences afresh. Found by the txn-producer sweep: a
            // committed transaction missing a record after a retried batch was refused.
            if b.sequence >= 0, b.attempts > 1, txn != nil { txn!.bumpAfterAbort = true }
            // The idempotent producer bumps at once (KIP-360, once nothing is outstanding:
            // no batch goes meanwhile, and every sequence restarts at 0). Found with the
            // same fault in a producer sweep: acked records missing from the log.
            if b.sequence >= 0, b.attempts > 1, txn == nil, idempotent { bumpPending = true }
            topics[topic]!.partitions[p] = q
            report(topic, Int32(p), b, error: error)
        case .split(let error):
            q.rewind(resolvedOne: true)
            if let (first, second) = q.batches[0].split() {
                let sequence = q.batches[0].sequence
                q.batches.replaceSubrange(0 ..< 1, with: [first, second])
                if sequence >= 0 {
                    q.batches[0].sequence = sequence
                    q.batches[1].sequence = 0  // renumbered next
                    q.renumber(from: 0, start: sequence)
                }
                topics[topic]!.partitions[p] = q
            } else {
                let b = q.batches.removeFirst()
                if b.sequence >= 0 { q.renumber(from: 0, start: b.sequence) }
                topics[topic]!.partitions[p] = q
                report(topic, Int32(p), b, error: error)
            }
        case .rejectRecords(let code, let records, let message):
            guard let (kept, removed) = q.batches[0].removing(records.map(\.index)), !removed.isEmpty else {
                // Nothing named is in the batch (or it cannot be cut): the whole batch fails.
                return apply(.failBatch(.broker(code, message: message)), topic: topic, partition: p, now: now)
            }
            q.rewind(resolvedOne: true)
            let sequence = q.batches[0].sequence
            if kept.count > 0 { q.batches[0] = kept } else { q.batches.removeFirst() }
            // Nothing was written: the rest takes the refused batch's sequence on.
            if sequence >= 0 { q.renumber(from: 0, start: sequence) }
            // Unless an earlier attempt went out and may be in the log (as in failBatch).
            if sequence >= 0, kept.attempts > 1 {
                if txn != nil { txn!.bumpAfterAbort = true } else if idempotent { bumpPending = true }
            }
            topics[topic]!.partitions[p] = q
            for (index, single) in removed {
                let named = records.first { $0.index == index }?.message ?? nil
                report(topic, Int32(p), single, error: .broker(code, message: named ?? message))
            }
        case .bumpEpoch(let dataLoss):
            q.rewind(resolvedOne: true)
            topics[topic]!.partitions[p] = q
            if dataLoss { outputs.append(.action(.producer(.dataLossDetected(TopicPartition(topic, Int32(p)))))) }
            bumpPending = true
        case .fatal(let error):
            topics[topic]!.partitions[p] = q
            fail(fatally: error)
        }
    }

    /// The answer to InitProducerId.
    mutating func producerIdAnswered(_ ticket: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        guard idState == .requesting(ticket: ticket) else { return }
        idState = .none
        dirty = true
        if resumingIdempotence != nil { return resumeAnswered(result, now: now) }
        if case .success = result { idFailingSince = nil }
        switch result {
        case .success(let r as InitProducerIdResponse):
            let code = KafkaErrorCode(r.errorCode)
            if code == .noError {
                producerId = r.producerId
                producerEpoch = r.producerEpoch
                idState = .ready
                idFailures = 0
                if bumpPending || txn?.recovering == true {
                    bumpPending = false
                    resetSequences()
                    outputs.append(.decision(.producerEpochBumped(producerId: r.producerId, epoch: r.producerEpoch)))
                }
                producerIdReadyForTransactions()
                return
            }
            if let txn, txn.recovering, TransactionManager.isFence(code) || code == .invalidProducerIdMapping {
                // KIP-588 refused: the coordinator holds a newer epoch that is not the one
                // it fenced us with on a timeout: another instance took the id.
                fail(fatally: .broker(code, message: "fenced: another producer instance holds transactional id \(txn.transactionalId)"))
            } else if let txn, TransactionManager.isRetriable(code), !TransactionManager.isFatal(code) {
                if CoordinatorCache.meansMoved(code) { outputs.append(.coordinatorMoved(txn.coordinatorKey)) }
                retryProducerId(now: now)
            } else if txn != nil {
                // Fenced, not authorized, a timeout the broker refuses: the transactional
                // producer cannot go on (a new id would not be the same transactional producer).
                fail(fatally: .broker(code, message: nil))
            } else if code.isRetriable || code == .coordinatorLoadInProgress || code == .concurrentTransactions {
                retryProducerId(now: now)
            } else if code == .invalidProducerEpoch || code == .producerFenced || code == .invalidProducerIdMapping {
                // The bump was refused (e.g. a broker without KIP-360): start over with a new id.
                outputs.append(.decision(.producerIdReset(previous: producerId, code: code)))
                producerId = -1
                producerEpoch = -1
                retryProducerId(now: now)
            } else {
                fail(fatally: .broker(code, message: nil))
            }
        case .success:
            fail(fatally: .request(.protocolViolation("InitProducerId answered with another response")))
        case .failure(let error):
            if error == .clientClosed { return }
            if case .unsupportedVersion(.initProducerId, _) = error {
                // Kafka before 0.11: no producer ids at all.
                return idempotenceUnsupported(broker: error, now: now)
            }
            if let txn {
                if txn.recovering, case .unsupportedVersion = error {
                    // The coordinator cannot take our id and epoch: the fence stands.
                    return fail(fatally: .broker(txn.fencedBy ?? .producerFenced, message: "InitProducerId v3+ needed to recover"))
                }
                if Self.unanswered(error) {
                    if TransactionManager.exhausted(&idFailingSince, timeout: txn.timeout, now: now) { return fail(fatally: .request(error)) }
                    return retryProducerId(now: now)
                }
            }
            if error.isRetriable || idFailures < 3 { retryProducerId(now: now) } else { fail(fatally: .request(error)) }
        }
    }

    /// The cluster cannot give a producer id: without idempotence from now on when it was
    /// only the default, else a typed configuration error (a transactional producer cannot
    /// do without it).
    private mutating func idempotenceUnsupported(broker error: KafkaClientError, now: Instant) {
        guard config.idempotenceFallback, txn == nil else {
            return fail(fatally: .invalidConfiguration(.idempotenceUnsupported(broker: "the broker (\(error))")))
        }
        idFailures = 0
        // What waited for the producer id goes now (suspendIdempotence marks the pump
        // dirty: nothing else wakes it, the linger deadlines it waited behind have passed).
        suspendIdempotence(reason: "\(error)", now: now)
    }

    private mutating func retryProducerId(now: Instant) {
        idRetryAt = now + backoff.delay(attempt: idFailures, using: &rng)
        idFailures += 1
    }

    /// After an epoch bump every partition's sequences start again at zero; batches still
    /// buffered keep their order and are re-sealed with the new epoch when sent.
    mutating func resetSequences() {
        for name in topicNames {
            for p in topics[name]!.partitions.indices {
                var q = topics[name]!.partitions[p]
                q.nextSequence = 0
                if q.batches.first.map({ $0.sequence >= 0 }) == true { q.renumber(from: 0, start: 0) }
                topics[name]!.partitions[p] = q
            }
        }
    }
}
