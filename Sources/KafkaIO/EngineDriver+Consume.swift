import KafkaStateMachines

/// What a consumer call asks of the engine (run on the engine's loop, in call order).
enum ConsumerCommand: Sendable {
    case assign([TopicPartition: StartOffset])
    case unassign([TopicPartition])
    case subscribe(TopicSubscription)
    case seek(TopicPartition, StartOffset)
    case skip(TopicPartition)
    case stop(TopicPartition, offset: Int64, error: ConsumerPartitionError, skipTo: Int64)
    case pause([TopicPartition])
    case resume([TopicPartition])
    /// Polled bytes handed back (backpressure).
    case consumed(Int)
}

extension EngineDriver {
    func runConsumer(_ command: ConsumerCommand, buffer: FetchBuffer, now: Instant) {
        if fetchBuffer == nil { fetchBuffer = buffer }
        switch command {
        case .assign(let p):
            // Data fetched from the old positions must not be polled after the move.
            let dropped = buffer.drop(Set(p.keys))
            if dropped > 0 { recordAndApply(.fetchConsumed(dropped), now: now) }
            recordAndApply(.assign(p), now: now)
        case .unassign(let p):
            let dropped = buffer.drop(Set(p))
            if dropped > 0 { recordAndApply(.fetchConsumed(dropped), now: now) }
            recordAndApply(.unassign(p), now: now)
        case .subscribe(let s):
            recordAndApply(.subscribe(s), now: now)
        case .seek(let tp, let start):
            let dropped = buffer.drop([tp])
            if dropped > 0 { recordAndApply(.fetchConsumed(dropped), now: now) }
            recordAndApply(.seek(tp, start), now: now)
        case .skip(let tp):
            recordAndApply(.skip(tp), now: now)
        case .stop(let tp, let offset, let error, let skipTo):
            let dropped = buffer.drop([tp])
            if dropped > 0 { recordAndApply(.fetchConsumed(dropped), now: now) }
            recordAndApply(.stopPartition(tp, offset: offset, error: error, skipTo: skipTo), now: now)
        case .pause(let p):
            recordAndApply(.pause(p), now: now)
        case .resume(let p):
            recordAndApply(.resume(p), now: now)
        case .consumed(let bytes):
            recordAndApply(.fetchConsumed(bytes), now: now)
        }
    }

    /// Records a consumer input (when recording) and gives it to the engine.
    private func recordAndApply(_ input: RecordedInput, now: Instant) {
        recorder?.record(input, now: now)
        switch input {
        case .assign(let p): engine.assign(p, now: now)
        case .unassign(let p): engine.unassign(p, now: now)
        case .subscribe(let s): engine.subscribe(s, now: now)
        case .seek(let tp, let start): engine.seek(tp, to: start, now: now)
        case .skip(let tp): engine.skip(tp, now: now)
        case .stopPartition(let tp, let offset, let error, let skipTo): engine.stopPartition(tp, at: offset, error: error, skipTo: skipTo, now: now)
        case .pause(let p): engine.pause(p, now: now)
        case .resume(let p): engine.resume(p, now: now)
        case .fetchConsumed(let n): engine.fetchConsumed(bytes: n, now: now)
        default: preconditionFailure("not a consumer input: \(input)")
        }
    }

    func deliver(_ batch: FetchBatch) {
        guard let fetchBuffer else {
            // No consumer ever ran here; nothing will poll this.
            recordAndApply(.fetchConsumed(batch.bytes), now: now)
            return
        }
        fetchBuffer.push(batch)
    }
}
