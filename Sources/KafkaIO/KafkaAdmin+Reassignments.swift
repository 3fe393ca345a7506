import KafkaProtocol
import KafkaStateMachines

/// Which leader an election picks: the first replica in the assignment (preferred), or any
/// live replica for a partition without a leader, out of sync or not (unclean: data may be lost).
public enum ElectionType: Int8, Sendable, Hashable {
    case preferred = 0, unclean = 1
}

/// A partition's outcome in `electLeaders`.
public enum LeaderElection: Sendable, Equatable {
    case elected
    /// The partition already had the leader the election would pick.
    case notNeeded
}

/// A reassignment under way: the target set and the replicas being added and removed.
public struct PartitionReassignment: Sendable, Equatable {
    /// The partition being moved.
    public var topicPartition: TopicPartition
    /// Its replicas now, the ones being added included.
    public var replicas: [Int32]
    /// Replicas being added (catching up).
    public var addingReplicas: [Int32]
    /// Replicas to be removed once the new ones are in sync.
    public var removingReplicas: [Int32]

    /// For tests of code that reads reassignments.
    public init(topicPartition: TopicPartition, replicas: [Int32], addingReplicas: [Int32], removingReplicas: [Int32]) {
        self.topicPartition = topicPartition
        self.replicas = replicas
        self.addingReplicas = addingReplicas
        self.removingReplicas = removingReplicas
    }
}

extension KafkaAdmin {
    /// Elects leaders (ElectLeaders v1+, Kafka 2.4), at the controller; results named
    /// `topic[partition]`.
    public func electLeaders(_ type: ElectionType, _ partitions: [TopicPartition],
                             timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<LeaderElection>] {
        let problems = Self.problems(partitions, name: \.description) { Self.problem(partition: $0) }
        let send = zip(partitions, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<LeaderElection, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = ElectLeadersRequest()
            r.electionType = type.rawValue
            r.timeoutMs = Self.milliseconds(timeout)
            r.topicPartitions = Self.byTopic(send).map { topic, ps in
                var t = ElectLeadersRequest.TopicPartitions()
                t.topic = topic
                t.partitions = ps
                return t
            }
            let resp = try await self.send("electLeaders", r, pin: 1 ... ElectLeadersRequest.validVersions.upperBound)
            if let e = KafkaAdminError.from(resp.errorCode) { throw e }
            for t in resp.replicaElectionResults {
                for p in t.partitionResult {
                    let name = TopicPartition(t.topic, p.partitionId).description
                    if p.errorCode == KafkaErrorCode.electionNotNeeded.rawValue { answers[name] = .success(.notNeeded); continue }
                    answers[name] = KafkaAdminError.from(p.errorCode, message: p.errorMessage).map { .failure($0) } ?? .success(.elected)
                }
            }
        }
        return Self.results(partitions, problems: problems, name: \.description) { answers[$0] }
    }

    /// Moves partitions to new replica sets (AlterPartitionReassignments, Kafka 2.4), at the
    /// controller; a nil target cancels the partition's reassignment. Results named
    /// `topic[partition]`, ascending.
    public func alterPartitionReassignments(_ targets: [TopicPartition: [Int32]?],
                                            timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let partitions = targets.keys.sorted()
        let problems = Self.problems(partitions, name: \.description) { tp -> KafkaAdminError? in
            if let p = Self.problem(partition: tp) { return p }
            guard let replicas = targets[tp]! else { return nil }
            if replicas.isEmpty { return .invalidArgument(tp.description, reason: "no replicas (nil cancels a reassignment)") }
            if Set(replicas).count != replicas.count { return .invalidArgument(tp.description, reason: "a broker named twice in \(replicas)") }
            if replicas.contains(where: { $0 < 0 }) { return .invalidArgument(tp.description, reason: "a broker id is not negative") }
            return nil
        }
        let send = zip(partitions, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = AlterPartitionReassignmentsRequest()
            r.timeoutMs = Self.milliseconds(timeout)
            r.topics = Self.byTopic(send).map { topic, ps in
                var t = AlterPartitionReassignmentsRequest.ReassignableTopic()
                t.name = topic
                t.partitions = ps.map { var p = AlterPartitionReassignmentsRequest.ReassignablePartition(); p.partitionIndex = $0; p.replicas = targets[TopicPartition(topic, $0)]!; return p }
                return t
            }
            let resp = try await self.send("alterPartitionReassignments", r)
            if let e = KafkaAdminError.from(resp.errorCode, message: resp.errorMessage) { throw e }
            for t in resp.responses {
                for p in t.partitions {
                    answers[TopicPartition(t.name, p.partitionIndex).description] = KafkaAdminError.from(p.errorCode, message: p.errorMessage).map { .failure($0) } ?? .success(AdminDone())
                }
            }
        }
        return Self.results(partitions, problems: problems, name: \.description) { answers[$0] }
    }

    /// Reassignments under way (of these partitions, or all when nil), ascending.
    public func listPartitionReassignments(_ partitions: [TopicPartition]? = nil,
                                           timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [PartitionReassignment] {
        var r = ListPartitionReassignmentsRequest()
        r.timeoutMs = Self.milliseconds(timeout)
        if let partitions {
            for tp in partitions { if let p = Self.problem(partition: tp) { throw p } }
            r.topics = Self.byTopic(partitions).map { topic, ps in
                var t = ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics()
                t.name = topic
                t.partitionIndexes = ps
                return t
            }
        }
        let resp = try await send("listPartitionReassignments", r)
        if let e = KafkaAdminError.from(resp.errorCode, message: resp.errorMessage) { throw e }
        return resp.topics.flatMap { t in
            t.partitions.map { PartitionReassignment(topicPartition: TopicPartition(t.name, $0.partitionIndex), replicas: $0.replicas,
                                                     addingReplicas: $0.addingReplicas, removingReplicas: $0.removingReplicas) }
        }.sorted { $0.topicPartition < $1.topicPartition }
    }
}
