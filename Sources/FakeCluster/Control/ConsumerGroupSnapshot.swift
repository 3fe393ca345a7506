/// A KIP-848 consumer group as the coordinator holds it right now, for assertions: the
/// group and assignment epochs, and per member its epoch, what it may use, what it must
/// still revoke and its target.
public struct FakeConsumerGroupSnapshot: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var instanceId: String?
        public var memberEpoch: Int32
        public var previousMemberEpoch: Int32
        /// Kafka's member states: Stable, UnrevokedPartitions, UnreleasedPartitions.
        public var state: String
        public var subscribedTopicNames: [String]
        public var subscribedTopicRegex: String?
        /// Sorted by topic name, then partition.
        public var assigned: [TopicPartition]
        public var pendingRevocation: [TopicPartition]
        public var target: [TopicPartition]
        /// A classic member (JoinGroup / SyncGroup) of the consumer group (KIP-848 online migration).
        public var usesClassicProtocol: Bool = false
    }

    public var groupId: String
    /// Empty, Assigning, Reconciling or Stable.
    public var state: String
    public var groupEpoch: Int32
    public var assignmentEpoch: Int32
    public var assignor: String
    /// In join order.
    public var members: [Member]
    public var offsets: [FakeGroupSnapshot.Offset]
}

extension FakeCluster {
    /// nil when the coordinator holds no consumer group of that id (a classic group
    /// describes through `describeGroup`).
    public func describeConsumerGroup(_ groupId: String) -> FakeConsumerGroupSnapshot? {
        guard let g = state.groups.consumerGroups[groupId] else { return nil }
        let image = state.topicImage
        func named(_ tps: Set<TopicIdPartition>) -> [TopicPartition] {
            tps.compactMap { tp in image.topic(id: tp.topicId).map { TopicPartition(topic: $0.name, partition: tp.partition) } }.sorted()
        }
        return FakeConsumerGroupSnapshot(
            groupId: groupId, state: g.state.rawValue, groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch,
            assignor: g.assignorName,
            members: g.orderedMembers.map {
                .init(memberId: $0.memberId, instanceId: $0.instanceId, memberEpoch: $0.memberEpoch,
                      previousMemberEpoch: $0.previousMemberEpoch, state: g.memberState($0).rawValue,
                      subscribedTopicNames: $0.subscribedTopicNames, subscribedTopicRegex: $0.subscribedTopicRegex,
                      assigned: named($0.assigned), pendingRevocation: named($0.pendingRevocation),
                      target: named(g.targetAssignment[$0.memberId] ?? []), usesClassicProtocol: $0.classic != nil)
            },
            offsets: g.offsets.keys.sorted().map { tp in
                let c = g.offsets[tp]!
                return .init(topicPartition: tp, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata)
            })
    }
}
