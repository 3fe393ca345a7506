import KafkaProtocol
import KafkaStateMachines

/// One log directory of one broker and the replicas in it.
public struct LogDirDescription: Sendable, Equatable {
    /// The directory's path on the broker.
    public var path: String
    /// The directory's own error (KAFKA_STORAGE_ERROR for an offline dir), else nil.
    public var error: KafkaErrorCode?
    /// -1 before DescribeLogDirs v4 (Kafka 3.3) or when the broker does not say.
    public var totalBytes: Int64
    /// Free space; -1 as `totalBytes`.
    public var usableBytes: Int64
    /// Ascending by partition.
    public var replicas: [LogDirReplica]
}

/// A replica in a log directory.
public struct LogDirReplica: Sendable, Equatable {
    /// The replica's partition.
    public var topicPartition: TopicPartition
    /// Its size on disk.
    public var sizeBytes: Int64
    /// How far this replica's log end trails the leader's (0 on the leader).
    public var offsetLag: Int64
    /// A replica being moved into this directory (AlterReplicaLogDirs), not yet current.
    public var isFuture: Bool
}

/// A partition's replica on one broker (AlterReplicaLogDirs' item).
public struct TopicPartitionReplica: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The partition.
    public var topicPartition: TopicPartition
    /// The broker holding the replica.
    public var broker: Int32

    /// The replica of `topicPartition` on `broker`.
    public init(_ topicPartition: TopicPartition, broker: Int32) {
        self.topicPartition = topicPartition
        self.broker = broker
    }

    /// "t[0] on broker 2".
    public var description: String { "\(topicPartition) on broker \(broker)" }

    /// By broker, then partition.
    public static func < (a: Self, b: Self) -> Bool { (a.broker, a.topicPartition) < (b.broker, b.topicPartition) }
}

extension KafkaAdmin {
    /// Every broker's log dirs (of these partitions, or all when nil), each broker asked
    /// itself (DescribeLogDirs, Kafka 1.0+); results named `broker N`, by broker id.
    public func describeLogDirs(_ partitions: [TopicPartition]? = nil) async throws(KafkaAdminError) -> [AdminResult<[LogDirDescription]>] {
        if let partitions { for tp in partitions { if let p = Self.problem(partition: tp) { throw p } } }
        var r = DescribeLogDirsRequest()
        r.topics = partitions.map { ps in
            Self.byTopic(ps).map { topic, indexes in
                var t = DescribeLogDirsRequest.DescribableLogDirTopic()
                t.topic = topic
                t.partitions = indexes
                return t
            }
        }
        var out: [AdminResult<[LogDirDescription]>] = []
        for broker in try await describeCluster().brokers.map(\.id) {
            let name = "broker \(broker)"
            do {
                let resp = try await send("describeLogDirs", r, to: .broker(broker))
                if let e = KafkaAdminError.from(resp.errorCode) { out.append(AdminResult(name, .failure(e))); continue }
                out.append(AdminResult(name, .success(resp.results.map { d in
                    LogDirDescription(path: d.logDir, error: d.errorCode == 0 ? nil : KafkaErrorCode(d.errorCode), totalBytes: d.totalBytes,
                                      usableBytes: d.usableBytes, replicas: d.topics.flatMap { t in
                                          t.partitions.map { LogDirReplica(topicPartition: TopicPartition(t.name, $0.partitionIndex), sizeBytes: $0.partitionSize,
                                                                           offsetLag: $0.offsetLag, isFuture: $0.isFutureKey) }
                                      }.sorted { $0.topicPartition < $1.topicPartition })
                }.sorted { $0.path < $1.path })))
            } catch {
                if case .unsupportedByBroker = error { throw error }
                out.append(AdminResult(name, .failure(error)))
            }
        }
        return out
    }

    /// Moves replicas to other log dirs of their brokers (AlterReplicaLogDirs, Kafka 1.1+),
    /// each broker asked for its own; results named `topic[partition] on broker N`, ascending.
    public func alterReplicaLogDirs(_ moves: [TopicPartitionReplica: String]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let replicas = moves.keys.sorted()
        let problems = Self.problems(replicas, name: \.description) { r -> KafkaAdminError? in
            if let p = Self.problem(partition: r.topicPartition) { return p }
            if r.broker < 0 { return .invalidArgument(r.description, reason: "a broker id is not negative") }
            return moves[r]!.isEmpty ? .invalidArgument(r.description, reason: "empty log dir path") : nil
        }
        let wanted = zip(replicas, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        for broker in Array(Set(wanted.map(\.broker))).sorted() {
            let mine = wanted.filter { $0.broker == broker }
            var r = AlterReplicaLogDirsRequest()
            for path in Array(Set(mine.map { moves[$0]! })).sorted() {
                var d = AlterReplicaLogDirsRequest.AlterReplicaLogDir()
                d.path = path
                d.topics = Self.byTopic(mine.filter { moves[$0]! == path }.map(\.topicPartition)).map { topic, ps in
                    var t = AlterReplicaLogDirsRequest.AlterReplicaLogDirTopic()
                    t.name = topic
                    t.partitions = ps
                    return t
                }
                r.dirs.append(d)
            }
            do {
                let resp = try await send("alterReplicaLogDirs", r, to: .broker(broker))
                for t in resp.results {
                    for p in t.partitions {
                        answers[TopicPartitionReplica(TopicPartition(t.topicName, p.partitionIndex), broker: broker).description] =
                            KafkaAdminError.from(p.errorCode).map { .failure($0) } ?? .success(AdminDone())
                    }
                }
            } catch {
                if case .unsupportedByBroker = error { throw error }
                // This broker's items fail; the others' are still sent.
                for m in mine { answers[m.description] = .failure(error) }
            }
        }
        return Self.results(replicas, problems: problems, name: \.description) { answers[$0] }
    }
}
