/// Fetch: sessions (KIP-227), isolation levels, preferred read replicas (KIP-392), leader
/// epoch fencing and diverging epochs, min bytes held on virtual time until max wait.
struct FetchWait: Sendable {
    var context: FetchSessionCache.Context
    var lastFetchedEpochs: [TopicPartition: Int32]
    var isolation: PartitionLog.Isolation
    var minBytes: Int
    var maxBytes: Int
    var replicaId: Int32
    var rack: String?
    var byTopicId: Bool
}

extension FakeCluster {
    mutating func handleFetch(_ r: FetchRequest, _ ctx: RequestContext) -> HandlerResult {
        typealias TP = TopicPartition
        let byId = ctx.version >= 13
        var unknownIds: [KafkaUUID] = []
        func name(_ topic: String, _ id: KafkaUUID) -> String? {
            guard byId else { return topic }
            guard let t = state.metadata.topic(id: id) else { unknownIds.append(id); return nil }
            return t.name
        }
        var wanted: [FetchSessionCache.PartitionRequest] = []
        var epochs: [TP: Int32] = [:]
        for t in r.topics {
            guard let n = name(t.topic, t.topicId) else { continue }
            for p in t.partitions {
                let tp = TP(topic: n, partition: p.partition)
                wanted.append(FetchSessionCache.PartitionRequest(
                    topicPartition: tp, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes,
                    currentLeaderEpoch: ctx.version >= 9 ? p.currentLeaderEpoch : -1, logStartOffset: p.logStartOffset))
                if ctx.version >= 12 { epochs[tp] = p.lastFetchedEpoch }
            }
        }
        var forgotten: [TP] = []
        for f in r.forgottenTopicsData {
            guard let n = byId ? state.metadata.topic(id: f.topicId)?.name : f.topic else { continue }
            forgotten += f.partitions.map { TP(topic: n, partition: $0) }
        }
        let sessionId = ctx.version >= 7 ? r.sessionId : 0
        let epoch = ctx.version >= 7 ? r.sessionEpoch : -1
        let context = state.beginFetch(broker: ctx.broker, sessionId: sessionId, epoch: epoch, fetch: wanted,
                                       forgotten: forgotten, now: ctx.now)
        if case .error(let e) = context {
            var resp = FetchResponse()
            resp.errorCode = e.code
            return .respond(resp)
        }
        let replicaId = ctx.version >= 15 ? r.replicaState.replicaId : r.replicaId
        // A consumer with a byte-rate quota fetches at most what the quota allows (QuotaThrottling).
        var maxBytes = ctx.version >= 3 ? Int(max(0, r.maxBytes)) : Int.max
        if let bound = quotaFetchBound(quotaCharge(r, ctx, requestBytes: 0)) { maxBytes = min(maxBytes, bound) }
        let w = FetchWait(context: context, lastFetchedEpochs: epochs,
                          isolation: ctx.version >= 4 && r.isolationLevel == 1 ? .readCommitted : .readUncommitted,
                          minBytes: min(Int(max(0, r.minBytes)), maxBytes), maxBytes: maxBytes,
                          replicaId: replicaId, rack: ctx.version >= 11 ? r.rackId : nil, byTopicId: byId)
        let p = Parked(connection: ctx.connection, broker: ctx.broker, apiKey: ctx.apiKey, version: ctx.version,
                       correlationId: ctx.correlationId, deadline: nil, work: .fetch(w))
        if r.maxWaitMs <= 0 || !unknownIds.isEmpty, let resp = finishFetch(w, p, expired: true, now: ctx.now, unknownIds: unknownIds) {
            return .respond(resp)
        }
        if let resp = finishFetch(w, p, expired: false, now: ctx.now) { return .respond(resp) }
        return .park(.fetch(w), deadline: ctx.now.adding(milliseconds: Int64(r.maxWaitMs)))
    }

    /// Reads every partition of the fetch; returns the response once it has min bytes (or
    /// an error, or the wait expired), else nil to keep waiting.
    mutating func finishFetch(_ w: FetchWait, _ p: Parked, expired: Bool, now: Instant,
                              unknownIds: [KafkaUUID] = []) -> FetchResponse? {
        var results: [ClusterState.FetchPartitionResult] = []
        var total = 0
        var hasError = false
        for req in w.context.partitions {
            let pr = ClusterState.FetchPartitionRequest(
                topicPartition: req.topicPartition, fetchOffset: req.fetchOffset, partitionMaxBytes: req.partitionMaxBytes,
                currentLeaderEpoch: req.currentLeaderEpoch, lastFetchedEpoch: w.lastFetchedEpochs[req.topicPartition] ?? -1,
                isolation: w.isolation, replicaId: w.replicaId, clientRack: w.rack)
            var res = state.fetchPartition(broker: p.broker, pr, maxBytes: max(0, w.maxBytes - total),
                                           allowFollowerReads: p.version >= 11, minOneBatch: p.version >= 3 && total == 0)
            if let e = faults.take(.fetch, req.topicPartition) {
                res = ClusterState.FetchPartitionResult(topicPartition: req.topicPartition, error: KafkaErrorCode(e))
            }
            if w.replicaId < 0, !allowsTopic(p.connection, .read, req.topicPartition.topic) {
                res = ClusterState.FetchPartitionResult(topicPartition: req.topicPartition, error: .topicAuthorizationFailed)
            }
            total += res.records.count
            if res.error != .noError || res.divergingEpoch != nil || res.preferredReadReplica >= 0 { hasError = true }
            results.append(res)
        }
        if !expired && !hasError && total < max(1, w.minBytes) { return nil }
        let summaries = results.map {
            FetchSessionCache.PartitionResult(topicPartition: $0.topicPartition, error: $0.error, highWatermark: $0.highWatermark,
                                              lastStableOffset: $0.lastStableOffset, logStartOffset: $0.logStartOffset,
                                              recordBytes: $0.records.count, preferredReadReplica: $0.preferredReadReplica,
                                              hasDivergingEpoch: $0.divergingEpoch != nil)
        }
        let included = Set(state.finishFetch(broker: p.broker, w.context, results: summaries).map(\.topicPartition))
        var resp = FetchResponse()
        resp.sessionId = w.context.responseSessionId
        var hinted: Set<Int32> = []
        for res in results where included.contains(res.topicPartition) {
            var pd = FetchResponse.PartitionData()
            pd.partitionIndex = res.topicPartition.partition
            pd.errorCode = res.error.code
            pd.highWatermark = res.highWatermark
            pd.lastStableOffset = res.lastStableOffset
            pd.logStartOffset = res.logStartOffset
            pd.preferredReadReplica = res.preferredReadReplica
            // Fetch v0-1 clients read magic 0, v2-3 magic 1 (KIP-32); v4+ read v2 batches.
            pd.records = p.version >= 4 ? res.records : LegacyRecords.downConvert(res.records, magic: p.version >= 2 ? 1 : 0)
            if w.isolation == .readCommitted {
                pd.abortedTransactions = (res.abortedTransactions ?? []).map {
                    var a = FetchResponse.AbortedTransaction()
                    a.producerId = $0.producerId
                    a.firstOffset = $0.firstOffset
                    return a
                }
            }
            if let d = res.divergingEpoch {
                pd.divergingEpoch.epoch = d.epoch
                pd.divergingEpoch.endOffset = d.endOffset
            }
            if let h = res.currentLeader, p.version >= 12 {
                pd.currentLeader.leaderId = h.leaderId
                pd.currentLeader.leaderEpoch = h.leaderEpoch
                if p.version >= 16 { hinted.insert(h.leaderId) }
            }
            let name = res.topicPartition.topic
            if let last = resp.responses.indices.last, resp.responses[last].topic == name {
                resp.responses[last].partitions.append(pd)
            } else {
                var t = FetchResponse.FetchableTopicResponse()
                t.topic = name
                if w.byTopicId { t.topicId = state.metadata.topic(name)?.id ?? .zero }
                t.partitions = [pd]
                resp.responses.append(t)
            }
        }
        for id in unknownIds {
            var t = FetchResponse.FetchableTopicResponse()
            t.topicId = id
            var pd = FetchResponse.PartitionData()
            pd.errorCode = KafkaErrorCode.unknownTopicId.code
            t.partitions = [pd]
            resp.responses.append(t)
        }
        resp.nodeEndpoints = hinted.sorted().compactMap { id in
            state.metadata.broker(id).map { b in
                var e = FetchResponse.NodeEndpoint()
                e.nodeId = id
                e.host = b.host
                e.port = b.port
                e.rack = b.rack
                return e
            }
        }
        return resp
    }
}
