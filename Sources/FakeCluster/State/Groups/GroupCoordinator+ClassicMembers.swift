import KafkaProtocol

/// Classic members of a consumer group (KIP-848 online migration, Kafka 4.0): members that
/// still speak JoinGroup / SyncGroup / Heartbeat / LeaveGroup inside a consumer group. The
/// coordinator assigns them with its server assignor like everyone else and reconciles them
/// on their JoinGroup, whose subscription's owned partitions stand for a heartbeat's owned
/// list (an eager member owns nothing when it rejoins, so its revocations are immediate; a
/// cooperative one lists what it kept). Their generation is their member epoch; SyncGroup
/// hands them their assignment as consumer-protocol bytes at once (the leader's assignments
/// are ignored); Heartbeat says REBALANCE_IN_PROGRESS when they must rejoin: to catch up
/// with the group epoch, to revoke, or to collect partitions another member released.
extension GroupCoordinator {
    /// UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID for a request from a classic member of a
    /// consumer group (a consumer-protocol member's id is unknown here, as in Kafka).
    func classicMemberError(_ g: ConsumerGroup, memberId: String, instanceId: String?) -> KafkaErrorCode? {
        if let inst = instanceId, let current = g.memberId(forInstance: inst), current != memberId { return .fencedInstanceId }
        guard let m = g.member(memberId), m.classic != nil else { return .unknownMemberId }
        if let inst = instanceId, m.instanceId != inst { return .fencedInstanceId }
        return nil
    }

    /// JoinGroup to a consumer group with members. Answered at once: the member's epoch as
    /// the generation, no leader (the coordinator assigns), the first of its protocols every
    /// classic member supports.
    mutating func classicJoinToConsumerGroup<G: RandomNumberGenerator>(
        _ req: JoinRequest, image: TopicImage, now: Instant, using rng: inout G
    ) -> JoinResponse {
        func fail(_ e: KafkaErrorCode, memberId: String = req.memberId) -> JoinResponse { JoinResponse(error: e, memberId: memberId) }
        guard var g = consumerGroups[req.groupId] else { return fail(.unknownMemberId) }
        // Kafka's supportsClassicProtocols: the consumer protocol type, and a protocol in
        // common with the other classic members.
        guard req.protocolType == "consumer", !req.protocols.isEmpty else { return fail(.inconsistentGroupProtocol) }
        let common = g.classicCommonProtocols(excluding: req.memberId)
        guard let chosen = req.protocols.first(where: { common?.contains($0.name) ?? true }) else {
            return fail(.inconsistentGroupProtocol)
        }
        guard let sub = ConsumerProtocolBytes.subscription(req.protocols[0].metadata) else { return fail(.inconsistentGroupProtocol) }

        var memberId = req.memberId
        if memberId.isEmpty {
            if let inst = req.groupInstanceId, let old = g.memberId(forInstance: inst) {
                // KIP-345: a static member rejoining takes its record over under a new id.
                guard g.member(old)?.classic != nil || g.member(old)?.isLeavingStatic == true else {
                    return fail(.unreleasedInstanceId)
                }
                memberId = Self.newMemberId(prefix: inst, using: &rng)
                g.replaceStatic(oldId: old, with: memberId)
            } else {
                guard g.members.count < config.maxGroupSize else { return fail(.groupMaxSizeReached) }
                memberId = Self.newMemberId(prefix: req.groupInstanceId ?? req.clientId, using: &rng)
                // KIP-394; the id is not remembered: the rejoin with it creates the member.
                if req.groupInstanceId == nil, req.version >= 4 { return fail(.memberIdRequired, memberId: memberId) }
            }
        } else {
            if let inst = req.groupInstanceId, let current = g.memberId(forInstance: inst), current != memberId {
                return fail(.fencedInstanceId)
            }
            if let m = g.member(memberId), m.classic == nil { return fail(.unknownMemberId) }
            if g.member(memberId) == nil, g.members.count >= config.maxGroupSize { return fail(.groupMaxSizeReached) }
        }

        var bump = false
        if g.member(memberId) == nil {
            g.add(ConsumerGroup.Member(memberId: memberId, instanceId: req.groupInstanceId, rackId: nil, clientId: req.clientId,
                                       clientHost: req.clientHost, rebalanceTimeoutMs: 0, lastHeartbeat: now), now: now)
            bump = true
        }
        g.update(memberId) { m in
            if sub.topics.sorted() != m.subscribedTopicNames.sorted() { bump = true }
            m.subscribedTopicNames = sub.topics
            m.rebalanceTimeoutMs = req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs
            m.rackId = sub.rackId?.isEmpty == false ? sub.rackId : nil
            m.instanceId = req.groupInstanceId
            m.clientId = req.clientId
            m.clientHost = req.clientHost
            m.classic = .init(sessionTimeoutMs: req.sessionTimeoutMs, protocols: req.protocols)
            if m.isLeavingStatic { m.memberEpoch = m.previousMemberEpoch }
            m.lastHeartbeat = now
        }
        if bump || g.subscriptionMetadata(image: image) != g.subscriptionMetadata || g.preferredAssignor != g.assignorName {
            bumpAndAssign(&g, image: image)
        }
        let owned = Set(ConsumerProtocolBytes.owned(sub).compactMap(image.partitionId))
        reconcile(&g, memberId, owned: owned, now: now)
        let m = g.member(memberId)!
        consumerGroups[req.groupId] = g
        return JoinResponse(error: .noError, generationId: m.memberEpoch, protocolType: "consumer", protocolName: chosen.name,
                            leader: "", memberId: memberId, members: [])
    }

    /// SyncGroup from a classic member of a consumer group: its current assignment.
    mutating func classicSyncToConsumerGroup(_ req: SyncRequest, image: TopicImage, now: Instant) -> SyncResponse {
        guard var g = consumerGroups[req.groupId] else { return SyncResponse(error: .unknownMemberId) }
        if let e = classicMemberError(g, memberId: req.memberId, instanceId: req.groupInstanceId) { return SyncResponse(error: e) }
        let m = g.member(req.memberId)!
        guard req.generationId == m.memberEpoch else { return SyncResponse(error: .illegalGeneration) }
        if let t = req.protocolType, t != "consumer" { return SyncResponse(error: .inconsistentGroupProtocol) }
        let protocols = m.classic!.protocols.map(\.name)
        if let n = req.protocolName, !protocols.contains(n) { return SyncResponse(error: .inconsistentGroupProtocol) }
        g.update(req.memberId) { $0.lastHeartbeat = now }
        consumerGroups[req.groupId] = g
        let names = m.assigned.sorted().compactMap(image.partitionName)
        return SyncResponse(error: .noError, protocolType: "consumer", protocolName: req.protocolName ?? protocols.first,
                            assignment: ConsumerProtocolBytes.encodeAssignment(names))
    }

    /// Heartbeat from a classic member of a consumer group (Kafka's
    /// classicGroupHeartbeatToConsumerGroup).
    mutating func classicHeartbeatToConsumerGroup(groupId: String, memberId: String, groupInstanceId: String?,
                                                  generationId: Int32, now: Instant) -> KafkaErrorCode {
        guard var g = consumerGroups[groupId] else { return .unknownMemberId }
        if let e = classicMemberError(g, memberId: memberId, instanceId: groupInstanceId) { return e }
        let m = g.member(memberId)!
        guard generationId == m.memberEpoch else { return .illegalGeneration }
        g.update(memberId) { $0.lastHeartbeat = now }
        consumerGroups[groupId] = g
        let waiting = (g.targetAssignment[memberId] ?? []).subtracting(m.assigned)
        if m.memberEpoch < g.groupEpoch || !m.pendingRevocation.isEmpty || (!waiting.isEmpty && g.unreleased(m).isEmpty) {
            return .rebalanceInProgress
        }
        return .noError
    }

    /// LeaveGroup from classic members of a consumer group: each leaves (the group epoch bumps).
    mutating func classicLeaveFromConsumerGroup(groupId: String, members leaving: [LeavingMember], image: TopicImage,
                                                now: Instant) -> [KafkaErrorCode] {
        guard var g = consumerGroups[groupId] else { return leaving.map { _ in .unknownMemberId } }
        var errors: [KafkaErrorCode] = []
        for l in leaving {
            var id = l.memberId
            if id.isEmpty, let inst = l.groupInstanceId {
                guard let current = g.memberId(forInstance: inst) else { errors.append(.unknownMemberId); continue }
                id = current
            }
            if let e = classicMemberError(g, memberId: id, instanceId: l.groupInstanceId) { errors.append(e); continue }
            removeConsumerMember(&g, id, image: image, now: now)
            errors.append(.noError)
        }
        consumerGroups[groupId] = g
        return errors
    }
}
