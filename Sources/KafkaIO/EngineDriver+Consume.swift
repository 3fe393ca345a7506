import KafkaProtocol
import KafkaStateMachines

/// The consumer's side of the driver: consumer inputs reach the engine in call order, and
/// fetched data goes to the client's FetchBuffer for `poll`.
extension EngineDriver {
    /// Feeds a consumer input, first dropping buffered data that must not be polled after it
    /// (fetched from positions the input moves or ends), handed back as consumed bytes.
    func runConsumer(_ input: EngineInput, buffer: FetchBuffer, now: Instant) {
        if fetchBuffer == nil { fetchBuffer = buffer }
        let dropped: Int
        switch input {
        case .assign(let p): dropped = buffer.drop(Set(p.keys))
        case .unassign(let p): dropped = buffer.drop(Set(p))
        case .seek(let tp, _), .stopPartition(let tp, _, _, _): dropped = buffer.drop([tp])
        default: dropped = 0
        }
        if dropped > 0 { feed(.fetchConsumed(dropped), now: now) }
        feed(input, now: now)
    }

    func deliver(_ batch: FetchBatch) {
        if !clientHooks.isEmpty { hookFetched(batch) }
        if !batch.dataLoss.isEmpty { logDataLoss(batch) }
        guard let fetchBuffer else {
            // No consumer ever ran here; nothing will poll this.
            feed(.fetchConsumed(batch.bytes), now: now)
            return
        }
        fetchBuffer.push(batch)
    }
}
