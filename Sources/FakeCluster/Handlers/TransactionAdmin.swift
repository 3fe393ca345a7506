/// DescribeProducers, ListTransactions, DescribeTransactions and WriteTxnMarkers, from the
/// cluster's real producer and transaction state: each broker answers for the partitions
/// it leads and the transactional ids it coordinates, as Kafka's do.
extension FakeCluster {
    func handleDescribeProducers(_ r: DescribeProducersRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeProducersResponse()
        resp.topics = r.topics.map { t in
            var tr = DescribeProducersResponse.TopicResponse()
            tr.name = t.name
            tr.partitions = t.partitionIndexes.map { index in
                var pr = DescribeProducersResponse.PartitionResponse()
                pr.partitionIndex = index
                guard allowsTopic(ctx.connection, .read, t.name) else {
                    pr.errorCode = KafkaErrorCode.topicAuthorizationFailed.code
                    return pr
                }
                switch state.producerStates(broker: ctx.broker, TopicPartition(topic: t.name, partition: index)) {
                case .failure(let e): pr.errorCode = e.code
                case .success(let producers):
                    pr.activeProducers = producers.map { pid, e in
                        var s = DescribeProducersResponse.ProducerState()
                        s.producerId = pid
                        s.producerEpoch = Int32(e.epoch)
                        s.lastSequence = e.lastSequence
                        s.lastTimestamp = e.lastTimestamp
                        s.coordinatorEpoch = e.coordinatorEpoch
                        s.currentTxnStartOffset = e.currentTransactionFirstOffset ?? -1
                        return s
                    }
                }
                return pr
            }
            return tr
        }
        return .respond(resp)
    }

    /// The transactions this broker coordinates. Only transactions with a start time match a
    /// duration filter (v1): those open for at least that long.
    func handleListTransactions(_ r: ListTransactionsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ListTransactionsResponse()
        let known = Set(["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"])
        resp.unknownStateFilters = r.stateFilters.filter { !known.contains($0) }
        // Only the transactional ids the caller may DESCRIBE are listed.
        for id in state.transactions.transactionalIds
        where state.coordinator(for: id, type: .transaction) == ctx.broker && allows(ctx.connection, .describe, .transactionalId, id) {
            let t = state.transactions.transaction(id)!
            if !r.stateFilters.isEmpty, !r.stateFilters.contains(t.state.rawValue) { continue }
            if !r.producerIdFilters.isEmpty, !r.producerIdFilters.contains(t.producerId) { continue }
            if ctx.version >= 1, r.durationFilter >= 0 {
                guard let started = t.startedAt, ctx.now.milliseconds - started.milliseconds >= r.durationFilter else { continue }
            }
            var s = ListTransactionsResponse.TransactionState()
            s.transactionalId = id
            s.producerId = t.producerId
            s.transactionState = t.state.rawValue
            resp.transactionStates.append(s)
        }
        return .respond(resp)
    }

    func handleDescribeTransactions(_ r: DescribeTransactionsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeTransactionsResponse()
        resp.transactionStates = r.transactionalIds.map { id in
            var s = DescribeTransactionsResponse.TransactionState()
            s.transactionalId = id
            s.transactionStartTimeMs = -1
            s.producerId = -1
            s.producerEpoch = -1
            if !allows(ctx.connection, .describe, .transactionalId, id) {
                s.errorCode = KafkaErrorCode.transactionalIdAuthorizationFailed.code
                return s
            }
            if let e = coordinatorError(id, .transaction, ctx) {
                s.errorCode = e.code
                return s
            }
            guard let t = state.transactions.transaction(id) else {
                s.errorCode = KafkaErrorCode.transactionalIdNotFound.code
                return s
            }
            s.transactionState = t.state.rawValue
            s.transactionTimeoutMs = t.timeoutMs
            s.transactionStartTimeMs = t.startedAt?.milliseconds ?? -1
            s.producerId = t.producerId
            s.producerEpoch = t.producerEpoch
            var topics: [String: [Int32]] = [:]
            for tp in t.partitions { topics[tp.topic, default: []].append(tp.partition) }
            s.topics = topics.keys.sorted().map { name in
                var d = DescribeTransactionsResponse.TopicData()
                d.topic = name
                d.partitions = topics[name]!.sorted()
                return d
            }
            return s
        }
        return .respond(resp)
    }

    /// Markers as the coordinator writes them; a client may send them too (kafka-transactions.sh
    /// aborting a hanging transaction). Each partition must be led by this broker.
    mutating func handleWriteTxnMarkers(_ r: WriteTxnMarkersRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = WriteTxnMarkersResponse()
        // Markers are the coordinator's to write: CLUSTER_ACTION on the cluster.
        let refused = clusterRefusal(ctx, .clusterAction)
        for m in r.markers {
            var mr = WriteTxnMarkersResponse.WritableTxnMarkerResult()
            mr.producerId = m.producerId
            mr.topics = m.topics.map { t in
                var tr = WriteTxnMarkersResponse.WritableTxnMarkerTopicResult()
                tr.name = t.name
                tr.partitions = t.partitionIndexes.map { index in
                    var pr = WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult()
                    pr.partitionIndex = index
                    if let refused { pr.errorCode = refused.code; return pr }
                    pr.errorCode = state.writeMarker(broker: ctx.broker, TopicPartition(topic: t.name, partition: index), producerId: m.producerId,
                                                     producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch,
                                                     commit: m.transactionResult, now: ctx.now).code
                    return pr
                }
                return tr
            }
            resp.markers.append(mr)
        }
        return .respond(resp)
    }
}
