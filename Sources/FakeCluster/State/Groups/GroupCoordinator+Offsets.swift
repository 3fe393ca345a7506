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

    /// Group-level validation of a commit. Generation -1 with no member id is a "simple"
    /// commit, allowed only while the group has no members; otherwise the member must be
    /// current and in the current generation, and the group not awaiting SyncGroup
    /// (commits during PreparingRebalance are accepted, as Kafka does).
    private func commitError(_ g: ClassicGroup, generationId: Int32, memberId: String, instanceId: String?,
                             transactional: Bool) -> KafkaErrorCode? {
        if g.state == .dead { return .coordinatorNotAvailable }
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
    mutating func commitOffsets(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?,
                                _ offsets: [OffsetToCommit], now: Instant) -> [KafkaErrorCode] {
        guard !groupId.isEmpty else { return offsets.map { _ in .invalidGroupId } }
        if groups[groupId] == nil {
            // Commits to an unknown group create it, but only as a simple (generation -1) commit.
            guard generationId < 0 else { return offsets.map { _ in .illegalGeneration } }
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
                                                          metadata: o.metadata, commitTimestamp: now.milliseconds)
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
        let g = groups[groupId]
        let wanted = partitions ?? (g?.offsets.keys.sorted() ?? [])
        return wanted.map { tp in
            if requireStable, g?.hasPendingTransactionalOffset(tp) == true {
                return FetchedOffset(topicPartition: tp, offset: -1, leaderEpoch: -1, metadata: "", error: .unstableOffsetCommit)
            }
            guard let c = g?.offsets[tp] else {
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
        guard var g = groups[groupId], g.state != .dead else { return .failure(.groupIdNotFound) }
        if !g.isEmpty, g.protocolType != "consumer" { return .failure(.nonEmptyGroup) }
        let subscribed = g.isEmpty ? Set<String>() : g.subscribedTopics
        let errors = partitions.map { tp -> KafkaErrorCode in
            if let s = subscribed {
                if s.contains(tp.topic) { return .groupSubscribedToTopic }
            } else {
                return .groupSubscribedToTopic
            }
            g.offsets[tp] = nil
            return .noError
        }
        groups[groupId] = g
        return .partitions(errors)
    }

    /// DeleteTopics: committed offsets of the topic disappear from every group.
    mutating func removeOffsets(forTopic topic: String) {
        for id in groupIds {
            groups[id]!.offsets = groups[id]!.offsets.filter { $0.key.topic != topic }
        }
    }
}
