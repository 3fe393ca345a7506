/// Committed offsets of KIP-848 consumer groups: the member epoch stands where the classic
/// protocol has the generation (OffsetCommit v9+, TxnOffsetCommit, OffsetFetch v9+).
extension GroupCoordinator {
    /// Kafka's ConsumerGroup.validateOffsetCommit: a commit with epoch < 0 is fine for a
    /// group without members (admin tools, manual assignment) — and, as for classic groups,
    /// a transactional commit without member fields; otherwise the member must exist
    /// (UNKNOWN_MEMBER_ID), commit with OffsetCommit v9+ (UNSUPPORTED_VERSION), and name its
    /// current member epoch (STALE_MEMBER_EPOCH; ILLEGAL_GENERATION for TxnOffsetCommit,
    /// which producers already handle as a fence of the group's generation). A classic member
    /// of the group commits with its member epoch as the generation, at any version, and a
    /// wrong one is ILLEGAL_GENERATION, as in a classic group.
    func consumerCommitError(_ g: ConsumerGroup, memberEpoch: Int32, memberId: String, transactional: Bool,
                             apiVersion: Int16) -> KafkaErrorCode? {
        if memberEpoch < 0, g.isEmpty { return nil }
        if memberEpoch < 0, memberId.isEmpty, transactional { return nil }
        guard let m = g.member(memberId) else { return .unknownMemberId }
        let classic = m.classic != nil
        if !transactional, !classic, apiVersion < 9 { return .unsupportedVersion }
        if memberEpoch != m.memberEpoch { return transactional || classic ? .illegalGeneration : .staleMemberEpoch }
        return nil
    }

    /// OffsetCommit (`transactional` nil) or TxnOffsetCommit (the producer id) to a consumer group.
    mutating func commitConsumerOffsets(groupId: String, memberEpoch: Int32, memberId: String, _ offsets: [OffsetToCommit],
                                        transactional producerId: Int64?, apiVersion: Int16, now: Instant) -> [KafkaErrorCode] {
        guard var g = consumerGroups[groupId] else { return offsets.map { _ in .groupIdNotFound } }
        if let e = consumerCommitError(g, memberEpoch: memberEpoch, memberId: memberId, transactional: producerId != nil,
                                       apiVersion: apiVersion) {
            return offsets.map { _ in e }
        }
        let errors = offsets.map { o -> KafkaErrorCode in
            if let md = o.metadata, md.utf8.count > config.maxOffsetMetadataBytes { return .offsetMetadataTooLarge }
            let c = CommittedOffset(offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata,
                                    commitTimestamp: now.milliseconds)
            if let producerId {
                g.pendingTransactionalOffsets[producerId, default: [:]][o.topicPartition] = c
            } else {
                g.offsets[o.topicPartition] = c
            }
            return .noError
        }
        consumerGroups[groupId] = g
        return errors
    }

    /// OffsetFetch v9+ from a member of a consumer group: epoch -1 (admin) passes; else the
    /// member must exist and name its current epoch. nil for other groups.
    func consumerFetchError(groupId: String, memberId: String?, memberEpoch: Int32) -> KafkaErrorCode? {
        guard let g = consumerGroups[groupId], memberEpoch != -1 else { return nil }
        guard let id = memberId, let m = g.member(id) else { return .unknownMemberId }
        return memberEpoch == m.memberEpoch ? nil : .staleMemberEpoch
    }

    /// OffsetDelete: any partition of an empty group; in a group with members, partitions
    /// of topics a member subscribes to answer GROUP_SUBSCRIBED_TO_TOPIC.
    mutating func deleteConsumerOffsets(groupId: String, _ partitions: [TopicPartition]) -> OffsetDeleteResult {
        guard var g = consumerGroups[groupId] else { return .failure(.groupIdNotFound) }
        let subscribed = g.isEmpty ? [] : Set(g.subscribedTopicNames).union(g.subscriptionMetadata.keys)
        let errors = Self.deleteUnsubscribed(partitions, subscribed: subscribed, from: &g.offsets)
        consumerGroups[groupId] = g
        return .partitions(errors)
    }

    /// Offsets retention for consumer groups: an empty group's offsets expire the retention
    /// after it became empty; a group with members keeps the offsets of subscribed topics and
    /// lets the others expire the retention after their commit. An empty group left with no
    /// offsets is removed.
    mutating func expireConsumerOffsets(now: Instant) {
        let nowMs = now.milliseconds, retention = config.offsetsRetentionMs
        for id in consumerGroups.keys.sorted() {
            var g = consumerGroups[id]!
            let keep = g.isEmpty ? Set<String>() : Set(g.subscribedTopicNames).union(g.subscriptionMetadata.keys)
            for tp in g.offsets.keys.sorted() {
                let c = g.offsets[tp]!
                guard !keep.contains(tp.topic), !g.hasPendingTransactionalOffset(tp) else { continue }
                let base = g.isEmpty ? g.stateSince.milliseconds : c.commitTimestamp
                if nowMs - base >= retention { g.offsets[tp] = nil }
            }
            if g.isEmpty, g.offsets.isEmpty, g.pendingTransactionalOffsets.isEmpty {
                consumerGroups[id] = nil
            } else {
                consumerGroups[id] = g
            }
        }
    }
}
