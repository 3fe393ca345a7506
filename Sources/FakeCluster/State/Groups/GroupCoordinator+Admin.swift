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
    }

    /// ListGroups, ordered by group id; empty filters match everything (v4 states, v5 types).
    func listGroups(states: [String] = [], types: [String] = []) -> [ListedGroup] {
        groupIds.compactMap { id in
            let g = groups[id]!
            guard g.state != .dead else { return nil }
            let type = g.protocolType ?? ""
            if !states.isEmpty, !states.contains(where: { $0.caseInsensitiveCompare(g.state.rawValue) }) { return nil }
            if !types.isEmpty, !types.contains(where: { $0.caseInsensitiveCompare("classic") }) { return nil }
            return ListedGroup(groupId: id, protocolType: type, state: g.state.rawValue)
        }
    }

    /// DeleteGroups: only groups without members may go (with their offsets).
    mutating func deleteGroups(_ ids: [String]) -> [KafkaErrorCode] {
        ids.map { id in
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
