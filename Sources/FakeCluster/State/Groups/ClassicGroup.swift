/// One classic-protocol consumer group as the coordinator holds it: its state machine
/// position, members (dynamic and static), the generation's protocol and leader, and
/// committed offsets (including transactional offsets not yet committed).
///
/// Members are kept in a MemberTable (join order), and every walk goes through its order,
/// so leader choice and response order never depend on hashing.
struct ClassicGroup: Sendable, Equatable {
    enum State: String, Sendable, Equatable, CaseIterable {
        case empty = "Empty", preparingRebalance = "PreparingRebalance"
        case completingRebalance = "CompletingRebalance", stable = "Stable", dead = "Dead"
    }

    struct GroupProtocol: Equatable, Sendable {
        var name: String
        var metadata: [UInt8]
    }

    struct Member: Equatable, Sendable {
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var sessionTimeoutMs: Int32
        var rebalanceTimeoutMs: Int32
        var protocolType: String
        /// In the member's order of preference.
        var protocols: [GroupProtocol]
        var assignment: [UInt8] = []
        var lastHeartbeat: Instant
        /// A JoinGroup waiting for the join phase to end.
        var joinToken: ParkedToken?
        /// A SyncGroup waiting for the leader's assignment.
        var syncToken: ParkedToken?

        func metadata(for protocolName: String?) -> [UInt8] {
            protocols.first { $0.name == protocolName }?.metadata ?? []
        }

        var sessionDeadline: Instant { lastHeartbeat.adding(milliseconds: Int64(sessionTimeoutMs)) }
    }

    struct CommittedOffset: Equatable, Sendable {
        var offset: Int64
        var leaderEpoch: Int32 = -1
        var metadata: String? = ""
        var commitTimestamp: Int64 = -1
        /// OffsetCommit v2-v4 with an explicit retention_time_ms: the offset expires at this
        /// millisecond whatever the group does (Kafka's pre-KIP-211 semantics). nil: the group's
        /// retention rules apply.
        var expireTimestamp: Int64? = nil
    }

    let groupId: String
    var state: State = .empty
    var protocolType: String?
    var protocolName: String?
    var generationId: Int32 = 0
    var leaderId: String?
    private var table = MemberTable<Member>()
    var members: [String: Member] { table.byId }
    /// KIP-394: ids handed out with MEMBER_ID_REQUIRED, valid until their deadline.
    var pendingMembers: [String: Instant] = [:]
    var rebalanceDeadline: Instant?

    /// group.initial.rebalance.delay.ms (Kafka's InitialDelayedJoin): a rebalance out of Empty
    /// never completes early; at `deadline`, if a new member joined meanwhile (generation 0
    /// only) and `remainingMs` is left, it waits min(delay, remaining) more, else it completes.
    struct InitialDelay: Equatable, Sendable {
        var deadline: Instant
        var delayMs: Int64
        var remainingMs: Int64
    }

    var initialDelay: InitialDelay?
    /// A member was added while PreparingRebalance at generation 0 (extends the initial delay).
    var newMemberAdded = false
    /// Members of the current generation that have not sent SyncGroup yet, in join order. At
    /// `syncDeadline` (the rebalance timeout after the join phase ended) those still here are
    /// removed and the group rebalances — in CompletingRebalance or Stable (Kafka's DelayedSync).
    var pendingSync: [String] = []
    var syncDeadline: Instant?
    /// When the group last changed state (Kafka's currentStateTimestamp): an Empty group's
    /// offsets expire offsets.retention.minutes after it.
    private(set) var stateSince: Instant = .zero

    mutating func transition(to s: State, now: Instant) {
        state = s
        stateSince = now
    }

    /// What the coordinator last wrote to __consumer_offsets (on reaching Stable or
    /// Empty): a coordinator that takes the group over starts from this.
    struct PersistedState: Equatable, Sendable {
        var state: State
        var protocolType: String?
        var protocolName: String?
        var generationId: Int32
        var leaderId: String?
        var stateSince: Instant
        var members: [Member]
    }

    private(set) var persisted: PersistedState?

    mutating func persist() {
        persisted = PersistedState(state: state, protocolType: protocolType, protocolName: protocolName,
                                   generationId: generationId, leaderId: leaderId, stateSince: stateSince,
                                   members: orderedMembers.map { m in
                                       var m = m
                                       m.joinToken = nil
                                       m.syncToken = nil
                                       return m
                                   })
    }

    /// The group as a new coordinator loads it: the persisted generation (members' session
    /// timers restarting at `now`) and the committed offsets; nothing in flight survives.
    func reloaded(now: Instant) -> ClassicGroup {
        var g = ClassicGroup(groupId: groupId)
        g.offsets = offsets
        g.pendingTransactionalOffsets = pendingTransactionalOffsets
        g.stateSince = stateSince
        guard let p = persisted else { return g }
        g.state = p.state
        g.stateSince = p.stateSince
        g.protocolType = p.protocolType
        g.protocolName = p.protocolName
        g.generationId = p.generationId
        g.leaderId = p.leaderId
        for var m in p.members {
            m.lastHeartbeat = now
            g.add(m)
        }
        g.persisted = p
        return g
    }

    var offsets: [TopicPartition: CommittedOffset] = [:]
    /// producer id → offsets written by TxnOffsetCommit, applied when the transaction commits.
    var pendingTransactionalOffsets: [Int64: [TopicPartition: CommittedOffset]] = [:]

    init(groupId: String) { self.groupId = groupId }

    var orderedMembers: [Member] { table.ordered }
    /// The earliest session deadline of the members not held in a join or a sync.
    var earliestSessionDeadline: Instant? { table.earliest { $0.joinToken == nil && $0.syncToken == nil ? $0.sessionDeadline : nil } }
    var isEmpty: Bool { members.isEmpty }
    func member(_ id: String) -> Member? { members[id] }
    /// group.instance.id → current member id.
    func memberId(forInstance instanceId: String) -> String? { table.byInstance[instanceId] }

    // MARK: membership edits

    mutating func add(_ m: Member) {
        table.put(m, id: m.memberId, instance: m.groupInstanceId)
    }

    mutating func update(_ id: String, _ body: (inout Member) -> Void) {
        table.update(id, body)
    }

    @discardableResult
    mutating func remove(_ id: String) -> Member? {
        guard let m = table.remove(id, instance: \.groupInstanceId) else { return nil }
        pendingSync.removeAll { $0 == id }
        if leaderId == id { leaderId = nil }
        return m
    }

    /// A static member rejoining under a new id: the record (assignment included) moves to
    /// the new id in place; the old id is gone (and fenced by the instance mapping). As in
    /// Kafka, a pending SyncGroup stays recorded under the old id (so the sync timeout then
    /// rebalances the group).
    mutating func replaceStatic(oldId: String, newId: String) -> Member {
        let m = table.move(oldId, to: newId, instance: \.groupInstanceId) { m in
            m.memberId = newId
            m.joinToken = nil
            m.syncToken = nil
        }!
        if leaderId == oldId { leaderId = newId }
        return m
    }

    // MARK: protocol

    /// Protocol names every member supports; empty group → nil (anything goes).
    var commonProtocols: Set<String>? {
        guard let first = orderedMembers.first else { return nil }
        var common = Set(first.protocols.map(\.name))
        for m in orderedMembers.dropFirst() { common.formIntersection(m.protocols.map(\.name)) }
        return common
    }

    /// A join is compatible when the group is empty, or the protocol type matches and at
    /// least one offered protocol is supported by every current member.
    func accepts(protocolType: String, protocols: [GroupProtocol], excluding memberId: String? = nil) -> Bool {
        guard !protocols.isEmpty, !protocolType.isEmpty else { return false }
        let others = table.order.filter { $0 != memberId }
        guard let first = others.first else { return true }
        guard members[first]!.protocolType == protocolType else { return false }
        var common = Set(members[others[0]]!.protocols.map(\.name))
        for id in others.dropFirst() { common.formIntersection(members[id]!.protocols.map(\.name)) }
        return protocols.contains { common.contains($0.name) }
    }

    /// Each member votes for its most preferred protocol among those all support; the most
    /// votes wins, ties going to the earlier choice of the longest-standing member.
    func selectProtocol() -> String? {
        guard let common = commonProtocols, !common.isEmpty else { return nil }
        var votes: [String: Int] = [:]
        for m in orderedMembers {
            if let choice = m.protocols.first(where: { common.contains($0.name) }) { votes[choice.name, default: 0] += 1 }
        }
        let preference = orderedMembers[0].protocols.map(\.name).filter { common.contains($0) }
        return preference.max { a, b in
            let va = votes[a] ?? 0, vb = votes[b] ?? 0
            if va != vb { return va < vb }
            // Earlier in the preference list wins a tie: treat it as "larger".
            return preference.firstIndex(of: a)! > preference.firstIndex(of: b)!
        }
    }

    var maxRebalanceTimeoutMs: Int32 { orderedMembers.map(\.rebalanceTimeoutMs).max() ?? 0 }

    // MARK: consumer protocol

    /// Topics named in a "consumer" protocol subscription (ConsumerProtocolSubscription:
    /// version int16, then an array of int16-length strings; later fields are ignored).
    /// nil when the bytes do not parse.
    static func subscribedTopics(_ metadata: [UInt8]) -> [String]? {
        var r = ByteReader(metadata)
        do {
            _ = try r.readInt16("version")
            let n = try r.readInt32("topics")
            guard n >= 0, Int(n) <= metadata.count else { return nil }
            var topics: [String] = []
            for _ in 0 ..< n { topics.append(try r.readString(compact: false, "topic")) }
            return topics
        } catch {
            return nil
        }
    }

    /// The union of members' subscribed topics, or nil when unknown (not a consumer group
    /// or unparseable metadata) — callers must then assume every topic is subscribed.
    var subscribedTopics: Set<String>? {
        guard protocolType == "consumer", let name = protocolName else { return nil }
        var all = Set<String>()
        for m in orderedMembers {
            guard let topics = Self.subscribedTopics(m.metadata(for: name)) else { return nil }
            all.formUnion(topics)
        }
        return all
    }

    func hasPendingTransactionalOffset(_ tp: TopicPartition) -> Bool {
        pendingTransactionalOffsets.values.contains { $0[tp] != nil }
    }
}

/// A handle on a request whose response the coordinator holds back (JoinGroup until the
/// join phase ends, SyncGroup until the leader assigns). Tokens increase monotonically.
struct ParkedToken: Hashable, Comparable, Sendable {
    var value: UInt64
    static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}
