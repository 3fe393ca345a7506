/// KIP-848 consumer groups: ConsumerGroupHeartbeat (join, heartbeat, leave), the target
/// assignment recomputed whenever the group epoch bumps, each member's reconciliation
/// towards it, and the session and rebalance (revocation) timeouts.
///
/// Reconciliation (Kafka's CurrentAssignmentBuilder, simplified): on each heartbeat of a
/// member whose epoch is behind the target's, the partitions of its assignment not in its
/// target are to be revoked — while any are, it keeps only the rest, its epoch stays, and
/// it must acknowledge (its heartbeat's owned partitions no longer naming them) within its
/// rebalance timeout (unless its heartbeat's owned list already leaves them all out, as a
/// rejoin's does). With nothing left to revoke its epoch becomes the target's and it is
/// given its target minus the partitions another member still holds (assigned or
/// revoking); those come on a later heartbeat once released. So no partition is ever held
/// by two members in the coordinator's books.
extension GroupCoordinator {
    struct ConsumerHeartbeatRequest: Sendable, Equatable {
        var groupId: String
        var memberId: String
        var memberEpoch: Int32
        var instanceId: String?
        var rackId: String?
        var rebalanceTimeoutMs: Int32 = -1
        var subscribedTopicNames: [String]?
        /// v1+.
        var subscribedTopicRegex: String?
        var serverAssignor: String?
        var ownedPartitions: [TopicIdPartition]?
        var clientId: String = "client"
        var clientHost: String = "/127.0.0.1"
        var version: Int16 = 1
    }

    struct ConsumerHeartbeatResponse: Sendable, Equatable {
        var error: KafkaErrorCode = .noError
        var errorMessage: String?
        var memberId: String?
        var memberEpoch: Int32 = 0
        var heartbeatIntervalMs: Int32 = 0
        /// The member's full assignment, sorted; nil when not sent (unchanged).
        var assignment: [TopicIdPartition]?
    }

    /// The group's type for a group id, nil when the coordinator has no such group.
    func groupType(_ groupId: String) -> String? {
        if consumerGroups[groupId] != nil { return "consumer" }
        if groups[groupId] != nil { return "classic" }
        return nil
    }

    /// A classic group that holds nothing but offsets (Empty, no members): it may become a
    /// consumer group (KIP-848's conversion of an empty group).
    private func isConvertibleClassic(_ g: ClassicGroup) -> Bool {
        g.isEmpty && g.pendingMembers.isEmpty && (g.state == .empty || g.state == .dead)
    }

    // MARK: ConsumerGroupHeartbeat

    mutating func consumerGroupHeartbeat<G: RandomNumberGenerator>(
        _ r: ConsumerHeartbeatRequest, image: TopicImage, now: Instant, using rng: inout G
    ) -> ConsumerHeartbeatResponse {
        func fail(_ e: KafkaErrorCode, _ message: String? = nil) -> ConsumerHeartbeatResponse {
            ConsumerHeartbeatResponse(error: e, errorMessage: message ?? e.name, memberId: nil, memberEpoch: 0)
        }
        // Request validation (Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid).
        guard !r.groupId.isEmpty else { return fail(.invalidRequest, "GroupId can't be empty.") }
        if r.instanceId?.isEmpty == true { return fail(.invalidRequest, "InstanceId can't be empty.") }
        if r.rackId?.isEmpty == true { return fail(.invalidRequest, "RackId can't be empty.") }
        if r.version >= 1, r.memberId.isEmpty { return fail(.invalidRequest, "MemberId can't be empty.") }
        if r.memberEpoch != 0, r.memberId.isEmpty { return fail(.invalidRequest, "MemberId can't be empty.") }
        if r.memberEpoch < Self.leaveStaticEpochValue { return fail(.invalidRequest, "MemberEpoch is invalid.") }
        if r.memberEpoch == ConsumerGroup.leaveStaticEpoch, r.instanceId == nil {
            return fail(.invalidRequest, "InstanceId can't be null when MemberEpoch is -2.")
        }
        if r.memberEpoch == 0 {
            if r.rebalanceTimeoutMs == -1 { return fail(.invalidRequest, "RebalanceTimeoutMs must be provided in first request.") }
            if r.ownedPartitions == nil || !r.ownedPartitions!.isEmpty {
                return fail(.invalidRequest, "TopicPartitions must be empty when (re-)joining.")
            }
            if r.subscribedTopicNames == nil, r.subscribedTopicRegex == nil {
                return fail(.invalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
            }
        }
        if let pattern = r.subscribedTopicRegex, !pattern.isEmpty, TopicRegex(pattern) == nil {
            return fail(.invalidRegularExpression, "SubscribedTopicRegex \(pattern) is not a valid regular expression.")
        }
        if let a = r.serverAssignor, ServerAssignor(rawValue: a) == nil {
            return fail(.unsupportedAssignor, "ServerAssignor \(a) is not supported. Supported assignors: uniform, range.")
        }
        if r.memberEpoch < 0 { return consumerGroupLeave(r, image: image, now: now) }

        // The group: an unknown one is created by a join; an empty classic group becomes a
        // consumer group (keeping its offsets); a classic group with members is upgraded
        // online when the migration policy allows it (GroupCoordinator+Migration), else refused.
        if let classic = groups[r.groupId] {
            if r.memberEpoch == 0, isConvertibleClassic(classic) {
                var g = ConsumerGroup(groupId: r.groupId)
                g.offsets = classic.offsets
                g.pendingTransactionalOffsets = classic.pendingTransactionalOffsets
                g.stateSince = now
                groups[r.groupId] = nil
                consumerGroups[r.groupId] = g
            } else if r.memberEpoch == 0, canUpgrade(classic) {
                upgradeToConsumerGroup(r.groupId, image: image, now: now)
            } else {
                return fail(.groupIdNotFound, "Group \(r.groupId) is not a consumer group.")
            }
        }
        if consumerGroups[r.groupId] == nil {
            guard r.memberEpoch == 0 else { return fail(.groupIdNotFound, "Consumer group \(r.groupId) not found.") }
            var g = ConsumerGroup(groupId: r.groupId)
            g.stateSince = now
            consumerGroups[r.groupId] = g
        }
        var g = consumerGroups[r.groupId]!
        let memberId = r.memberId.isEmpty ? Self.newConsumerMemberId(using: &rng) : r.memberId
        if g.member(memberId) == nil, r.instanceId.flatMap({ g.memberId(forInstance: $0) }) == nil,
           g.members.count >= config.maxGroupSize {
            return fail(.groupMaxSizeReached, "The consumer group has reached its maximum capacity of \(config.maxGroupSize) members.")
        }

        // The member.
        var bump = false
        if let inst = r.instanceId {
            let existing = g.memberId(forInstance: inst)
            if r.memberEpoch == 0 {
                if let m = g.member(memberId), m.instanceId != inst {
                    return fail(.invalidRequest, "Member \(memberId) cannot change its instance id.")
                }
                if let old = existing, old != memberId {
                    guard g.member(old)!.isLeavingStatic else {
                        return fail(.unreleasedInstanceId, "Static member \(memberId) with instance id \(inst) cannot join the group because the instance id is owned by \(old) member.")
                    }
                    g.replaceStatic(oldId: old, with: memberId)
                } else if existing == nil {
                    bump = true
                }
            } else {
                guard let current = existing else { return fail(.unknownMemberId, "Instance id \(inst) is unknown.") }
                guard current == memberId else {
                    return fail(.fencedInstanceId, "Static member \(memberId) with instance id \(inst) was replaced by \(current).")
                }
            }
        } else if g.member(memberId) == nil {
            guard r.memberEpoch == 0 else { return fail(.unknownMemberId, "Member \(memberId) is not a member of group \(r.groupId).") }
            bump = true
        }
        if g.member(memberId) == nil {
            g.add(ConsumerGroup.Member(memberId: memberId, instanceId: r.instanceId, rackId: r.rackId, clientId: r.clientId,
                                       clientHost: r.clientHost, rebalanceTimeoutMs: r.rebalanceTimeoutMs, lastHeartbeat: now),
                  now: now)
        }
        if r.memberEpoch == 0, g.member(memberId)?.classic != nil {
            // A classic member rejoining with the consumer protocol under its id upgrades.
            g.update(memberId) { $0.classic = nil }
        }
        let before = g.member(memberId)!
        if before.classic != nil {
            return fail(.unknownMemberId, "Member \(memberId) uses the classic protocol.")
        }
        if r.memberEpoch != 0 {
            // Kafka's throwIfMemberEpochIsInvalid; a join (epoch 0) of a known member is a
            // rejoin and gets its current state back (KIP-848; KAFKA-19233).
            if r.memberEpoch > before.memberEpoch {
                return fail(.fencedMemberEpoch, "The consumer group member has a greater member epoch (\(r.memberEpoch)) than the one known by the group coordinator (\(before.memberEpoch)). The member must abandon all its partitions and rejoin.")
            }
            if r.memberEpoch < before.memberEpoch {
                let owned = Set(r.ownedPartitions ?? [])
                guard r.memberEpoch == before.previousMemberEpoch, r.ownedPartitions != nil, owned.isSubset(of: before.assigned) else {
                    return fail(.fencedMemberEpoch, "The consumer group member has a smaller member epoch (\(r.memberEpoch)) than the one known by the group coordinator (\(before.memberEpoch)). The member must abandon all its partitions and rejoin.")
                }
            }
        }

        // Update the member; a change that matters to the assignment bumps the group epoch.
        g.update(memberId) { m in
            if let t = r.subscribedTopicNames {
                if t.sorted() != m.subscribedTopicNames.sorted() { bump = true }
                m.subscribedTopicNames = t
            }
            if let p = r.subscribedTopicRegex {
                let new = p.isEmpty ? nil : p
                if new != m.subscribedTopicRegex { bump = true }
                m.subscribedTopicRegex = new
            }
            if let a = r.serverAssignor {
                if a != m.serverAssignor { bump = true }
                m.serverAssignor = a
            }
            if r.rebalanceTimeoutMs != -1 { m.rebalanceTimeoutMs = r.rebalanceTimeoutMs }
            if let rack = r.rackId { m.rackId = rack }
            if let inst = r.instanceId { m.instanceId = inst }
            if !r.clientId.isEmpty { m.clientId = r.clientId } // a stalled heartbeat replays without one
            m.clientHost = r.clientHost
            m.lastHeartbeat = now
        }
        if bump || g.subscriptionMetadata(image: image) != g.subscriptionMetadata || g.preferredAssignor != g.assignorName {
            bumpAndAssign(&g, image: image)
        }
        let assignedBefore = g.member(memberId)!.assigned
        reconcile(&g, memberId, owned: r.ownedPartitions.map(Set.init), now: now)
        let m = g.member(memberId)!
        consumerGroups[r.groupId] = g
        var resp = ConsumerHeartbeatResponse(memberId: memberId, memberEpoch: m.memberEpoch,
                                             heartbeatIntervalMs: config.consumerHeartbeatIntervalMs)
        if r.memberEpoch == 0 || r.ownedPartitions != nil || m.assigned != assignedBefore {
            resp.assignment = m.assigned.sorted()
        }
        return resp
    }

    static let leaveStaticEpochValue: Int32 = ConsumerGroup.leaveStaticEpoch

    /// Member ids the coordinator makes up (v0; from v1 the client sends its own): a UUID
    /// in Kafka's text form (22 characters of URL-safe base64), from the seeded generator.
    static func newConsumerMemberId<G: RandomNumberGenerator>(using rng: inout G) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var bytes: [UInt8] = []
        for word in [rng.next(), rng.next()] { for i in 0 ..< 8 { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * i))) } }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = bytes[i ..< min(i + 3, bytes.count)]
            var v: UInt32 = 0
            for (k, b) in chunk.enumerated() { v |= UInt32(b) << UInt32(16 - 8 * k) }
            let chars = chunk.count + 1
            for k in 0 ..< chars { out.append(alphabet[Int((v >> UInt32(18 - 6 * k)) & 0x3F)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Epoch -1 (leave) or -2 (a static member leaving for a while: it keeps its
    /// assignment until its session times out or its instance id rejoins).
    private mutating func consumerGroupLeave(_ r: ConsumerHeartbeatRequest, image: TopicImage,
                                             now: Instant) -> ConsumerHeartbeatResponse {
        func fail(_ e: KafkaErrorCode, _ message: String) -> ConsumerHeartbeatResponse {
            ConsumerHeartbeatResponse(error: e, errorMessage: message, memberId: nil, memberEpoch: 0)
        }
        guard var g = consumerGroups[r.groupId] else {
            if groups[r.groupId] != nil { return fail(.groupIdNotFound, "Group \(r.groupId) is not a consumer group.") }
            return fail(.groupIdNotFound, "Consumer group \(r.groupId) not found.")
        }
        var id = r.memberId
        if let inst = r.instanceId {
            guard let current = g.memberId(forInstance: inst) else { return fail(.unknownMemberId, "Instance id \(inst) is unknown.") }
            guard current == r.memberId else {
                return fail(.fencedInstanceId, "Static member \(r.memberId) with instance id \(inst) was replaced by \(current).")
            }
            id = current
        }
        guard let leaver = g.member(id), leaver.classic == nil else {
            return fail(.unknownMemberId, "Member \(id) is not a member of group \(r.groupId).")
        }
        if r.memberEpoch == ConsumerGroup.leaveStaticEpoch {
            g.update(id) { m in
                m.previousMemberEpoch = m.memberEpoch
                m.memberEpoch = ConsumerGroup.leaveStaticEpoch
                m.pendingRevocation = []
                m.revocationDeadline = nil
                m.lastHeartbeat = now
            }
        } else if canDowngrade(g, leaving: id) {
            downgradeToClassicGroup(g, leaving: id, image: image, now: now)
            return ConsumerHeartbeatResponse(memberId: r.memberId, memberEpoch: r.memberEpoch,
                                             heartbeatIntervalMs: config.consumerHeartbeatIntervalMs)
        } else {
            removeConsumerMember(&g, id, image: image, now: now)
        }
        consumerGroups[r.groupId] = g
        return ConsumerHeartbeatResponse(memberId: r.memberId, memberEpoch: r.memberEpoch,
                                         heartbeatIntervalMs: config.consumerHeartbeatIntervalMs)
    }

    /// A member leaves or is fenced: its partitions are free, the group epoch bumps.
    mutating func removeConsumerMember(_ g: inout ConsumerGroup, _ id: String, image: TopicImage, now: Instant) {
        guard g.remove(id, now: now) != nil else { return }
        bumpAndAssign(&g, image: image)
    }

    /// Bumps the group epoch and computes the target assignment at it.
    func bumpAndAssign(_ g: inout ConsumerGroup, image: TopicImage) {
        g.groupEpoch += 1
        g.subscriptionMetadata = g.subscriptionMetadata(image: image)
        g.assignorName = g.preferredAssignor
        let subscribers = g.orderedMembers.map {
            ServerAssignor.Subscriber(memberId: $0.memberId, topics: ConsumerGroup.subscribedTopics($0, image: image))
        }
        let assignor = ServerAssignor(rawValue: g.assignorName) ?? .uniform
        g.targetAssignment = assignor.assign(subscribers, image: image, previous: g.targetAssignment)
        g.assignmentEpoch = g.groupEpoch
    }

    /// Moves one member towards its target (see the extension's comment). `owned` is what
    /// its heartbeat said it owns (nil: not sent, so revocations cannot be acknowledged).
    func reconcile(_ g: inout ConsumerGroup, _ id: String, owned: Set<TopicIdPartition>?, now: Instant) {
        guard var m = g.member(id) else { return }
        if !m.pendingRevocation.isEmpty {
            guard let owned, owned.isDisjoint(with: m.pendingRevocation) else { return }
            m.pendingRevocation = []
            m.revocationDeadline = nil
        }
        let target = g.targetAssignment[id] ?? []
        let revoke = m.assigned.subtracting(target)
        // A member whose owned list already leaves them out need not be asked (a rejoin owns
        // nothing): they are released at once.
        if !revoke.isEmpty, owned.map({ !$0.isDisjoint(with: revoke) }) ?? true {
            m.assigned = m.assigned.intersection(target)
            m.pendingRevocation = revoke
            m.revocationDeadline = now.adding(milliseconds: Int64(max(m.rebalanceTimeoutMs, 0)))
        } else {
            m.assigned = m.assigned.intersection(target)
            let owners = g.currentOwners.filter { $0.value != id }
            let free = target.subtracting(m.assigned).filter { owners[$0] == nil }
            m.assigned.formUnion(free)
            if m.memberEpoch != g.assignmentEpoch {
                m.previousMemberEpoch = m.memberEpoch
                m.memberEpoch = g.assignmentEpoch
            }
        }
        g.update(id) { $0 = m }
    }

    /// Topics changed (created, deleted, partitions added): every consumer group whose
    /// subscribed topics look different bumps its epoch and reassigns.
    mutating func consumerTopicsChanged(image: TopicImage) {
        for id in consumerGroups.keys.sorted() {
            var g = consumerGroups[id]!
            guard !g.isEmpty, g.subscriptionMetadata(image: image) != g.subscriptionMetadata else { continue }
            bumpAndAssign(&g, image: image)
            consumerGroups[id] = g
        }
    }

    // MARK: time

    /// Fences members whose session expired (no heartbeat for the session timeout; a
    /// static member that left with -2 too; a classic member's session is its own) or who
    /// did not revoke within their rebalance timeout. A fenced consumer-protocol member that
    /// leaves only classic members downgrades the group (GroupCoordinator+Migration). Groups
    /// in id order, members in join order.
    mutating func tickConsumerGroups(image: TopicImage, now: Instant) {
        groupLoop: for id in consumerGroups.keys.sorted() {
            var g = consumerGroups[id]!
            for m in g.orderedMembers {
                let sessionOver = m.lastHeartbeat.adding(milliseconds: Int64(sessionTimeoutMs(m))) <= now
                let revokeOver = !m.pendingRevocation.isEmpty && (m.revocationDeadline.map { $0 <= now } ?? false)
                guard sessionOver || revokeOver else { continue }
                if canDowngrade(g, leaving: m.memberId) {
                    downgradeToClassicGroup(g, leaving: m.memberId, image: image, now: now)
                    continue groupLoop
                }
                removeConsumerMember(&g, m.memberId, image: image, now: now)
            }
            consumerGroups[id] = g
        }
    }

    /// A classic member's session is its JoinGroup's; everyone else's the group's setting.
    func sessionTimeoutMs(_ m: ConsumerGroup.Member) -> Int32 {
        m.classic?.sessionTimeoutMs ?? config.consumerSessionTimeoutMs
    }

    var nextConsumerDeadline: Instant? {
        var d: Instant?
        for id in consumerGroups.keys.sorted() {
            for m in consumerGroups[id]!.orderedMembers {
                d = earliest(d, m.lastHeartbeat.adding(milliseconds: Int64(sessionTimeoutMs(m))))
                if !m.pendingRevocation.isEmpty { d = earliest(d, m.revocationDeadline) }
            }
        }
        return d
    }

    /// The group's coordinator moved: the whole state is kept (Kafka writes every change
    /// to __consumer_offsets), sessions and revocation timers restart at `now`.
    mutating func moveConsumerGroup(_ groupId: String, now: Instant) {
        guard var g = consumerGroups[groupId] else { return }
        for m in g.orderedMembers {
            g.update(m.memberId) { m in
                m.lastHeartbeat = now
                if !m.pendingRevocation.isEmpty { m.revocationDeadline = now.adding(milliseconds: Int64(max(m.rebalanceTimeoutMs, 0))) }
            }
        }
        consumerGroups[groupId] = g
    }

    // MARK: ConsumerGroupDescribe

    struct ConsumerGroupDescription: Equatable, Sendable {
        struct Member: Equatable, Sendable {
            var memberId: String
            var instanceId: String?
            var rackId: String?
            var memberEpoch: Int32
            var clientId: String
            var clientHost: String
            var subscribedTopicNames: [String]
            var subscribedTopicRegex: String?
            var assignment: [TopicIdPartition]
            var targetAssignment: [TopicIdPartition]
        }
        var error: KafkaErrorCode
        var errorMessage: String?
        var groupId: String
        var state: String = ""
        var groupEpoch: Int32 = 0
        var assignmentEpoch: Int32 = 0
        var assignorName: String = ""
        var members: [Member] = []
    }

    func describeConsumerGroup(_ groupId: String) -> ConsumerGroupDescription {
        guard !groupId.isEmpty else { return .init(error: .invalidGroupId, errorMessage: "GroupId can't be empty.", groupId: groupId) }
        guard let g = consumerGroups[groupId] else {
            let why = groups[groupId] != nil ? "is not a consumer group" : "not found"
            return .init(error: .groupIdNotFound, errorMessage: "Group \(groupId) \(why).", groupId: groupId)
        }
        return .init(error: .noError, groupId: groupId, state: g.state.rawValue, groupEpoch: g.groupEpoch,
                     assignmentEpoch: g.assignmentEpoch, assignorName: g.assignorName,
                     members: g.orderedMembers.map {
                         .init(memberId: $0.memberId, instanceId: $0.instanceId, rackId: $0.rackId, memberEpoch: $0.memberEpoch,
                               clientId: $0.clientId, clientHost: $0.clientHost, subscribedTopicNames: $0.subscribedTopicNames,
                               subscribedTopicRegex: $0.subscribedTopicRegex, assignment: $0.assigned.sorted(),
                               targetAssignment: (g.targetAssignment[$0.memberId] ?? []).sorted())
                     })
    }
}
