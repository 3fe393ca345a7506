/// One KIP-848 "consumer" group as the coordinator holds it: the group epoch, the target
/// assignment computed at that epoch, and each member's reconciliation towards it (member
/// epoch, previous epoch, the partitions it may use, those it must still revoke), plus the
/// group's committed offsets.
///
/// Members are kept in a MemberTable (join order); every walk goes through it or sorted
/// keys, so nothing depends on hashing. Partition sets are
/// `Set`s but are only ever compared, or sorted before they are walked.
struct ConsumerGroup: Sendable, Equatable {
    /// Kafka's ConsumerGroupState names. Assigning never shows here: the target assignment
    /// is computed in the same step that bumps the group epoch.
    enum State: String, Sendable, Equatable {
        case empty = "Empty", assigning = "Assigning", reconciling = "Reconciling", stable = "Stable"
    }

    /// Kafka's MemberState of the reconciliation.
    enum MemberState: String, Sendable, Equatable {
        case stable = "Stable", unrevokedPartitions = "UnrevokedPartitions"
        case unreleasedPartitions = "UnreleasedPartitions"
    }

    struct Member: Sendable, Equatable {
        var memberId: String
        var instanceId: String?
        var rackId: String?
        var clientId: String
        var clientHost: String
        var subscribedTopicNames: [String] = []
        var subscribedTopicRegex: String?
        /// The assignor this member asked for (nil: none).
        var serverAssignor: String?
        var rebalanceTimeoutMs: Int32
        /// 0 until the member first reconciles; -2 after a static member left temporarily.
        var memberEpoch: Int32 = 0
        var previousMemberEpoch: Int32 = 0
        /// The partitions the member may use (given to it, none owned by anyone else).
        var assigned: Set<TopicIdPartition> = []
        /// Partitions the member was asked to give up and has not yet acknowledged.
        var pendingRevocation: Set<TopicIdPartition> = []
        var lastHeartbeat: Instant
        /// Set when the member is asked to revoke: it is fenced if still revoking then.
        var revocationDeadline: Instant?
        /// Set for a classic member of this consumer group (KIP-848 online migration): it
        /// speaks JoinGroup / SyncGroup / Heartbeat / LeaveGroup, not ConsumerGroupHeartbeat.
        var classic: ClassicProtocol?

        var isLeavingStatic: Bool { memberEpoch == ConsumerGroup.leaveStaticEpoch }
    }

    /// What a classic member of a consumer group keeps of its JoinGroup.
    struct ClassicProtocol: Sendable, Equatable {
        var sessionTimeoutMs: Int32
        /// In the member's order of preference; "consumer" protocol type only.
        var protocols: [ClassicGroup.GroupProtocol]
    }

    static let leaveEpoch: Int32 = -1
    static let leaveStaticEpoch: Int32 = -2

    let groupId: String
    var groupEpoch: Int32 = 0
    /// The epoch of `targetAssignment` (always the group epoch once a heartbeat is done).
    var assignmentEpoch: Int32 = 0
    private var table = MemberTable<Member>()
    var members: [String: Member] { table.byId }
    /// member id → the partitions the assignor gave it at `assignmentEpoch`.
    var targetAssignment: [String: Set<TopicIdPartition>] = [:]
    /// The subscribed topics that exist, as the target assignment saw them: a change (a
    /// topic created or deleted, partitions added) bumps the group epoch.
    var subscriptionMetadata: [String: TopicImage.Topic] = [:]
    /// The server assignor the target assignment was computed with.
    var assignorName: String = ServerAssignor.uniform.rawValue

    var offsets: [TopicPartition: ClassicGroup.CommittedOffset] = [:]
    var pendingTransactionalOffsets: [Int64: [TopicPartition: ClassicGroup.CommittedOffset]] = [:]
    /// When the group last became Empty or non-empty (offsets of an Empty group expire from then).
    var stateSince: Instant = .zero

    init(groupId: String) { self.groupId = groupId }

    var orderedMembers: [Member] { table.ordered }
    var isEmpty: Bool { members.isEmpty }
    func member(_ id: String) -> Member? { members[id] }
    func memberId(forInstance instanceId: String) -> String? { table.byInstance[instanceId] }

    var state: State {
        if members.isEmpty { return .empty }
        if assignmentEpoch != groupEpoch { return .assigning }
        for m in orderedMembers where memberState(m) != .stable || m.memberEpoch != assignmentEpoch {
            return .reconciling
        }
        return .stable
    }

    func memberState(_ m: Member) -> MemberState {
        if !m.pendingRevocation.isEmpty { return .unrevokedPartitions }
        if m.assigned != (targetAssignment[m.memberId] ?? []) { return .unreleasedPartitions }
        return .stable
    }

    // MARK: membership edits

    mutating func add(_ m: Member, now: Instant) {
        if members.isEmpty { stateSince = now }
        table.put(m, id: m.memberId, instance: m.instanceId)
    }

    mutating func update(_ id: String, _ body: (inout Member) -> Void) {
        table.update(id, body)
    }

    @discardableResult
    mutating func remove(_ id: String, now: Instant) -> Member? {
        guard let m = table.remove(id, instance: \.instanceId) else { return nil }
        targetAssignment[id] = nil
        if members.isEmpty { stateSince = now }
        return m
    }

    /// A static member rejoining under another member id takes over the old record: its
    /// assignment, its target and its place in the join order.
    mutating func replaceStatic(oldId: String, with newId: String) {
        guard table.move(oldId, to: newId, instance: \.instanceId, { $0.memberId = newId }) != nil else { return }
        if let t = targetAssignment.removeValue(forKey: oldId) { targetAssignment[newId] = t }
    }

    /// Who holds each partition right now (assigned or still revoking).
    var currentOwners: [TopicIdPartition: String] {
        var owners: [TopicIdPartition: String] = [:]
        for m in orderedMembers {
            for tp in m.assigned { owners[tp] = m.memberId }
            for tp in m.pendingRevocation { owners[tp] = m.memberId }
        }
        return owners
    }

    // MARK: subscriptions

    /// The topics a member subscribes to that exist: its names plus what its regex matches
    /// (a whole-name match, internal topics left out), in name order.
    static func subscribedTopics(_ m: Member, image: TopicImage) -> [String] {
        var names = Set(m.subscribedTopicNames.filter { image.byName[$0] != nil })
        if let pattern = m.subscribedTopicRegex, let regex = TopicRegex(pattern) {
            for name in image.names where !image.isInternal(name) && regex.matches(name) { names.insert(name) }
        }
        return names.sorted()
    }

    /// The existing topics any member subscribes to, as `image` describes them.
    func subscriptionMetadata(image: TopicImage) -> [String: TopicImage.Topic] {
        var out: [String: TopicImage.Topic] = [:]
        for m in orderedMembers {
            for name in Self.subscribedTopics(m, image: image) { out[name] = image.byName[name] }
        }
        return out
    }

    /// Every topic name the members subscribe to (existing or not), sorted.
    var subscribedTopicNames: [String] {
        Set(orderedMembers.flatMap(\.subscribedTopicNames)).sorted()
    }

    /// The assignor most members asked for; the default (uniform) when none asked or on a
    /// tie with it, else the tie goes to the name first in order.
    var preferredAssignor: String {
        var counts: [String: Int] = [:]
        for m in orderedMembers { if let a = m.serverAssignor { counts[a, default: 0] += 1 } }
        guard let best = counts.values.max() else { return ServerAssignor.uniform.rawValue }
        if counts[ServerAssignor.uniform.rawValue] == best { return ServerAssignor.uniform.rawValue }
        return counts.keys.sorted().first { counts[$0] == best }!
    }

    func hasPendingTransactionalOffset(_ tp: TopicPartition) -> Bool {
        pendingTransactionalOffsets.values.contains { $0[tp] != nil }
    }

    // MARK: classic members (KIP-848 online migration)

    /// Every member but `except` is a classic member (and there is at least one).
    func onlyClassicMembers(except: String) -> Bool {
        let rest = orderedMembers.filter { $0.memberId != except }
        return !rest.isEmpty && rest.allSatisfy { $0.classic != nil }
    }

    /// The protocol names every classic member but `excluding` supports; nil when there is
    /// no such member.
    func classicCommonProtocols(excluding: String) -> Set<String>? {
        var common: Set<String>?
        for m in orderedMembers where m.memberId != excluding {
            guard let c = m.classic else { continue }
            let names = Set(c.protocols.map(\.name))
            common = common.map { $0.intersection(names) } ?? names
        }
        return common
    }

    /// Partitions of the member's target that another member still holds: it waits for them.
    func unreleased(_ m: Member) -> Set<TopicIdPartition> {
        let missing = (targetAssignment[m.memberId] ?? []).subtracting(m.assigned)
        guard !missing.isEmpty else { return [] }
        let owners = currentOwners
        return missing.filter { owners[$0] != nil && owners[$0] != m.memberId }
    }
}

/// A partition named by topic id, as KIP-848 assignments are.
struct TopicIdPartition: Hashable, Comparable, Sendable {
    var topicId: KafkaUUID
    var partition: Int32
    static func < (a: Self, b: Self) -> Bool { (a.topicId, a.partition) < (b.topicId, b.partition) }
}

/// The topics as the group coordinator sees them: names, ids and partition counts.
struct TopicImage: Sendable, Equatable {
    struct Topic: Sendable, Equatable {
        var name: String
        var id: KafkaUUID
        var partitions: Int32
        var isInternal: Bool = false
    }

    var byName: [String: Topic] = [:]
    /// Sorted.
    private(set) var names: [String] = []
    private var nameById: [KafkaUUID: String] = [:]

    init(_ topics: [Topic] = []) {
        for t in topics {
            byName[t.name] = t
            nameById[t.id] = t.name
        }
        names = byName.keys.sorted()
    }

    func topic(id: KafkaUUID) -> Topic? { nameById[id].flatMap { byName[$0] } }

    /// The id form of a named partition; nil for a topic or partition that does not exist.
    func partitionId(_ tp: TopicPartition) -> TopicIdPartition? {
        guard let t = byName[tp.topic], tp.partition >= 0, tp.partition < t.partitions else { return nil }
        return TopicIdPartition(topicId: t.id, partition: tp.partition)
    }

    /// The named form of a partition; nil for a topic id that does not exist.
    func partitionName(_ tp: TopicIdPartition) -> TopicPartition? {
        topic(id: tp.topicId).map { TopicPartition($0.name, tp.partition) }
    }
    func isInternal(_ name: String) -> Bool { byName[name]?.isInternal ?? false }
}

/// A subscription regex: Kafka uses RE2/J and whole-name matching; here Swift's Regex,
/// whose syntax covers what RE2 offers for topic names (classes, alternation, repetition).
struct TopicRegex {
    private let regex: Regex<AnyRegexOutput>

    init?(_ pattern: String) {
        guard let r = try? Regex(pattern) else { return nil }
        regex = r
    }

    func matches(_ name: String) -> Bool { (try? regex.wholeMatch(in: name)) != nil }
}
