import KafkaProtocol

/// Which membership protocol a group member speaks.
public enum GroupProtocol: String, Sendable, Equatable, CaseIterable {
    /// JoinGroup / SyncGroup / Heartbeat / LeaveGroup: every broker since 0.9; the group's
    /// leader member runs the balancer (`GroupConfig.balancers`).
    case classic
    /// KIP-848's ConsumerGroupHeartbeat: the coordinator assigns (its `serverAssignor`),
    /// partitions move one by one without stopping the group. Kafka 4.0+ (3.7-3.9 with the
    /// protocol enabled on the broker).
    case consumer
}

/// A consumer group membership, in the engine's units (the public GroupConfiguration in
/// KafkaIO derives it). Classic protocol: JoinGroup / SyncGroup / Heartbeat / LeaveGroup;
/// consumer protocol (KIP-848): ConsumerGroupHeartbeat (GroupMember+ConsumerProtocol).
package struct GroupConfig: Sendable, Equatable {
    package var groupId: String
    /// KIP-345 static membership: this member's group.instance.id.
    package var instanceId: String?
    /// Topics by name and by pattern (patterns need every topic's metadata).
    package var subscription: TopicSubscription
    /// In preference order; the coordinator picks the first every member supports (classic
    /// protocol only: the consumer protocol's coordinator assigns).
    package var balancers: [any GroupBalancer]
    /// The membership protocol.
    package var groupProtocol: GroupProtocol = .classic
    /// Consumer protocol only: the coordinator's assignor to use (`uniform`, `range`); nil:
    /// the group's default.
    package var serverAssignor: String?
    package var sessionTimeout: Interval = .seconds(45)
    /// KIP-62: how long the coordinator waits for members to rejoin in a rebalance.
    package var rebalanceTimeout: Interval = .seconds(60)
    package var heartbeatInterval: Interval = .seconds(3)
    /// nil: no automatic commits.
    package var autocommitInterval: Interval? = .seconds(5)
    /// Commit what was consumed of partitions given up, before giving them up.
    package var commitOnRevoke = true
    /// Where a partition with no committed offset starts.
    package var noCommitStart: StartOffset = .start
    /// KIP-447: OffsetFetch waits for pending transactional commits.
    package var requireStable = true
    /// KIP-881: this member's rack, sent in its subscription.
    package var rack: String?
    /// A group transact session: offsets are committed only inside the producer's
    /// transactions (no autocommit, no commit on revoke or leave); a revocation or loss while
    /// a transaction is open makes it abort, and an aborted transaction rewinds the owned
    /// partitions to their committed offsets.
    package var transactional = false
    /// Retries of failed joins, offset fetches and commits.
    package var retryBackoff = BackoffPolicy(initialInterval: .milliseconds(100), maxInterval: .seconds(1), jitter: 0.2)

    package init(groupId: String, instanceId: String? = nil, subscription: TopicSubscription, balancers: [any GroupBalancer]) {
        self.groupId = groupId
        self.instanceId = instanceId
        self.subscription = subscription
        self.balancers = balancers
    }

    package static func == (a: GroupConfig, b: GroupConfig) -> Bool {
        a.groupId == b.groupId && a.instanceId == b.instanceId && a.subscription == b.subscription
            && a.balancers.map(\.protocolName) == b.balancers.map(\.protocolName)
            && a.balancers.map(\.isCooperative) == b.balancers.map(\.isCooperative)
            && a.sessionTimeout == b.sessionTimeout && a.rebalanceTimeout == b.rebalanceTimeout
            && a.heartbeatInterval == b.heartbeatInterval && a.autocommitInterval == b.autocommitInterval
            && a.commitOnRevoke == b.commitOnRevoke && a.noCommitStart == b.noCommitStart
            && a.requireStable == b.requireStable && a.rack == b.rack && a.retryBackoff == b.retryBackoff
            && a.transactional == b.transactional
            && a.groupProtocol == b.groupProtocol && a.serverAssignor == b.serverAssignor
    }

    /// The first problem with these settings, or nil.
    package func invalidReason() -> String? {
        if groupId.isEmpty { return "the group id is empty" }
        if let i = instanceId, i.isEmpty { return "the instance id is empty (leave it nil for a dynamic member)" }
        if subscription.isEmpty { return "the group subscribes to no topics and no patterns" }
        if groupProtocol == .classic && balancers.isEmpty { return "no balancers" }
        if groupProtocol == .classic && serverAssignor != nil { return "a server assignor is for the consumer group protocol; the classic protocol uses balancers" }
        if let a = serverAssignor, a.isEmpty { return "the server assignor is empty (leave it nil for the group's default)" }
        var names = Set<String>()
        for b in balancers where !names.insert(b.protocolName).inserted { return "balancer \(b.protocolName) listed twice" }
        if balancers.contains(where: { $0.protocolName.isEmpty }) { return "a balancer has an empty protocol name" }
        if heartbeatInterval >= sessionTimeout { return "the heartbeat interval must be below the session timeout" }
        if sessionTimeout.nanoseconds / 1_000_000 > UInt64(Int32.max) { return "the session timeout is too long" }
        if rebalanceTimeout.nanoseconds / 1_000_000 > UInt64(Int32.max) { return "the rebalance timeout is too long" }
        if let a = autocommitInterval, a == .zero { return "the autocommit interval is zero (use nil to turn it off)" }
        if transactional && (autocommitInterval != nil || commitOnRevoke) {
            return "a transactional group commits only inside transactions: autocommit and commit on revoke must be off"
        }
        return nil
    }
}

/// A position to commit: the next offset to consume, and the leader epoch of the last
/// record consumed (KIP-320; -1 unknown).
public struct CommitPosition: Sendable, Equatable, CustomStringConvertible {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String?

    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = nil) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }

    public var description: String { leaderEpoch >= 0 ? "\(offset)@\(leaderEpoch)" : "\(offset)" }
}
