/// The data path on the receiving broker: Produce, Fetch (one partition at a time),
/// ListOffsets, OffsetForLeaderEpoch and DeleteRecords, with the leader and leader-epoch
/// checks every one of them makes first.
extension ClusterState {
    /// KIP-951: where the client should go instead, sent with NOT_LEADER_OR_FOLLOWER.
    struct LeaderHint: Equatable, Sendable {
        var leaderId: Int32
        var leaderEpoch: Int32
    }

    func leaderHint(_ tp: TopicPartition) -> LeaderHint? {
        guard let p = metadata.partition(tp), p.leader >= 0 else { return nil }
        return LeaderHint(leaderId: p.leader, leaderEpoch: p.leaderEpoch)
    }

    /// KIP-320 fencing of a client's view: an older epoch is FENCED_LEADER_EPOCH, a newer
    /// one (this broker has not caught up) UNKNOWN_LEADER_EPOCH; -1 skips the check.
    static func epochError(requested: Int32, current: Int32) -> KafkaErrorCode? {
        guard requested >= 0 else { return nil }
        if requested < current { return .fencedLeaderEpoch }
        if requested > current { return .unknownLeaderEpoch }
        return nil
    }

    /// Checks that `broker` leads `tp` and the client's epoch is current.
    func leaderError(_ tp: TopicPartition, broker: Int32, currentLeaderEpoch: Int32) -> KafkaErrorCode? {
        guard let p = metadata.partition(tp) else { return .unknownTopicOrPartition }
        if let e = Self.epochError(requested: currentLeaderEpoch, current: p.leaderEpoch) { return e }
        guard metadata.isUp(broker), p.leader == broker else { return .notLeaderOrFollower }
        return nil
    }

    // MARK: Produce

    struct ProduceResult: Equatable, Sendable {
        var error: KafkaErrorCode
        var baseOffset: Int64 = -1
        var logAppendTime: Int64 = -1
        var logStartOffset: Int64 = -1
        var currentLeader: LeaderHint?
        /// acks=all: respond once the high watermark reaches this (see `isReplicated`).
        var awaitHighWatermark: Int64?
    }

    /// One partition of a ProduceRequest (v3+: exactly one v2 batch). Idempotent and
    /// transactional validation happens in the leader's log; with `verifyTransactions` a
    /// transactional batch must target a partition added to its ongoing transaction.
    /// `addingTo` (transaction version 2, Produce v12+: the request's transactional id) adds
    /// the partition to that transaction first, beginning it if none is open.
    mutating func produce(broker: Int32, _ tp: TopicPartition, records: [UInt8], acks: Int16,
                          verifyTransactions: Bool = true, addingTo transactionalId: String? = nil, now: Instant) -> ProduceResult {
        guard acks == 0 || acks == 1 || acks == -1 else { return ProduceResult(error: .invalidRequiredAcks) }
        if let e = leaderError(tp, broker: broker, currentLeaderEpoch: -1) {
            return ProduceResult(error: e, currentLeader: e == .notLeaderOrFollower ? leaderHint(tp) : nil)
        }
        let p = metadata.partition(tp)!
        let batches: [[UInt8]]
        do { batches = try BatchHeader.split(records) } catch { return ProduceResult(error: .corruptMessage) }
        guard batches.count == 1, let batch = batches.first else { return ProduceResult(error: .invalidRecord) }
        if batch.count > topicConfig(tp.topic, "max.message.bytes", default: config.maxMessageBytes) {
            return ProduceResult(error: .messageTooLarge)
        }
        if acks == -1, p.isr.count < topicConfig(tp.topic, "min.insync.replicas", default: config.minInsyncReplicas) {
            return ProduceResult(error: .notEnoughReplicas)
        }
        if let tid = transactionalId, let h = try? BatchHeader.parse(batch, verifyCRC: false), h.isTransactional {
            let e = transactions.addPartitions(transactionalId: tid, producerId: h.producerId, producerEpoch: h.producerEpoch,
                                               [tp], now: now)
            switch e {
            case .noError: break
            // As Kafka's produce path answers the coordinator's fencing (see verifyProduce).
            case .producerFenced: return ProduceResult(error: .invalidProducerEpoch)
            default: return ProduceResult(error: e)
            }
        }
        if verifyTransactions, let h = try? BatchHeader.parse(batch, verifyCRC: false), h.isTransactional {
            // A fenced producer hears it is fenced (INVALID_PRODUCER_EPOCH), not that its
            // partition is missing from a transaction (found by the txn-zombie sweep: the
            // first instance's next produce after a second one started was refused with
            // INVALID_TXN_STATE).
            let e = transactions.verifyProduce(producerId: h.producerId, producerEpoch: h.producerEpoch, tp)
            if e != .noError { return ProduceResult(error: e) }
        }
        let live = metadata
        let appendTime: Int64? = metadata.topic(tp.topic)?.configs["message.timestamp.type"] == "LogAppendTime"
            ? now.milliseconds : nil
        do throws(PartitionLog.AppendError) {
            let outcome = try partitions[tp]!.append(batch, leader: p.leader, leaderEpoch: p.leaderEpoch, isr: p.isr,
                                                     logAppendTime: appendTime) { live.isUp($0) }
            let log = partitions[tp]!.log(p.leader)!
            noteLag(tp, now: now)
            switch outcome {
            case let .appended(base, last):
                return ProduceResult(error: .noError, baseOffset: base, logAppendTime: appendTime ?? -1,
                                     logStartOffset: log.logStartOffset, awaitHighWatermark: acks == -1 ? last + 1 : nil)
            case let .duplicate(base, last):
                if config.duplicateSequenceIsError { return ProduceResult(error: .duplicateSequenceNumber) }
                // The original append time is not kept; Kafka answers the duplicate's too, the fake -1.
                return ProduceResult(error: .noError, baseOffset: base, logStartOffset: log.logStartOffset,
                                     awaitHighWatermark: acks == -1 ? last + 1 : nil)
            }
        } catch {
            switch error {
            case .corrupt(let e):
                if case .badCRC = e.kind { return ProduceResult(error: .corruptMessage) }
                return ProduceResult(error: .invalidRecord)
            case .producer(let code): return ProduceResult(error: code)
            }
        }
    }

    /// Whether the leader's high watermark has reached `offset` (acks=all completion).
    func isReplicated(_ tp: TopicPartition, upTo offset: Int64) -> Bool {
        (leaderLog(tp)?.highWatermark ?? -1) >= offset
    }

    // MARK: Fetch

    struct FetchPartitionRequest: Equatable, Sendable {
        var topicPartition: TopicPartition
        var fetchOffset: Int64
        var partitionMaxBytes: Int32
        var currentLeaderEpoch: Int32 = -1
        /// Fetch v12+: the epoch of the last fetched batch, for diverging-epoch detection.
        var lastFetchedEpoch: Int32 = -1
        var isolation: PartitionLog.Isolation = .readUncommitted
        /// -1 for consumers; a broker id for replica fetches (which read to the log end).
        var replicaId: Int32 = -1
        var clientRack: String?
    }

    struct FetchPartitionResult: Equatable, Sendable {
        var topicPartition: TopicPartition
        var error: KafkaErrorCode
        var highWatermark: Int64 = -1
        var lastStableOffset: Int64 = -1
        var logStartOffset: Int64 = -1
        var records: [UInt8] = []
        var abortedTransactions: [PartitionLog.AbortedTransaction]?
        var preferredReadReplica: Int32 = -1
        var divergingEpoch: PartitionLog.EpochEndOffset?
        var currentLeader: LeaderHint?
    }

    /// Reads one partition for a fetch on `broker`. Consumers may read from a follower
    /// replica (KIP-392) when `allowFollowerReads`; a leader asked by a consumer in another
    /// rack with a same-rack in-sync replica answers with that preferred read replica and
    /// no records. `maxBytes` is what remains of the response's budget.
    ///
    /// `minOneBatch`: the first partition of a response with data gets at least one whole
    /// batch even over the budget (fetch v3+); later ones pass false.
    func fetchPartition(broker: Int32, _ req: FetchPartitionRequest, maxBytes: Int, allowFollowerReads: Bool = false,
                        minOneBatch: Bool = true) -> FetchPartitionResult {
        let tp = req.topicPartition
        func fail(_ e: KafkaErrorCode) -> FetchPartitionResult {
            // KIP-951: fetch responses carry the hint for both redirect errors.
            FetchPartitionResult(topicPartition: tp, error: e,
                                 currentLeader: e == .notLeaderOrFollower || e == .fencedLeaderEpoch ? leaderHint(tp) : nil)
        }
        guard let p = metadata.partition(tp) else { return fail(.unknownTopicOrPartition) }
        if let e = Self.epochError(requested: req.currentLeaderEpoch, current: p.leaderEpoch) { return fail(e) }
        let isLeader = p.leader == broker
        let followerRead = !isLeader && allowFollowerReads && req.replicaId < 0 && p.replicas.contains(broker)
        guard metadata.isUp(broker), isLeader || followerRead, let log = partitions[tp]?.log(broker) else {
            return fail(.notLeaderOrFollower)
        }
        var result = FetchPartitionResult(topicPartition: tp, error: .noError, highWatermark: log.highWatermark,
                                          lastStableOffset: log.lastStableOffset, logStartOffset: log.logStartOffset)
        if isLeader, req.replicaId < 0, let preferred = metadata.preferredReadReplica(tp, clientRack: req.clientRack) {
            result.preferredReadReplica = preferred
            return result
        }
        if req.lastFetchedEpoch >= 0 {
            let end = log.endOffset(forEpoch: req.lastFetchedEpoch)
            if end.epoch != req.lastFetchedEpoch || end.endOffset < req.fetchOffset {
                result.divergingEpoch = end
                return result
            }
        }
        let limit: PartitionLog.ReadLimit = req.replicaId >= 0 ? .logEnd : .consumer(req.isolation)
        let budget = max(0, min(Int(req.partitionMaxBytes), maxBytes))
        switch log.read(from: req.fetchOffset, maxBytes: budget, limit: limit, minOneBatch: minOneBatch) {
        case .failure(let e):
            result.error = e
        case .success(let r):
            result.records = r.bytes
            result.abortedTransactions = r.abortedTransactions
        }
        return result
    }

    // MARK: ListOffsets

    static let earliestTimestamp: Int64 = -2
    static let latestTimestamp: Int64 = -1
    static let maxTimestamp: Int64 = -3
    static let earliestLocalTimestamp: Int64 = -4
    static let latestTieredTimestamp: Int64 = -5

    struct ListOffsetResult: Equatable, Sendable {
        var error: KafkaErrorCode
        var timestamp: Int64 = -1
        var offset: Int64 = -1
        var leaderEpoch: Int32 = -1
        var currentLeader: LeaderHint?
    }

    func listOffset(broker: Int32, _ tp: TopicPartition, timestamp: Int64, isolation: PartitionLog.Isolation = .readUncommitted,
                    currentLeaderEpoch: Int32 = -1) -> ListOffsetResult {
        if let e = leaderError(tp, broker: broker, currentLeaderEpoch: currentLeaderEpoch) {
            return ListOffsetResult(error: e, currentLeader: e == .notLeaderOrFollower ? leaderHint(tp) : nil)
        }
        let log = leaderLog(tp)!
        func at(_ offset: Int64, _ ts: Int64 = -1) -> ListOffsetResult {
            ListOffsetResult(error: .noError, timestamp: ts, offset: offset, leaderEpoch: epoch(of: offset, in: log))
        }
        switch timestamp {
        case Self.earliestTimestamp, Self.earliestLocalTimestamp:
            return at(log.logStartOffset)
        case Self.latestTimestamp:
            return at(isolation == .readCommitted ? log.lastStableOffset : log.highWatermark)
        case Self.latestTieredTimestamp:
            // Nothing is tiered in the fake.
            return ListOffsetResult(error: .noError, timestamp: -1, offset: -1, leaderEpoch: -1)
        case Self.maxTimestamp:
            guard let m = log.maxTimestamp() else { return ListOffsetResult(error: .noError) }
            return at(m.offset, m.timestamp)
        default:
            guard timestamp >= 0 else { return ListOffsetResult(error: .invalidRequest) }
            // Consumers only see offsets below the high watermark.
            guard let found = log.offset(forTimestamp: timestamp), found.offset < log.highWatermark else {
                return ListOffsetResult(error: .noError)
            }
            return at(found.offset, found.timestamp)
        }
    }

    /// The leader epoch in force at `offset` per the log's epoch cache.
    private func epoch(of offset: Int64, in log: PartitionLog) -> Int32 {
        log.epochCache.last { $0.startOffset <= offset }?.epoch ?? -1
    }

    // MARK: OffsetForLeaderEpoch and DeleteRecords

    struct EpochEndResult: Equatable, Sendable {
        var error: KafkaErrorCode
        var end: PartitionLog.EpochEndOffset
    }

    func offsetForLeaderEpoch(broker: Int32, _ tp: TopicPartition, currentLeaderEpoch: Int32, leaderEpoch: Int32) -> EpochEndResult {
        if let e = leaderError(tp, broker: broker, currentLeaderEpoch: currentLeaderEpoch) {
            return EpochEndResult(error: e, end: .undefined)
        }
        return EpochEndResult(error: .noError, end: leaderLog(tp)!.endOffset(forEpoch: leaderEpoch))
    }

    /// DeleteRecords on the leader: returns the new low watermark (log start offset).
    mutating func deleteRecords(broker: Int32, _ tp: TopicPartition, before offset: Int64) -> Result<Int64, KafkaErrorCode> {
        if let e = leaderError(tp, broker: broker, currentLeaderEpoch: -1) { return .failure(e) }
        let leader = metadata.partition(tp)!.leader
        return partitions[tp]!.deleteRecords(leader: leader, before: offset)
    }
}
