import KafkaProtocol
import KafkaStateMachines

/// A group as `listGroups` names it.
public struct GroupListing: Sendable, Equatable {
    /// The group id.
    public var groupId: String
    /// "consumer" for consumer groups; other protocols (Connect) name their own.
    public var protocolType: String
    /// Empty before ListGroups v4 (Kafka 2.6).
    public var state: String
    /// "classic" or "consumer"; empty before ListGroups v5 (Kafka 3.8).
    public var type: String
}

/// Groups from every broker; `brokerError` is the first error a broker answered (or failed
/// with), the others' groups still listed.
public struct GroupListings: Sendable, Equatable {
    /// Every broker's groups.
    public var groups: [GroupListing]
    /// The first error a broker answered, if any.
    public var brokerError: KafkaErrorCode?
}

/// A group's state and members (`describeGroups`).
public struct GroupDescription: Sendable, Equatable {
    /// The group id.
    public var groupId: String
    /// The group's state as the coordinator names it (Stable, PreparingRebalance, Empty, Dead …).
    public var state: String
    /// "consumer" for consumer groups.
    public var protocolType: String
    /// The balancer the group chose (classic protocol), e.g. "cooperative-sticky".
    public var protocolName: String
    /// The members, as the coordinator lists them.
    public var members: [GroupMemberDescription]
    /// What the caller may do with the group (KIP-430), when asked for with
    /// `includeAuthorizedOperations`; nil otherwise.
    public var authorizedOperations: Set<AclOperation>? = nil
}

/// One member of a group.
public struct GroupMemberDescription: Sendable, Equatable {
    /// The id the coordinator gave the member.
    public var memberId: String
    /// The static member's instance id (KIP-345), if it has one.
    public var instanceId: String?
    /// The member's client id.
    public var clientId: String
    /// The address the member connected from.
    public var clientHost: String
    /// Decoded from the consumer protocol; empty for other protocols or undecodable bytes.
    public var assignment: [TopicPartition]
}

/// A group's committed position in one partition.
public struct CommittedOffset: Sendable, Equatable {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The next offset the group will read.
    public var offset: Int64
    /// The leader epoch of the last record consumed (KIP-320), when committed with one.
    public var leaderEpoch: Int32?
    /// The metadata string committed with the offset.
    public var metadata: String?
}

/// How far a group is behind in one partition (`lag(group:)`).
public struct PartitionLag: Sendable, Equatable {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The group's committed offset.
    public var committed: Int64
    /// The high watermark; nil when it could not be listed (`error` says why).
    public var end: Int64?
    /// end - committed, never negative; nil without an end.
    public var lag: Int64?
    /// Why the end offset could not be listed, if it could not.
    public var error: KafkaAdminError?
}

extension KafkaAdmin {
    /// Groups on every broker, filtered by state (ListGroups v4+, Kafka 2.6) and type
    /// ("classic", "consumer": v5+, Kafka 3.8) when given; by group id.
    public func listGroups(states: [String] = [], types: [String] = []) async throws(KafkaAdminError) -> GroupListings {
        var r = ListGroupsRequest()
        r.statesFilter = states
        r.typesFilter = types
        let low: Int16 = !types.isEmpty ? 5 : (!states.isEmpty ? 4 : 0)
        let resp = try await send("listGroups", r, pin: low ... ListGroupsRequest.validVersions.upperBound)
        let groups = resp.groups.map { GroupListing(groupId: $0.groupId, protocolType: $0.protocolType, state: $0.groupState, type: $0.groupType) }
        return GroupListings(groups: groups.sorted { $0.groupId < $1.groupId }, brokerError: resp.errorCode == 0 ? nil : KafkaErrorCode(resp.errorCode))
    }

    /// Classic groups' state and members, each asked of its coordinator (groups sharing one
    /// in one request). With `includeAuthorizedOperations`, also what the caller may do with
    /// each group (DescribeGroups v3, Kafka 2.3+).
    public func describeGroups(_ groupIds: [String], includeAuthorizedOperations: Bool = false) async throws(KafkaAdminError)
        -> [AdminResult<GroupDescription>] {
        let problems = Self.problems(groupIds, name: { $0 }) { Self.problem(group: $0) }
        let send = zip(groupIds, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<GroupDescription, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = DescribeGroupsRequest()
            r.groups = send
            r.includeAuthorizedOperations = includeAuthorizedOperations
            let resp = try await self.send("describeGroups", r, pin: includeAuthorizedOperations ? 3 ... DescribeGroupsRequest.validVersions.upperBound : nil)
            for g in resp.groups {
                if let e = KafkaAdminError.from(g.errorCode) { answers[g.groupId] = .failure(e); continue }
                let members = g.members.map { m in
                    let parts = g.protocolType == "consumer" ? ((try? ConsumerProtocol.decodeAssignment(m.memberAssignment).partitions) ?? []) : []
                    return GroupMemberDescription(memberId: m.memberId, instanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
                                                  assignment: parts.sorted())
                }
                answers[g.groupId] = .success(GroupDescription(groupId: g.groupId, state: g.groupState, protocolType: g.protocolType,
                                                               protocolName: g.protocolData, members: members.sorted { $0.memberId < $1.memberId },
                                                               authorizedOperations: AclOperation.operations(authorizedBits: g.authorizedOperations)))
            }
        }
        return Self.results(groupIds, problems: problems, name: { $0 }) { answers[$0] }
    }

    /// Deletes empty groups (and their offsets), each at its coordinator.
    public func deleteGroups(_ groupIds: [String]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let problems = Self.problems(groupIds, name: { $0 }) { Self.problem(group: $0) }
        let send = zip(groupIds, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = DeleteGroupsRequest()
            r.groupsNames = send
            let resp = try await self.send("deleteGroups", r)
            for g in resp.results { answers[g.groupId] = KafkaAdminError.from(g.errorCode).map { .failure($0) } ?? .success(AdminDone()) }
        }
        return Self.results(groupIds, problems: problems, name: { $0 }) { answers[$0] }
    }

    /// Every committed offset of each group, by partition. Brokers with OffsetFetch v8+
    /// (Kafka 3.0) take the groups in batches per coordinator; older ones one group at a time.
    public func fetchOffsets(groups groupIds: [String]) async throws(KafkaAdminError) -> [AdminResult<[CommittedOffset]>] {
        let problems = Self.problems(groupIds, name: { $0 }) { Self.problem(group: $0) }
        let send = zip(groupIds, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<[CommittedOffset], KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = OffsetFetchRequest()
            r.groups = send.map { var g = OffsetFetchRequest.OffsetFetchRequestGroup(); g.groupId = $0; g.topics = nil; return g }
            do {
                let resp = try await self.send("fetchOffsets", r, pin: 8 ... OffsetFetchRequest.validVersions.upperBound)
                for g in resp.groups {
                    if let e = KafkaAdminError.from(g.errorCode) { answers[g.groupId] = .failure(e); continue }
                    answers[g.groupId] = .success(g.topics.flatMap { t in
                        t.partitions.filter { $0.committedOffset >= 0 }.map {
                            CommittedOffset(topicPartition: TopicPartition(t.name, $0.partitionIndex), offset: $0.committedOffset,
                                            leaderEpoch: $0.committedLeaderEpoch >= 0 ? $0.committedLeaderEpoch : nil, metadata: $0.metadata)
                        }
                    }.sorted { $0.topicPartition < $1.topicPartition })
                }
            } catch .unsupportedByBroker {
                for g in send { answers[g] = await oneGroupOffsets(g) }
            }
        }
        return Self.results(groupIds, problems: problems, name: { $0 }) { answers[$0] }
    }

    /// One group's committed offsets; throws the group's error.
    public func fetchOffsets(group: String) async throws(KafkaAdminError) -> [CommittedOffset] {
        try await fetchOffsets(groups: [group])[0].result.get()
    }

    /// The v2-v7 form: one group, every topic it committed.
    private func oneGroupOffsets(_ group: String) async -> Result<[CommittedOffset], KafkaAdminError> {
        var r = OffsetFetchRequest()
        r.groupId = group
        r.topics = nil
        do {
            let resp = try await send("fetchOffsets", r, pin: 2 ... 7)
            if let e = KafkaAdminError.from(resp.errorCode) { return .failure(e) }
            return .success(resp.topics.flatMap { t in
                t.partitions.filter { $0.committedOffset >= 0 }.map {
                    CommittedOffset(topicPartition: TopicPartition(t.name, $0.partitionIndex), offset: $0.committedOffset,
                                    leaderEpoch: $0.committedLeaderEpoch >= 0 ? $0.committedLeaderEpoch : nil, metadata: $0.metadata)
                }
            }.sorted { $0.topicPartition < $1.topicPartition })
        } catch {
            return .failure(error)
        }
    }

    /// Sets a group's committed offsets (the group must have no active members); results
    /// named `topic[partition]`.
    public func alterOffsets(group: String, _ offsets: [TopicPartition: Int64]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        if let p = Self.problem(group: group) { throw p }
        let partitions = offsets.keys.sorted()
        let problems = Self.problems(partitions, name: \.description) { tp -> KafkaAdminError? in
            if let p = Self.problem(partition: tp) { return p }
            return offsets[tp]! < 0 ? .invalidArgument(tp.description, reason: "offset \(offsets[tp]!) is negative") : nil
        }
        let send = zip(partitions, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = OffsetCommitRequest()
            r.groupId = group
            r.generationIdOrMemberEpoch = -1
            r.memberId = ""
            r.topics = Self.byTopic(send).map { topic, ps in
                var t = OffsetCommitRequest.OffsetCommitRequestTopic()
                t.name = topic
                t.partitions = ps.map { var p = OffsetCommitRequest.OffsetCommitRequestPartition(); p.partitionIndex = $0; p.committedOffset = offsets[TopicPartition(topic, $0)]!; return p }
                return t
            }
            // v1 is the first with a generation (-1: not a member's commit); v9+ (KIP-848)
            // would need a member epoch.
            let resp = try await self.send("alterOffsets", r, pin: 1 ... 8)
            for t in resp.topics {
                for p in t.partitions {
                    answers[TopicPartition(t.name, p.partitionIndex).description] = KafkaAdminError.from(p.errorCode).map { .failure($0) } ?? .success(AdminDone())
                }
            }
        }
        return Self.results(partitions, problems: problems, name: \.description) { answers[$0] }
    }

    /// Deletes a group's committed offsets for partitions it no longer consumes
    /// (OffsetDelete, Kafka 2.4+); results named `topic[partition]`.
    public func deleteOffsets(group: String, _ partitions: [TopicPartition]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        if let p = Self.problem(group: group) { throw p }
        let problems = Self.problems(partitions, name: \.description) { Self.problem(partition: $0) }
        let send = zip(partitions, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = OffsetDeleteRequest()
            r.groupId = group
            r.topics = Self.byTopic(send).map { topic, ps in
                var t = OffsetDeleteRequest.OffsetDeleteRequestTopic()
                t.name = topic
                t.partitions = ps.map { var p = OffsetDeleteRequest.OffsetDeleteRequestPartition(); p.partitionIndex = $0; return p }
                return t
            }
            let resp = try await self.send("deleteOffsets", r)
            if let e = KafkaAdminError.from(resp.errorCode) { throw e }
            for t in resp.topics {
                for p in t.partitions {
                    answers[TopicPartition(t.name, p.partitionIndex).description] = KafkaAdminError.from(p.errorCode).map { .failure($0) } ?? .success(AdminDone())
                }
            }
        }
        return Self.results(partitions, problems: problems, name: \.description) { answers[$0] }
    }

    /// For each partition the group committed: the high watermark and how far the commit
    /// trails it.
    public func lag(group: String) async throws(KafkaAdminError) -> [PartitionLag] {
        let committed = try await fetchOffsets(group: group)
        guard !committed.isEmpty else { return [] }
        let ends = try await listOffsets(committed.map(\.topicPartition), .latest)
        return zip(committed, ends).map { c, e in
            switch e.result {
            case .success(let end):
                return PartitionLag(topicPartition: c.topicPartition, committed: c.offset, end: end.offset, lag: max(0, end.offset - c.offset), error: nil)
            case .failure(let error):
                return PartitionLag(topicPartition: c.topicPartition, committed: c.offset, end: nil, lag: nil, error: error)
            }
        }
    }

    static func problem(group: String) -> KafkaAdminError? {
        group.isEmpty ? .invalidArgument("group id", reason: "empty") : nil
    }
}
