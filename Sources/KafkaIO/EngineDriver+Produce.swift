import KafkaProtocol
import KafkaStateMachines
/// The producer's side of the driver: records gathered from one inbox hop go to the engine
/// together; each delivery report (one per batch) completes its records' callbacks.
extension EngineDriver {
    /// Hands a run of queued records to the engine; their callbacks wait by token.
    /// `records[range]` go to the engine, which lends them and leaves the array as it was.
    /// `callbacks[range]` move to the ring (placeholders stay behind).
    func produce(_ records: inout [ProducerRecord], range: Range<Int>, callbacks: inout [ProduceCompletions.Entry], now: Instant) {
        guard let first = range.first.map({ records[$0] }) else { return }
        // The inbox numbered the records in the order the ring hands out tokens.
        precondition(first.token == produceCompletions.nextToken, "produce tokens out of step")
        precondition(range.upperBound <= callbacks.count, "a record without its callback")
        if !clientHooks.isEmpty { hookBuffered(records[range], callbacks: callbacks[range]) }
        callbacks.withUnsafeMutableBufferPointer { all in
            produceCompletions.add(moving: UnsafeMutableBufferPointer(rebasing: all[range]), at: now)
        }
        guard lifecycle == .running else {
            deliver(DeliveryReport(topic: first.topic, partition: -1, baseOffset: -1, logAppendTime: -1,
                                   tokens: records[range].map(\.token), error: .clientClosed))
            return
        }
        recorder?.record(.produce(Array(records[range])), now: now)
        engine.produce(lending: &records, range: range, now: now)
    }

    /// Completes the report's records in order. Their buffer room goes back to the gate
    /// first, in one step for the whole batch, so a producer blocked on a full buffer can
    /// go on while the callbacks run.
    func deliver(_ report: DeliveryReport) {
        var entries: [ProduceCompletions.Entry?] = []
        entries.reserveCapacity(report.tokens.count)
        let (records, bytes) = produceCompletions.remove(report.tokens, into: &entries)
        if records > 0 { producerGate.release(records: records, bytes: bytes) }
        if !clientHooks.isEmpty { hookDelivered(report, entries, now: now) }
        // Each entry is moved out for its call and back after: binding or calling it in place
        // retained and released its callback's context, which the producing thread retains
        // too (the entries go back to that thread to be freed, see `recycle`).
        entries.withUnsafeMutableBufferPointer { entries in
            let base = entries.baseAddress!
            for i in entries.indices {
                let entry = (base + i).move()
                if let entry {
                    if let error = report.error {
                        entry.completion(.failure(error))
                    } else {
                        entry.completion(.success(ProducedRecord(topic: report.topic, partition: report.partition,
                                                                 offset: report.baseOffset < 0 ? -1 : report.baseOffset + Int64(i),
                                                                 timestamp: report.logAppendTime >= 0 ? report.logAppendTime : entry.timestamp)))
                    }
                }
                (base + i).initialize(to: consume entry)
            }
        }
        inbox.recycle(callbacks: &entries)
    }

    func producerNotice(_ notice: ProducerNotice) {
        switch notice {
        case .flushed(let p):
            flushWaiters.removeValue(forKey: p)?()
        case .dataLossDetected(let tp):
            logger.error("producer detected data loss", metadata: [KafkaLogMetadata.partition: "\(tp)"])
        case .fatal(let e):
            logger.error("producer failed", metadata: ["error": "\(e)"])
        case .idempotenceDisabled(let reason):
            logger.warning("producing without idempotence (it was only the default)", metadata: ["reason": "\(reason)"])
        case .idempotenceEnabled(let id, let epoch):
            logger.notice("producing with idempotence again: every partition leader can do it now",
                          metadata: ["producerId": "\(id)", "epoch": "\(epoch)"])
        case .transactionDone(let p, let error):
            transactionWaiters.removeValue(forKey: p)?(error)
        }
    }

    /// Hands a begin, commit or abort to the engine; `done` is called with its outcome.
    func runTransaction(_ command: TransactionCommand, done: @escaping @Sendable (TransactionError?) -> Void, now: Instant) {
        guard lifecycle == .running else {
            done(.clientClosed)
            return
        }
        let p = makePromise()
        let done = loggingOutcome(of: command, done)
        if clientHooks.isEmpty {
            transactionWaiters[p] = done
        } else {
            let hooks = clientHooks
            let event: KafkaTransactionHookEvent? = switch command {
            case .begin: .begun
            case .commit: .committed
            case .abort: .aborted
            case .sendGroupOffsets: nil
            }
            transactionWaiters[p] = { error in
                if let event { for h in hooks { h.transactionEvent(event, error: error) } }
                done(error)
            }
        }
        switch command {
        case .begin: feed(.beginTransaction(p), now: now)
        case .commit: feed(.endTransaction(commit: true, p), now: now)
        case .abort:
            // The user is done with what it polled (its effects are aborted): a revocation
            // waiting for those records must not wait for the next poll.
            group?.buffer.finishAll()
            feed(.endTransaction(commit: false, p), now: now)
        case .sendGroupOffsets:
            // The transaction ends: what the user took is done with, so it counts as consumed.
            if let g = group {
                g.buffer.finishAll()
                reportConsumedPositions(now: now)
            }
            feed(.sendOffsetsToTransaction(nil, p), now: now)
        }
    }

    /// `done`, after a log line for an abort (info) or a transaction that did not end as asked (warning).
    private func loggingOutcome(of command: TransactionCommand, _ done: @escaping @Sendable (TransactionError?) -> Void)
        -> @Sendable (TransactionError?) -> Void {
        let logger = logger
        switch command {
        case .abort:
            return { error in
                if let error { logger.warning("transaction abort failed", metadata: ["error": "\(error)"]) }
                else { logger.info("transaction aborted") }
                done(error)
            }
        case .commit:
            return { error in
                if let error { logger.warning("transaction commit failed", metadata: ["error": "\(error)"]) }
                done(error)
            }
        case .begin, .sendGroupOffsets:
            return done
        }
    }
}
