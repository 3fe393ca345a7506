/// The producer's side of the driver: records gathered from one inbox hop go to the engine
/// together; each delivery report (one per batch) completes its records' callbacks.
extension EngineDriver {
    func enqueueProduce(_ record: ProducerRecord, _ completion: @escaping ProduceCompletion) {
        var r = record
        r.token = nextProduceToken
        nextProduceToken += 1
        produceCompletions[r.token] = (completion, r.timestamp)
        produceBatch.append(r)
    }

    func flushProduce(now: Instant) {
        guard !produceBatch.isEmpty else { return }
        let batch = produceBatch
        produceBatch.removeAll(keepingCapacity: true)
        recorder?.record(.produce(batch), now: now)
        engine.produce(batch, now: now)
    }

    func deliver(_ report: DeliveryReport) {
        for (i, token) in report.tokens.enumerated() {
            guard let (completion, timestamp) = produceCompletions.removeValue(forKey: token) else { continue }
            if let error = report.error {
                completion(.failure(error))
            } else {
                completion(.success(ProducedRecord(topic: report.topic, partition: report.partition,
                                                   offset: report.baseOffset < 0 ? -1 : report.baseOffset + Int64(i),
                                                   timestamp: report.logAppendTime >= 0 ? report.logAppendTime : timestamp)))
            }
        }
    }

    func producerNotice(_ notice: ProducerNotice) {
        switch notice {
        case .flushed(let p):
            flushWaiters.removeValue(forKey: p)?()
        case .dataLossDetected(let tp):
            logger.warning("producer detected data loss", metadata: ["partition": "\(tp)"])
        case .fatal(let e):
            logger.error("producer failed", metadata: ["error": "\(e)"])
        }
    }
}
