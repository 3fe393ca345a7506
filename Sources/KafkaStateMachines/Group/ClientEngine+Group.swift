import KafkaProtocol

/// The engine's group consumer inputs: the group member (a component,
/// GroupMember+Component.swift) runs after each of them.
extension ClientEngine {
    /// Joins a group and consumes what it assigns. One group per client.
    mutating func joinGroup(_ config: GroupConfig, now: Instant) {
        if let reason = config.invalidReason() {
            actions.append(.group(.failed(.invalidConfiguration(reason))))
            return
        }
        if let g = group, g.isActive {
            actions.append(.group(.failed(.invalidConfiguration("already a member of group \(g.config.groupId); leave it first"))))
            return
        }
        group = GroupMember(config, seed: rng.next())
        runComponent(.group, now: now)
    }

    mutating func leaveGroup(_ promise: PromiseID, now: Instant) {
        guard group != nil else {
            actions.append(.group(.left(promise)))
            return
        }
        group!.leave(promise, now: now)
        runComponent(.group, now: now)
    }

    mutating func commitOffsets(_ offsets: [TopicPartition: CommitPosition]?, promise: PromiseID, now: Instant) {
        guard group != nil else {
            actions.append(.group(.committed(CommitReport(promise: promise, offsets: offsets ?? [:], failed: (offsets ?? [:]).mapValues { _ in .notInGroup }, error: .notInGroup))))
            return
        }
        group!.commit(offsets, promise: promise, now: now)
        runComponent(.group, now: now)
    }

    mutating func groupConsumed(_ positions: [TopicPartition: CommitPosition], now: Instant) {
        group?.noteConsumed(positions)
    }

    mutating func groupRevocationHandled(_ id: UInt64, now: Instant) {
        guard group != nil else { return }
        group!.revocationHandled(id)
        runComponent(.group, now: now)
    }

    /// The group member's state, read-only.
    public var groupState: GroupMember? { group }
}
