/// The producer's inputs. The producer is a component (ProducerStateMachine+Component.swift);
/// it exists from the first record on.
extension ClientEngine {
    /// Buffers records for sending. A record refused at the call (bad input, buffer full,
    /// a fatal producer) is reported at once as a `.delivery` with its error.
    mutating func produce(_ records: [ProducerRecord], now: Instant) {
        var lent = records
        produce(lending: &lent, range: lent.indices, now: now)
    }

    /// `produce` of `records[range]`, the driver's hot path: the array is the driver's
    /// inbox and comes back unchanged. Each record is moved out of the array for the call
    /// and moved back after: the plain read the compiler makes of an element across a call
    /// into the producer is a copy, which retains and then releases the record's topic,
    /// key, value and headers.
    public mutating func produce(lending records: inout [ProducerRecord], range: Range<Int>, now: Instant) {
        guard !range.isEmpty else { return }
        // The loop below works through an unchecked pointer.
        precondition(range.lowerBound >= 0 && range.upperBound <= records.count, "produce range outside the records")
        if let refusal = producerUnavailable() {
            for i in range { refuse(records[i], refusal) }
            return
        }
        // The producer leaves `self` for the run: one move, not a copy per record.
        var p = producer.take()!
        let m = metadata
        records.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for i in range {
                let record = (base + i).move()
                if let error = p.produce(record, metadata: m, now: now) {
                    p.transactionRecordRefused(error)
                    refuse(record, error)
                }
                (base + i).initialize(to: consume record)
            }
        }
        producer = p
        runComponent(.producer, now: now)
    }

    /// Buffers one record; returns the error when it is refused at the call.
    mutating func produce(_ record: ProducerRecord, now: Instant) -> ProduceError? {
        if let refusal = producerUnavailable() { return refusal }
        let error = producer!.produce(record, metadata: metadata, now: now)
        if let error { producer!.transactionRecordRefused(error) }
        runComponent(.producer, now: now)
        return error
    }

    /// Why no record can be taken (the client is closed, the producer configuration is
    /// invalid); nil once the producer exists, created here on first use.
    mutating func producerUnavailable() -> ProduceError? {
        if isClosed { return .clientClosed }
        if producer == nil {
            do throws(ProducerConfigError) { try config.producer.validate() } catch { return .invalidConfiguration(error) }
            producer = ProducerStateMachine(config: config.producer, backoff: config.backoff, rng: rng.fork(), observe: config.observe)
        }
        return nil
    }

    private mutating func refuse(_ r: ProducerRecord, _ error: ProduceError) {
        actions.append(.delivery(DeliveryReport(topic: r.topic, partition: r.partition ?? -1, baseOffset: -1, logAppendTime: -1,
                                                tokens: [r.token], error: error)))
    }

    /// Answers with `.producer(.flushed(promise))` once nothing is buffered; lingering
    /// batches go at once meanwhile.
    mutating func flush(promise: PromiseID, now: Instant) {
        guard producer != nil else {
            actions.append(.producer(.flushed(promise)))
            return
        }
        producer!.flush(promise)
        runComponent(.producer, now: now)
    }

    /// Records accepted and not yet reported.
    public var producerBufferedRecords: Int { producer?.bufferedRecords ?? 0 }
    public var producerBufferedBytes: Int { producer?.bufferedBytes ?? 0 }
}
