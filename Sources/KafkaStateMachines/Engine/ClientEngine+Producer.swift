/// The producer's inputs and its plumbing into the engine: it asks for requests (sent once,
/// to a named leader: the producer retries itself), metadata refreshes, and hands out
/// delivery reports, which become `.delivery` / `.producer` actions.
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
                if let error = p.produce(record, metadata: m, now: now) { refuse(record, error) }
                (base + i).initialize(to: consume record)
            }
        }
        producer = p
        producerPump(now: now)
    }

    /// Buffers one record; returns the error when it is refused at the call.
    mutating func produce(_ record: ProducerRecord, now: Instant) -> ProduceError? {
        if let refusal = producerUnavailable() { return refusal }
        let error = producer!.produce(record, metadata: metadata, now: now)
        producerPump(now: now)
        return error
    }

    /// Why no record can be taken (the client is closed, the producer configuration is
    /// invalid); nil once the producer exists, created here on first use.
    private mutating func producerUnavailable() -> ProduceError? {
        if isClosed { return .clientClosed }
        if producer == nil {
            do throws(ProducerConfigError) { try config.producer.validate() } catch { return .invalidConfiguration(error) }
            producer = ProducerStateMachine(config: config.producer, backoff: config.backoff, rng: rng.fork())
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
        producerPump(now: now)
    }

    /// Records accepted and not yet reported.
    public var producerBufferedRecords: Int { producer?.bufferedRecords ?? 0 }
    public var producerBufferedBytes: Int { producer?.bufferedBytes ?? 0 }

    // MARK: engine hooks

    mutating func producerAnswered(_ ticket: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        guard producer != nil else { return }
        if isClosed { producer!.close() }
        if case .success(let r as ProduceResponse) = result {
            // KIP-951: the new leader may be a node our metadata does not list yet.
            for n in r.nodeEndpoints where metadata.brokers[n.nodeId] == nil {
                coordinatorAddresses[n.nodeId] = BrokerAddress(host: n.host, port: Int(n.port))
            }
        }
        if producer!.sent[ticket] != nil {
            producer!.produceAnswered(ticket, result, metadata: metadata, now: now)
        } else {
            producer!.producerIdAnswered(ticket, result, now: now)
        }
        producerPump(now: now)
    }

    mutating func producerMetadataUpdated(now: Instant) {
        guard producer != nil else { return }
        producer!.metadataUpdated(metadata, now: now)
        producerPump(now: now)
    }

    mutating func producerTick(now: Instant) {
        guard producer != nil, let d = producer!.nextDeadline(), now >= d else { return }
        producer!.tick(now: now)
        producerPump(now: now)
    }

    mutating func producerClose(now: Instant) {
        guard producer != nil else { return }
        producer!.close()
        producerPump(now: now)
    }

    /// Lets the producer send what it may, then carries out what it asked for. Answers that
    /// arrive while routing (a refused version, acks=none) re-enter here; the outer call
    /// picks up their outputs.
    mutating func producerPump(now: Instant) {
        guard producer != nil, !producer!.pumping else { return }
        producer!.pumping = true
        defer { producer!.pumping = false }
        while true {
            if !isClosed { producer!.pump(versions: brokerVersions, now: now) }
            let outputs = producer!.takeOutputs()
            if outputs.isEmpty { break }
            for o in outputs {
                switch o {
                case .send(let ticket, let broker, let request, let pin):
                    let id = takeRequestId()
                    pending[id] = PendingRequest(owner: .producer(ticket: ticket), request: request, target: .broker(broker), pin: pin,
                                                 firstAttempt: now, maxRetries: 0)
                    route(id, now: now)
                case .initProducerId(let ticket, let request):
                    let id = takeRequestId()
                    pending[id] = PendingRequest(owner: .producer(ticket: ticket), request: request, target: .anyBroker,
                                                 firstAttempt: now, maxRetries: config.maxRetries)
                    route(id, now: now)
                case .refreshMetadata(let topics):
                    // A topic never asked about is new information, not a repeat: no minimum age.
                    let new = !topics.allSatisfy { metadata.interest.contains($0) }
                    metadata.addInterest(topics)
                    if isClosed { break }
                    if new && metadataRefreshId == nil {
                        startMetadataRefresh(now: now)
                    } else if new {
                        metadataRefreshUrgent = true
                        requestMetadataRefresh(now: now)
                    } else {
                        requestMetadataRefresh(now: now)
                    }
                case .report(let r):
                    actions.append(.delivery(r))
                case .notice(let n):
                    actions.append(.producer(n))
                }
            }
        }
    }
}
