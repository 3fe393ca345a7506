import KafkaProtocol

/// KIP-848's online migration between group types (Kafka 4.0): a classic group with members
/// becomes a consumer group when a ConsumerGroupHeartbeat joins it (upgrade), and a consumer
/// group whose last consumer-protocol member leaves becomes a classic group again (downgrade),
/// as `Config.migrationPolicy` allows. Empty groups convert in GroupCoordinator+Consumer and
/// joinGroup whatever the policy says.
extension GroupCoordinator {
    /// Kafka's validateOnlineUpgrade: the policy allows it, every member speaks the "consumer"
    /// protocol type with a subscription that parses, and the group fits the size limit.
    /// (A group that cannot be upgraded answers the joiner GROUP_ID_NOT_FOUND.)
    func canUpgrade(_ c: ClassicGroup) -> Bool {
        guard config.migrationPolicy.upgradeEnabled, !c.isEmpty, c.members.count < config.maxGroupSize else { return false }
        return c.orderedMembers.allSatisfy { m in
            m.protocolType == "consumer" && ConsumerProtocolBytes.subscription(m.metadata(for: protocolName(c, m))) != nil
        }
    }

    /// The protocol whose metadata stands for a classic member: the group's, or before one
    /// was selected the member's first choice.
    private func protocolName(_ c: ClassicGroup, _ m: ClassicGroup.Member) -> String? {
        c.protocolName ?? m.protocols.first?.name
    }

    /// The classic group becomes a consumer group at group epoch = its generation. Each member
    /// becomes a classic member at that epoch (Stable) holding its current assignment, which is
    /// also its target until the next epoch bump; parked JoinGroup and SyncGroup requests are
    /// answered REBALANCE_IN_PROGRESS so those members rejoin into the consumer group. Outside
    /// Stable a member may still own partitions the coordinator's record no longer shows
    /// (cooperative members keep theirs through a rebalance), so there the partitions its
    /// subscription says it owns count too, each partition for its first holder in join order.
    mutating func upgradeToConsumerGroup(_ groupId: String, image: TopicImage, now: Instant) {
        guard let c = groups[groupId] else { return }
        answerParked(c, error: .rebalanceInProgress)
        var g = ConsumerGroup(groupId: groupId)
        g.offsets = c.offsets
        g.pendingTransactionalOffsets = c.pendingTransactionalOffsets
        g.stateSince = now
        g.groupEpoch = c.generationId
        g.assignmentEpoch = c.generationId
        var taken = Set<TopicIdPartition>()
        for m in c.orderedMembers {
            guard let sub = ConsumerProtocolBytes.subscription(m.metadata(for: protocolName(c, m))) else { continue }
            let recorded = ConsumerProtocolBytes.assignment(m.assignment) ?? []
            let owned = c.state == .stable ? [] : ConsumerProtocolBytes.owned(sub)
            var assigned = Set<TopicIdPartition>()
            for tp in recorded + owned {
                guard let id = image.partitionId(tp), taken.insert(id).inserted else { continue }
                assigned.insert(id)
            }
            var cm = ConsumerGroup.Member(memberId: m.memberId, instanceId: m.groupInstanceId,
                                          rackId: sub.rackId?.isEmpty == false ? sub.rackId : nil, clientId: m.clientId,
                                          clientHost: m.clientHost, rebalanceTimeoutMs: m.rebalanceTimeoutMs, lastHeartbeat: now)
            cm.subscribedTopicNames = sub.topics
            cm.memberEpoch = c.generationId
            cm.previousMemberEpoch = c.generationId
            cm.assigned = assigned
            cm.classic = .init(sessionTimeoutMs: m.sessionTimeoutMs, protocols: m.protocols)
            g.add(cm, now: now)
            g.targetAssignment[m.memberId] = assigned
        }
        g.subscriptionMetadata = g.subscriptionMetadata(image: image)
        g.assignorName = g.preferredAssignor
        groups[groupId] = nil
        consumerGroups[groupId] = g
    }

    /// Kafka's validateOnlineDowngrade: `leaving` is a consumer-protocol member leaving (or
    /// fenced), every other member is a classic member, and the policy allows it.
    func canDowngrade(_ g: ConsumerGroup, leaving: String) -> Bool {
        guard config.migrationPolicy.downgradeEnabled, let m = g.member(leaving), m.classic == nil else { return false }
        return g.onlyClassicMembers(except: leaving)
    }

    /// The consumer group, without `leaving`, becomes a classic group at generation = the
    /// group epoch (what its classic members hold, so their heartbeats pass), each member
    /// recorded with its current assignment, then rebalances: the members are told
    /// REBALANCE_IN_PROGRESS and rejoin, and the leader they elect assigns the leaver's
    /// partitions with the client-side assignor.
    mutating func downgradeToClassicGroup(_ g: ConsumerGroup, leaving: String, image: TopicImage, now: Instant) {
        var c = ClassicGroup(groupId: g.groupId)
        c.offsets = g.offsets
        c.pendingTransactionalOffsets = g.pendingTransactionalOffsets
        c.generationId = g.groupEpoch
        c.protocolType = "consumer"
        for m in g.orderedMembers where m.memberId != leaving {
            guard let cp = m.classic else { continue }
            let names = m.assigned.sorted().compactMap(image.partitionName)
            c.add(ClassicGroup.Member(memberId: m.memberId, groupInstanceId: m.instanceId, clientId: m.clientId,
                                      clientHost: m.clientHost, sessionTimeoutMs: cp.sessionTimeoutMs,
                                      rebalanceTimeoutMs: m.rebalanceTimeoutMs, protocolType: "consumer", protocols: cp.protocols,
                                      assignment: ConsumerProtocolBytes.encodeAssignment(names), lastHeartbeat: now))
        }
        c.protocolName = c.selectProtocol()
        c.leaderId = c.orderedMembers.first?.memberId
        c.transition(to: .stable, now: now)
        c.persist()
        prepareRebalance(&c, now: now)
        consumerGroups[g.groupId] = nil
        groups[g.groupId] = c
    }
}
