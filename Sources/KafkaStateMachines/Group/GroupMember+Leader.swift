import KafkaProtocol

/// The leader's part: read every member's subscription, wait for metadata of all their
/// topics, run the chosen balancer, check its plan (an invalid plan is replaced by a range
/// plan, with a warning: never two owners), and for a cooperative protocol hold back
/// partitions still owned elsewhere (KIP-429) until their owner gives them up and rejoins.
extension GroupMember {
    mutating func leaderBalance(_ r: JoinGroupResponse, context: ComponentContext, now: Instant) {
        var topics = Set<String>()
        for m in r.members {
            if let s = try? ConsumerProtocol.decodeSubscription(memberId: m.memberId, instanceId: m.groupInstanceId, bytes: m.metadata) {
                topics.formUnion(s.topics)
            }
        }
        groupTopics = topics.sorted()
        if context.metadata.knows(groupTopics) {
            finishBalance(r, context: context)
        } else {
            step = .leaderWaitingMetadata(r)
            outputs.append(.metadata(topics: groupTopics, refresh: .urgent))
        }
    }

    /// KIP-814: a static leader rejoining a stable group is told to skip the assignment, yet
    /// it is the leader: it still has to watch every member's topics, so that a partition
    /// added to any of them starts a new generation. It learns them from the members list
    /// (and the partition counts the current plan was made with from its metadata).
    mutating func learnGroupTopics(_ r: JoinGroupResponse, context: ComponentContext) {
        var topics = Set<String>()
        for m in r.members {
            if let s = try? ConsumerProtocol.decodeSubscription(memberId: m.memberId, instanceId: m.groupInstanceId, bytes: m.metadata) {
                topics.formUnion(s.topics)
            }
        }
        groupTopics = topics.sorted()
        var counts: [String: Int32] = [:]
        for t in groupTopics {
            if let n = context.metadata.partitionCounts[t], n > 0 { counts[t] = n }
        }
        planCounts = counts
    }

    /// Metadata arrived while the leader waits for it.
    mutating func leaderMetadataArrived(context: ComponentContext) {
        guard case .leaderWaitingMetadata(let r) = step, context.metadata.knows(groupTopics) else { return }
        finishBalance(r, context: context)
    }

    mutating func finishBalance(_ r: JoinGroupResponse, context: ComponentContext) {
        var members: [GroupSubscription] = []
        for m in r.members {
            do {
                members.append(try ConsumerProtocol.decodeSubscription(memberId: m.memberId, instanceId: m.groupInstanceId, bytes: m.metadata))
            } catch {
                emit(.warning("member \(m.memberId)'s subscription could not be read (\(error)); it gets no partitions"))
                members.append(GroupSubscription(memberId: m.memberId, instanceId: m.groupInstanceId, topics: []))
            }
        }
        var counts: [String: Int32] = [:]
        for t in groupTopics {
            if let n = context.metadata.partitionCounts[t], n > 0 { counts[t] = n }
        }
        planCounts = counts
        var racks: [TopicPartition: [String]] = [:]
        if !context.metadata.partitionRacks.isEmpty && members.contains(where: { $0.rack != nil }) {
            for (t, n) in counts { for p in 0 ..< n { racks[TopicPartition(t, p)] = context.metadata.partitionRacks[TopicPartition(t, p)] } }
        }
        let input = BalanceInput(members: members, partitionCounts: counts, partitionRacks: racks)
        let balancer = config.balancers.first { $0.protocolName == protocolName }!
        var plan: BalancePlan
        do {
            plan = try balancer.assign(input)
            try validate(plan, input: input)
        } catch {
            emit(.warning("balancer \(balancer.protocolName) gave no valid plan (\(error)); using a range plan this generation"))
            plan = (try? RangeBalancer().assign(input)) ?? [:]
        }
        if balancer.isCooperative { plan = cooperativeAdjusted(plan, members: members) }
        let assignments = r.members.map { m in
            var a = SyncGroupRequest.SyncGroupRequestAssignment()
            a.memberId = m.memberId
            // Encoding fails only for names over 32,767 bytes, which Kafka does not allow.
            a.assignment = (try? ConsumerProtocol.encodeAssignment(partitions: plan[m.memberId] ?? [], userData: nil)) ?? []
            return a
        }
        sendSync(assignments, context: context)
    }

    /// After a metadata update: a pattern now matching other topics, or (leader) a group
    /// topic whose partition count changed, calls for a new generation.
    mutating func metadataChanged(context: ComponentContext, now: Instant) {
        leaderMetadataArrived(context: context)
        guard step == .stable else { return }
        if currentTopics(context.metadata) != joinedTopics {
            rejoin(now: now)
            return
        }
        if isLeader {
            for t in groupTopics where context.metadata.topicErrors[t] != nil {
                let n = context.metadata.partitionCounts[t].flatMap { $0 > 0 ? $0 : nil }
                if n != planCounts[t] {
                    rejoin(now: now)
                    return
                }
            }
        }
    }
}
