import KafkaProtocol

/// User requests split across partition leaders (ListOffsets, DeleteRecords,
/// OffsetForLeaderEpoch): one shard per leader, answers merged into one response, and
/// partitions whose answers said our leaders were stale asked again after a refresh.
extension ClientEngine {
    mutating func split(_ parent: UInt64, now: Instant) {
        guard let s = sharded[parent] else { return }
        sharded[parent]!.rounds += 1
        let partitions = s.sharder.partitions(of: s.request).filter { s.retryPartitions?.contains($0) ?? true }
        let plan = PartitionSharding.plan(partitions) { metadata.leader(of: $0) }
        sharded[parent]!.unroutable = plan.unroutable.map { tp in
            let topicError = metadata.topicErrors[tp.topic] ?? .unknownTopicOrPartition
            if topicError != .noError { return (tp, topicError) }
            let partitionError = metadata.partitions[tp]?.errorCode ?? .unknownTopicOrPartition
            return (tp, partitionError != .noError ? partitionError : .leaderNotAvailable)
        }
        var shardIds: [UInt64] = []
        for (leader, keep) in plan.shards {
            let id = takeRequestId()
            shardIds.append(id)
            pending[id] = PendingRequest(owner: .shard(parent: parent), request: s.sharder.subset(s.request, keeping: keep),
                                         target: .broker(leader), pin: s.pin, firstAttempt: now, maxRetries: s.maxRetries)
        }
        sharded[parent]!.shards = shardIds
        if shardIds.isEmpty { completeShardedIfDone(parent, now: now) }
        for id in shardIds { route(id, now: now) }
    }

    mutating func completeShardedIfDone(_ parent: UInt64, now: Instant) {
        guard let s = sharded[parent], s.shards.allSatisfy({ s.results[$0] != nil }) else { return }
        sharded[parent] = nil
        var responses: [any KafkaResponse] = []
        for id in s.shards {
            switch s.results[id]! {
            case .failure(let error):
                actions.append(.complete(s.promise, .failure(error)))
                return
            case .success(let r):
                responses.append(r)
            }
        }
        let merged = s.sharder.merge(s.kept + responses, unroutable: s.unroutable)
        // A partition answered by a broker that is no longer its leader (or with no leader
        // known) means our leaders are out of date: refresh, then ask again for just those
        // partitions, within the request's retry budget.
        let errors = s.sharder.partitionErrors(in: merged)
        let stale = Set(errors.filter { MetadataCache.isStale($0.1) }.map(\.0))
        if !stale.isEmpty { requestMetadataRefresh(now: now, urgent: true) }
        // A topic the fresh metadata did not know is not waited for: it does not exist.
        let missingTopics = Set(s.unroutable.filter { $0.1 == .unknownTopicOrPartition }.map(\.0))
        // Only this round's answers are candidates: what was kept from earlier rounds is final.
        let roundErrors = s.sharder.partitionErrors(in: s.sharder.merge(responses, unroutable: s.unroutable))
        let retriable = Set(roundErrors.filter { MetadataCache.isStale($0.1) && $0.1.isRetriable && !missingTopics.contains($0.0) }.map(\.0))
        if !retriable.isEmpty, s.rounds <= s.maxRetries, now < s.firstAttempt + config.retryTimeout, !isClosed {
            var next = s
            next.kept = [s.sharder.removing(retriable, from: merged)]
            next.unroutable = []
            next.retryPartitions = retriable
            next.shards = []
            next.results = [:]
            next.waitingMetadata = true
            sharded[parent] = next
            return
        }
        actions.append(.complete(s.promise, .success(merged)))
    }
}
