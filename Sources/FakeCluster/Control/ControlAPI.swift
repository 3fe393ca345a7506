/// The control API for tests: faults, leadership, brokers, coordinators, topics.
extension FakeCluster {
    /// The next `count` requests of `apiKey` (on `broker`, or any) are answered with `error`
    /// (at request level, or on every partition for Produce/Fetch/ListOffsets-style APIs).
    public mutating func pushError(_ apiKey: ApiKey, _ error: KafkaErrorCode, count: Int = 1, broker: Int32? = nil) {
        faults.armed.append(FaultTable.Fault(apiKey: apiKey, broker: broker, remaining: count, error: error.rawValue))
    }

    /// The next `count` Produce or Fetch requests touching `partition` get `error` for that
    /// partition only (a produce is then not appended; a fetch returns no records).
    public mutating func pushError(_ apiKey: ApiKey, _ error: KafkaErrorCode, partition: TopicPartition, count: Int = 1) {
        faults.partitionFaults.append(FaultTable.PartitionFault(apiKey: apiKey, topicPartition: partition, remaining: count,
                                                                error: error.rawValue))
    }

    /// Every Produce to `partition` holding a record whose value is one of `values` is
    /// refused as INVALID_RECORD, naming those records (KIP-467 RecordErrors, with
    /// `message`); nothing of it is appended. Until `clearArmedFaults`.
    public mutating func rejectRecords(_ partition: TopicPartition, values: [[UInt8]], message: String = "record refused by the broker") {
        rejections.rules.append(RecordRejections.Rule(partition: partition, values: values, message: message))
    }

    /// The next `count` responses to `apiKey` leave `milliseconds` of virtual time late.
    public mutating func delayResponses(_ apiKey: ApiKey, milliseconds: Int64, count: Int = 1, broker: Int32? = nil) {
        faults.armed.append(FaultTable.Fault(apiKey: apiKey, broker: broker, remaining: count, delayMs: milliseconds))
    }

    /// Sends every response a `delayResponses` fault is holding back now, whatever delay was
    /// left: a test can hold an answer for as long as it needs (a long delay) and let it go
    /// when it is ready, instead of racing a timer on a loaded machine.
    public mutating func releaseDelayedResponses(now: Instant) -> [FakeOutput] {
        for slot in parked.keys.sorted() {
            if case .delayed = parked[slot]!.work { parked[slot]!.deadline = now }
        }
        return tick(now: now)
    }

    /// The next `count` requests of `apiKey` close their connection, before the broker acts
    /// on them (`afterHandling` false) or after (the effect happens, the response is lost).
    public mutating func dropConnection(on apiKey: ApiKey, afterHandling: Bool, count: Int = 1, broker: Int32? = nil) {
        faults.armed.append(FaultTable.Fault(apiKey: apiKey, broker: broker, remaining: count,
                                             dropBefore: !afterHandling, dropAfter: afterHandling))
    }

    /// Disarms every error, delay, drop and throttle not yet consumed (a simulation's faults heal).
    public mutating func clearArmedFaults() {
        faults.armed = []
        faults.partitionFaults = []
        rejections.rules = []
        throttles.rules = []
        groupFaults.stalls = []
        groupFaults.errors = []
    }

    /// Creates a topic (as CreateTopics would). Returns the error code (0 on success).
    @discardableResult
    public mutating func createTopic(_ name: String, partitions: Int32, replicationFactor: Int16 = -1,
                                     assignments: [[Int32]]? = nil, configs: [String: String] = [:]) -> KafkaErrorCode {
        switch state.createTopic(name: name, partitions: partitions, replicationFactor: replicationFactor,
                                 assignments: assignments, configs: configs) {
        case .success: return .noError
        case .failure(let e): return KafkaErrorCode(e.rawValue)
        }
    }

    /// Adds `count` partitions to a topic (as CreatePartitions would); nothing when the
    /// topic does not exist.
    @discardableResult
    public mutating func addPartitions(_ topic: String, count: Int32, now: Instant) -> [FakeOutput] {
        guard let n = partitionCount(topic), count > 0 else { return [] }
        _ = state.createPartitions(topic: topic, totalCount: n + count)
        return settled(now)
    }

    /// How many partitions a topic has (nil: no such topic).
    public func partitionCount(_ topic: String) -> Int32? {
        state.metadata.topic(topic).map { Int32($0.partitions.count) }
    }

    /// The topics users created or configured, by name (internal topics left out).
    public var topicNames: [String] {
        state.metadata.topicNames.filter { state.metadata.topic($0)?.isInternal == false }
    }

    /// The name of the topic with this id, if it exists.
    public func topicName(id: KafkaUUID) -> String? {
        state.metadata.topic(id: id)?.name
    }

    /// The partition's leader, leader epoch, replicas and ISR, if it exists.
    public func partitionInfo(_ p: TopicPartition) -> (leader: Int32, epoch: Int32, replicas: [Int32], isr: [Int32])? {
        state.metadata.partition(p).map { ($0.leader, $0.leaderEpoch, $0.replicas, $0.isr) }
    }

    /// The leader's high watermark and log start offset.
    public func offsets(_ p: TopicPartition) -> (logStart: Int64, highWatermark: Int64, lastStable: Int64)? {
        state.leaderLog(p).map { ($0.logStartOffset, $0.highWatermark, $0.lastStableOffset) }
    }

    /// Moves leadership (to `replica`, or the next in-sync replica), bumping the epoch.
    @discardableResult
    public mutating func moveLeader(_ p: TopicPartition, to replica: Int32? = nil, now: Instant) -> [FakeOutput] {
        _ = state.moveLeader(p, to: replica)
        return settled(now)
    }

    /// Replaces the partition's replicas and ISR.
    @discardableResult
    public mutating func setReplicas(_ p: TopicPartition, replicas: [Int32], isr: [Int32], now: Instant) -> [FakeOutput] {
        _ = state.setReplicas(p, replicas: replicas, isr: isr)
        return settled(now)
    }

    /// A KIP-320 divergence: `replica` loses its log from `offset` and becomes leader.
    @discardableResult
    public mutating func truncateAndLead(_ p: TopicPartition, replica: Int32, truncateTo offset: Int64,
                                         now: Instant) -> [FakeOutput] {
        _ = state.truncateAndLead(p, replica: replica, truncateTo: offset)
        return settled(now)
    }

    /// Stops a broker: its connections reset, leaders and coordinators move; data is kept.
    public mutating func stopBroker(_ id: Int32, now: Instant) -> [FakeOutput] {
        var out: [FakeOutput] = []
        _ = state.stopBroker(id, now: now)
        resetConnections(of: id, "broker \(id) stopped", into: &out)
        settle(now: now, into: &out)
        return out
    }

    /// A rolling upgrade's (or downgrade's) step: the broker stops as `stopBroker` stops it
    /// and will run `release` when `restartBroker` brings it back: its ApiVersions answer
    /// and the versions it accepts are that release's from then on, so clients learn the
    /// new table only on new connections, as they would from a restarted Kafka broker. Its
    /// data, and the cluster's producer and transaction state, are kept.
    public mutating func upgradeBroker(_ id: Int32, to release: KafkaRelease, now: Instant) -> [FakeOutput] {
        brokerReleases[id] = release == config.release ? nil : release
        return stopBroker(id, now: now)
    }

    public mutating func restartBroker(_ id: Int32, now: Instant) -> [FakeOutput] {
        _ = state.restartBroker(id, now: now)
        return settled(now)
    }

    /// Cuts a broker off from clients (its connections reset, new ones refused) or heals it.
    /// Inside the cluster it stays up: it keeps leading and replicating.
    public mutating func setIsolated(_ id: Int32, _ cut: Bool, now: Instant) -> [FakeOutput] {
        var out: [FakeOutput] = []
        if cut {
            isolated.insert(id)
            resetConnections(of: id, "broker \(id) cut off from clients", into: &out)
        } else {
            isolated.remove(id)
        }
        settle(now: now, into: &out)
        return out
    }

    public enum CoordinatorKind: Sendable { case group, transaction }

    /// Moves a group or transaction coordinator to `broker`.
    public mutating func moveCoordinator(_ key: String, _ kind: CoordinatorKind, to broker: Int32, now: Instant) -> [FakeOutput] {
        state.moveCoordinator(key: key, type: kind == .group ? .group : .transaction, to: broker, now: now)
        return settled(now)
    }

    /// The broker coordinating a group or transactional id right now.
    public func coordinator(_ key: String, _ kind: CoordinatorKind) -> Int32? {
        state.coordinator(for: key, type: kind == .group ? .group : .transaction)
    }

    private mutating func settled(_ now: Instant) -> [FakeOutput] {
        var out: [FakeOutput] = []
        settle(now: now, into: &out)
        return out
    }

    private mutating func resetConnections(of broker: Int32, _ reason: String, into out: inout [FakeOutput]) {
        for id in connections.keys.sorted() where connections[id]!.broker == broker {
            disconnect(id)
            closeLog.append("\(id): \(reason)")
            out.append(.close(id, reason: reason))
        }
    }
}
