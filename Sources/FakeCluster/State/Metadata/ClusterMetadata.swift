/// The cluster's metadata as a controller holds it: brokers, topics, partitions with their
/// replicas, ISR, leader and leader epoch. Logs live elsewhere (PartitionLog, one per
/// replica); operations here report which partitions changed leader so the caller can tell
/// the new leader's log to start its epoch.
///
/// Stored in dictionaries for lookup; everything that iterates goes through sorted keys.
struct ClusterMetadata: Sendable, Equatable {
    struct Broker: Equatable, Sendable {
        var nodeId: Int32
        var host: String
        var port: Int32
        var rack: String?
        var isUp: Bool = true
    }

    struct Partition: Equatable, Sendable {
        var index: Int32
        /// Preferred order: the first live ISR member in this order is elected leader.
        var replicas: [Int32]
        var isr: [Int32]
        /// -1 when offline (no live ISR member).
        var leader: Int32
        var leaderEpoch: Int32
        /// Bumped on every change (leader, replicas or ISR), as KRaft's partition epoch.
        var partitionEpoch: Int32 = 0
        var offlineReplicas: [Int32] = []
    }

    struct Topic: Equatable, Sendable {
        var name: String
        var id: KafkaUUID
        var partitions: [Partition]
        var configs: [String: String] = [:]
        var isInternal: Bool = false
    }

    /// A leadership change the log layer must apply: `newLeader` (-1 when offline) starts `epoch`.
    struct LeaderChange: Equatable, Sendable {
        var topicPartition: TopicPartition
        var newLeader: Int32
        var epoch: Int32
    }

    private(set) var brokers: [Int32: Broker] = [:]
    private(set) var topics: [String: Topic] = [:]
    var controllerId: Int32
    var clusterId: String
    var autoCreateTopics: Bool
    var defaultPartitions: Int32
    var defaultReplicationFactor: Int16

    init(brokers: [Broker], clusterId: String = "fake-cluster", autoCreateTopics: Bool = true,
         defaultPartitions: Int32 = 1, defaultReplicationFactor: Int16? = nil) {
        precondition(!brokers.isEmpty, "a cluster needs at least one broker")
        for b in brokers { self.brokers[b.nodeId] = b }
        precondition(self.brokers.count == brokers.count, "broker node ids must be unique")
        controllerId = brokers.map(\.nodeId).min()!
        self.clusterId = clusterId
        self.autoCreateTopics = autoCreateTopics
        self.defaultPartitions = defaultPartitions
        self.defaultReplicationFactor = defaultReplicationFactor ?? Int16(min(3, brokers.count))
    }

    // MARK: queries

    var brokerIds: [Int32] { brokers.keys.sorted() }
    var liveBrokerIds: [Int32] { brokerIds.filter { brokers[$0]!.isUp } }
    var topicNames: [String] { topics.keys.sorted() }

    func broker(_ id: Int32) -> Broker? { brokers[id] }
    func topic(_ name: String) -> Topic? { topics[name] }
    func topic(id: KafkaUUID) -> Topic? {
        topicNames.lazy.compactMap { self.topics[$0] }.first { $0.id == id }
    }
    func partition(_ tp: TopicPartition) -> Partition? {
        guard let t = topics[tp.topic], tp.partition >= 0, Int(tp.partition) < t.partitions.count else { return nil }
        return t.partitions[Int(tp.partition)]
    }
    func isUp(_ id: Int32) -> Bool { brokers[id]?.isUp ?? false }

    /// Every partition, ordered by topic name then index.
    var allPartitions: [TopicPartition] {
        topicNames.flatMap { name in topics[name]!.partitions.map { TopicPartition(topic: name, partition: $0.index) } }
    }

    /// Partitions whose leader is `broker`, ordered.
    func partitionsLed(by broker: Int32) -> [TopicPartition] {
        allPartitions.filter { partition($0)?.leader == broker }
    }

    // MARK: topics

    /// Kafka's topic-name rule: 1...249 characters of [a-zA-Z0-9._-], not "." or "..".
    static func isValidTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 249, name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    /// Creates a topic. Replicas are placed round robin over the brokers (all of them, up or
    /// down, as Kafka does for registered brokers) from a start drawn from `rng`; the first
    /// live replica leads at epoch 0. `assignments` overrides placement (one replica list per partition).
    mutating func createTopic<G: RandomNumberGenerator>(
        name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1,
        assignments: [[Int32]]? = nil, configs: [String: String] = [:], using rng: inout G
    ) -> Result<Topic, KafkaErrorCode> {
        guard Self.isValidTopicName(name) else { return .failure(.invalidTopicException) }
        guard topics[name] == nil else { return .failure(.topicAlreadyExists) }
        let replicaLists: [[Int32]]
        if let assignments {
            guard !assignments.isEmpty else { return .failure(.invalidPartitions) }
            for a in assignments {
                guard !a.isEmpty, Set(a).count == a.count, a.allSatisfy({ brokers[$0] != nil }) else {
                    return .failure(.invalidReplicationFactor)
                }
            }
            replicaLists = assignments
        } else {
            let count = partitions == -1 ? defaultPartitions : partitions
            let rf = Int(replicationFactor == -1 ? defaultReplicationFactor : replicationFactor)
            guard count > 0 else { return .failure(.invalidPartitions) }
            guard rf > 0, rf <= brokers.count else { return .failure(.invalidReplicationFactor) }
            let start = Int(rng.next(upperBound: UInt64(brokers.count)))
            replicaLists = placeReplicas(count: Int(count), replicationFactor: rf, firstIndex: 0, start: start)
        }
        let id = Self.newTopicId(using: &rng)
        var topic = Topic(name: name, id: id, partitions: [], configs: configs)
        for (i, replicas) in replicaLists.enumerated() {
            topic.partitions.append(newPartition(index: Int32(i), replicas: replicas))
        }
        topics[name] = topic
        return .success(topic)
    }

    /// A random topic id that is never zero (zero means "no id" on the wire).
    static func newTopicId<G: RandomNumberGenerator>(using rng: inout G) -> KafkaUUID {
        while true {
            let id = KafkaUUID(high: rng.next(), low: rng.next())
            if id != .zero { return id }
        }
    }

    private func placeReplicas(count: Int, replicationFactor rf: Int, firstIndex: Int, start: Int) -> [[Int32]] {
        let ids = brokerIds
        return (0 ..< count).map { p in
            (0 ..< rf).map { r in ids[(start + firstIndex + p + r) % ids.count] }
        }
    }

    private func newPartition(index: Int32, replicas: [Int32]) -> Partition {
        let live = replicas.filter { isUp($0) }
        return Partition(index: index, replicas: replicas, isr: live.isEmpty ? replicas : live,
                         leader: live.first ?? -1, leaderEpoch: 0,
                         offlineReplicas: replicas.filter { !isUp($0) })
    }

    @discardableResult
    mutating func deleteTopic(_ name: String) -> KafkaErrorCode {
        guard topics.removeValue(forKey: name) != nil else { return .unknownTopicOrPartition }
        return .noError
    }

    /// CreatePartitions: grows a topic to `totalCount` partitions (never shrinks).
    mutating func addPartitions<G: RandomNumberGenerator>(
        topic name: String, totalCount: Int32, assignments: [[Int32]]? = nil, using rng: inout G
    ) -> Result<[Partition], KafkaErrorCode> {
        guard var topic = topics[name] else { return .failure(.unknownTopicOrPartition) }
        let current = topic.partitions.count
        guard Int(totalCount) > current else { return .failure(.invalidPartitions) }
        let adding = Int(totalCount) - current
        let lists: [[Int32]]
        if let assignments {
            guard assignments.count == adding,
                  assignments.allSatisfy({ !$0.isEmpty && Set($0).count == $0.count && $0.allSatisfy { brokers[$0] != nil } })
            else { return .failure(.invalidRequest) }
            lists = assignments
        } else {
            let rf = topic.partitions.first?.replicas.count ?? Int(defaultReplicationFactor)
            let start = Int(rng.next(upperBound: UInt64(brokers.count)))
            lists = placeReplicas(count: adding, replicationFactor: rf, firstIndex: current, start: start)
        }
        let added = lists.enumerated().map { newPartition(index: Int32(current + $0.offset), replicas: $0.element) }
        topic.partitions += added
        topics[name] = topic
        return .success(added)
    }

    mutating func setConfigs(topic name: String, _ configs: [String: String]) -> KafkaErrorCode {
        guard topics[name] != nil else { return .unknownTopicOrPartition }
        topics[name]!.configs = configs
        return .noError
    }

    // MARK: leadership

    private mutating func update(_ tp: TopicPartition, _ body: (inout Partition) -> Void) {
        var p = topics[tp.topic]!.partitions[Int(tp.partition)]
        body(&p)
        topics[tp.topic]!.partitions[Int(tp.partition)] = p
    }

    /// Moves leadership to `newLeader` (or, when nil, to the next live ISR member after
    /// the current leader), bumping the leader epoch. The target must be a live ISR member.
    mutating func moveLeader(_ tp: TopicPartition, to newLeader: Int32? = nil) -> Result<LeaderChange, KafkaErrorCode> {
        guard let p = partition(tp) else { return .failure(.unknownTopicOrPartition) }
        let target: Int32
        if let newLeader {
            guard p.isr.contains(newLeader), isUp(newLeader) else { return .failure(.notLeaderOrFollower) }
            target = newLeader
        } else {
            let candidates = p.replicas.filter { p.isr.contains($0) && isUp($0) && $0 != p.leader }
            guard let first = candidates.first else { return .failure(.leaderNotAvailable) }
            target = first
        }
        return .success(setLeader(tp, target))
    }

    private mutating func setLeader(_ tp: TopicPartition, _ leader: Int32) -> LeaderChange {
        var epoch: Int32 = 0
        update(tp) { p in
            p.leader = leader
            p.leaderEpoch += 1
            p.partitionEpoch += 1
            epoch = p.leaderEpoch
        }
        return LeaderChange(topicPartition: tp, newLeader: leader, epoch: epoch)
    }

    /// Replaces the replica set and ISR. The ISR must be a subset of the replicas. If the
    /// current leader leaves the ISR (or is down), the first live ISR member in replica
    /// order takes over with a bumped epoch; if none is live the partition goes offline.
    mutating func setReplicas(_ tp: TopicPartition, replicas: [Int32], isr: [Int32]) -> Result<LeaderChange?, KafkaErrorCode> {
        guard partition(tp) != nil else { return .failure(.unknownTopicOrPartition) }
        guard !replicas.isEmpty, Set(replicas).count == replicas.count, replicas.allSatisfy({ brokers[$0] != nil }),
              !isr.isEmpty, isr.allSatisfy({ replicas.contains($0) }) else { return .failure(.invalidRequest) }
        let offline = replicas.filter { !isUp($0) }
        update(tp) { p in
            p.replicas = replicas
            p.isr = replicas.filter { isr.contains($0) }
            p.offlineReplicas = offline
            p.partitionEpoch += 1
        }
        return .success(electIfNeeded(tp))
    }

    /// Shrinks or grows the ISR alone (e.g. a test marking a follower as lagging).
    mutating func setISR(_ tp: TopicPartition, _ isr: [Int32]) -> Result<LeaderChange?, KafkaErrorCode> {
        guard let p = partition(tp) else { return .failure(.unknownTopicOrPartition) }
        return setReplicas(tp, replicas: p.replicas, isr: isr)
    }

    private mutating func electIfNeeded(_ tp: TopicPartition) -> LeaderChange? {
        let p = partition(tp)!
        if p.leader >= 0, p.isr.contains(p.leader), isUp(p.leader) { return nil }
        if let next = p.replicas.first(where: { p.isr.contains($0) && isUp($0) }) {
            return setLeader(tp, next)
        }
        guard p.leader != -1 else { return nil }
        var epoch: Int32 = 0
        update(tp) { q in
            q.leader = -1
            q.leaderEpoch += 1
            q.partitionEpoch += 1
            epoch = q.leaderEpoch
        }
        return LeaderChange(topicPartition: tp, newLeader: -1, epoch: epoch)
    }

    /// Marks a broker down: it leaves every ISR (unless it is the last member, which KRaft
    /// keeps so the partition can come back with it), and its partitions elect new leaders.
    mutating func stopBroker(_ id: Int32) -> Result<[LeaderChange], KafkaErrorCode> {
        guard brokers[id] != nil else { return .failure(.invalidRequest) }
        brokers[id]!.isUp = false
        var changes: [LeaderChange] = []
        for tp in allPartitions {
            let p = partition(tp)!
            guard p.replicas.contains(id) else { continue }
            let offline = p.replicas.filter { !isUp($0) }
            update(tp) { q in
                if q.isr.count > 1 { q.isr.removeAll { $0 == id } }
                q.offlineReplicas = offline
                q.partitionEpoch += 1
            }
            if let c = electIfNeeded(tp) { changes.append(c) }
        }
        if controllerId == id, let next = liveBrokerIds.first { controllerId = next }
        return .success(changes)
    }

    /// Brings a broker back. It rejoins the ISR of its partitions (the fake's followers
    /// catch up at once; the replication layer copies the data), and offline partitions
    /// whose ISR names it elect it.
    mutating func restartBroker(_ id: Int32) -> Result<[LeaderChange], KafkaErrorCode> {
        guard brokers[id] != nil else { return .failure(.invalidRequest) }
        brokers[id]!.isUp = true
        var changes: [LeaderChange] = []
        for tp in allPartitions {
            let p = partition(tp)!
            guard p.replicas.contains(id) else { continue }
            let offline = p.replicas.filter { !isUp($0) }
            update(tp) { q in
                q.offlineReplicas = offline
                q.partitionEpoch += 1
            }
            if let c = electIfNeeded(tp) { changes.append(c) }
        }
        return .success(changes)
    }

    /// Adds a replica back to the ISR once the replication layer has caught it up.
    mutating func addToISR(_ tp: TopicPartition, _ replica: Int32) {
        guard let p = partition(tp), p.replicas.contains(replica), !p.isr.contains(replica) else { return }
        update(tp) { q in
            q.isr = q.replicas.filter { q.isr.contains($0) || $0 == replica }
            q.partitionEpoch += 1
        }
    }

    // MARK: KIP-392 preferred read replica

    /// A live in-sync replica in the consumer's rack (lowest id), or nil to read from the leader.
    func preferredReadReplica(_ tp: TopicPartition, clientRack: String?) -> Int32? {
        guard let rack = clientRack, !rack.isEmpty, let p = partition(tp), p.leader >= 0 else { return nil }
        if brokers[p.leader]?.rack == rack { return nil }
        return p.isr.sorted().first { isUp($0) && brokers[$0]?.rack == rack }
    }
}
