import KafkaProtocol
import KafkaStateMachines

/// A consumer group's settings (`KafkaGroupConsumer`). Times are `Duration`s; defaults follow
/// the Java client's where they make sense for a server.
public struct GroupConfiguration: Sendable {
    /// The group to join (`group.id`).
    public var groupId: String
    /// KIP-345 static membership: a stable id per instance (e.g. the pod name). A static
    /// member does not leave the group on close, so a restart within the session timeout
    /// keeps its partitions without a rebalance.
    public var instanceId: String?
    /// Topics to consume by name.
    public var topics: [String]
    /// Whole-name regular expressions (Swift Regex syntax); matching topics created later
    /// join the subscription at a metadata refresh.
    public var patterns: [String] = []
    /// Whole-name regular expressions of topics to leave out of `patterns`' matches.
    public var excluding: [String] = []
    /// The membership protocol; nothing else changes with it (events, commits, callbacks and
    /// `run()` behave the same).
    ///
    /// - `.classic` (the default): JoinGroup / SyncGroup / Heartbeat. Works with every broker
    ///   (0.9+) and in groups shared with members of other clients speaking it; one member
    ///   runs `balancers` for everyone, and a rebalance makes every member rejoin.
    /// - `.consumer` (KIP-848): ConsumerGroupHeartbeat. The coordinator computes the
    ///   assignment (`serverAssignor`) and moves partitions one by one, so members never stop
    ///   together and a member joining or leaving disturbs only the partitions that move.
    ///   Needs Kafka 4.0+ (or 3.7-3.9 with the protocol enabled on the broker): on a broker
    ///   without it the membership fails with `GroupError.groupProtocolUnsupported` rather than
    ///   falling back. `balancers` and `sessionTimeout` are the classic protocol's (the broker's
    ///   `group.consumer.session.timeout.ms` governs; here `sessionTimeout` only bounds how long
    ///   the member keeps its partitions with no heartbeat answered), and the heartbeat interval
    ///   is the coordinator's. Choose it for large or often-changing groups on a new broker.
    public var groupProtocol: GroupProtocol = .classic
    /// Consumer protocol only: the coordinator's assignor, `uniform` or `range` (a broker may
    /// offer others); nil uses the group's default.
    public var serverAssignor: String?
    /// In preference order; the group uses the first every member supports (classic protocol).
    /// Built in: `CooperativeStickyBalancer` (the default), `StickyBalancer`,
    /// `RangeBalancer`, `RoundRobinBalancer`.
    public var balancers: [any GroupBalancer] = [CooperativeStickyBalancer()]
    /// How long the coordinator keeps a member that sends no heartbeat (classic protocol).
    public var sessionTimeout: Duration = .seconds(45)
    /// How long the coordinator waits for every member to rejoin in a rebalance.
    public var rebalanceTimeout: Duration = .seconds(60)
    /// How often the member heartbeats (classic protocol; the coordinator sets it under KIP-848).
    public var heartbeatInterval: Duration = .seconds(3)
    /// How often what was consumed is committed; nil: only explicit `commit` calls.
    public var autocommitInterval: Duration? = .seconds(5)
    /// Commit what was consumed of partitions before giving them up in a rebalance.
    public var commitOnRevoke = true
    /// Where a partition with no committed offset starts.
    public var startWithoutCommit: StartOffset = .start
    /// KIP-447: wait for pending transactional offset commits when reading committed offsets.
    public var requireStableOffsets = true
    /// KIP-881: this member's rack, sent with its subscription (rack-aware range).
    public var rack: String?
    /// Called when partitions are being given up, before their commit: finish and commit
    /// their work here. The rebalance waits for it (up to `revocationTimeout`).
    public var onRevoked: (@Sendable ([TopicPartition]) async -> Void)?
    /// Called (not awaited) when partitions are assigned, with fetching starting at their
    /// committed offsets; and when partitions were lost (taken away without a commit).
    public var onAssigned: (@Sendable ([TopicPartition]) -> Void)?
    /// Called (not awaited) when partitions were lost: taken away without a chance to commit
    /// (the membership was fenced or timed out). Their work may be another member's now.
    public var onLost: (@Sendable ([TopicPartition]) -> Void)?
    /// How long a revocation waits for `onRevoked` and for the records last taken of the
    /// partitions to be finished (the next poll, or the next iteration of `records()`).
    public var revocationTimeout: Duration = .seconds(30)

    /// Set by KafkaTransactSession: offsets are committed only inside transactions.
    var transactional = false

    /// A group subscribed to `topics`, with the defaults of every other setting.
    public init(groupId: String, topics: [String]) {
        self.groupId = groupId
        self.topics = topics
    }

    /// The engine's form.
    var engineConfig: GroupConfig {
        var c = GroupConfig(groupId: groupId, instanceId: instanceId,
                            subscription: TopicSubscription(topics: topics, patterns: patterns, exclusions: excluding),
                            balancers: balancers)
        c.sessionTimeout = Interval(sessionTimeout)
        c.rebalanceTimeout = Interval(rebalanceTimeout)
        c.heartbeatInterval = Interval(heartbeatInterval)
        c.autocommitInterval = autocommitInterval.map { Interval($0) }
        c.commitOnRevoke = commitOnRevoke
        c.noCommitStart = startWithoutCommit
        c.requireStable = requireStableOffsets
        c.rack = rack
        c.transactional = transactional
        c.groupProtocol = groupProtocol
        c.serverAssignor = serverAssignor
        return c
    }

    /// Checks every setting; the first problem as a typed error.
    public func validate() throws(KafkaConfigurationError) {
        if let bad = TopicSubscription.invalidPattern(in: patterns + excluding) {
            throw .invalidSetting("group pattern \(bad.pattern)", "does not compile: \(bad.reason)")
        }
        for d in [sessionTimeout, rebalanceTimeout, heartbeatInterval, revocationTimeout] where d <= .zero {
            throw .invalidSetting("group timeouts and intervals", "must be positive (got \(d))")
        }
        if let a = autocommitInterval, a <= .zero { throw .invalidSetting("autocommitInterval", "must be positive, or nil for no autocommit") }
        if let reason = engineConfig.invalidReason() { throw .invalidSetting("group", reason) }
    }
}

/// What happens to the membership, in order (`KafkaGroupConsumer.events`).
public enum GroupConsumerEvent: Sendable, CustomStringConvertible {
    case joined(memberId: String, generation: Int32, leader: Bool, protocolName: String)
    /// Consuming these now, from their committed offsets.
    case assigned([TopicPartition])
    /// Given up in a rebalance (after `onRevoked`, with their consumed offsets committed).
    case revoked([TopicPartition])
    /// Taken away without a chance to commit (the membership was fenced or timed out).
    case lost([TopicPartition])
    /// An automatic commit (or one on revoke) failed.
    case commitFailed(CommitReport)
    case warning(String)
    /// The membership ended for good (`run()` throws it).
    case failed(GroupError)

    /// One line for logs: the event and the partitions it names.
    public var description: String {
        func list(_ p: [TopicPartition]) -> String { p.map { "\($0.topic)/\($0.partition)" }.joined(separator: ",") }
        switch self {
        case .joined(let m, let g, let l, let p): return "joined \(m) generation \(g)\(l ? " (leader)" : "") \(p)"
        case .assigned(let p): return "assigned \(list(p))"
        case .revoked(let p): return "revoked \(list(p))"
        case .lost(let p): return "lost \(list(p))"
        case .commitFailed(let r): return "commit failed: \(r.error.map { "\($0)" } ?? "\(r.failed.count) partitions")"
        case .warning(let w): return "warning: \(w)"
        case .failed(let e): return "failed: \(e)"
        }
    }
}
