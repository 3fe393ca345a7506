import KafkaProtocol

/// One member's subscription as the group leader sees it: the member's JoinGroup metadata
/// (Kafka's ConsumerProtocolSubscription, versions 0-3) decoded.
public struct GroupSubscription: Sendable, Equatable {
    public var memberId: String
    /// KIP-345 static membership: the member's group.instance.id.
    public var instanceId: String?
    /// Subscribed topics, sorted, without duplicates.
    public var topics: [String]
    /// The balancer's own bytes (the sticky balancer's previous assignment, for example).
    public var userData: [UInt8]?
    /// What the member owns now (ConsumerProtocol v1+; empty before).
    public var ownedPartitions: [TopicPartition]
    /// The generation in which it owned them (v2+, or the sticky user data); -1 unknown.
    public var generation: Int32
    /// KIP-881: the member's rack (v3+).
    public var rack: String?

    public init(memberId: String, instanceId: String? = nil, topics: [String], userData: [UInt8]? = nil,
                ownedPartitions: [TopicPartition] = [], generation: Int32 = -1, rack: String? = nil) {
        self.memberId = memberId
        self.instanceId = instanceId
        self.topics = topics
        self.userData = userData
        self.ownedPartitions = ownedPartitions
        self.generation = generation
        self.rack = rack
    }
}

/// What the leader's balancer works from.
public struct BalanceInput: Sendable, Equatable {
    /// Every member, in the order the coordinator listed them (balancers must not depend
    /// on this order for their result).
    public var members: [GroupSubscription]
    /// Partition counts of the subscribed topics that exist.
    public var partitionCounts: [String: Int32]
    /// KIP-881: the racks of each partition's replicas; empty when unknown.
    public var partitionRacks: [TopicPartition: [String]]

    public init(members: [GroupSubscription], partitionCounts: [String: Int32], partitionRacks: [TopicPartition: [String]] = [:]) {
        self.members = members
        self.partitionCounts = partitionCounts
        self.partitionRacks = partitionRacks
    }
}

/// An assignment plan: member id to the partitions it should own.
public typealias BalancePlan = [String: [TopicPartition]]

/// A group balancer (Kafka's "partition assignor"): the leader of a classic consumer group
/// runs the first protocol every member supports. Built in: range, roundrobin, sticky,
/// cooperative-sticky; users may add their own.
public protocol GroupBalancer: Sendable {
    /// The protocol name sent in JoinGroup ("range", "cooperative-sticky", ...).
    var protocolName: String { get }
    /// KIP-429: true when members keep their partitions across a rebalance and revoke only
    /// those that move (the cooperative protocol); false for eager.
    var isCooperative: Bool { get }
    /// The user data this member sends in its subscription, given what it owns now and
    /// the generation it owned it in.
    func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]?
    /// The plan. Every member of `input` should appear in it (with an empty list when it
    /// gets nothing); a partition must go to at most one member, and only to a member
    /// subscribed to its topic. The caller checks the plan and refuses an invalid one.
    func assign(_ input: BalanceInput) throws -> BalancePlan
}
