/// The whole fake cluster's state in one value: metadata, every partition's replica logs,
/// the transaction and group coordinators, and each broker's fetch sessions. The request
/// handlers (to come) decode a request, call in here with the receiving broker's id and
/// `now`, and encode the result. Control operations for tests live here too, so a
/// leadership change always updates metadata and logs together.
struct ClusterState: Sendable, Equatable {
    struct Config: Sendable, Equatable {
        /// Kafka's default max.message.bytes; a topic config of that name overrides it.
        var maxMessageBytes: Int = 1_048_588
        /// min.insync.replicas for acks=all; a topic config overrides it.
        var minInsyncReplicas: Int = 1
        var unknownProducerPolicy: ProducerStateTable.UnknownProducerPolicy = .outOfOrderSequence
        var maxFetchSessionsPerBroker: Int = 1000
        /// Partition counts of __consumer_offsets and __transaction_state, which place coordinators.
        var offsetsTopicPartitions: Int32 = 50
        var transactionTopicPartitions: Int32 = 50
        var group = GroupCoordinator.Config()
        var firstProducerId: Int64 = 1000
        /// 0.11-era brokers answered a duplicate idempotent batch with
        /// DUPLICATE_SEQUENCE_NUMBER; modern ones with NONE and the original offset.
        var duplicateSequenceIsError: Bool = false
        /// replica.lag.time.max.ms: an ISR follower behind the leader this long is dropped.
        var replicaLagTimeMs: Int64 = 30_000
        /// How long the coordinator's WriteTxnMarkers round trip takes: a transaction stays
        /// in PrepareCommit/PrepareAbort (CONCURRENT_TRANSACTIONS, LSO held) that long.
        /// 0 writes markers within the request that ended the transaction.
        var transactionMarkerDelayMs: Int64 = 0
        /// How long a broker that takes over a transactional id loads the transaction log:
        /// meanwhile it answers COORDINATOR_LOAD_IN_PROGRESS for the id. 0: no window.
        var transactionCoordinatorLoadMs: Int64 = 0
        /// How long a reassignment stays under way (0: completed at once).
        var reassignmentMs: Int64 = 0
        /// Every broker's log directories; replicas start in the first.
        var logDirs: [String] = ["/var/lib/kafka/data"]
    }

    var config: Config
    var metadata: ClusterMetadata
    /// Mutate through the methods here, which keep metadata and logs in step.
    var partitions: [TopicPartition: ReplicatedPartition] = [:]
    var transactions: TransactionCoordinator
    var groups: GroupCoordinator
    var fetchSessions: [Int32: FetchSessionCache] = [:]
    var rng: SeededGenerator
    /// Test control: coordinator placement pinned by key.
    var coordinatorOverrides: [CoordinatorKey: Int32] = [:]
    /// ISR followers behind their leader, and since when (drives ISR shrinking).
    var laggingSince: [TopicPartition: [Int32: Instant]] = [:]
    /// Transaction markers waiting for a partition leader.
    var pendingMarkers: [TransactionCoordinator.Completion] = []
    /// Ended transactions whose markers go out when virtual time reaches `due`, in the
    /// order they ended.
    var scheduledMarkers: [ScheduledMarkers] = []
    /// ACLs created through CreateAcls (enforced when FakeClusterConfig.authorization is on).
    var acls = AclStore()
    /// Dynamic broker configs from AlterConfigs / IncrementalAlterConfigs: per broker (keyed
    /// by its id) and the cluster-wide default (keyed ""). Described, not acted on.
    var dynamicBrokerConfigs: [String: [String: String]] = [:]
    /// Each broker's log4j logger levels (KIP-412), by broker id: in the broker's memory,
    /// so a stopped broker comes back with the stock levels.
    var brokerLoggers: [Int32: BrokerLoggers] = [:]
    /// Client quotas set through AlterClientQuotas; the byte rates are enforced as
    /// throttles (QuotaThrottling.swift) from what each broker measures in quotaMeters.
    var quotas = QuotaStore()
    var quotaMeters = QuotaMeters()
    /// SCRAM credentials from AlterUserScramCredentials, over the configured users.
    var scramUsers = ScramStore()
    /// Feature levels (KIP-584): supported ranges, finalized levels and their epoch.
    var features = FeatureLevels(supported: [:], finalized: [:])
    /// Delegation tokens (KIP-48) issued through CreateDelegationToken.
    var delegationTokens = DelegationTokenStore()
    /// Partition reassignments under way, completed on virtual time (ClusterState+Reassignments).
    var reassignments: [TopicPartition: Reassignment] = [:]
    /// Replicas moved out of the first log dir (AlterReplicaLogDirs), by partition and broker.
    var replicaLogDirs: [TopicPartition: [Int32: String]] = [:]

    struct ScheduledMarkers: Sendable, Equatable {
        var due: Instant
        var completion: TransactionCoordinator.Completion
    }

    init(brokers: [ClusterMetadata.Broker], seed: UInt64, config: Config = Config(), autoCreateTopics: Bool = true) {
        self.config = config
        metadata = ClusterMetadata(brokers: brokers, autoCreateTopics: autoCreateTopics)
        transactions = TransactionCoordinator(firstProducerId: config.firstProducerId)
        groups = GroupCoordinator(config: config.group)
        rng = SeededGenerator(seed: seed)
        for b in metadata.brokerIds { fetchSessions[b] = FetchSessionCache(maxSessions: config.maxFetchSessionsPerBroker) }
    }

    func replicated(_ tp: TopicPartition) -> ReplicatedPartition? { partitions[tp] }

    func log(_ tp: TopicPartition, replica: Int32) -> PartitionLog? { partitions[tp]?.log(replica) }

    /// The leader's log, if the partition has a live leader.
    func leaderLog(_ tp: TopicPartition) -> PartitionLog? {
        guard let p = metadata.partition(tp), p.leader >= 0 else { return nil }
        return partitions[tp]?.log(p.leader)
    }

    private var isLive: (Int32) -> Bool {
        let m = metadata
        return { m.isUp($0) }
    }

    // MARK: topics

    mutating func createTopic(name: String, partitions count: Int32 = -1, replicationFactor: Int16 = -1,
                              assignments: [[Int32]]? = nil, configs: [String: String] = [:]) -> Result<ClusterMetadata.Topic, KafkaErrorCode> {
        let result = metadata.createTopic(name: name, partitions: count, replicationFactor: replicationFactor,
                                          assignments: assignments, configs: configs, using: &rng)
        if case .success(let t) = result {
            for p in t.partitions { addReplicatedPartition(TopicPartition(topic: name, partition: p.index), p) }
            if !groups.consumerGroups.isEmpty { groups.consumerTopicsChanged(image: topicImage) }
        }
        return result
    }

    private mutating func addReplicatedPartition(_ tp: TopicPartition, _ p: ClusterMetadata.Partition) {
        var r = ReplicatedPartition(replicas: p.replicas, unknownProducerPolicy: config.unknownProducerPolicy)
        if p.leader >= 0 { r.becomeLeader(p.leader, epoch: p.leaderEpoch) }
        partitions[tp] = r
    }

    mutating func deleteTopic(_ name: String) -> KafkaErrorCode {
        let e = metadata.deleteTopic(name)
        guard e == .noError else { return e }
        for tp in partitions.keys.sorted() where tp.topic == name { partitions[tp] = nil }
        groups.removeOffsets(forTopic: name)
        if !groups.consumerGroups.isEmpty { groups.consumerTopicsChanged(image: topicImage) }
        for b in fetchSessions.keys.sorted() { fetchSessions[b]!.removePartitions(ofTopic: name) }
        return .noError
    }

    mutating func createPartitions(topic: String, totalCount: Int32, assignments: [[Int32]]? = nil) -> KafkaErrorCode {
        switch metadata.addPartitions(topic: topic, totalCount: totalCount, assignments: assignments, using: &rng) {
        case .failure(let e): return e
        case .success(let added):
            for p in added { addReplicatedPartition(TopicPartition(topic: topic, partition: p.index), p) }
            if !groups.consumerGroups.isEmpty { groups.consumerTopicsChanged(image: topicImage) }
            return .noError
        }
    }

    /// The topics as the group coordinator's KIP-848 assignors see them.
    var topicImage: TopicImage {
        TopicImage(metadata.topicNames.compactMap { name in
            metadata.topic(name).map { .init(name: name, id: $0.id, partitions: Int32($0.partitions.count), isInternal: $0.isInternal) }
        })
    }

    /// A topic's effective integer config (topic override, else the cluster default).
    func topicConfig(_ topic: String, _ key: String, default value: Int) -> Int {
        metadata.topic(topic)?.configs[key].flatMap { Int($0) } ?? value
    }

    // MARK: leadership control

    private mutating func apply(_ changes: [ClusterMetadata.LeaderChange]) {
        for c in changes where c.newLeader >= 0 {
            partitions[c.topicPartition]?.becomeLeader(c.newLeader, epoch: c.epoch)
            replicate(c.topicPartition)
        }
    }

    /// Copies the leader's data to live followers, recomputes the high watermark, and puts
    /// caught-up followers back into the ISR.
    private mutating func replicate(_ tp: TopicPartition) {
        guard let p = metadata.partition(tp), p.leader >= 0 else { return }
        let live = isLive
        let caught = partitions[tp]?.replicate(leader: p.leader, isr: p.isr, isLive: live) ?? []
        for r in caught { laggingSince[tp]?[r] = nil }
        if laggingSince[tp]?.isEmpty == true { laggingSince[tp] = nil }
        var grew = false
        for r in caught where !p.isr.contains(r) {
            metadata.addToISR(tp, r)
            grew = true
        }
        if grew, let q = metadata.partition(tp) {
            let live2 = isLive
            partitions[tp]?.replicate(leader: q.leader, isr: q.isr, isLive: live2)
        }
    }

    mutating func moveLeader(_ tp: TopicPartition, to replica: Int32? = nil) -> Result<ClusterMetadata.LeaderChange, KafkaErrorCode> {
        let r = metadata.moveLeader(tp, to: replica)
        if case .success(let c) = r { apply([c]) }
        return r
    }

    mutating func setReplicas(_ tp: TopicPartition, replicas: [Int32], isr: [Int32]) -> KafkaErrorCode {
        switch metadata.setReplicas(tp, replicas: replicas, isr: isr) {
        case .failure(let e): return e
        case .success(let change):
            partitions[tp]?.setReplicas(replicas)
            if let change { apply([change]) } else { replicate(tp) }
            return .noError
        }
    }

    /// Stops a broker: its partitions elect new leaders, its fetch sessions die, and
    /// coordinators it hosted move (groups reload from their persisted state).
    mutating func stopBroker(_ id: Int32, now: Instant) -> KafkaErrorCode {
        let placement = coordinatorPlacement
        switch metadata.stopBroker(id) {
        case .failure(let e): return e
        case .success(let changes):
            apply(changes)
            fetchSessions[id] = FetchSessionCache(maxSessions: config.maxFetchSessionsPerBroker)
            brokerLoggers[id] = nil
            quotaMeters.forget(broker: id)
            for tp in metadata.allPartitions { replicate(tp) }
            coordinatorsChanged(from: placement, now: now)
            return .noError
        }
    }

    mutating func restartBroker(_ id: Int32, now: Instant) -> KafkaErrorCode {
        let placement = coordinatorPlacement
        switch metadata.restartBroker(id) {
        case .failure(let e): return e
        case .success(let changes):
            apply(changes)
            for tp in metadata.allPartitions { replicate(tp) }
            coordinatorsChanged(from: placement, now: now)
            retryPendingMarkers(now: now)
            return .noError
        }
    }

    /// Stops (or resumes) one follower's replication, so it lags (KIP-320 setups, acks=all waits).
    mutating func setReplicationPaused(_ tp: TopicPartition, replica: Int32, _ paused: Bool) {
        if paused { partitions[tp]?.pausedFollowers.insert(replica) } else { partitions[tp]?.pausedFollowers.remove(replica) }
        replicate(tp)
    }

    /// Cuts one replica's log back to `offset`.
    mutating func truncateReplica(_ tp: TopicPartition, replica: Int32, to offset: Int64) {
        partitions[tp]?.truncateReplica(replica, to: offset)
    }

    /// A real KIP-320 divergence: `replica` loses everything from `offset` on and becomes
    /// leader with a bumped epoch (joining the ISR if it was out). The old leader's extra
    /// records are truncated when it next replicates as a follower.
    mutating func truncateAndLead(_ tp: TopicPartition, replica: Int32, truncateTo offset: Int64) -> Result<ClusterMetadata.LeaderChange, KafkaErrorCode> {
        guard let p = metadata.partition(tp) else { return .failure(.unknownTopicOrPartition) }
        guard p.replicas.contains(replica), metadata.isUp(replica) else { return .failure(.notLeaderOrFollower) }
        truncateReplica(tp, replica: replica, to: offset)
        if !p.isr.contains(replica) { _ = metadata.setISR(tp, p.isr + [replica]) }
        let r = metadata.moveLeader(tp, to: replica)
        if case .success(let c) = r {
            partitions[tp]?.becomeLeader(c.newLeader, epoch: c.epoch)
            // The new leader's log is the truth now, even below the old high watermark.
            replicate(tp)
        }
        return r
    }

    // MARK: ISR shrinking

    /// After an append at `now`: remember ISR followers that did not keep up.
    mutating func noteLag(_ tp: TopicPartition, now: Instant) {
        guard let p = metadata.partition(tp), p.leader >= 0, let leaderEnd = log(tp, replica: p.leader)?.logEndOffset else { return }
        for r in p.isr where r != p.leader {
            if (log(tp, replica: r)?.logEndOffset ?? -1) < leaderEnd {
                if laggingSince[tp]?[r] == nil { laggingSince[tp, default: [:]][r] = now }
            } else {
                laggingSince[tp]?[r] = nil
            }
        }
    }

    /// Drops followers lagging longer than replica.lag.time.max.ms from the ISR, which lets
    /// the high watermark (and waiting acks=all produces) move on.
    mutating func shrinkLaggingISRs(now: Instant) {
        for tp in laggingSince.keys.sorted() {
            for (r, since) in laggingSince[tp]!.sorted(by: { $0.key < $1.key })
            where since.adding(milliseconds: config.replicaLagTimeMs) <= now {
                laggingSince[tp]![r] = nil
                guard let p = metadata.partition(tp), p.isr.contains(r), r != p.leader, p.isr.count > 1 else { continue }
                _ = metadata.setISR(tp, p.isr.filter { $0 != r })
                replicate(tp)
            }
            if laggingSince[tp]?.isEmpty == true { laggingSince[tp] = nil }
        }
    }

    var nextLagDeadline: Instant? {
        var d: Instant?
        for tp in laggingSince.keys.sorted() {
            for since in laggingSince[tp]!.values { d = earliest(d, since.adding(milliseconds: config.replicaLagTimeMs)) }
        }
        return d
    }
}
