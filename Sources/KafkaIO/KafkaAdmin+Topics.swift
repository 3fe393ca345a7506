import KafkaProtocol
import KafkaStateMachines

/// A topic to create: a partition count and replication factor (-1: the broker's
/// defaults, Kafka 2.4+), or an explicit replica assignment (one broker list per
/// partition), plus topic configs.
public struct NewTopic: Sendable, Equatable {
    /// The topic's name.
    public var name: String
    /// Partitions; -1: the broker's `num.partitions`.
    public var partitions: Int32
    /// Replicas per partition; -1: the broker's `default.replication.factor`.
    public var replicationFactor: Int16
    /// Broker ids per partition, instead of a count and factor; empty: none.
    public var replicaAssignment: [[Int32]]
    /// Topic configs (`retention.ms`, `cleanup.policy`, …).
    public var configs: [String: String]

    /// A topic named `name`; every other setting defaults to the broker's.
    public init(_ name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, replicaAssignment: [[Int32]] = [],
                configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.replicaAssignment = replicaAssignment
        self.configs = configs
    }
}

/// A topic the broker created (`createTopics`).
public struct CreatedTopic: Sendable, Equatable {
    /// Its topic id (zero before CreateTopics v7, Kafka 2.8).
    public var topicId: KafkaUUID
    /// As the broker reports them (-1 before CreateTopics v5, which does not say).
    public var partitions: Int32
    /// As the broker reports it (-1 before CreateTopics v5).
    public var replicationFactor: Int16
    /// The topic's configs as the broker returns them (CreateTopics v5, Kafka 2.4+; no
    /// synonyms), or nil: before v5, or withheld (`configsError`).
    public var configs: [ConfigEntry]?
    /// Why the broker withheld the configs of a topic it created: TOPIC_AUTHORIZATION_FAILED
    /// when the caller may create the topic but not DESCRIBE_CONFIGS it.
    public var configsError: KafkaErrorCode?
}

/// A topic as `listTopics` names it.
public struct TopicListing: Sendable, Equatable {
    /// The topic's name.
    public var name: String
    /// Its topic id (zero when the broker does not report ids).
    public var topicId: KafkaUUID
    /// Kafka's own topics (`__consumer_offsets`, `__transaction_state`).
    public var isInternal: Bool
    /// How many partitions it has.
    public var partitionCount: Int
}

/// A topic with its partitions' leaders and replicas (`describeTopics`).
public struct TopicDescription: Sendable, Equatable {
    /// The topic's name.
    public var name: String
    /// Its topic id (zero when the broker does not report ids).
    public var topicId: KafkaUUID
    /// Kafka's own topics (`__consumer_offsets`, `__transaction_state`).
    public var isInternal: Bool
    /// Its partitions, by number.
    public var partitions: [PartitionDescription]
    /// What the caller may do with the topic (KIP-430), when asked for with
    /// `includeAuthorizedOperations`; nil otherwise.
    public var authorizedOperations: Set<AclOperation>? = nil
}

/// One partition's leadership and replicas.
public struct PartitionDescription: Sendable, Equatable {
    /// The partition number.
    public var partition: Int32
    /// nil when the partition has no leader.
    public var leader: Int32?
    /// The leader epoch: bumped at every leadership change (KIP-320).
    public var leaderEpoch: Int32
    /// Every replica's broker id, the preferred leader first.
    public var replicas: [Int32]
    /// The in-sync replicas.
    public var isr: [Int32]
    /// Replicas on offline log directories.
    public var offlineReplicas: [Int32]
    /// The partition's error (LEADER_NOT_AVAILABLE …), if the broker reported one.
    public var error: KafkaErrorCode?
}

/// More partitions for a topic: the new total, and optionally where the new ones go.
public struct PartitionIncrease: Sendable, Equatable {
    /// The topic to grow.
    public var topic: String
    /// The partition count after the change (more than it has now).
    public var totalCount: Int32
    /// Broker ids for each new partition; empty: the broker chooses.
    public var newAssignment: [[Int32]]

    /// Grows `topic` to `totalCount` partitions.
    public init(_ topic: String, totalCount: Int32, newAssignment: [[Int32]] = []) {
        self.topic = topic
        self.totalCount = totalCount
        self.newAssignment = newAssignment
    }
}

extension KafkaAdmin {
    /// Creates topics. Refused before sending: invalid names, names given twice, counts
    /// below 1 (other than -1), a replication factor above the cluster's broker count, an
    /// assignment together with counts, empty or repeating replica lists, unknown brokers.
    public func createTopics(_ topics: [NewTopic], validateOnly: Bool = false,
                             timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<CreatedTopic>] {
        let brokers = try await describeCluster().brokers.map(\.id)
        let problems = Self.problems(topics, name: \.name) { Self.problem(creating: $0, brokers: brokers) }
        var r = CreateTopicsRequest()
        r.timeoutMs = Self.milliseconds(timeout)
        r.validateOnly = validateOnly
        var usesDefaults = false
        for (t, problem) in zip(topics, problems) where problem == nil {
            var c = CreateTopicsRequest.CreatableTopic()
            c.name = t.name
            c.numPartitions = t.replicaAssignment.isEmpty ? t.partitions : -1
            c.replicationFactor = t.replicaAssignment.isEmpty ? t.replicationFactor : -1
            if t.replicaAssignment.isEmpty, t.partitions == -1 || t.replicationFactor == -1 { usesDefaults = true }
            c.assignments = t.replicaAssignment.enumerated().map { i, brokers in
                var a = CreateTopicsRequest.CreatableReplicaAssignment()
                a.partitionIndex = Int32(i)
                a.brokerIds = brokers
                return a
            }
            c.configs = t.configs.keys.sorted().map { k in
                var e = CreateTopicsRequest.CreatableTopicConfig()
                e.name = k
                e.value = t.configs[k]
                return e
            }
            r.topics.append(c)
        }
        var answers: [String: Result<CreatedTopic, KafkaAdminError>] = [:]
        if !r.topics.isEmpty {
            // The broker's defaults (-1) are CreateTopics v4+ (KIP-464).
            let resp = try await send("createTopics", r, pin: usesDefaults ? 4 ... CreateTopicsRequest.validVersions.upperBound : nil)
            for t in resp.topics {
                if let e = KafkaAdminError.from(t.errorCode, message: t.errorMessage) { answers[t.name] = .failure(e); continue }
                answers[t.name] = .success(Self.created(t))
            }
        }
        return Self.results(topics, problems: problems, name: \.name) { answers[$0] }
    }

    /// A created topic's result. Before v5 the answer has no counts (-1) and no configs, so
    /// a count of -1 tells an old answer from a v5+ one with an empty config list.
    static func created(_ t: CreateTopicsResponse.CreatableTopicResult) -> CreatedTopic {
        let withheld = t.topicConfigErrorCode == 0 ? nil : KafkaErrorCode(t.topicConfigErrorCode)
        let configs = t.numPartitions < 0 || withheld != nil ? nil : (t.configs ?? []).map {
            ConfigEntry(name: $0.name, value: $0.value, source: ConfigSource(rawValue: $0.configSource), isReadOnly: $0.readOnly,
                        isSensitive: $0.isSensitive, synonyms: [])
        }
        return CreatedTopic(topicId: t.topicId, partitions: t.numPartitions, replicationFactor: t.replicationFactor,
                            configs: configs, configsError: withheld)
    }

    static func problem(creating t: NewTopic, brokers: [Int32]) -> KafkaAdminError? {
        if let why = topicNameProblem(t.name) { return .invalidTopicName(t.name, reason: why) }
        let item = "topic \(t.name)"
        if t.configs.keys.contains("") { return .invalidArgument(item, reason: "a config with an empty name") }
        if !t.replicaAssignment.isEmpty {
            if t.partitions != -1 || t.replicationFactor != -1 {
                return .invalidArgument(item, reason: "give partitions and replication factor, or a replica assignment, not both")
            }
            let width = t.replicaAssignment[0].count
            for (i, replicas) in t.replicaAssignment.enumerated() {
                if replicas.isEmpty { return .invalidArgument(item, reason: "partition \(i) has no replicas") }
                if Set(replicas).count != replicas.count { return .invalidArgument(item, reason: "partition \(i) names a broker twice") }
                if replicas.count != width { return .invalidArgument(item, reason: "partitions have different replica counts") }
                if let unknown = replicas.first(where: { !brokers.contains($0) }) {
                    return .invalidArgument(item, reason: "partition \(i): broker \(unknown) is not in the cluster")
                }
            }
            return nil
        }
        if t.partitions == 0 || t.partitions < -1 { return .invalidArgument(item, reason: "partitions must be at least 1 (or -1 for the broker's default)") }
        if t.replicationFactor == 0 || t.replicationFactor < -1 {
            return .invalidArgument(item, reason: "replication factor must be at least 1 (or -1 for the broker's default)")
        }
        if Int(t.replicationFactor) > brokers.count {
            return .replicationFactorAboveBrokerCount(topic: t.name, replicationFactor: t.replicationFactor, brokers: brokers.count)
        }
        return nil
    }

    /// Deletes topics by name; each result carries the deleted topic's id when the broker
    /// reports it (DeleteTopics v6+), else zero.
    public func deleteTopics(_ names: [String], timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<KafkaUUID>] {
        let problems = Self.problems(names, name: { $0 }) { n in Self.topicNameProblem(n).map { .invalidTopicName(n, reason: $0) } }
        let send = zip(names, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<KafkaUUID, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = DeleteTopicsRequest()
            r.timeoutMs = Self.milliseconds(timeout)
            // v0-5 name topics in topicNames, v6+ in topics: both are filled, the version picks.
            r.topicNames = send
            r.topics = send.map { var s = DeleteTopicsRequest.DeleteTopicState(); s.name = $0; return s }
            let resp = try await self.send("deleteTopics", r)
            for t in resp.responses {
                guard let n = t.name else { continue }
                answers[n] = KafkaAdminError.from(t.errorCode, message: t.errorMessage).map { .failure($0) } ?? .success(t.topicId)
            }
        }
        return Self.results(names, problems: problems, name: { $0 }) { answers[$0] }
    }

    /// Deletes topics by id (DeleteTopics v6+, Kafka 2.8+); results are named by the id.
    public func deleteTopics(ids: [KafkaUUID], timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<String>] {
        let problems = Self.problems(ids, name: \.description) { $0 == .zero ? .invalidArgument("topic id", reason: "the zero id names no topic") : nil }
        let send = zip(ids, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<String, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = DeleteTopicsRequest()
            r.timeoutMs = Self.milliseconds(timeout)
            r.topics = send.map { var s = DeleteTopicsRequest.DeleteTopicState(); s.topicId = $0; return s }
            let resp = try await self.send("deleteTopics(ids:)", r, pin: 6 ... DeleteTopicsRequest.validVersions.upperBound)
            for t in resp.responses {
                answers[t.topicId.description] = KafkaAdminError.from(t.errorCode, message: t.errorMessage).map { .failure($0) } ?? .success(t.name ?? "")
            }
        }
        return Self.results(ids, problems: problems, name: \.description) { answers[$0] }
    }

    /// Every topic the cluster has (internal ones only with `includeInternal`), by name.
    public func listTopics(includeInternal: Bool = false) async throws(KafkaAdminError) -> [TopicListing] {
        var r = MetadataRequest()
        r.topics = nil
        r.allowAutoTopicCreation = false
        let resp = try await send("listTopics", r, pin: 1 ... MetadataRequest.validVersions.upperBound)
        return resp.topics.compactMap { t -> TopicListing? in
            guard let n = t.name, t.errorCode == 0, includeInternal || !t.isInternal else { return nil }
            return TopicListing(name: n, topicId: t.topicId, isInternal: t.isInternal, partitionCount: t.partitions.count)
        }.sorted { $0.name < $1.name }
    }

    /// Each topic's partitions: leader, epoch, replicas, in-sync and offline replicas; with
    /// `includeAuthorizedOperations`, also what the caller may do with each topic (Metadata
    /// v8, Kafka 2.3+).
    public func describeTopics(_ names: [String], includeAuthorizedOperations: Bool = false) async throws(KafkaAdminError)
        -> [AdminResult<TopicDescription>] {
        let problems = Self.problems(names, name: { $0 }) { n in Self.topicNameProblem(n).map { .invalidTopicName(n, reason: $0) } }
        let send = zip(names, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<TopicDescription, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = MetadataRequest()
            r.topics = send.map { var t = MetadataRequest.MetadataRequestTopic(); t.name = $0; return t }
            r.allowAutoTopicCreation = false
            r.includeTopicAuthorizedOperations = includeAuthorizedOperations
            let low: Int16 = includeAuthorizedOperations ? 8 : 1
            let resp = try await self.send("describeTopics", r, pin: low ... MetadataRequest.validVersions.upperBound)
            for t in resp.topics {
                guard let n = t.name else { continue }
                if let e = KafkaAdminError.from(t.errorCode) { answers[n] = .failure(e); continue }
                let parts = t.partitions.sorted { $0.partitionIndex < $1.partitionIndex }.map { p in
                    PartitionDescription(partition: p.partitionIndex, leader: p.leaderId >= 0 ? p.leaderId : nil, leaderEpoch: p.leaderEpoch,
                                         replicas: p.replicaNodes, isr: p.isrNodes, offlineReplicas: p.offlineReplicas,
                                         error: p.errorCode == 0 ? nil : KafkaErrorCode(p.errorCode))
                }
                answers[n] = .success(TopicDescription(name: n, topicId: t.topicId, isInternal: t.isInternal, partitions: parts,
                                                       authorizedOperations: AclOperation.operations(authorizedBits: t.topicAuthorizedOperations)))
            }
        }
        return Self.results(names, problems: problems, name: { $0 }) { answers[$0] }
    }

    /// Raises topics' partition counts to `totalCount`; the result is the new count.
    public func createPartitions(_ increases: [PartitionIncrease], validateOnly: Bool = false,
                                 timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<Int32>] {
        let problems = Self.problems(increases, name: \.topic) { i -> KafkaAdminError? in
            if let why = Self.topicNameProblem(i.topic) { return .invalidTopicName(i.topic, reason: why) }
            if i.totalCount < 1 { return .invalidArgument("topic \(i.topic)", reason: "the total partition count must be at least 1") }
            if i.newAssignment.contains(where: \.isEmpty) { return .invalidArgument("topic \(i.topic)", reason: "a new partition has no replicas") }
            return nil
        }
        var r = CreatePartitionsRequest()
        r.timeoutMs = Self.milliseconds(timeout)
        r.validateOnly = validateOnly
        for (i, problem) in zip(increases, problems) where problem == nil {
            var t = CreatePartitionsRequest.CreatePartitionsTopic()
            t.name = i.topic
            t.count = i.totalCount
            t.assignments = i.newAssignment.isEmpty ? nil : i.newAssignment.map { var a = CreatePartitionsRequest.CreatePartitionsAssignment(); a.brokerIds = $0; return a }
            r.topics.append(t)
        }
        var answers: [String: Result<Int32, KafkaAdminError>] = [:]
        if !r.topics.isEmpty {
            let resp = try await send("createPartitions", r)
            let totals = Dictionary(r.topics.map { ($0.name, $0.count) }, uniquingKeysWith: { a, _ in a })
            for t in resp.results {
                answers[t.name] = KafkaAdminError.from(t.errorCode, message: t.errorMessage).map { .failure($0) } ?? .success(totals[t.name] ?? -1)
            }
        }
        return Self.results(increases, problems: problems, name: \.topic) { answers[$0] }
    }

    static func milliseconds(_ d: Duration) -> Int32 {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}
