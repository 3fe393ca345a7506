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
            if dropped > 0 { engine.fetchConsumed(bytes: dropped, now: now) }
            engine.assign(p, now: now)
        case .unassign(let p):
            let dropped = buffer.drop(Set(p))
            if dropped > 0 { engine.fetchConsumed(bytes: dropped, now: now) }
            engine.unassign(p, now: now)
        case .subscribe(let s):
            engine.subscribe(s, now: now)
        case .seek(let tp, let start):
            let dropped = buffer.drop([tp])
            if dropped > 0 { engine.fetchConsumed(bytes: dropped, now: now) }
            engine.seek(tp, to: start, now: now)
        case .skip(let tp):
            engine.skip(tp, now: now)
        case .stop(let tp, let offset, let error, let skipTo):
            let dropped = buffer.drop([tp])
            if dropped > 0 { engine.fetchConsumed(bytes: dropped, now: now) }
            engine.stopPartition(tp, at: offset, error: error, skipTo: skipTo, now: now)
        case .pause(let p):
            engine.pause(p, now: now)
        case .resume(let p):
            engine.resume(p, now: now)
        case .consumed(let bytes):
            engine.fetchConsumed(bytes: bytes, now: now)
        }
    }

    func deliver(_ batch: FetchBatch) {
        guard let fetchBuffer else {
            // No consumer ever ran here; nothing will poll this.
            engine.fetchConsumed(bytes: batch.bytes, now: now)
            return
        }
        fetchBuffer.push(batch)
    }
}
