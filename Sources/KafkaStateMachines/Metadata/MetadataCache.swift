/// What the cluster last told us: brokers, the controller, and each partition's leader.
/// Knows when it was refreshed; the engine decides when to refresh (max age, stale-metadata
/// errors) and enforces the minimum age between refreshes.
package struct MetadataCache: Sendable {
    public struct PartitionInfo: Equatable, Sendable {
        public var leader: Int32
        public var leaderEpoch: Int32
        public var errorCode: KafkaErrorCode
    }

    public private(set) var brokers: [Int32: BrokerAddress] = [:]
    public private(set) var controllerId: Int32?
    public private(set) var partitions: [TopicPartition: PartitionInfo] = [:]
    /// Topics the cluster answered for, with their topic-level error.
    public private(set) var topicErrors: [String: KafkaErrorCode] = [:]
    /// Topic IDs (Metadata v10+): a new ID under a known name is a topic created again.
    public private(set) var topicIds: [String: KafkaUUID] = [:]
    /// Partition counts of the topics the cluster answered for without a topic error.
    public private(set) var partitionCounts: [String: Int32] = [:]
    /// KIP-881: the racks of each partition's replicas, kept only when brokers report racks
    /// (the group leader's rack-aware balancing reads it).
    public private(set) var partitionRacks: [TopicPartition: [String]] = [:]
    public private(set) var lastRefresh: Instant?
    /// Topics some request wanted; a refresh asks for these.
    public private(set) var interest: Set<String> = []
    /// A refresh asks for every topic (a pattern subscription needs to see new ones).
    public internal(set) var wantsAllTopics = false

    public init() {}

    /// Node ids in ascending order (the order `anyBroker` walks them in).
    public var brokerIds: [Int32] { brokers.keys.sorted() }

    public mutating func addInterest<S: Sequence>(_ topics: S) where S.Element == String {
        interest.formUnion(topics)
    }

    /// Whether every one of `topics` has an answer from the cluster (a leader or an error).
    public func knows<S: Sequence>(_ topics: S) -> Bool where S.Element == String {
        topics.allSatisfy { topicErrors[$0] != nil }
    }

    public func leader(of tp: TopicPartition) -> Int32? {
        guard let p = partitions[tp], p.leader >= 0, brokers[p.leader] != nil else { return nil }
        return p.leader
    }

    /// The request a refresh sends: the interesting topics, sorted; `autoCreate` lets the
    /// broker create those it does not have.
    func refreshRequest(autoCreate: Bool = false) -> MetadataRequest {
        var request = MetadataRequest()
        request.allowAutoTopicCreation = autoCreate
        if wantsAllTopics {
            request.topics = nil
            return request
        }
        request.topics = interest.sorted().map { name in
            var t = MetadataRequest.MetadataRequestTopic()
            t.name = name
            return t
        }
        return request
    }

    /// Replaces what we know with the response (topics not in the response are kept: a
    /// refresh for some topics says nothing about the others).
    public mutating func apply(_ response: MetadataResponse, now: Instant) {
        brokers = [:]
        var racks: [Int32: String] = [:]
        for b in response.brokers {
            brokers[b.nodeId] = BrokerAddress(host: b.host, port: Int(b.port))
            if let r = b.rack { racks[b.nodeId] = r }
        }
        controllerId = response.controllerId >= 0 ? response.controllerId : nil
        for topic in response.topics {
            guard let name = topic.name else { continue }
            topicErrors[name] = KafkaErrorCode(topic.errorCode)
            topicIds[name] = topic.topicId == .zero ? nil : topic.topicId
            partitionCounts[name] = topic.errorCode == 0 ? Int32(topic.partitions.count) : nil
            for key in partitions.keys where key.topic == name { partitions[key] = nil }
            if !partitionRacks.isEmpty { for key in partitionRacks.keys where key.topic == name { partitionRacks[key] = nil } }
            // An index outside 0..<count is a hostile or broken answer: code that walks a
            // topic's partitions by index would otherwise size itself by it (2^31-1 exhausted memory).
            let count = Int32(clamping: topic.partitions.count)
            for p in topic.partitions where p.partitionIndex >= 0 && p.partitionIndex < count {
                let tp = TopicPartition(name, p.partitionIndex)
                partitions[tp] = PartitionInfo(leader: p.leaderId, leaderEpoch: p.leaderEpoch, errorCode: KafkaErrorCode(p.errorCode))
                if !racks.isEmpty {
                    let r = Set(p.replicaNodes.compactMap { racks[$0] }).sorted()
                    if !r.isEmpty { partitionRacks[tp] = r }
                }
            }
        }
        lastRefresh = now
    }

    /// Error codes that mean our view of leaders or the controller is out of date.
    public static func isStale(_ code: KafkaErrorCode) -> Bool {
        switch code {
        case .notLeaderOrFollower, .unknownTopicOrPartition, .leaderNotAvailable, .fencedLeaderEpoch,
             .unknownLeaderEpoch, .notController, .kafkaStorageError, .replicaNotAvailable, .brokerNotAvailable:
            return true
        default:
            return false
        }
    }
}
