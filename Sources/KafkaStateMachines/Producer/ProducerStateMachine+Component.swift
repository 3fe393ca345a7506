import KafkaProtocol

/// The producer as an engine component: answers to its Produce and InitProducerId
/// requests, metadata, ticks and close come in here; `run` sends what may go.
extension ProducerStateMachine: EngineComponent {
    mutating func answered(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, context: ComponentContext, now: Instant) {
        if context.isClosed { close() }
        if case .success(let r as ProduceResponse) = result {
            // KIP-951: the new leader may be a node our metadata does not list yet.
            for n in r.nodeEndpoints where context.metadata.brokers[n.nodeId] == nil {
                outputs.append(.brokerAddress(node: n.nodeId, BrokerAddress(host: n.host, port: Int(n.port))))
            }
        }
        // The last known version of InitProducerId at the transaction coordinator.
        if let txn, let v = context.coordinatorVersion(InitProducerIdRequest.self, txn.coordinatorKey) { epochRecoverable = v >= 3 }
        if sent[tag] != nil {
            produceAnswered(tag, result, metadata: context.metadata, now: now)
        } else if let txn, txn.owns(tag) {
            transactionAnswered(tag, result, now: now)
        } else {
            producerIdAnswered(tag, result, now: now)
        }
    }

    mutating func metadataUpdated(context: ComponentContext, now: Instant) {
        metadataUpdated(context.metadata, now: now)
    }

    mutating func tick(context: ComponentContext, now: Instant) -> Bool {
        guard let d = nextDeadline(after: context.lastTick), now >= d else { return false }
        tick(now: now)
        return true
    }

    mutating func close(context: ComponentContext, now: Instant) { close() }

    mutating func run(context: ComponentContext, now: Instant, into outputs: inout [ComponentOutput]) {
        if !context.isClosed { pump(versions: context.brokerVersions, now: now) }
        outputs.append(contentsOf: self.outputs)
        self.outputs.removeAll(keepingCapacity: true)
    }
}
