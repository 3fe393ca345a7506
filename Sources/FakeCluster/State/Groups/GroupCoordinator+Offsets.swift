/// Committed offsets of classic groups: OffsetCommit, TxnOffsetCommit (pending until the
/// transaction ends), OffsetFetch (with KIP-447 require-stable) and OffsetDelete.
extension GroupCoordinator {
    typealias CommittedOffset = ClassicGroup.CommittedOffset

    struct OffsetToCommit: Equatable, Sendable {
        var topicPartition: TopicPartition
        var offset: Int64
        var leaderEpoch: Int32 = -1
        var metadata: String? = ""
    }

    /// Group-level validation of a commit, as Kafka's validateOffsetCommit: any commit with
    /// generation -1 to an Empty group is accepted (admin clients, manual assignment); else a
    /// commit naming a generation, member or instance must come from a current member in the
    /// current generation; a "simple" commit (generation -1, no member) to a group with
    /// members is UNKNOWN_MEMBER_ID. A member's commit while the group awaits SyncGroup is
    /// REBALANCE_IN_PROGRESS (commits during PreparingRebalance are accepted). Same rules for
    /// every OffsetCommit version (v0 carries no generation: always simple).
    private func commitError(_ g: ClassicGroup, generationId: Int32, memberId: String, instanceId: String?,
                             transactional: Bool) -> KafkaErrorCode? {
        if g.state == .dead { return .coordinatorNotAvailable }
        if generationId < 0, g.state == .empty { return nil }
        if generationId < 0, memberId.isEmpty, instanceId == nil {
            // Simple commits: fine for groups without members (and always for TxnOffsetCommit
            // v0-2); in a group with members the empty member id is simply unknown.
            return g.isEmpty || transactional ? nil : .unknownMemberId
        }
        if let e = memberError(g, memberId: memberId, instanceId: instanceId) { return e }
        if generationId != g.generationId { return .illegalGeneration }
        if !transactional, g.state == .completingRebalance { return .rebalanceInProgress }
        return nil
    }

    /// OffsetCommit. Returns one error per offset, in request order. A commit from a member
    /// also counts as its heartbeat.
    /// `retentionMs` is OffsetCommit v2-v4's retention_time_ms when not -1: those offsets
    /// expire that long after the commit, whatever the group does.
    /// For a consumer group `generationId` is the member epoch (see commitConsumerOffsets);
    /// `apiVersion` is the OffsetCommit version (consumer-group members need 9+).
    mutating func commitOffsets(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?,
                                _ offsets: [OffsetToCommit], retentionMs: Int64? = nil, apiVersion: Int16 = 8,
                                now: Instant) -> [KafkaErrorCode] {
        guard !groupId.isEmpty else { return offsets.map { _ in .invalidGroupId } }
        if consumerGroups[groupId] != nil {
            return commitConsumerOffsets(groupId: groupId, memberEpoch: generationId, memberId: memberId, offsets,
                                         transactional: nil, apiVersion: apiVersion, now: now)
        }
        if groups[groupId] == nil {
            // Commits to an unknown group create it, but only as a simple (generation -1) commit.
            // ... v9+ (KIP-848) says GROUP_ID_NOT_FOUND for a member's commit to no group.
            guard generationId < 0 else { return offsets.map { _ in apiVersion >= 9 ? .groupIdNotFound : .illegalGeneration } }
            groups[groupId] = ClassicGroup(groupId: groupId)
        }
        var g = groups[groupId]!
        if let e = commitError(g, generationId: generationId, memberId: memberId, instanceId: groupInstanceId,
                               transactional: false) {
            return offsets.map { _ in e }
        }
        g.update(memberId) { $0.lastHeartbeat = now }
        let errors = offsets.map { o -> KafkaErrorCode in
            if let md = o.metadata, md.utf8.count > config.maxOffsetMetadataBytes { return .offsetMetadataTooLarge }
            g.offsets[o.topicPartition] = CommittedOffset(offset: o.offset, leaderEpoch: o.leaderEpoch,
                                                          metadata: o.metadata, commitTimestamp: now.milliseconds,
                                                          expireTimestamp: retentionMs.map { now.milliseconds + $0 })
            return .noError
        }
        groups[groupId] = g
        return errors
    }

    /// TxnOffsetCommit: offsets are held per producer until `completeTransaction`. The
    /// producer id/epoch must already be checked with the transaction coordinator.
    mutating func commitTransactionalOffsets(groupId: String, producerId: Int64, generationId: Int32 = -1,
                                             memberId: String = "", groupInstanceId: String? = nil,
                                             _ offsets: [OffsetToCommit], now: Instant) -> [KafkaErrorCode] {
        guard !groupId.isEmpty else { return offsets.map { _ in .invalidGroupId } }
        if consumerGroups[groupId] != nil {
            return commitConsumerOffsets(groupId: groupId, memberEpoch: generationId, memberId: memberId, offsets,
                                         transactional: producerId, apiVersion: 9, now: now)
        }
        if groups[groupId] == nil { groups[groupId] = ClassicGroup(groupId: groupId) }
        var g = groups[groupId]!
        if let e = commitError(g, generationId: generationId, memberId: memberId, instanceId: groupInstanceId,
                               transactional: true) {
            return offsets.map { _ in e }
        }
        let errors = offsets.map { o -> KafkaErrorCode in
            if let md = o.metadata, md.utf8.count > config.maxOffsetMetadataBytes { return .offsetMetadataTooLarge }
            g.pendingTransactionalOffsets[producerId, default: [:]][o.topicPartition] =
                CommittedOffset(offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata,
                                commitTimestamp: now.milliseconds)
            return .noError
        }
        groups[groupId] = g
        return errors
    }

    /// The transaction coordinator's marker for a group: commit applies the producer's
    /// pending offsets, abort discards them.
    mutating func completeTransaction(groupId: String, producerId: Int64, commit: Bool) {
        if var cg = consumerGroups[groupId] {
            guard let pending = cg.pendingTransactionalOffsets.removeValue(forKey: producerId) else { return }
            if commit {
                for tp in pending.keys.sorted() { cg.offsets[tp] = pending[tp] }
            }
            consumerGroups[groupId] = cg
            return
        }
        guard var g = groups[groupId], let pending = g.pendingTransactionalOffsets.removeValue(forKey: producerId) else { return }
        if commit {
            for tp in pending.keys.sorted() { g.offsets[tp] = pending[tp] }
        }
        groups[groupId] = g
    }

    struct FetchedOffset: Equatable, Sendable {
        var topicPartition: TopicPartition
        var offset: Int64
        var leaderEpoch: Int32
        var metadata: String?
        var error: KafkaErrorCode
    }

    /// OffsetFetch. `partitions` nil asks for every committed partition (ordered). With
    /// `requireStable`, a partition with a pending transactional commit answers
    /// UNSTABLE_OFFSET_COMMIT so the consumer retries instead of reading a stale offset.
    func fetchOffsets(groupId: String, partitions: [TopicPartition]?, requireStable: Bool) -> [FetchedOffset] {
        let g = groups[groupId], cg = consumerGroups[groupId]
        let committed = g?.offsets ?? cg?.offsets ?? [:]
        let wanted = partitions ?? committed.keys.sorted()
        return wanted.map { tp in
            if requireStable, g?.hasPendingTransactionalOffset(tp) == true || cg?.hasPendingTransactionalOffset(tp) == true {
                return FetchedOffset(topicPartition: tp, offset: -1, leaderEpoch: -1, metadata: "", error: .unstableOffsetCommit)
            }
            guard let c = committed[tp] else {
                return FetchedOffset(topicPartition: tp, offset: -1, leaderEpoch: -1, metadata: "", error: .noError)
            }
            return FetchedOffset(topicPartition: tp, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata, error: .noError)
        }
    }

    enum OffsetDeleteResult: Equatable, Sendable {
        case failure(KafkaErrorCode)
        case partitions([KafkaErrorCode])
    }

    /// OffsetDelete. Allowed for every partition of an empty group. For a non-empty
    /// "consumer" group, partitions of subscribed topics answer GROUP_SUBSCRIBED_TO_TOPIC
    /// (an unparseable subscription counts as subscribed to everything). A non-empty group
    /// of another protocol type is NON_EMPTY_GROUP.
    mutating func deleteOffsets(groupId: String, _ partitions: [TopicPartition]) -> OffsetDeleteResult {
        if consumerGroups[groupId] != nil { return deleteConsumerOffsets(groupId: groupId, partitions) }
        guard var g = groups[groupId], g.state != .dead else { return .failure(.groupIdNotFound) }
        if !g.isEmpty, g.protocolType != "consumer" { return .failure(.nonEmptyGroup) }
        let subscribed = g.isEmpty ? Set<String>() : g.subscribedTopics
        let errors = Self.deleteUnsubscribed(partitions, subscribed: subscribed, from: &g.offsets)
        groups[groupId] = g
        return .partitions(errors)
    }

    /// OffsetDelete's per-partition rule for either group type: a partition of a subscribed
    /// topic is GROUP_SUBSCRIBED_TO_TOPIC (`subscribed` nil: every topic counts), any other
    /// loses its offset. Answers in request order.
    static func deleteUnsubscribed(_ partitions: [TopicPartition], subscribed: Set<String>?,
                                   from offsets: inout [TopicPartition: CommittedOffset]) -> [KafkaErrorCode] {
        partitions.map { tp in
            guard let s = subscribed, !s.contains(tp.topic) else { return .groupSubscribedToTopic }
            offsets[tp] = nil
            return .noError
        }
    }

    // MARK: retention

    /// Kafka's offsets cleanup (GroupMetadata.removeExpiredOffsets), run every
    /// offsets.retention.check.interval.ms: in a group with a protocol type that is Empty,
    /// every offset expires offsets.retention.minutes after the group became Empty; in a
    /// Stable "consumer" group whose subscriptions parse, offsets of topics no member
    /// subscribes to expire that long after their commit; in a group that never had members
    /// (simple commits only), each offset expires that long after its commit. An offset with
    /// an explicit v2-v4 expiry expires then instead; one with a pending transactional commit
    /// never. An Empty group left without offsets is then removed (Kafka: Dead).
    mutating func expireOffsets(now: Instant) {
        let nowMs = now.milliseconds, retention = config.offsetsRetentionMs
        for id in groupIds {
            var g = groups[id]!
            var base: ((CommittedOffset) -> Int64)?
            var keepTopics = Set<String>()
            if g.protocolType != nil, g.state == .empty {
                let since = g.stateSince.milliseconds
                base = { _ in since }
            } else if g.protocolType == "consumer", g.state == .stable, let topics = g.subscribedTopics {
                base = { $0.commitTimestamp }
                keepTopics = topics
            } else if g.protocolType == nil {
                base = { $0.commitTimestamp }
            }
            if let base {
                for tp in g.offsets.keys.sorted() {
                    let c = g.offsets[tp]!
                    guard !keepTopics.contains(tp.topic), !g.hasPendingTransactionalOffset(tp) else { continue }
                    let expired = c.expireTimestamp.map { nowMs >= $0 } ?? (nowMs - base(c) >= retention)
                    if expired { g.offsets[tp] = nil }
                }
            }
            if g.state == .empty, g.isEmpty, g.pendingMembers.isEmpty, g.offsets.isEmpty, g.pendingTransactionalOffsets.isEmpty {
                groups[id] = nil
            } else {
                groups[id] = g
            }
        }
        expireConsumerOffsets(now: now)
    }

    /// DeleteTopics: committed offsets of the topic disappear from every group.
    mutating func removeOffsets(forTopic topic: String) {
        for id in groupIds {
            groups[id]!.offsets = groups[id]!.offsets.filter { $0.key.topic != topic }
        }
        for id in consumerGroups.keys.sorted() {
            consumerGroups[id]!.offsets = consumerGroups[id]!.offsets.filter { $0.key.topic != topic }
        }
    }
}
