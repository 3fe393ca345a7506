import KafkaProtocol
import KafkaStateMachines

/// Which offset of a partition to list.
public enum OffsetSpec: Sendable, Equatable {
    /// The log start offset.
    case earliest
    /// The high watermark (the next offset to be written).
    case latest
    /// The first offset whose timestamp is at or after this one (ms since the epoch).
    case timestamp(Int64)
    /// The offset of the record with the largest timestamp (KIP-734, Kafka 3.0+).
    case maxTimestamp

    var wire: Int64 {
        switch self {
        case .earliest: return -2
        case .latest: return -1
        case .timestamp(let t): return t
        case .maxTimestamp: return -3
        }
    }
}

/// An offset found by `listOffsets`.
public struct ListedOffset: Sendable, Equatable {
    /// -1 when no record matches a timestamp.
    public var offset: Int64
    /// The timestamp the broker answered with the offset (-1 when it has none to give).
    public var timestamp: Int64
    /// The leader epoch of that offset, when the broker reports it.
    public var leaderEpoch: Int32?
}

extension KafkaAdmin {
    /// One offset per partition, asked of each partition's leader; results named
    /// `topic[partition]`, in the order given.
    public func listOffsets(_ partitions: [TopicPartition], _ spec: OffsetSpec,
                            isolation: IsolationLevel = .readUncommitted) async throws(KafkaAdminError) -> [AdminResult<ListedOffset>] {
        let problems = Self.problems(partitions, name: \.description) { Self.problem(partition: $0) ?? Self.problem(spec: spec) }
        let send = zip(partitions, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<ListedOffset, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = ListOffsetsRequest()
            r.replicaId = -1
            r.isolationLevel = isolation.rawValue
            r.topics = Self.byTopic(send).map { topic, ps in
                var t = ListOffsetsRequest.ListOffsetsTopic()
                t.name = topic
                t.partitions = ps.map { var p = ListOffsetsRequest.ListOffsetsPartition(); p.partitionIndex = $0; p.timestamp = spec.wire; return p }
                return t
            }
            // v1 answers one offset; read_committed is v2; the max timestamp is v7.
            let low: Int16 = spec == .maxTimestamp ? 7 : (isolation == .readCommitted ? 2 : 1)
            let resp = try await self.send("listOffsets", r, pin: low ... ListOffsetsRequest.validVersions.upperBound)
            for t in resp.topics {
                for p in t.partitions {
                    let name = TopicPartition(t.name, p.partitionIndex).description
                    answers[name] = KafkaAdminError.from(p.errorCode).map { .failure($0) }
                        ?? .success(ListedOffset(offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch >= 0 ? p.leaderEpoch : nil))
                }
            }
        }
        return Self.results(partitions, problems: problems, name: \.description) { answers[$0] }
    }

    /// Deletes records before each offset (-1: the high watermark); the result is the
    /// partition's new log start offset.
    public func deleteRecords(_ before: [TopicPartition: Int64], timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<Int64>] {
        let partitions = before.keys.sorted()
        let problems = Self.problems(partitions, name: \.description) { tp -> KafkaAdminError? in
            if let p = Self.problem(partition: tp) { return p }
            return before[tp]! < -1 ? .invalidArgument(tp.description, reason: "offset \(before[tp]!) is below -1 (the high watermark)") : nil
        }
        let send = zip(partitions, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<Int64, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = DeleteRecordsRequest()
            r.timeoutMs = Self.milliseconds(timeout)
            r.topics = Self.byTopic(send).map { topic, ps in
                var t = DeleteRecordsRequest.DeleteRecordsTopic()
                t.name = topic
                t.partitions = ps.map { var p = DeleteRecordsRequest.DeleteRecordsPartition(); p.partitionIndex = $0; p.offset = before[TopicPartition(topic, $0)]!; return p }
                return t
            }
            let resp = try await self.send("deleteRecords", r)
            for t in resp.topics {
                for p in t.partitions {
                    answers[TopicPartition(t.name, p.partitionIndex).description] = KafkaAdminError.from(p.errorCode).map { .failure($0) } ?? .success(p.lowWatermark)
                }
            }
        }
        return Self.results(partitions, problems: problems, name: \.description) { answers[$0] }
    }

    static func problem(partition tp: TopicPartition) -> KafkaAdminError? {
        if let why = topicNameProblem(tp.topic) { return .invalidTopicName(tp.topic, reason: why) }
        return tp.partition < 0 ? .invalidArgument(tp.description, reason: "a partition index is not negative") : nil
    }

    static func problem(spec: OffsetSpec) -> KafkaAdminError? {
        if case .timestamp(let t) = spec, t < 0 { return .invalidArgument("timestamp \(t)", reason: "a timestamp is not negative") }
        return nil
    }

    /// Partitions grouped by topic, topics and partitions ascending.
    static func byTopic(_ partitions: [TopicPartition]) -> [(String, [Int32])] {
        var out: [(String, [Int32])] = []
        for tp in partitions.sorted() {
            if out.last?.0 == tp.topic { out[out.count - 1].1.append(tp.partition) } else { out.append((tp.topic, [tp.partition])) }
        }
        return out
    }
}
