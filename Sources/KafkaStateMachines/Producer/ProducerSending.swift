extension ProducerStateMachine {
    /// Sends what may go now: a producer id first when idempotent, then per broker (in
    /// node order) requests of one batch per ready partition, up to the in-flight limit.
    mutating func pump(versions: [BrokerID: BrokerVersions], now: Instant) {
        if idempotenceSuspended { resumeIdempotenceIfPossible(versions: versions, now: now) }
        guard dirty, !closed, fatalError == nil else { return }
        dirty = false
        if txn != nil {
            // A transaction that must abort sends nothing more: what never left fails now.
            // A batch of a partition not added yet would otherwise wait for an
            // AddPartitionsToTxn that is never sent, and a flush for it for ever.
            if let cause = txn!.abortCause { dropUnsent(.transactionMustAbort(cause: cause)) }
            decideTransactionVersion(versions)
            finishTransactionIfReady()
        }
        if idempotent {
            if bumpPending, sent.isEmpty, idState == .ready { idState = .none }
            // Taking idempotence up again: what went without it is answered first.
            if resumingIdempotence != nil, !sent.isEmpty { return }
            guard idState == .ready, !bumpPending else {
                if idState == .none, bufferedRecords > 0 || bumpPending || transactionWantsProducerId, idRetryAt == nil { requestProducerId() }
                return
            }
        }
        var byBroker: [Int32: [(String, Int)]] = [:]
        // Partitions of the open transaction the coordinator does not have yet: their
        // batches wait for AddPartitionsToTxn.
        var toAdd: [TopicPartition] = []
        for name in topicNames {
            let t = topics[name]!
            for (p, q) in t.partitions.enumerated() where q.leader >= 0 && q.sentCount < q.batches.count {
                // Under transaction version 2 the Produce v12 adds the partition itself.
                if txn != nil, txn!.v2 != true, case let tp = TopicPartition(name, Int32(p)), !txn!.added.contains(tp) {
                    toAdd.append(tp)
                    continue
                }
                byBroker[q.leader, default: []].append((name, p))
            }
        }
        if txn != nil { requestPartitions(toAdd) }
        let pipelining = idempotent ? config.maxInFlightPerBroker : 1
        for broker in byBroker.keys.sorted() {
            let candidates = byBroker[broker]!
            // After a request to this broker was lost with its connection, a full pipeline
            // may be what the path cannot carry (a proxy or middlebox cutting connections
            // after so many bytes): everything in flight is lost and resent whole, again and
            // again. So one request goes until one is answered, and a small one: a single
            // partition's front batch (a batch sent before keeps its records and sequence).
            let recoveringLimit = recovering[broker]
            let limit = recoveringLimit ?? config.maxInFlightPerBroker
            let probing = recoveringLimit == 1
            while inFlightPerBroker[broker, default: 0] < limit {
                guard let request = buildRequest(broker: broker, candidates: candidates, pipelining: pipelining, onePartition: probing,
                                                  versions: versions, now: now) else { break }
                let ticket = nextTicket
                nextTicket += 1
                sent[ticket] = request.record
                inFlightPerBroker[broker, default: 0] += 1
                outputs.append(.send(ComponentRequest(tag: ticket, request.request, to: .broker(broker), pin: request.pin, maxRetries: 0,
                                                      orderedPerBroker: true)))
            }
        }
    }

    private mutating func requestProducerId() {
        let ticket = nextTicket
        nextTicket += 1
        var r = InitProducerIdRequest()
        r.transactionalId = nil
        r.transactionTimeoutMs = -1
        // KIP-360: naming the current id and epoch asks for a bump, keeping the id.
        r.producerId = producerId
        r.producerEpoch = producerEpoch
        idState = .requesting(ticket: ticket)
        var target = RequestTarget.anyBroker
        // A resume asks a leader known to take idempotent batches (any broker could be one
        // not upgraded yet).
        if let b = resumingIdempotence { target = .broker(b) }
        if let txn {
            // A transactional id is known to its coordinator only.
            r.transactionalId = txn.transactionalId
            r.transactionTimeoutMs = Int32(clamping: txn.timeout.milliseconds)
            target = txn.target
        }
        // A KIP-588 recovery needs the id and epoch fields (v3+): an older version would be a
        // plain re-registration, fencing whatever instance holds the id, ourselves included.
        let pin: ClosedRange<Int16>? = txn?.recovering == true ? 3 ... Int16.max : nil
        outputs.append(.send(ComponentRequest(tag: ticket, r, to: target, pin: pin)))
    }

    private mutating func buildRequest(broker: Int32, candidates: [(String, Int)], pipelining: Int, onePartition: Bool,
                                       versions: [BrokerID: BrokerVersions], now: Instant)
        -> (request: ProduceRequest, record: SentRequest, pin: ClosedRange<Int16>)? {
        let produceMax = versions[.node(broker)]?.range(for: .produce)?.upperBound
        // A broker before 0.11 (Produce v0-v2) takes legacy message sets: magic 1 from
        // Produce v2 (0.10), else magic 0. Idempotent batches need v2 batches (Produce v3+);
        // sent to such a broker, the request fails with a typed unsupportedVersion.
        let legacyMagic: Int8? = idempotent ? nil : produceMax.flatMap { $0 >= 3 ? nil : $0 == 2 ? 1 : 0 }
        let codec = config.compression.first { c in
            c != .zstd || (legacyMagic == nil && (produceMax.map { $0 >= 7 } ?? true) && !brokersWithoutZstd.contains(broker))
        } ?? .none
        var topicData: [ProduceRequest.TopicProduceData] = []
        var parts: [SentPart] = []
        var requestBytes = 0
        var leftOut: TopicPartition? = nil
        for (name, p) in Self.rotated(candidates, from: resumeAt[broker]) where !(onePartition && !parts.isEmpty) {
            let flushing = isFlushing
            let manual = config.manualFlushing
            let linger = config.linger
            guard topics[name]!.partitions[p].canSend(to: broker, now: now, lingerDone: { b in
                flushing || (!manual && now >= b.opened + linger)
            }, pipelining: pipelining) else { continue }
            let batchBytes = topics[name]!.partitions[p].nextBatchWireSize
            if !parts.isEmpty && requestBytes + batchBytes > config.maxRequestBytes {
                if leftOut == nil { leftOut = TopicPartition(name, Int32(p)) }
                continue
            }
            requestBytes += batchBytes
            let wire: [UInt8]
            do {
                wire = try topics[name]!.partitions[p].prepareNext(idempotent: idempotent, transactional: txn != nil, codec: codec, producerId: producerId,
                                                                    epoch: producerEpoch, legacyMagic: legacyMagic, contexts: contexts)
            } catch {
                // Cannot happen for records accepted at the call; fail the batch rather than loop.
                var q = topics[name]!.partitions[p]
                let b = q.batches.remove(at: q.sentCount)
                topics[name]!.partitions[p] = q
                report(name, Int32(p), b, error: .request(.encodingFailed(error)))
                continue
            }
            // Transaction version 2: the Produce v12 may add the partition; the transaction
            // now needs its EndTxn.
            if txn?.v2 == true { txn!.added.insert(TopicPartition(name, Int32(p))) }
            var pd = ProduceRequest.PartitionProduceData()
            pd.index = Int32(p)
            pd.records = wire
            // After a rotation a topic's partitions can come in two runs: one entry each.
            if let ti = topicData.lastIndex(where: { $0.name == name }) {
                topicData[ti].partitionData.append(pd)
            } else {
                var td = ProduceRequest.TopicProduceData()
                td.name = name
                td.partitionData = [pd]
                topicData.append(td)
            }
            let q = topics[name]!.partitions[p]
            if observe {
                let b = q.batches[q.sentCount - 1]
                outputs.append(.observation(.produceBatchWritten(broker: broker, topic: name, partition: Int32(p), records: b.count,
                                                                 bytes: b.wireSize, compressedBytes: wire.count, codec: codec)))
            }
            parts.append(SentPart(topic: name, partition: Int32(p), generation: q.generation, batch: q.batches[q.sentCount - 1].tokens.first ?? 0))
        }
        guard !parts.isEmpty else { return nil }
        resumeAt[broker] = leftOut
        var r = ProduceRequest()
        r.acks = config.acks.rawValue
        r.transactionalId = txn?.transactionalId
        r.timeoutMs = Int32(clamping: config.requestTimeout.milliseconds)
        r.topicData = topicData
        // v12 is v11 but for KIP-890 part 2, where a transactional one adds its partition to
        // the transaction: only a transaction on that path sends it (the old path stays below
        // 12, which a 4.x broker without the feature needs).
        let pin: ClosedRange<Int16> = txn?.v2 == true ? 12 ... 12 : codec == .zstd ? 7 ... 11
            : legacyMagic == 1 ? 2 ... 2 : legacyMagic == 0 ? 0 ... 1 : 3 ... 11
        return (r, SentRequest(broker: broker, parts: parts, acksNone: config.acks == .none), pin)
    }
}

extension ProducerStateMachine {
    /// `candidates` (in topic, partition order) starting at the first one at or after
    /// `start`, wrapping around; unchanged without `start`.
    static func rotated(_ candidates: [(String, Int)], from start: TopicPartition?) -> [(String, Int)] {
        guard let start, let i = candidates.firstIndex(where: { ($0.0, $0.1) >= (start.topic, Int(start.partition)) }), i > 0 else {
            return candidates
        }
        return Array(candidates[i...] + candidates[..<i])
    }
}

extension PartitionQueue {
    /// The size on the wire before compression of the next batch to send.
    var nextBatchWireSize: Int { batches[sentCount].wireSize }

    /// Marks the next batch sent and returns its wire bytes (a sequence assigned on its
    /// first send, kept for every retry).
    mutating func prepareNext(idempotent: Bool, transactional: Bool = false, codec: CompressionCodec, producerId: Int64, epoch: Int16,
                              legacyMagic: Int8? = nil, contexts: CompressionContexts) throws(KafkaEncodingError) -> [UInt8] {
        let i = sentCount
        if !batches[i].closed { lastBatchBody = batches[i].bytes.count }
        batches[i].closed = true
        if idempotent && batches[i].sequence < 0 {
            batches[i].sequence = nextSequence
            nextSequence = Self.add(nextSequence, batches[i].count)
        }
        let wire = try batches[i].sealed(codec: codec, producerId: idempotent ? producerId : -1, epoch: idempotent ? epoch : -1,
                                         transactional: transactional, legacyMagic: legacyMagic, contexts: contexts)
        batches[i].attempts += 1
        sentCount += 1
        sentTo = leader
        return wire
    }
}
