/// Group faults for tests and the simulation: a member's connections cut, its heartbeats
/// stalled for a window, errors pushed for one group's requests, and a read of a group's
/// state (`describeGroup`).

/// Which members of a group a fault applies to. Resolved when the fault acts, so `leader`
/// means whoever leads at that moment.
public enum FakeGroupMember: Sendable, Equatable, CustomStringConvertible {
    case all
    case leader
    case memberId(String)
    /// A static member (KIP-345), whatever member id it has now.
    case instanceId(String)

    public var description: String {
        switch self {
        case .all: return "all"
        case .leader: return "leader"
        case .memberId(let m): return "member \(m)"
        case .instanceId(let i): return "instance \(i)"
        }
    }
}

/// A group as the coordinator holds it right now, for assertions.
public struct FakeGroupSnapshot: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        /// The member's metadata for the selected protocol.
        public var metadata: [UInt8]
        /// What the leader assigned it in the current generation (empty until then).
        public var assignment: [UInt8]
        public var sessionTimeoutMs: Int32
        public var rebalanceTimeoutMs: Int32
    }

    public struct Offset: Sendable, Equatable {
        public var topicPartition: TopicPartition
        public var offset: Int64
        public var leaderEpoch: Int32
        public var metadata: String?
    }

    public var groupId: String
    /// Kafka's state names: Empty, PreparingRebalance, CompletingRebalance, Stable.
    public var state: String
    public var generationId: Int32
    public var protocolType: String?
    public var protocolName: String?
    public var leaderId: String?
    /// In join order.
    public var members: [Member]
    /// KIP-394 member ids handed out and not yet used, sorted.
    public var pendingMemberIds: [String]
    /// Committed offsets, ordered by partition.
    public var offsets: [Offset]
    /// Partitions with a transactional commit not yet completed.
    public var pendingTransactionalPartitions: [TopicPartition]
}

struct GroupFaultTable: Sendable {
    struct HeartbeatStall: Sendable, Equatable {
        var groupId: String
        var who: FakeGroupMember
        var until: Instant
        var drop: Bool
    }

    struct GroupError: Sendable, Equatable {
        var groupId: String
        var apiKey: ApiKey
        var remaining: Int
        var error: Int16
    }

    var stalls: [HeartbeatStall] = []
    var errors: [GroupError] = []
    /// The connection each member id last used (member ids are unique across groups).
    var memberConnections: [String: FakeConnectionID] = [:]

    mutating func takeError(_ key: ApiKey, groupId: String) -> Int16? {
        guard let i = errors.firstIndex(where: { $0.apiKey == key && $0.groupId == groupId }) else { return nil }
        let e = errors[i].error
        errors[i].remaining -= 1
        if errors[i].remaining <= 0 { errors.remove(at: i) }
        return e
    }
}

extension GroupCoordinator {
    /// Whether `memberId` (with `instanceId`) is one of `who` in the group right now.
    func matches(_ who: FakeGroupMember, groupId: String, memberId: String, instanceId: String?) -> Bool {
        switch who {
        case .all: return true
        case .memberId(let m): return m == memberId
        case .leader: return groups[groupId]?.leaderId == memberId && !memberId.isEmpty
        case .instanceId(let i):
            return instanceId == i || groups[groupId]?.memberId(forInstance: i) == memberId
                || consumerGroups[groupId]?.memberId(forInstance: i) == memberId
        }
    }

    /// The current member ids of `who`, in join order (a consumer group has no leader).
    func memberIds(_ who: FakeGroupMember, groupId: String) -> [String] {
        if let cg = consumerGroups[groupId] {
            return cg.orderedMembers.filter { matches(who, groupId: groupId, memberId: $0.memberId, instanceId: $0.instanceId) }
                .map(\.memberId)
        }
        guard let g = groups[groupId] else { return [] }
        return g.orderedMembers.map(\.memberId).filter {
            matches(who, groupId: groupId, memberId: $0, instanceId: g.member($0)?.groupInstanceId)
        }
    }
}

extension FakeCluster {
    /// The group's state, members (with assignments) and committed offsets; nil for a group
    /// the coordinator does not hold.
    public func describeGroup(_ groupId: String) -> FakeGroupSnapshot? {
        guard let g = state.groups.groups[groupId] else { return nil }
        let pendingTxn = Set(g.pendingTransactionalOffsets.values.flatMap(\.keys))
        return FakeGroupSnapshot(
            groupId: groupId, state: g.state.rawValue, generationId: g.generationId, protocolType: g.protocolType,
            protocolName: g.protocolName, leaderId: g.leaderId,
            members: g.orderedMembers.map {
                .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                      metadata: $0.metadata(for: g.protocolName), assignment: $0.assignment,
                      sessionTimeoutMs: $0.sessionTimeoutMs, rebalanceTimeoutMs: $0.rebalanceTimeoutMs)
            },
            pendingMemberIds: g.pendingMembers.keys.sorted(),
            offsets: g.offsets.keys.sorted().map { tp in
                let c = g.offsets[tp]!
                return .init(topicPartition: tp, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata)
            },
            pendingTransactionalPartitions: pendingTxn.sorted())
    }

    /// Closes the connections the chosen members last used (a member's client crashing or
    /// its network failing). The coordinator is not told: as on a real broker, the member
    /// stays until its session times out or it rejoins; a parked JoinGroup or SyncGroup
    /// answer for it is lost with the connection.
    public mutating func disconnectGroupMembers(_ groupId: String, _ who: FakeGroupMember, now: Instant) -> [FakeOutput] {
        var out: [FakeOutput] = []
        var seen: [FakeConnectionID] = []
        for m in state.groups.memberIds(who, groupId: groupId) {
            guard let c = groupFaults.memberConnections[m], !seen.contains(c) else { continue }
            seen.append(c)
            close(c, "fault: member \(m) of group \(groupId) disconnected", into: &out)
        }
        settle(now: now, into: &out)
        return out
    }

    /// Heartbeats (classic, or KIP-848 ConsumerGroupHeartbeat) of the chosen members
    /// (matched when each arrives) are held until `until`:
    /// then handled and answered (`drop` false: they arrive late, after the session may have
    /// expired), or never handled and their connection closed (`drop` true: lost with a
    /// broken connection). Later requests on that connection wait behind them, as on TCP.
    public mutating func stallHeartbeats(_ groupId: String, _ who: FakeGroupMember = .all, until: Instant, drop: Bool = false) {
        groupFaults.stalls.append(.init(groupId: groupId, who: who, until: until, drop: drop))
    }

    /// The next `count` requests of `apiKey` for group `groupId` (JoinGroup, SyncGroup,
    /// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, TxnOffsetCommit, ConsumerGroupHeartbeat,
    /// ConsumerGroupDescribe) are answered with
    /// `error`, on whichever broker they reach.
    public mutating func pushGroupError(_ groupId: String, _ apiKey: ApiKey, _ error: KafkaErrorCode, count: Int = 1) {
        groupFaults.errors.append(.init(groupId: groupId, apiKey: apiKey, remaining: count, error: error.rawValue))
    }

    // MARK: used by the handlers

    mutating func noteMember(_ memberId: String, _ ctx: RequestContext) {
        guard !memberId.isEmpty else { return }
        groupFaults.memberConnections[memberId] = ctx.connection
    }

    /// The stall that holds this heartbeat, if any (expired stalls are dropped here).
    mutating func heartbeatStall(_ r: HeartbeatRequest, instanceId: String?, now: Instant) -> GroupFaultTable.HeartbeatStall? {
        heartbeatStall(groupId: r.groupId, memberId: r.memberId, instanceId: instanceId, now: now)
    }

    /// Classic Heartbeat and KIP-848 ConsumerGroupHeartbeat alike.
    mutating func heartbeatStall(groupId: String, memberId: String, instanceId: String?, now: Instant) -> GroupFaultTable.HeartbeatStall? {
        groupFaults.stalls.removeAll { $0.until <= now }
        return groupFaults.stalls.first {
            $0.groupId == groupId && state.groups.matches($0.who, groupId: groupId, memberId: memberId, instanceId: instanceId)
        }
    }

    /// An error pushed for this request's group, consumed.
    mutating func takeGroupError(_ request: any KafkaRequest, _ key: ApiKey) -> Int16? {
        guard !groupFaults.errors.isEmpty, type(of: request).routing == .groupCoordinator,
              let group = request.routingKey else { return nil }
        return groupFaults.takeError(key, groupId: group)
    }
}
