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
    /// added to any of them starts a new generation. It learns them from the members list.
    /// The partition counts the plan in force covers cannot come from its own metadata
    /// (partitions may have been added while it was away, and nobody would ever own them):
    /// it reads every member's assignment with DescribeGroups; until that answers, its
    /// metadata stands in.
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
        var d = DescribeGroupsRequest()
        d.groups = [config.groupId]
        _ = send(.describePlan(generation: r.generationId), d)
    }

    /// The plan in force, read back: the partitions of each group topic it covers become the
    /// counts the leader watches. A topic whose covered partitions are not exactly 0..<n
    /// (some partition owned by nobody) counts as changed, so the leader starts a new
    /// generation at once.
    mutating func planDescribed(_ result: Result<any KafkaResponse, KafkaClientError>, generation gen: Int32,
                                context: ComponentContext, now: Instant) {
        guard gen == generation, isLeader else { return }
        guard case .success(let any) = result, let r = any as? DescribeGroupsResponse,
              let g = r.groups.first(where: { $0.groupId == config.groupId }) else {
            if case .failure(let e) = result { emit(.warning("DescribeGroups for the plan in force failed (\(e)); watching partition counts from metadata")) }
            return
        }
        // Not stable: a rebalance is under way and makes a new plan anyway.
        guard g.errorCode == 0, g.groupState == "Stable" else { return }
        var covered: [String: Set<Int32>] = [:]
        for m in g.members {
            guard let a = try? ConsumerProtocol.decodeAssignment(m.memberAssignment) else {
                emit(.warning("member \(m.memberId)'s assignment could not be read; watching partition counts from metadata"))
                return
            }
            for tp in a.partitions { covered[tp.topic, default: []].insert(tp.partition) }
        }
        var counts: [String: Int32] = [:]
        for t in groupTopics {
            guard let ps = covered[t], !ps.isEmpty else { continue }
            let n = Int32(ps.count)
            counts[t] = ps.allSatisfy({ $0 >= 0 && $0 < n }) ? n : -1
        }
        planCounts = counts
        if step == .stable && leaderPlanOutdated(context: context) { rejoin(now: now) }
    }

    /// Leader: a group topic's partition count differs from what the plan in force covers.
    func leaderPlanOutdated(context: ComponentContext) -> Bool {
        for t in groupTopics where context.metadata.topicErrors[t] != nil {
            let n = context.metadata.partitionCounts[t].flatMap { $0 > 0 ? $0 : nil }
            if n != planCounts[t] { return true }
        }
        return false
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
        if isLeader && leaderPlanOutdated(context: context) { rejoin(now: now) }
    }
}
