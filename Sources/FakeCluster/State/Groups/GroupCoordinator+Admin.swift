/// DescribeGroups, ListGroups and DeleteGroups over the coordinator's classic groups.
extension GroupCoordinator {
    struct MemberDescription: Equatable, Sendable {
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var metadata: [UInt8]
        var assignment: [UInt8]
    }

    struct GroupDescription: Equatable, Sendable {
        var error: KafkaErrorCode
        var groupId: String
        var state: String
        var protocolType: String
        var protocolName: String
        var members: [MemberDescription]
    }

    /// An unknown group describes as Dead with no members (Kafka answers NONE, not an error).
    /// Member metadata and assignments are only shown once the group is Stable.
    func describeGroup(_ groupId: String) -> GroupDescription {
        if let cg = consumerGroups[groupId] { return describeAsClassic(cg) }
        guard let g = groups[groupId] else {
            return GroupDescription(error: .noError, groupId: groupId, state: ClassicGroup.State.dead.rawValue,
                                    protocolType: "", protocolName: "", members: [])
        }
        let stable = g.state == .stable
        return GroupDescription(
            error: .noError, groupId: groupId, state: g.state.rawValue, protocolType: g.protocolType ?? "",
            protocolName: g.protocolName ?? "",
            members: g.orderedMembers.map {
                MemberDescription(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                                  clientHost: $0.clientHost, metadata: stable ? $0.metadata(for: g.protocolName) : [],
                                  assignment: stable ? $0.assignment : [])
            })
    }

    struct ListedGroup: Equatable, Sendable {
        var groupId: String
        var protocolType: String
        var state: String
        var groupType: String = "classic"
    }

    /// ListGroups, ordered by group id; empty filters match everything (v4 states, v5 types:
    /// "classic" or "consumer").
    func listGroups(states: [String] = [], types: [String] = []) -> [ListedGroup] {
        allGroupIds.compactMap { id in
            let listed: ListedGroup
            if let cg = consumerGroups[id] {
                listed = ListedGroup(groupId: id, protocolType: "consumer", state: cg.state.rawValue, groupType: "consumer")
            } else {
                let g = groups[id]!
                guard g.state != .dead else { return nil }
                listed = ListedGroup(groupId: id, protocolType: g.protocolType ?? "", state: g.state.rawValue)
            }
            if !states.isEmpty, !states.contains(where: { $0.caseInsensitiveCompare(listed.state) }) { return nil }
            if !types.isEmpty, !types.contains(where: { $0.caseInsensitiveCompare(listed.groupType) }) { return nil }
            return listed
        }
    }

    /// A consumer group as DescribeGroups shows it (Kafka's ConsumerGroup.asDescribedGroup):
    /// protocol type "consumer", the assignor as protocol, each member's subscription and
    /// assignment in the classic consumer protocol's encoding.
    private func describeAsClassic(_ g: ConsumerGroup) -> GroupDescription {
        let image = TopicImage(g.subscriptionMetadata.values.sorted { $0.name < $1.name })
        return GroupDescription(
            error: .noError, groupId: g.groupId, state: g.state.rawValue, protocolType: "consumer", protocolName: g.assignorName,
            members: g.orderedMembers.map { m in
                var sub = ConsumerProtocolSubscription()
                sub.topics = m.subscribedTopicNames
                var asg = ConsumerProtocolAssignment()
                var byTopic: [String: [Int32]] = [:]
                for tp in m.assigned { if let t = image.topic(id: tp.topicId) { byTopic[t.name, default: []].append(tp.partition) } }
                asg.assignedPartitions = byTopic.keys.sorted().map { name in
                    var t = ConsumerProtocolAssignment.TopicPartition()
                    t.topic = name
                    t.partitions = byTopic[name]!.sorted()
                    return t
                }
                return MemberDescription(memberId: m.memberId, groupInstanceId: m.instanceId, clientId: m.clientId,
                                         clientHost: m.clientHost, metadata: Self.versioned(sub), assignment: Self.versioned(asg))
            })
    }

    /// A consumer-protocol message at version 0 with its version prefix, as classic group
    /// metadata carries it.
    private static func versioned(_ message: some KafkaMessage) -> [UInt8] {
        var w = ByteWriter()
        w.writeInt16(0)
        try? message.encode(into: &w, version: 0)
        return w.bytes
    }

    /// DeleteGroups: only groups without members may go (with their offsets).
    mutating func deleteGroups(_ ids: [String]) -> [KafkaErrorCode] {
        ids.map { id in
            if let cg = consumerGroups[id] {
                guard cg.isEmpty else { return .nonEmptyGroup }
                consumerGroups[id] = nil
                return .noError
            }
            guard let g = groups[id], g.state != .dead else { return .groupIdNotFound }
            guard g.state == .empty, g.isEmpty else { return .nonEmptyGroup }
            groups[id] = nil
            return .noError
        }
    }
}

extension String {
    /// ASCII case-insensitive equality, enough for Kafka's state and type names.
    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool {
        func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
        return utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { lower($0) == lower($1) }
    }
}
